"""Curvature: where f bends up in every direction, where it is saddle-shaped, and what that does to
Newton's step (the blog post's det H map and Newton-step vector field)."""
from __future__ import annotations

import streamlit as st

import optcore
from optcore import analysis
from optcore.figures import analysis as afigs
from optcore.figures import trajectory as tfigs
from ui import cache, chart_widths, charts, fragments, link, numbers, state, views, widgets

MAPS = ("det H", "convex / saddle / concave", "smallest eigenvalue")
ZERO_LINES = {"det H = 0": "det H = 0, where Newton's step is undefined and turns around",
              "λ<sub>min</sub> = 0": "λmin = 0 (det H = 0 there too), where Newton's step is undefined"}

st.header("Curvature")
st.markdown(
    "The Hessian H says how f bends around each point. Where **det H > 0** (in two variables) f is a bowl "
    "or a dome there; where **det H < 0** it curves up one way and down the other, like a saddle. "
    "Newton's method jumps to the stationary point of the local quadratic, so from a saddle-shaped "
    "region it heads for a saddle, even uphill. Compare the two arrow fields below: the gradient "
    "always points downhill, the Newton step does not.")
widgets.example_button("Open the blog post's example: starts (3.1, 1.3) and (3.1, 1.8)", "blog-sin-saddle")


@fragments.view_fragment("curvature")
def curvature() -> None:
    """The page below its header: a knob here reruns this, not the sidebar."""
    formula, obj = state.current_formula(), state.current_objective()
    names, window = list(obj.variables), state.current_window()
    controls, main = st.columns([1, 3], gap="medium")
    with controls:
        view, n = MAPS[0], 150
        if obj.dim >= 2:  # with one variable there is no map to choose: f'' is drawn under the curve
            view = link.shared_option(st.radio, "map", "curv_map", options=MAPS)
            n = link.shared_option(st.slider, "grid points per axis", "curv_n", min_value=40, max_value=300,
                                   value=150, step=10, help="resolution of the maps (at most 300 × 300)")
        show_cps = st.checkbox("mark stationary points", value=True, key="curv_cps")
        picked = [widgets.method_picker("m0", default="gd", label="Path 1")]
        if st.checkbox("second method", value=True, key="curv_two"):
            picked.append(widgets.method_picker("m1", default="newton", label="Path 2"))
        steps, tol = widgets.steps_and_tol(default_steps=30)
        starts = widgets.extra_starts_input()   # an example's extra starts, shown and editable

    runs = {f"{optcore.METHODS[method].label} from ({', '.join(f'{v:.3g}' for v in x0)})":
            cache.run(formula, method, params, x0, steps, tol) for method, params in picked for x0 in starts}
    cps = cache.stationary_points(formula, window) if show_cps else []
    window = views.run_window(window, list(runs.values()))   # the starts and paths in the picture
    with main:
        if obj.dim == 1:
            xs, fx, f2 = cache.curvature_curve(formula, window)
            fig = afigs.curvature_1d_figure(xs, fx, f2, critical=cps, name=names[0],
                                            paths={k: (t.points[:, 0], t.values) for k, t in runs.items()})
            charts.chart(fig, key="curv_1d", clickable=False)
            st.caption("With one variable the Hessian is just f''. The det H map, the eigenvalue maps and the "
                       "arrow fields need exactly two variables (or a slice of more)." + views.outcomes_text(runs))
        else:
            axes, base = (0, 1), None
            if obj.dim > 2:
                axes, base = widgets.slice_picker(names), tuple(starts[0])
                st.caption(f"f has {obj.dim} variables: this is the plane through the start point spanned by "
                           f"{names[axes[0]]} and {names[axes[1]]}; the colours use the full {obj.dim}×{obj.dim} "
                           "Hessian.")
            xs, ys, F, det, classes, lam_min = cache.curvature_maps(formula, window, int(n), base, axes)
            shown = dict(names=[names[axes[0]], names[axes[1]]], critical=cps if obj.dim == 2 else [],
                         paths={k: t.points[:, list(axes)] for k, t in runs.items()})
            build, grid = {MAPS[0]: (afigs.det_hessian_figure, det), MAPS[1]: (afigs.curvature_class_figure, classes),
                           MAPS[2]: (afigs.min_eigenvalue_figure, lam_min)}[view]
            fig = build(xs, ys, grid, F, **shown)
            fig.add_trace(tfigs.click_grid_trace(xs, ys, F, names=shown["names"]))
            fig.update_layout(meta=dict(view="curvature", click_axes=list(axes)))
            charts.chart(fig, key="curv_map_chart")
            zero = next((f" Dashed black line: {ZERO_LINES[t.name]}." for t in fig.data if t.name in ZERO_LINES), "")
            st.caption("Click the map to move the start point." + zero + views.outcomes_text(runs))
    st.markdown("**At the start point(s)**")   # the page's width: in the chart's column it was cut off
    st.dataframe(analysis.newton_at_starts(obj, starts), hide_index=True)

    if obj.dim == 2:
        st.subheader("Newton step field beside the negative gradient")
        density = st.slider("arrows per axis", 10, 40, 22, key="curv_arrows")
        xs_f, ys_f, F_f, det_f, _, _ = cache.curvature_maps(formula, window, 80, None, (0, 1))
        XY, newton_steps, gradients = cache.step_fields(formula, window, int(density))
        charts.chart(afigs.vector_fields_figure(xs_f, ys_f, F_f, XY, newton_steps, gradients, det=det_f, names=names,
                                                starts=starts, width=chart_widths.layout_width("curv_fields")),
                     key="curv_fields", clickable=False)
        st.caption("Every arrow has the same drawn length; its head's colour is log₁₀ of the true length. Arrows "
                   "in the Newton panel that point away from a minimum are where H is not positive definite.")
    if cps:
        st.subheader(f"Stationary points in the window ({len(cps)})")
        f_scale = max(abs(c.value) for c in cps)   # f = 7.9e-31 at a minimum where f is 0 printed as "…00007"
        st.dataframe([{"kind": c.kind, "point": ", ".join(f"{v:.6g}" for v in c.point),
                       "f": numbers.format_number(c.value, max(f_scale, 1.0)),
                       "eigenvalues of H": ", ".join(f"{v:.4g}" for v in c.eigenvalues)} for c in cps],
                     hide_index=True)
    with st.expander("Export", expanded=False):
        charts.export_buttons(fig, runs, key="curv_export")


curvature()
