"""Curvature: where f bends up in every direction, where it is saddle-shaped, and what that does to
Newton's step (the blog post's det H map and Newton-step vector field)."""
from __future__ import annotations

import numpy as np
import streamlit as st

import optcore
from optcore import analysis
from optcore.figures import analysis as afigs
from optcore.figures import trajectory as tfigs
from ui import frame

MAPS = ("det H", "convex / saddle / concave", "smallest eigenvalue")

obj = frame.current_objective()
names = list(obj.variables)
window = frame.current_window()
starts = frame.current_starts()

st.header("Curvature")
st.markdown(
    "The Hessian H says how f bends around each point. Where **det H > 0** (in two variables) f is a bowl "
    "or a dome there; where **det H < 0** it curves up one way and down the other, like a saddle. "
    "Newton's method jumps to the stationary point of the local quadratic, so from a saddle-shaped "
    "region it heads for a saddle, even uphill. Compare the two arrow fields below: the gradient "
    "always points downhill, the Newton step does not.")
if st.button("Open the blog post's example: starts (3.1, 1.3) and (3.1, 1.8)", icon=":material/school:"):
    frame.load_preset("blog-sin-saddle")


@st.cache_data(max_entries=32, show_spinner="Computing curvature…")
def curvature_maps(text: str, variables: tuple, window: tuple, n: int, base: tuple, axes: tuple):
    f = optcore.parse(text, variables)
    xs, ys, XY = analysis.grid(window, n, base=base, axes=axes)
    lam = analysis.hessian_eigenvalues_grid(f, XY)
    return (xs, ys, f.value(XY), analysis.hessian_det_grid(f, XY), analysis.curvature_class(lam), lam[..., 0])


@st.cache_data(max_entries=32, show_spinner="Looking for stationary points…")
def stationary_points(text: str, variables: tuple, window: tuple):
    return analysis.critical_points(optcore.parse(text, variables), window, seeds=900 if len(window) <= 2 else 2000)


controls, main = st.columns([1, 3], gap="medium")
with controls:
    view, n = MAPS[0], 150
    if obj.dim >= 2:  # with one variable there is no map to choose: f'' is drawn under the curve
        view = frame.shared_option(st.radio, "map", "curv_map", options=MAPS)
        n = frame.shared_option(st.slider, "grid points per axis", "curv_n", min_value=40, max_value=300,
                                value=150, step=10, help="resolution of the maps (at most 300 × 300)")
    show_cps = st.checkbox("mark stationary points", value=True, key="curv_cps")
    picked = [frame.method_picker("m0", default="gd", label="Path 1")]
    if st.checkbox("second method", value=True, key="curv_two"):
        picked.append(frame.method_picker("m1", default="newton", label="Path 2"))
    steps, tol = frame.steps_and_tol(default_steps=30)

runs = {}
for method, params in picked:
    for x0 in starts:
        label = f"{optcore.METHODS[method].label} from ({', '.join(f'{v:.3g}' for v in x0)})"
        runs[label] = frame.run(method, params, x0, steps, tol)
cps = stationary_points(obj.text, obj.variables, window) if show_cps else []
fig = None

with main:
    if obj.dim == 1:
        xs, _, X = analysis.grid(window, 600)
        f2 = obj.hess(X)[:, 0, 0]
        paths = {k: (t.points[:, 0], t.values) for k, t in runs.items()}
        fig = afigs.curvature_1d_figure(xs, obj.value(X), f2, critical=cps, paths=paths, name=names[0])
        st.plotly_chart(fig, key="curv_1d")
        st.caption("With one variable the Hessian is just f''. The det H map, the eigenvalue maps and the "
                   "arrow fields need exactly two variables (or a slice of more).")
    else:
        axes, base = (0, 1), (tuple(starts[0]) if obj.dim > 2 else None)
        if obj.dim > 2:
            c1, c2 = st.columns(2)
            a = frame.shared_option(c1.selectbox, "slice: horizontal variable", "slice_x", options=names, index=0)
            b = frame.shared_option(c2.selectbox, "slice: vertical variable", "slice_y", options=names, index=1)
            if a == b:  # one variable cannot span a plane: take the next one
                b = next(n for n in names if n != a)
                st.caption(f"Both slice axes were {a}; showing {a} against {b}.")
            axes = (names.index(a), names.index(b))
            st.caption(f"f has {obj.dim} variables: this is the plane through the start point spanned by "
                       f"{a} and {b}; the colours use the full {obj.dim}×{obj.dim} Hessian.")
        xs, ys, F, det, classes, lam_min = curvature_maps(obj.text, obj.variables, window, int(n), base, axes)
        shown_cps = cps if obj.dim == 2 else []
        paths = {k: t.points[:, list(axes)] for k, t in runs.items()}
        plane = [names[axes[0]], names[axes[1]]]
        if view == MAPS[0]:
            fig = afigs.det_hessian_figure(xs, ys, det, F, names=plane, critical=shown_cps, paths=paths)
        elif view == MAPS[1]:
            fig = afigs.curvature_class_figure(xs, ys, classes, F, names=plane, critical=shown_cps, paths=paths)
        else:
            fig = afigs.min_eigenvalue_figure(xs, ys, lam_min, F, names=plane, critical=shown_cps, paths=paths)
        fig.add_trace(tfigs.click_grid_trace(xs, ys, F, names=plane))
        fig.update_layout(meta=dict(view="curvature", click_axes=list(axes)))
        frame.chart(fig, key="curv_map_chart")
        st.caption("Click the map to move the start point. Dashed black line: det H = 0, where Newton's "
                   "step is undefined and turns around.")

    # What the Hessian says at each start point.
    rows = []
    for x0 in starts:
        f0, g, H = analysis.taylor_model(obj, x0)
        lam = analysis.symmetric_eigenvalues(H)
        step = analysis.newton_landing_point(g, H)
        rows.append({"start": ", ".join(f"{v:.4g}" for v in x0), "f": f0, "det H": float(np.linalg.det(H)),
                     "eigenvalues of H": ", ".join(f"{v:.4g}" for v in lam),
                     "Newton step −H⁻¹∇f": ", ".join(f"{v:.3g}" for v in step) if step is not None else "H singular",
                     "f after the full step": float(obj.value(x0 + step)) if step is not None else None,
                     "f after half the step": float(obj.value(x0 + 0.5 * step)) if step is not None else None,
                     "Newton direction": ("—" if step is None else "uphill (∇fᵀs > 0)" if float(g @ step) > 0
                                          else "downhill (∇fᵀs < 0)")})
    st.markdown("**At the start point(s)**")
    st.dataframe(rows, hide_index=True)

if obj.dim == 2:
    st.subheader("Newton step field beside the negative gradient")
    density = st.slider("arrows per axis", 10, 40, 22, key="curv_arrows")
    xs_f, ys_f, F_f, det_f, _, _ = curvature_maps(obj.text, obj.variables, window, 80, None, (0, 1))
    _, _, XY = analysis.grid(window, int(density))
    fields = afigs.vector_fields_figure(xs_f, ys_f, F_f, XY, analysis.newton_step_field(obj, XY),
                                        analysis.gradient_field(obj, XY), det=det_f, names=names, starts=starts)
    st.plotly_chart(fields, key="curv_fields")
    st.caption("Every arrow has the same drawn length; its head's colour is log₁₀ of the true length. "
               "Arrows in the Newton panel that point away from a minimum are where H is not positive definite.")

if cps:
    st.subheader(f"Stationary points in the window ({len(cps)})")
    st.dataframe([{"kind": c.kind, "point": ", ".join(f"{v:.6g}" for v in c.point), "f": c.value,
                   "eigenvalues of H": ", ".join(f"{v:.4g}" for v in c.eigenvalues)} for c in cps],
                 hide_index=True)

with st.expander("Export", expanded=False):
    frame.export_buttons(fig, runs, key="curv_export")
