"""Compare: several methods (each with its own parameters) from one or several starts."""
from __future__ import annotations

import numpy as np
import streamlit as st

import optcore
from optcore.figures import trajectory as figs
from ui import cache, charts, fragments, link, scrub, state, views, widgets

DEFAULTS = ("gd", "momentum", "bfgs", "adam", "newton", "cg")
DASHES = ("solid", "dot", "dash", "dashdot", "longdash", "longdashdot")
X_AXES = {"iterations": None, "f evaluations": "f", "gradient evaluations": "grad", "Hessian evaluations": "hess"}

st.header("Compare methods")


@fragments.view_fragment("compare")
def compare() -> None:
    """The whole page below the header: a knob here reruns this, not the sidebar."""
    formula, obj = state.current_formula(), state.current_objective()
    names, window = list(obj.variables), state.current_window()
    minima = views.known_minima()

    # Settings beside the chart: on a 1440 x 900 screen the chart is in view at once (with the settings
    # above it, six method boxes pushed it below the fold).
    settings, main = st.columns([1, 3], gap="medium")
    with settings:
        n = int(link.shared_option(st.number_input, "number of methods", "n_methods", min_value=1,
                                   max_value=state.MAX_METHODS, value=3, step=1))
        steps, tol = widgets.steps_and_tol()
        picked = []
        for i in range(n):
            chosen = st.session_state.get(f"m{i}.method") or DEFAULTS[i % len(DEFAULTS)]
            title = optcore.METHODS[chosen].label if chosen in optcore.METHODS else chosen
            with st.expander(f"Method {i + 1}: {title}", expanded=True):
                picked.append(widgets.method_picker(f"m{i}", default=DEFAULTS[i % len(DEFAULTS)], label=f"Method {i + 1}"))
        with st.expander("More start points", expanded=False):
            starts = widgets.extra_starts_input()
        st.caption(f"{len(starts)} start point(s): the sidebar's start, plus the extra ones.")
        first_method, first_params = picked[0]
        can_scrub = obj.dim in (1, 2) and bool(scrub.scrubbable(first_method, first_params))
        scrubbing = can_scrub and scrub.toggle(
            "cmp_scrub", "Scrub η (and β) of method 1 in the chart",
            "The overlay carries method 1's paths for a ladder of learning rates around its η (and of momentum "
            "weights around its β) and sliders that swap them in your browser at once (no animation in this mode).")

    runs, styles, panels = {}, {}, []
    for i, (method, params) in enumerate(picked):
        label, panel = views.run_label(i, method, params), []
        for s, x0 in enumerate(starts):
            name = label if len(starts) == 1 else f"{label} · start {s + 1}"
            runs[name] = traj = cache.run(formula, method, params, x0, steps, tol)
            styles[name] = dict(color=figs.default_color(i), dash=DASHES[s % len(DASHES)] if len(starts) > 1 else None)
            panel.append(dict(figs.path_from_points(traj.points, name, styles[name]["color"], values=traj.values),
                              dash=DASHES[s % len(DASHES)]))
        panels.append((label, panel))
    all_paths = [p for _, panel in panels for p in panel]
    window = views.run_window(window, list(runs.values()))   # the starts and every run in the picture

    def scrubbed(fig, path_of):
        """`fig` with in-browser η (and β) sliders for method 1's path (from the first start)."""
        return scrub.add_sliders(fig, formula, first_method, first_params, starts[0], steps, tol,
                                 path_name=all_paths[0]["name"], path_of=path_of, note=" (method 1, first start)")

    keep_scrubbed = scrub.keeper("m0", first_method, first_params)   # a click keeps method 1's η (and β)

    first_name = all_paths[0]["name"]

    fig = None
    with main:
        if obj.dim == 2:
            tab_side, tab_overlay = st.tabs(["Side by side (shared timeline)", "Overlay on one contour"])
            with tab_side:
                fig = figs.small_multiples_figure(*cache.grid(formula, window, n=120), panels, minima=minima,
                                                  names=names, height_per_row=300 if n > 3 else 330)
                charts.chart(fig, key="cmp_multiples", clickable=False)
            with tab_overlay:
                overlay = figs.contour_paths_figure(*cache.grid(formula, window, n=200), all_paths, minima=minima,
                                                    names=names, animate=not scrubbing)
                if scrubbing:
                    overlay = scrubbed(overlay, lambda P: figs.path_from_points(P, first_name, ""))
                charts.chart(overlay, key="cmp_overlay", keep_value=keep_scrubbed if scrubbing else None)
                st.caption("Click anywhere on the contour to move the first start point there.")
        elif obj.dim == 1:
            xs, _, fx = cache.grid(formula, window, n=400)
            fig = figs.curve_figure(xs, fx, all_paths, name=names[0], minima=minima[:, 0] if len(minima) else (),
                                    minima_values=obj.value(minima) if len(minima) else (), animate=not scrubbing)
            if scrubbing:
                fig = scrubbed(fig, lambda P: figs.path_from_points(P, first_name, "", values=obj.value(P)))
            charts.chart(fig, key="cmp_curve", keep_value=keep_scrubbed if scrubbing else None)
        else:
            st.info(f"f has {obj.dim} variables: compare the methods by their convergence plots below.")

    # -- convergence -------------------------------------------------------------------------------
    axis = link.shared_option(st.segmented_control, "x-axis", "xaxis", options=list(X_AXES), default="iterations")
    axis = axis or "iterations"
    reached = np.concatenate([t.values[np.isfinite(t.values)] for t in runs.values()])
    f_star = float(obj.value(minima).min()) if len(minima) else float(reached.min()) if reached.size else 0.0
    best_final = int(np.nanargmin([t.values[-1] for t in runs.values()]))
    targets = minima if len(minima) else np.array([t.points[-1] for t in runs.values()])[[best_final]]
    series_f, series_g, series_d = views.convergence_series(runs, styles, X_AXES[axis], f_star, targets)
    c1, c2, c3 = st.columns(3)
    c1.plotly_chart(figs.convergence_figure(series_f, y_title="f(x<sub>k</sub>) − f*", x_title=axis), key="cmp_conv_f")
    c2.plotly_chart(figs.convergence_figure(series_g, y_title="‖∇f(x<sub>k</sub>)‖", x_title=axis), key="cmp_conv_g")
    c3.plotly_chart(figs.convergence_figure(series_d, y_title="distance to minimum", x_title=axis), key="cmp_conv_d")
    st.caption("f* = " + (f"{f_star:.6g} (known minimum)" if len(minima) else f"{f_star:.6g} (best value reached)"))

    # -- summary -----------------------------------------------------------------------------------
    st.subheader("Summary")
    st.dataframe(views.summary_rows(runs, tol), hide_index=True,
                 column_order=["best", "run", "status", "stopped at", "iterations to tol", "iterations",
                               "f evals", "∇f evals", "∇²f evals", "final point", "final f"],
                 column_config={"final f": st.column_config.NumberColumn(format="%.6g"),
                                "stopped at": st.column_config.TextColumn(
                                    help="where a converged run stopped, by the curvature there (∇f = 0 is all a "
                                         "method checks): minimum, saddle point, maximum or flat point; 'still moving': ∇f "
                                         "fell below tol while x kept walking toward an infimum")}, key="cmp_summary")
    for name, traj in runs.items():
        if traj.status == "diverged":
            st.warning(f"**{name}**: {traj.message}")
        elif traj.status == "converged" and getattr(traj, "stopped_at", "") in views.NOT_A_MINIMUM:
            st.warning(f"**{name}**: {traj.message}", icon=":material/warning:")

    with st.expander("Export and share", expanded=False):
        charts.export_buttons(fig, runs, key="cmp_export")
        st.caption("The address bar holds the whole state: copy it to share exactly this comparison.")


compare()
