"""Pieces the run pages share: run status, the step inspector, known minima, summary rows."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

import optcore
from ui import cache, state


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


NOT_A_MINIMUM = ("saddle point", "maximum", "flat point")


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


def _fmt_vec(v: Sequence[float], digits: int = 6) -> str:
    """A vector in full (never cut off), coordinates below 1e-12 of its largest shown as 0:
    (7.1e-15, 0) is (0, 0)."""
    values = np.asarray(v, dtype=float).ravel()
    finite = values[np.isfinite(values)]
    scale = max(float(np.abs(finite).max()) if finite.size else 1.0, 1.0)   # coordinates: at least unit scale
    return "(" + ", ".join(format_number(x, scale, digits) for x in values) + ")"


def _matrix_df(M: np.ndarray, names: Sequence[str]):
    import pandas as pd
    return pd.DataFrame(np.asarray(M, dtype=float), index=list(names), columns=list(names))


def step_inspector(traj, key: str, runs: dict | None = None) -> int:
    """Slider over k and everything about step k: x_k, f, ‖∇f‖, the step and what the method used.
    With several `runs` on the view, a picker chooses the one to follow. Returns k (the slice view
    of d > 2 follows it)."""
    if runs and len(runs) > 1:
        labels = list(runs)
        if st.session_state.get(f"{key}.run") not in labels:
            st.session_state[f"{key}.run"] = labels[0]
        traj = runs[st.selectbox("follow run", labels, key=f"{key}.run")]
    names = list(traj.variables)
    k_max = int(traj.iterations)
    if k_max == 0:
        st.caption("The run took no steps (the start already satisfies the tolerance, or it diverged at once).")
        k = 0
    else:
        if st.session_state.get(key, 0) > k_max:
            st.session_state[key] = k_max
        k = st.slider("inspect step k", 0, k_max, key=key, help="drag to look at any iteration")
    x, f, g = traj.points[k], float(traj.values[k]), traj.grads[k]
    values = np.asarray(traj.values, dtype=float)
    f_scale = float(np.abs(values[np.isfinite(values)]).max()) if np.isfinite(values).any() else 1.0
    # x_k in a line of its own: a metric cuts a vector off ("(-0.057646, -...")
    st.markdown(f"**x_{k}** = {_fmt_vec(x)}")
    c = st.columns(3)
    c[0].metric(f"f(x_{k})", format_number(f, f_scale))
    c[1].metric("‖∇f‖", f"{float(np.linalg.norm(g)):.3e}")
    if k < k_max:
        step = traj.points[k + 1] - x
        c[2].metric(f"step to x_{k + 1} (length)", f"{float(np.linalg.norm(step)):.3e}",
                    help=f"x_{k + 1} − x_{k} = {_fmt_vec(step)}")
    else:
        c[2].metric("step", "— last point —")
    st.caption(f"∇f(x_{k}) = {_fmt_vec(g)}" + (f" · step = {_fmt_vec(traj.points[k + 1] - x)}" if k < k_max else ""))
    if k < k_max:
        _extras(traj, k, names)
    return k


def _extras(traj, k: int, names: list[str]) -> None:
    extras = traj.extras or {}
    shown = []
    if "lr" in extras and len(extras["lr"]) > k:
        shown.append(f"step size used α = {float(np.ravel(extras['lr'][k])[0]):.4g}")
    if "damping" in extras and len(extras["damping"]) > k:
        shown.append(f"damping λ = {float(np.ravel(extras['damping'][k])[0]):.4g}")
    if "cg_beta" in extras and len(extras["cg_beta"]) > k:
        shown.append(f"conjugate-gradient β = {float(np.ravel(extras['cg_beta'][k])[0]):.4g}")
    if shown:
        st.markdown(" · ".join(shown))
    cols = st.columns(2)
    i = 0
    if "hess_eigenvalues" in extras and len(extras["hess_eigenvalues"]) > k:
        lam = np.ravel(extras["hess_eigenvalues"][k])
        with cols[i % 2]:
            st.markdown("**Hessian at x_k**")
            try:
                st.dataframe(_matrix_df(state.current_objective().hess(traj.points[k]), names))
            except Exception:
                pass
            kind = "positive definite" if (lam > 0).all() else ("indefinite (saddle)" if (lam < 0).any() and (lam > 0).any()
                                                                 else "not positive definite")
            st.caption(f"eigenvalues {_fmt_vec(lam)}: {kind}")
        i += 1
    if "hess_diagonal" in extras and len(extras["hess_diagonal"]) > k:
        with cols[i % 2]:
            st.markdown(f"**diag H used**: {_fmt_vec(extras['hess_diagonal'][k])}")
        i += 1
    if "bfgs_inverse" in extras and len(extras["bfgs_inverse"]) > k:
        with cols[i % 2]:
            st.markdown("**BFGS inverse-Hessian estimate B_k**")
            st.dataframe(_matrix_df(extras["bfgs_inverse"][k], names))
        i += 1
    if "adam_m" in extras and len(extras["adam_m"]) > k:
        with cols[i % 2]:
            st.markdown("**Adam moments**")
            st.caption(f"first moment m = {_fmt_vec(extras['adam_m'][k])}")
            if "adam_v" in extras:
                st.caption(f"second moment v = {_fmt_vec(extras['adam_v'][k])}")
        i += 1
    trials = extras.get("line_search_trials")
    if trials is not None and len(trials) > k and len(trials[k]):
        with cols[i % 2]:
            st.markdown("**Line-search trials** (α, f(x_k + α d))")
            rows = trials[k]   # a (trials, 2) array; lists of pairs in results pickled by older versions
            rows = rows[0] if len(rows) and isinstance(rows[0], list) else rows
            st.dataframe({"α": [float(a) for a, _ in rows], "f": [float(v) for _, v in rows]}, hide_index=True)


def iterations_to_tol(traj, tol: float) -> int | None:
    """First k with ‖∇f(x_k)‖ ≤ tol, or None."""
    hits = np.flatnonzero(traj.grad_norms <= tol)
    return int(hits[0]) if hits.size else None


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


def _without_noise(v: float, values) -> float:
    """v, or 0.0 when it is float noise (below 1e-12 of the run's largest |f|)."""
    values = np.asarray(values, dtype=float)
    scale = float(np.abs(values[np.isfinite(values)]).max()) if np.isfinite(values).any() else 1.0
    return 0.0 if np.isfinite(v) and abs(v) < 1e-12 * scale else v


def summary_rows(runs: dict, tol: float) -> list[dict]:
    """One row per run for the Compare summary table, the best run marked with a star."""
    rows = []
    for name, traj in runs.items():
        ev = {k: int(np.asarray(v)[-1]) for k, v in traj.evaluations.items()}
        rows.append({"best": "", "run": name, "status": traj.status, "stopped at": getattr(traj, "stopped_at", ""),
                     "iterations to tol": iterations_to_tol(traj, tol),
                     "iterations": traj.iterations,
                     "f evals": ev.get("f", 0), "∇f evals": ev.get("grad", 0), "∇²f evals": ev.get("hess", 0),
                     "final point": _fmt_vec(traj.points[-1]),
                     "final f": _without_noise(float(traj.values[-1]), traj.values)})
    best = best_run(rows)
    if best is not None:
        rows[best]["best"] = "★ best"
    for row in rows:   # one type per column (Arrow), and words instead of None
        row["iterations to tol"] = _or_not_reached(row["iterations to tol"])
    return rows


def newton_direction_label(f0: float, slope: float, f_full: float | None, f_half: float | None) -> str:
    """Which way the Newton step s points, in words that agree with the f values shown beside it: a
    direction can be downhill at first (∇fᵀs < 0) while f rises after the full and the half step
    (the blog's start (3.1, 1.8)); then the label says so."""
    if f_full is None:
        return "—"
    if slope > 0:
        return "uphill (∇fᵀs > 0)"
    if slope == 0:
        return "flat (∇fᵀs = 0)"
    rises = [name for name, v in (("full", f_full), ("half", f_half)) if v is not None and not v < f0]
    if len(rises) == 2:
        return "downhill only at first (∇fᵀs < 0): f rises after the full and the half step"
    if rises == ["full"]:
        return "downhill (∇fᵀs < 0), but the full step overshoots: f rises; the half step lowers it"
    return "downhill (∇fᵀs < 0)"


def newton_at_starts(obj, starts) -> list[dict]:
    """What the Hessian says at each start: det H, its eigenvalues, the Newton step, f after the
    full and the half step, and whether the Newton direction points downhill."""
    from optcore import analysis
    rows = []
    for x0 in starts:
        f0, g, H = analysis.taylor_model(obj, x0)
        lam = analysis.symmetric_eigenvalues(H)
        step = analysis.newton_landing_point(g, H)
        f_full = float(obj.value(x0 + step)) if step is not None else None
        f_half = float(obj.value(x0 + 0.5 * step)) if step is not None else None
        slope = float(g @ step) if step is not None else 0.0
        rows.append({"start": ", ".join(f"{v:.4g}" for v in x0), "f": f0, "det H": float(np.linalg.det(H)),
                     "eigenvalues of H": ", ".join(f"{v:.4g}" for v in lam),
                     "Newton step −H⁻¹∇f": ", ".join(f"{v:.3g}" for v in step) if step is not None else "H singular",
                     "f after the full step": f_full, "f after half the step": f_half,
                     "Newton direction": newton_direction_label(f0, slope, f_full, f_half)})
    return rows


def newton_models(obj, traj, k: int):
    """The quadratic models at step k of a run: (f_k, ∇f, H, {label: model Hessian}, {label:
    (where the model is flat, its kind)}, note). BFGS runs add their own estimate of H; `note`
    says when that estimate is singular."""
    from optcore import analysis
    x_k = traj.points[k]
    f_k, g, H = analysis.taylor_model(obj, x_k)
    models, note = {"true Hessian": H}, None
    inverse = (traj.extras or {}).get("bfgs_inverse")
    if inverse is not None and len(inverse) > k:
        try:
            models["BFGS estimate"] = np.linalg.inv(np.asarray(inverse[k], dtype=float))
        except np.linalg.LinAlgError:
            note = "BFGS's estimate is singular at this step."
    landings = {label: (analysis.newton_landing_point(g, M, x_k), analysis.quadratic_model_kind(M))
                for label, M in models.items()}
    return f_k, g, H, models, landings, note


def zoom_window(window, centre) -> tuple[tuple[float, float], ...]:
    """A window half as wide as `window` around `centre`."""
    return tuple((float(centre[i] - 0.25 * (hi - lo)), float(centre[i] + 0.25 * (hi - lo)))
                 for i, (lo, hi) in enumerate(window))


def reference_hessian(obj, x0, minima) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """Where to read the Hessian for the learning-rate theory and its eigenvalues there: anywhere
    for a quadratic, else the known or found minimum nearest the start. (point, eigenvalues, where)."""
    from optcore import analysis
    if obj.is_quadratic:
        point, where = np.asarray(x0, dtype=float), "constant (f is quadratic)"
    elif len(minima):
        point = minima[int(np.argmin(np.linalg.norm(minima - x0, axis=1)))]
        where = f"at the minimum nearest the start ({', '.join(f'{v:.4g}' for v in point)})"
    else:
        return None, None, ""
    return point, analysis.symmetric_eigenvalues(obj.hess(point)), where


def convergence_orders(runs: dict, target) -> tuple[dict, dict]:
    """Per run, the errors ‖x_k − x*‖ above rounding error and the fitted order of convergence."""
    from optcore import analysis
    errors, slopes = {}, {}
    for label, t in runs.items():
        e = analysis.errors_to_point(t.points, target)
        errors[label] = e[np.isfinite(e) & (e > 1e-12 * max(1.0, float(np.linalg.norm(target))))]
        slopes[label] = analysis.convergence_order(errors[label])
    return errors, slopes


def run_window(window, paths, follow: bool | None = None) -> tuple[tuple[float, float], ...]:
    """The window a chart shows for these runs (arrays of points, start first, or trajectories):
    widened to hold the starts and paths unless the student or a preset fixed it (`follow` True:
    widen anyway, for a chart that draws every point whatever its window). Says so when a start
    lies outside a fixed window, and where a run went when it leaves the view."""
    from optcore import window as windows
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
    caption = leaving_caption(view, arrays)
    if caption:
        st.caption(caption)
    return view


def leaving_caption(view, arrays) -> str | None:
    """Where runs leave `view`: those that end outside it (or overflow) with the point they ended
    at, apart from those that only pass outside on the way and end inside. Himmelblau said "3 run(s)
    leave the view ...; last finite point: (-2.8, 3.13)" of runs that ended inside at a minimum."""
    V = np.array(view, dtype=float)

    def out(p) -> bool:
        return bool(np.any(~np.isfinite(p)) or np.any((p < V[:, 0]) | (p > V[:, 1])))

    ends, passing = [], 0
    for a in arrays:
        if not out(a):
            continue
        finite = np.all(np.isfinite(a), axis=1)
        if finite.all() and not out(a[-1]):
            passing += 1
            continue
        last = a[finite][-1] if finite.any() else None
        where = "(" + ", ".join(format_number(v) for v in last) + ")" if last is not None else None
        ends.append("overflow" if where is None else where if finite.all() else f"overflow after {where}")
    parts = []
    if ends:
        parts.append(f"{len(ends)} run(s) leave the view and end outside it, at " + "; ".join(ends))
    if passing:
        parts.append(f"{passing} path(s) pass outside the view on the way (cut at its edge) but end inside it")
    return ("; ".join(parts) + ".") if parts else None


def format_number(v: float, scale: float = 1.0, digits: int = 6) -> str:
    """A number without float noise: values below 1e-12 of the scale shown (the largest |value| of
    the vector or run it belongs to) print as 0."""
    v = float(v)
    if not np.isfinite(v):
        return str(v)
    if abs(v) < 1e-12 * abs(float(scale)):
        return "0"
    return f"{v:.{digits}g}"


def rate_metrics(eigs, where: str) -> None:
    """The numbers of gradient descent's rate theory for a positive-definite Hessian."""
    from optcore import analysis
    m = st.columns(5)
    m[0].metric("eigenvalues λ", ", ".join(f"{v:.4g}" for v in eigs))
    m[1].metric("κ = λmax/λmin", f"{analysis.condition_number(eigs):.4g}")
    m[2].metric("α* = 2/(λmin+λmax)", f"{analysis.optimal_learning_rate(eigs):.4g}")
    m[3].metric("r* = (κ−1)/(κ+1)", f"{analysis.optimal_rate(eigs):.4g}")
    m[4].metric("stability edge 2/λmax", f"{analysis.stability_edge(eigs):.4g}")
    st.caption(f"Hessian {where}.")


def rate_target(obj, x0, x_ref):
    """x* for the measured rates: the reference minimum, or for a quadratic where Newton lands."""
    from optcore import analysis
    if not obj.is_quadratic:
        return x_ref
    return analysis.newton_landing_point(*analysis.taylor_model(obj, x0)[1:], x0)


def order_target(runs: dict, minima: np.ndarray):
    """x* for the order of convergence: where a converged Newton run ended, else the known minimum
    nearest the end of the gradient-descent run, else None."""
    if runs["Newton"].status == "converged":
        return runs["Newton"].points[-1]
    if len(minima):
        end = runs["gradient descent"].points[-1]
        return minima[int(np.argmin(np.linalg.norm(minima - end, axis=1)))]
    return None


def order_caption(target, runs: dict, errors: dict, slopes: dict) -> str:
    fitted = [f"{k}: {v:.2f}" if np.isfinite(v) else
              f"{k}: reached x* exactly in {runs[k].iterations} step(s), no order to fit" if errors[k].size <= 2
              else f"{k}: too few points" for k, v in slopes.items()]
    return (f"x* = ({', '.join(f'{v:.6g}' for v in target)}); slopes fitted over the last three pairs above "
            "rounding error. " + " · ".join(fitted))
