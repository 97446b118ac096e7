"""Pieces the run pages share: known minima, a run's status and label, the window a chart shows,
the Compare summary rows, the learning-rate lab's rate numbers. The maths behind them lives in
optcore (window, analysis); numbers print through ui.numbers."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

import optcore
from optcore import analysis
from optcore import window as windows
from optcore.figures import trajectory as figs
from ui import cache, chart_widths, charts, state, widgets
from ui.numbers import format_vector, without_noise


def known_minima() -> np.ndarray:
    """Minima to mark and measure against: the preset's (exact), else the local minima found in the
    window by the engine's critical-point search. Shape (m, d), possibly m = 0."""
    obj = state.current_objective()
    preset = state.current_preset()
    if preset is not None and preset.minima:
        return np.array(preset.minima, dtype=float).reshape(-1, obj.dim)
    found = cache.minima(state.current_formula(), state.current_window())
    return np.array(found, dtype=float).reshape(-1, obj.dim)


def slice_title(names: Sequence[str], axes: tuple[int, int], through, k: int) -> str:
    """Say which plane the picture is: "f(x, y, z = 3.6): a slice through step k = 0"."""
    held = [f"{n} = {through[m]:.3g}" for m, n in enumerate(names) if m not in axes]
    if len(held) > 3:
        held = held[:3] + ["…"]
    inside = [names[axes[0]], names[axes[1]], *held]
    return f"f({', '.join(inside)}): a slice through step k = {k}"


NOT_A_MINIMUM = ("saddle point", "maximum", "flat point", "still moving")   # "still moving": ∇f < tol on the way to an infimum


def outcome(traj) -> str:
    """A run's status in a few words that do not call a stop at a saddle or maximum a success:
    "converged", "stopped at a maximum", "diverged", "at the step limit"..."""
    stopped_at = getattr(traj, "stopped_at", "")
    if traj.status == "converged" and stopped_at in NOT_A_MINIMUM:
        return "still moving: ∇f ≈ 0" if stopped_at == "still moving" else f"stopped at a {stopped_at}"
    return {"max_steps": "at the step limit"}.get(traj.status, traj.status.replace("_", " "))


def best_run(rows: Sequence[dict]) -> int | None:
    """Index of the row to mark best: among the runs that stopped at a minimum (`"stopped at"`),
    the lowest final f (then the fewest iterations to tol); when none did, the lowest finite final
    f of all. A run that converged to a saddle is not better than one still walking downhill."""
    if not rows:
        return None

    def key(r: int):
        f = rows[r].get("final f")
        finite = f is not None and np.isfinite(f)
        k = rows[r].get("iterations to tol")
        return (not finite, f if finite else 0.0, k if isinstance(k, int) else 10**9)

    at_min = [r for r in range(len(rows)) if rows[r].get("stopped at") == "minimum"]
    pool = at_min or list(range(len(rows)))
    return min(pool, key=key)


def show_status(traj, label: str | None = None) -> None:
    """The run's status and its sentence: success (converged to a minimum), warning (stopped at max
    steps, or converged to a saddle point, a maximum or a flat point) or error (diverged)."""
    text = f"**{label}:** {traj.message}" if label else traj.message
    if not np.isfinite(np.asarray(traj.values, dtype=float)[:1]).all():
        text += (" — f is not defined there (a log or square root of a negative number, a division by "
                 "zero): move the start into the coloured part of the plot, e.g. by clicking it.")
    stopped_at = getattr(traj, "stopped_at", "")
    if traj.status == "converged" and stopped_at in NOT_A_MINIMUM:
        # ∇f = 0 is all a method checks: "converged" at a saddle must not look like a success.
        st.warning(text, icon=":material/warning:")
    elif traj.status == "converged":
        st.success(text, icon=":material/check_circle:")
    elif traj.status == "diverged":
        st.error(text, icon=":material/error:")
    else:
        st.warning(text, icon=":material/timer:")


def starts_at_a_stationary_point(traj) -> bool:
    """The run stopped at step 0 because ∇f vanishes at the start (not because f is undefined there)."""
    return (traj.status == "converged" and int(traj.iterations) == 0
            and bool(np.isfinite(np.asarray(traj.values, dtype=float)[:1]).all()))


def show_stationary_start(traj, dim: int) -> bool:
    """An info line when the path is a single point: the start already has ∇f = 0 (a new formula
    typed while the start sits at its minimum, a click on the minimum). Returns whether it showed."""
    if not starts_at_a_stationary_point(traj):
        return False
    where = "the curve" if dim == 1 else "the contour" if dim == 2 else "the slice"
    st.info(f"The start is already a stationary point (∇f = 0): click {where} or change the start to watch "
            "the method move.", icon=":material/info:")
    return True


def run_label(i: int, method: str, params: dict) -> str:
    """"2. Gradient descent η=0.01" or "3. BFGS (armijo)": the name a run has in legends and tables."""
    lr = params.get("lr")
    ls = params.get("line_search", "none")
    extra = f" η={lr:g}" if lr is not None and ls == "none" else (f" ({ls})" if ls != "none" else "")
    return f"{i + 1}. {optcore.METHODS[method].label}{extra}"


def convergence_series(runs: dict, styles: dict, x_kind: str | None, f_star: float, targets: np.ndarray
                       ) -> tuple[list[dict], list[dict], list[dict]]:
    """Per run, the series of f − f*, ‖∇f‖ and the distance to the nearest target against
    iterations (x_kind None) or an evaluation count ("f", "grad", "hess"). `styles[name]` holds the
    run's color, dash and legend name."""
    series_f, series_g, series_d = [], [], []
    for name, traj in runs.items():
        x = np.arange(traj.iterations + 1) if x_kind is None else np.asarray(traj.evaluations[x_kind])
        dist = np.min(np.linalg.norm(traj.points[:, None, :] - targets[None, :, :], axis=-1), axis=1)
        style = dict(styles[name], name=name, x=x, diverged=traj.status == "diverged")
        series_f.append(dict(style, y=traj.values - f_star))
        series_g.append(dict(style, y=traj.grad_norms))
        series_d.append(dict(style, y=dist))
    return series_f, series_g, series_d


def _or_not_reached(k: int | None) -> str:
    return "not reached" if k is None else str(k)


EVALS = "evals f / ∇f / ∇²f"   # one column, not three: a 1440 px screen cut the table's last column


def summary_rows(runs: dict, tol: float) -> list[dict]:
    """One row per run for the Compare summary table, the best run marked with a star."""
    rows = []
    for name, traj in runs.items():
        ev = {k: int(np.asarray(v)[-1]) for k, v in traj.evaluations.items()}
        rows.append({"best": "", "run": name, "status": traj.status, "stopped at": getattr(traj, "stopped_at", ""),
                     "iterations to tol": analysis.first_step_within_tol(traj.grad_norms, tol),
                     "iterations": traj.iterations,
                     EVALS: f"{ev.get('f', 0)} / {ev.get('grad', 0)} / {ev.get('hess', 0)}",
                     "final point": format_vector(traj.points[-1]),
                     "final f": without_noise(float(traj.values[-1]), traj.values)})
    best = best_run(rows)
    if best is not None:
        rows[best]["best"] = "★ best"
    for row in rows:   # one type per column (Arrow), and words instead of None
        row["iterations to tol"] = _or_not_reached(row["iterations to tol"])
    return rows


def run_window(window, paths, follow: bool | None = None) -> tuple[tuple[float, float], ...]:
    """The window a chart shows for these runs (arrays of points, start first, or trajectories):
    widened to hold the starts and paths unless the student or a preset fixed it (`follow` True:
    widen anyway, for a chart that draws every point whatever its window). Says so when a start
    lies outside a fixed window, and where a run went when it leaves the view."""
    arrays = [np.asarray(getattr(p, "points", p), dtype=float) for p in paths]
    arrays = [a.reshape(len(a), -1) for a in arrays if a.size]
    if not arrays:
        return tuple(window)
    if state.window_fixed() and not follow:
        view = tuple(window)
        away = windows.starts_outside(view, np.array([a[0] for a in arrays]))
        if away:
            st.warning(f"{len(away)} start point(s) lie outside the fixed plot window, so the chart cannot show "
                       "them: press **Fit to run** under *Plot window* in the sidebar.", icon=":material/zoom_out_map:")
    else:
        view, _ = windows.window_with_runs(window, arrays)
    caption = windows.leaving_caption(view, arrays)
    if caption and follow:   # the chart draws every point anyway; only the curve of f stops at the view
        far = sum(windows.leaving_caption(view, [a]) is not None for a in arrays)
        caption = (f"The curve of f is drawn on {' × '.join(f'[{lo:.4g}, {hi:.4g}]' for lo, hi in view)}; "
                   f"{far} run(s) go beyond it, and their points are still shown.")
    if caption:
        st.caption(caption)
    return view


def rate_metrics(eigs, where: str) -> None:
    """The numbers of gradient descent's rate theory for a positive-definite Hessian."""
    m = st.columns(5)
    m[0].metric("eigenvalues λ", ", ".join(f"{v:.4g}" for v in eigs))
    m[1].metric("κ = λmax/λmin", f"{analysis.condition_number(eigs):.4g}")
    m[2].metric("α* = 2/(λmin+λmax)", f"{analysis.optimal_learning_rate(eigs):.4g}")
    m[3].metric("r* = (κ−1)/(κ+1)", f"{analysis.optimal_rate(eigs):.4g}")
    m[4].metric("stability edge 2/λmax", f"{analysis.stability_edge(eigs):.4g}")
    st.caption(f"Hessian {where}.")


def order_caption(targets: dict, runs: dict, errors: dict, slopes: dict) -> str:
    """Each run's fitted order and the x* it is measured against (where it heads: the nearest of the
    points known exactly), and the runs no x* was found for."""
    def point(x) -> str:
        return f"({', '.join(f'{v:.6g}' for v in x)})"

    fitted = [f"{k}: {v:.2f}" if np.isfinite(v) else
              f"{k}: reached x* exactly in {runs[k].iterations} step(s), no order to fit" if errors[k].size <= 2
              else f"{k}: too few points" for k, v in slopes.items()]
    firsts = list(targets.values())
    if all(np.array_equal(x, firsts[0]) for x in firsts):
        where = f"x* = {point(firsts[0])}"
    else:
        where = "x* for each run, the point it heads for: " + "; ".join(f"{k} {point(x)}" for k, x in targets.items())
    missing = [k for k in runs if k not in targets]
    return (f"{where}; slopes fitted over the last three pairs above rounding error. " + " · ".join(fitted)
            + (f" · {', '.join(missing)}: no x* known near where it ended" if missing else ""))


def slice_chart(formula, traj, window, minima: np.ndarray, *, key: str, inspector_key: str):
    """A run of d >= 3 variables on the contour of a 2-D slice (the student picks the two axes); the
    other variables are held where the run is at the inspector's step k. Returns the figure."""
    names = list(state.current_objective().variables)
    k_now = min(int(st.session_state.get(inspector_key) or 0), int(traj.iterations))  # the inspector moves it
    i, j = widgets.slice_picker(names)
    through = traj.points[k_now]
    xs, ys, Z = cache.grid(formula, window, n=120, base=through, axes=(i, j))
    path = figs.path_from_points(traj.points, traj.method, figs.default_color(0), axes=(i, j))
    fig = figs.contour_paths_figure(xs, ys, Z, [path], minima=minima[:, [i, j]] if len(minima) else (),
                                    names=(names[i], names[j]), click_axes=(i, j),
                                    title=slice_title(names, (i, j), through, k_now))
    charts.chart(fig, key=key, paint_first=True)
    st.caption(f"The other variables are held at their values at step k = {k_now} of the run (move k "
               "with the step inspector below); the path is projected onto this plane.")
    return fig


def convergence_pair(traj, f_star: float | None, *, key: str) -> None:
    """f − f* and ‖∇f‖ of one run against k, side by side in one chart (f* the known minimum, else
    the lowest f of the run, and the panel says so)."""
    k = np.arange(traj.iterations + 1)
    if f_star is not None:
        gap, gap_title, gap_name = traj.values - f_star, "f(x<sub>k</sub>) − f*", "f − f*"
    else:
        # No known minimum: measured from the run's own lowest f, where the gap is 0 by definition. That
        # step is left out rather than drawn at the log axis' floor, a plunge to 1e-16 that no run made.
        gap = traj.values - float(np.nanmin(traj.values))
        gap = np.where(gap > 0, gap, np.nan)
        gap_title, gap_name = "f(x<sub>k</sub>) − lowest f of the run (no known minimum)", "f − lowest f"
    charts.chart(figs.convergence_panels_figure(
        [(gap_title, [dict(name=gap_name, x=k, y=gap, color="#d62728")]),
         ("‖∇f(x<sub>k</sub>)‖", [dict(name="‖∇f‖", x=k, y=traj.grad_norms, color="#1b3a6b")])],
        height=280, width_px=chart_widths.layout_width(key) or 800),
        key=key, clickable=False)


def view_switch(labels: Sequence[str], *, key: str, default: str | None = None) -> str:
    """Which of `labels` the chart below it shows (only that one is built and sent).

    A row of buttons, not `st.tabs`: Streamlit's tab panel looks for a focusable child after every
    render and every change inside it, and each look makes the browser recompute the page's style.
    Around a Plotly chart that was ~30 ms of every formula edit, before the chart was painted."""
    # The default only while the key is new: a value set through session state (the scrub toggle opens
    # Compare's overlay) next to a default makes Streamlit log a warning. `wrap`: on a phone the two
    # buttons take two rows instead of one cut at the screen's edge.
    first = {} if key in st.session_state else {"default": default or labels[0]}
    choice = st.segmented_control("View", list(labels), key=key, required=True, wrap=True,
                                  label_visibility="collapsed", **first)
    return choice if choice in labels else labels[0]


def model_window(window, path_so_far, landing, zoom_at=None) -> tuple[tuple[float, float], ...]:
    """The Newton's-model view: the run up to x_k, and where the model's step lands (the ✖ or the
    step's arrow). log(x) + y² from (100, 100): the axis stopped at ~110, the step to (200, 0) ran off
    the edge and its ✖ was never drawn. `zoom_at` (x_k): the zoom window instead, as the student asked."""
    if zoom_at is not None:
        return windows.zoom_window(window, zoom_at)
    view = run_window(window, [path_so_far])
    if landing is None or not np.all(np.isfinite(landing)) or state.window_fixed():
        return view
    step = np.vstack([np.asarray(path_so_far, dtype=float)[-1], np.asarray(landing, dtype=float)])
    view, away = windows.window_with_runs(view, [step])
    if away[0]:   # too far to show without squashing the picture
        st.caption(f"The model's stationary point {format_vector(landing, 4)} lies far outside the view.")
    return view


def outcomes_text(runs: dict) -> str:
    """" Newton's method from (1.8, 1.32): stopped after 50 steps; ‖∇f‖ = 1.41 (the Hessian was
    singular …)." One sentence per run, for a page that draws runs without their status boxes: on
    abs(x) + abs(y) the Curvature page drew Newton's run as nothing (it never moved), unsaid."""
    return "".join(f" **{name}**: {traj.message}." for name, traj in runs.items())
