"""Playground: one method on the current objective, animated (or with η scrubbed in the chart),
with a step inspector."""
from __future__ import annotations

import numpy as np
import streamlit as st

import optcore
from optcore.figures import trajectory as figs
from ui import cache, charts, fragments, inspector, scrub, state, views, widgets

st.header("Playground")
CONTOUR, SURFACE = "Contour (animated)", "3-D surface"   # the 2-D views (key "pg_tab")


@fragments.view_fragment("playground")
def playground() -> None:
    """The whole page below the header: a knob here reruns this, not the sidebar."""
    formula, obj = state.current_formula(), state.current_objective()
    names, window, x0 = list(obj.variables), state.current_window(), state.current_start()
    minima = views.known_minima()
    minima_values = obj.value(minima) if len(minima) else ()
    fig = None

    controls, main = st.columns([1, 3], gap="medium")
    with controls, st.container(key="controls_playground"):   # a minimum width: ui/sidebar.py NARROW_CSS
        method, params = widgets.method_picker("m0")
        steps, tol = widgets.steps_and_tol()
        lrs = widgets.learning_rates_input("e.g. 0.05, 0.2, 0.9") if obj.dim == 1 and "lr" in params else []
        can_scrub = obj.dim in (1, 2) and not lrs and bool(scrub.scrubbable(method, params))
        scrubbing = can_scrub and scrub.toggle(
            "pg_scrub", "Scrub η (and β) in the chart",
            "The chart carries the paths for a ladder of learning rates around η (and of momentum weights "
            "around β) and sliders that swap them in your browser at once (no animation in this mode).")

    traj = cache.run(formula, method, params, x0, steps, tol)
    label = optcore.METHODS[method].label   # legends say "Gradient descent", as the picker does, not "gd"

    def scrubbed(fig, path_of):
        """`fig` with the in-browser η (and β) sliders: one batched run per ladder."""
        return scrub.add_sliders(fig, formula, method, params, x0, steps, tol, path_name=label, path_of=path_of,
                                 status_note=True)

    keep_scrubbed = scrub.keeper("m0", method, params)   # a click on the scrubbed path keeps its η (and β)

    runs = {f"{label} η={lr:g}": cache.run(formula, method, {**params, "lr": lr}, x0, steps, tol)
            for lr in lrs} or {label: traj}
    window = views.run_window(window, list(runs.values()))   # the start and every run in the picture

    with main:
        for label, t in runs.items():
            views.show_status(t, label if len(runs) > 1 else None)
        views.show_stationary_start(traj, obj.dim)
        if obj.dim == 1:
            xs, _, fx = cache.grid(formula, window, n=400)
            paths = [figs.path_from_points(t.points, label, figs.default_color(i), values=t.values)
                     for i, (label, t) in enumerate(runs.items())]
            fig = figs.curve_figure(xs, fx, paths, name=names[0], minima=minima[:, 0] if len(minima) else (),
                                    minima_values=minima_values, animate=not scrubbing)
            if scrubbing:
                fig = scrubbed(fig, lambda P: figs.path_from_points(P, label, "", values=obj.value(P)))
            charts.chart(fig, key="pg_chart", keep_value=keep_scrubbed if scrubbing else None, paint_first=True)
        elif obj.dim == 2:
            xs, ys, Z = cache.grid(formula, window, n=200)
            path = figs.path_from_points(traj.points, label, figs.default_color(0), values=traj.values)
            # Only the chosen view is built and sent (a WebGL surface on every formula edit would double
            # the time until the contour answers).
            if views.view_switch([CONTOUR, SURFACE], key="pg_tab") == CONTOUR:
                fig = figs.contour_paths_figure(xs, ys, Z, [path], minima=minima, names=names, animate=not scrubbing)
                if scrubbing:
                    fig = scrubbed(fig, lambda P: figs.path_from_points(P, label, ""))
                charts.chart(fig, key="pg_chart", keep_value=keep_scrubbed if scrubbing else None)
                with charts.while_painting():   # the preview's runs while the browser paints the chart
                    preview = None if scrubbing else cache.hover_preview(formula, method, params, window, steps, tol)
                if preview is not None:
                    charts.hover_preview("pg_chart", preview)
                    st.caption("Hover over the contour: the dotted path is the run from the nearest of "
                               f"{preview['n']} × {preview['n']} starts, drawn in your browser; click to start there.")
            else:
                fig = figs.surface_figure(xs, ys, Z, [path], names=names, minima=minima, minima_values=minima_values)
                charts.chart(fig, key="pg_surface", clickable=False)   # the export buttons save this one
        else:
            fig = views.slice_chart(formula, traj, window, minima, key="pg_chart", inspector_key="pg_inspect_k")
        if (obj.dim >= 2 or len(runs) == 1) and traj.iterations > 0:
            views.convergence_pair(traj, float(np.min(minima_values)) if len(minima) else None, key="pg_conv")

    st.subheader("Step inspector")
    inspector.step_inspector(traj, key="pg_inspect_k", runs=runs)

    with st.expander("Export and share", expanded=False):
        charts.export_buttons(fig, runs, key="pg_export")
        st.caption("The address bar holds the whole state: copy it to share exactly this view.")


playground()
