"""Compare: several methods (each with its own parameters) from one or several starts."""
from __future__ import annotations

import streamlit as st

from optcore.figures import trajectory as figs
from ui import cache, chart_widths, charts, comparison, fragments, state, views

st.header("Compare methods")


@fragments.view_fragment("compare")
def compare() -> None:
    """The whole page below the header: a knob here reruns this, not the sidebar."""
    formula, obj = state.current_formula(), state.current_objective()
    names = list(obj.variables)

    # Settings beside the chart: on a 1440 x 900 screen the chart is in view at once.
    settings, main = st.columns([1, 3], gap="medium")
    with settings, st.container(key="controls_compare"):   # a minimum width: ui/sidebar.py NARROW_CSS
        req = comparison.settings(obj)
    with main:
        runs = comparison.runs(formula, obj, req)   # None: a heavy request waits for its Run button
    if runs is None:
        return
    styles, panels = comparison.paths(runs, req)
    all_paths = [p for _, panel in panels for p in panel]
    window = views.run_window(state.current_window(), list(runs.values()))   # the starts and every run
    minima = views.known_minima()
    keep_scrubbed = comparison.keep_scrubbed(req) if req.scrubbing else None

    fig = None
    with main:
        if obj.dim == 2:
            view = views.view_switch([comparison.SIDE, comparison.OVERLAY], key="cmp_tab",
                                     default=comparison.OVERLAY if req.scrubbing else None)
            if view == comparison.SIDE:   # only the chosen view is built and sent
                fig = figs.small_multiples_figure(*cache.grid(formula, window, n=120), panels, minima=minima,
                                                  names=names, **comparison.panel_layout(len(panels)))
                charts.chart(fig, key="cmp_multiples", clickable=False, paint_first=True)
            else:
                fig = figs.contour_paths_figure(*cache.grid(formula, window, n=200), all_paths, minima=minima,
                                                names=names, animate=not req.scrubbing,
                                                width_px=chart_widths.layout_width("cmp_overlay"))
                if req.scrubbing:
                    fig = comparison.scrubbed(fig, formula, req,
                                              lambda P: figs.path_from_points(P, all_paths[0]["name"], ""))
                charts.chart(fig, key="cmp_overlay", keep_value=keep_scrubbed, paint_first=True)
                st.caption("Click anywhere on the contour to move the first start point there.")
        elif obj.dim == 1:
            xs, _, fx = cache.grid(formula, window, n=400)
            fig = figs.curve_figure(xs, fx, all_paths, name=names[0], minima=minima[:, 0] if len(minima) else (),
                                    minima_values=obj.value(minima) if len(minima) else (), animate=not req.scrubbing)
            if req.scrubbing:
                fig = comparison.scrubbed(fig, formula, req, lambda P: figs.path_from_points(
                    P, all_paths[0]["name"], "", values=obj.value(P)))
            charts.chart(fig, key="cmp_curve", keep_value=keep_scrubbed, paint_first=True)
        else:
            st.info(f"f has {obj.dim} variables: compare the methods by their convergence plots below.")

    comparison.convergence(obj, runs, styles, minima)
    comparison.summary(runs, req.tol)
    with st.expander("Export and share", expanded=False):
        charts.export_buttons(fig, runs, key="cmp_export")
        st.caption("The address bar holds the whole state: copy it to share exactly this comparison.")


compare()
