"""The Compare page's parts: its settings column, its runs (cheap ones at once, heavy ones behind a
button in the server's job queue), the paths and panels it draws, the convergence plots and the summary.

Heavy means the runs still to compute (runs another session or an earlier rerun made are cached and
free) are priced past `AUTO_WORK` operations by `ui.jobs.estimate_runs`: six methods at the step
limit, an exact line search, many starts. Those wait for the student's "Run" and then go through
`ui.jobs.run`: one heavy job at a time on the server, a visible queue, progress and Cancel.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

import optcore
from optcore.figures import trajectory as figs
from optcore.figures.base import narrow_chart
from ui import cache, chart_widths, charts, jobs, link, scrub, state, views, widgets

DEFAULTS = ("gd", "momentum", "bfgs", "adam", "newton", "cg")
DASHES = ("solid", "dot", "dash", "dashdot", "longdash", "longdashdot")
X_AXES = {"iterations": None, "f evaluations": "f", "gradient evaluations": "grad", "Hessian evaluations": "hess"}
AUTO_WORK = 3e6       # operations computed at once (gd, momentum, adam, bfgs x 5000 Rosenbrock steps: 2.6e6, ~2 s)
LADDER_RUNS = 2       # one scrub ladder: one batched run of ~33 rows costs about two single runs (measured 1.8x)
JOB = "compare"
SIDE, OVERLAY = "Side by side (shared timeline)", "Overlay on one contour"   # the 2-D views (key "cmp_tab")


@dataclass(frozen=True)
class Request:
    """What the settings column asked for."""
    picked: tuple[tuple[str, dict], ...]
    starts: np.ndarray
    steps: int
    tol: float
    scrubbing: bool       # method 1's η (and β) get in-figure sliders

    def named_runs(self) -> dict[str, tuple[int, int, str, dict, np.ndarray]]:
        """{run name: (method index, start index, method, params, start)} in the order drawn."""
        out = {}
        for i, (method, params) in enumerate(self.picked):
            label = views.run_label(i, method, params)
            for s, x0 in enumerate(self.starts):
                out[label if len(self.starts) == 1 else f"{label} · start {s + 1}"] = (i, s, method, params, x0)
        return out


def settings(obj) -> Request:
    """The settings column: number of methods, steps and tol, one picker per method, extra starts,
    and the scrub toggle (when method 1's η can be scrubbed)."""
    n = int(link.shared_option(st.number_input, "number of methods", "n_methods", min_value=1,
                               max_value=state.MAX_METHODS, value=3, step=1))
    steps, tol = widgets.steps_and_tol()
    picked = []
    for i in range(n):
        default = DEFAULTS[i % len(DEFAULTS)]
        chosen = st.session_state.get(f"m{i}.method") or default
        title = optcore.METHODS[chosen].label if chosen in optcore.METHODS else chosen
        with st.expander(f"Method {i + 1}: {title}", expanded=True):
            picked.append(widgets.method_picker(f"m{i}", default=default, label=f"Method {i + 1}"))
    with st.expander("More start points", expanded=False):
        starts = widgets.extra_starts_input()
    st.caption(f"{len(starts)} start point(s): the sidebar's start, plus the extra ones.")
    method, params = picked[0]
    scrubbing = obj.dim in (1, 2) and bool(scrub.scrubbable(method, params)) and scrub.toggle(
        "cmp_scrub", "Scrub method 1",   # longer labels were cut in the settings column
        "The overlay carries method 1's paths for a ladder of learning rates around its η (and of momentum "
        "weights around its β) and sliders that swap them in your browser at once (no animation in this mode).",
        on_change=_show_scrub)
    return Request(tuple(picked), np.asarray(starts, dtype=float), int(steps), float(tol), scrubbing)


def _show_scrub() -> None:
    """Scrubbing switched on: show the overlay, where the η slider is."""
    if st.session_state.get("cmp_scrub"):
        st.session_state["cmp_tab"] = OVERLAY


# ------------------------------------------------------------------------------------------ runs
def _ladders(formula, req: Request) -> list:
    """Method 1's paths from the first start for each value of each scrub ladder (η, and β where it
    has one): what the in-figure sliders swap; one batched run per ladder."""
    return scrub.ladder_runs(formula, *req.picked[0], req.starts[0], req.steps, req.tol)


def _job_key(formula, req: Request) -> tuple:
    return (tuple(formula), tuple((m, tuple(sorted(p.items()))) for m, p in req.picked),
            tuple(map(tuple, req.starts.tolist())), req.steps, req.tol, req.scrubbing)


def heavy_text(est: jobs.Estimate, runs: int, ladder: bool) -> str:
    what = f"{runs} run{'s' if runs != 1 else ''}" + (" and the scrub ladders" if ladder else "")
    return (f"This comparison is heavy: {what} of up to {est.steps:,} steps, up to about {est.work:.2g} "
            f"operations (roughly {jobs.row_seconds(est):.0f} s of computing if every run takes all its steps). "
            "Press **Run** to queue it: one heavy job runs at a time on this server, with progress and a "
            "Cancel button.")


def runs(formula, obj, req: Request) -> dict | None:
    """{run name: Trajectory}; None while a heavy request waits for its button (or was cancelled)."""
    wanted = req.named_runs()
    missing = [name for name, (_, _, m, p, x0) in wanted.items()
               if cache.peek(lambda m=m, p=p, x0=x0: cache.run(formula, m, p, x0, req.steps, req.tol)) is None]
    ladder_missing = req.scrubbing and cache.peek(lambda: _ladders(formula, req)) is None
    n_ladders = len(scrub.scrubbable(*req.picked[0])) if ladder_missing else 0
    est = jobs.estimate_runs(obj, [wanted[n][2:4] for n in missing], req.steps, extra_runs=LADDER_RUNS * n_ladders)

    def compute(report=lambda fraction, text=None: None) -> bool:
        total = len(missing) + ladder_missing
        for j, name in enumerate(missing):
            report(j / total, f"run {j + 1} of {total}: {name}")
            cache.run(formula, *wanted[name][2:], req.steps, req.tol)
        if ladder_missing:
            report(len(missing) / total, "the scrub ladders of method 1")
            _ladders(formula, req)
        return True

    if est.work > AUTO_WORK:
        key = _job_key(formula, req)
        st.info(heavy_text(est, len(missing), ladder_missing), icon=":material/hourglass_top:")
        if not st.button("Run", type="primary", key="cmp_go", icon=":material/play_arrow:"):
            jobs.show_if_cancelled(JOB, key, "Comparing methods")
            return None
        if jobs.run(JOB, key, "Comparing methods", compute, est=est) is None:
            return None
    elif missing or ladder_missing:
        compute()
    return {name: cache.run(formula, m, p, x0, req.steps, req.tol) for name, (_, _, m, p, x0) in wanted.items()}


# --------------------------------------------------------------------------------------- figures
def short_title(i: int, method: str, params: dict) -> str:
    """A panel title short enough for a third of a laptop screen: the method's label without its
    parenthesis ("1. Momentum η=0.001", not "1. Momentum (heavy ball) η=0.001")."""
    label = optcore.METHODS[method].label
    return views.run_label(i, method, params).replace(label, label.split(" (")[0], 1)


def paths(runs: dict, req: Request) -> tuple[dict, list[tuple[str, list[dict]]]]:
    """(styles by run name, panels): one panel per method holding its paths, one dash per start."""
    styles, panels = {}, [(short_title(i, m, p), []) for i, (m, p) in enumerate(req.picked)]
    many = len(req.starts) > 1
    for name, (i, s, *_rest) in req.named_runs().items():
        traj = runs[name]
        styles[name] = dict(color=figs.default_color(i), dash=DASHES[s % len(DASHES)] if many else None)
        panels[i][1].append(dict(figs.path_from_points(traj.points, name, styles[name]["color"], values=traj.values),
                                 dash=DASHES[s % len(DASHES)]))
    return styles, panels


def panel_layout(n: int) -> dict:
    """Columns and height of the side-by-side grid: up to three across, one per row on a narrow chart
    (a phone, or a narrow window: three panels' titles ran into each other at 358 px)."""
    if narrow_chart(chart_widths.layout_width("cmp_multiples")):
        return dict(cols=1, height_per_row=300)
    return dict(cols=min(n, 3), height_per_row=300 if n > 3 else 330)


def scrubbed(fig, formula, req: Request, path_of):
    """`fig` with in-browser η (and β) sliders for method 1's path from the first start."""
    method, params = req.picked[0]
    first = views.run_label(0, method, {**params, "lr": None}) + (" · start 1" if len(req.starts) > 1 else "")
    return scrub.add_sliders(fig, formula, method, params, req.starts[0], req.steps, req.tol,
                             path_name=next(iter(req.named_runs())), path_of=path_of,
                             legend_prefix=first, note=" (method 1, first start)")


def keep_scrubbed(req: Request):
    """A click on the scrubbed path: the η (and β) it shows become method 1's (and the link's)."""
    return scrub.keeper("m0", *req.picked[0])


# ------------------------------------------------------------------------------ below the charts
def convergence(obj, runs: dict, styles: dict, minima: np.ndarray) -> None:
    """f − f*, ‖∇f‖ and the distance to the minimum, against the x-axis the student picks."""
    axis = link.shared_option(st.segmented_control, "x-axis", "xaxis", options=list(X_AXES), default="iterations")
    axis = axis or "iterations"
    reached = np.concatenate([t.values[np.isfinite(t.values)] for t in runs.values()])
    f_star = float(obj.value(minima).min()) if len(minima) else float(reached.min()) if reached.size else 0.0
    best_final = int(np.nanargmin([t.values[-1] for t in runs.values()]))
    targets = minima if len(minima) else np.array([t.points[-1] for t in runs.values()])[[best_final]]
    series = views.convergence_series(runs, styles, X_AXES[axis], f_star, targets)
    # with no known minimum, say what the curves measure: log(x) + y² has none, and BFGS's curves fell to
    # 1e-16 "to the minimum" while it stalled near x = 0 with ‖∇f‖ ~ 1e9
    titles = (("f(x<sub>k</sub>) − f*", "‖∇f(x<sub>k</sub>)‖", "distance to minimum") if len(minima) else
              ("f(x<sub>k</sub>) − lowest f reached", "‖∇f(x<sub>k</sub>)‖", "distance to the lowest end"))
    charts.chart(figs.convergence_panels_figure(list(zip(titles, series)), x_title=axis,
                                                width_px=chart_widths.layout_width("cmp_conv") or 1100),
                 key="cmp_conv", clickable=False)
    st.caption(f"f* = {f_star:.6g} (known minimum)" if len(minima) else
               f"No minimum of f is known in the window (f may have none): the curves measure against the lowest "
               f"f any run reached, {f_star:.6g}, and the end point of that run. A curve that falls to 0 there "
               "reached that point; it need not be a minimum (look at ‖∇f‖).")


def summary(runs: dict, tol: float) -> None:
    """One row per run (the best marked) and a warning for each run that diverged or stopped at a
    point that is not a minimum."""
    st.subheader("Summary")
    st.dataframe(views.summary_rows(runs, tol), hide_index=True,
                 column_order=["best", "run", "status", "stopped at", "final f", "final point", "iterations to tol",
                               "iterations", views.EVALS],   # where each run ended, then what it cost
                 column_config={"final f": st.column_config.NumberColumn(format="%.6g"),
                                views.EVALS: st.column_config.TextColumn(
                                    help="how many times the run evaluated f, its gradient and its Hessian"),
                                "stopped at": st.column_config.TextColumn(
                                    help="where a converged run stopped, by the curvature there (∇f = 0 is all a "
                                         "method checks): minimum, saddle point, maximum or flat point; 'still moving': ∇f "
                                         "fell below tol while x kept walking toward an infimum")}, key="cmp_summary",
                 height="content")   # every row: the ★ of the best run sat below a 10-row scroll (12 runs)
    for name, traj in runs.items():
        if traj.status == "diverged":
            st.warning(f"**{name}**: {traj.message}")
        elif traj.status == "converged" and getattr(traj, "stopped_at", "") in views.NOT_A_MINIMUM:
            st.warning(f"**{name}**: {traj.message}", icon=":material/warning:")
