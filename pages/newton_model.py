"""Newton's model: the second-order Taylor model at any step of a run, next to f itself."""
from __future__ import annotations

import numpy as np
import streamlit as st

import optcore
from optcore import analysis
from optcore.figures import analysis as afigs
from ui import frame, views

KIND_TEXT = {"min": "a bowl: its stationary point is its minimum, and the Newton step heads there",
             "max": "a dome: its stationary point is its maximum, so a full Newton step climbs",
             "saddle": "saddle-shaped: its stationary point is a saddle, which Newton heads for even uphill",
             "degenerate": "flat in some direction: no unique stationary point (H is singular)"}

obj = frame.current_objective()
names = list(obj.variables)
window = frame.current_window()
x0 = frame.current_start()

st.header("Newton's model")
st.markdown(
    "At x_k Newton's method replaces f by its quadratic Taylor model "
    "m(x) = f(x_k) + ∇f(x_k)ᵀ(x − x_k) + ½(x − x_k)ᵀH(x − x_k) and jumps to where m is flat. "
    "Step through a run and compare the model's contours with f's: near a minimum they agree and the "
    "jump lands almost on it; far away, or where H is not positive definite, the model lies. "
    "For BFGS the panel on the right uses its own estimate of H, built from gradient changes only.")
c1, c2 = st.columns(2)
if c1.button("Blog example: Newton from (3.1, 1.8)", icon=":material/school:"):
    frame.load_preset("blog-sin-convex-start")
if c2.button("Blog example: the squished paraboloid (one step)", icon=":material/school:"):
    frame.load_preset("blog-squished")

controls, main = st.columns([1, 3], gap="medium")
with controls:
    method, params = frame.method_picker(frame.NEWTON_PICKER, default="newton")
    steps, tol = frame.steps_and_tol(default_steps=20)
    zoom = st.toggle("zoom around x_k", value=False, key="nm_zoom",
                     help="a window around the current point instead of the whole plot window")

traj = frame.run(method, params, x0, steps, tol)
views.show_status(traj)
k_max = int(traj.iterations)
if st.session_state.get("nm_k", 0) > k_max:
    st.session_state["nm_k"] = k_max
k = st.slider("step k", 0, max(k_max, 1), key="nm_k", disabled=k_max == 0) if k_max else 0
x_k = traj.points[k]
f_k, g, H = analysis.taylor_model(obj, x_k)
models = {"true Hessian": H}
inverse = (traj.extras or {}).get("bfgs_inverse")
if inverse is not None and len(inverse) > k:
    try:
        models["BFGS estimate"] = np.linalg.inv(np.asarray(inverse[k], dtype=float))
    except np.linalg.LinAlgError:
        st.caption("BFGS's estimate is singular at this step.")
landings = {label: (analysis.newton_landing_point(g, M, x_k), analysis.quadratic_model_kind(M))
            for label, M in models.items()}

if zoom:
    span = [0.25 * (hi - lo) for lo, hi in window]
    view_window = tuple((float(x_k[i] - s), float(x_k[i] + s)) for i, s in enumerate(span))
else:
    view_window = window

with main:
    if obj.dim == 1:
        xs, _, X = analysis.grid(view_window, 400)
        curves = {label: analysis.taylor_model_grid(x_k, f_k, g, M, X) for label, M in models.items()}
        fig = afigs.taylor_model_1d_figure(xs, obj.value(X), curves, float(x_k[0]), f_k, landings,
                                           path=(traj.points[:k + 1, 0], traj.values[:k + 1]), name=names[0])
    else:
        axes = (0, 1)
        if obj.dim > 2:
            c1, c2 = st.columns(2)
            a = frame.shared_option(c1.selectbox, "slice: horizontal variable", "slice_x", options=names, index=0)
            b = frame.shared_option(c2.selectbox, "slice: vertical variable", "slice_y", options=names, index=1)
            if a == b:  # one variable cannot span a plane: take the next one
                b = next(n for n in names if n != a)
                st.caption(f"Both slice axes were {a}; showing {a} against {b}.")
            axes = (names.index(a), names.index(b))
            st.caption(f"The plane through x_{k} spanned by {a} and {b}; points and steps are projected onto it.")
        xs, ys, XY = analysis.grid(view_window, 120, base=x_k, axes=axes)
        curves = {label: analysis.taylor_model_grid(x_k, f_k, g, M, XY) for label, M in models.items()}
        projected = {label: ((p[list(axes)] if p is not None else None), kind) for label, (p, kind) in landings.items()}
        fig = afigs.taylor_model_figure(xs, ys, obj.value(XY), curves, x_k[list(axes)], projected,
                                        path=traj.points[:k + 1][:, list(axes)], names=[names[i] for i in axes])
        fig.update_layout(meta=dict(view="newton_model", click_axes=list(axes)))
    st.plotly_chart(fig, key="nm_chart")

cols = st.columns(4)
cols[0].metric(f"f(x_{k})", f"{f_k:.6g}")
lam = analysis.symmetric_eigenvalues(H)
cols[1].metric("eigenvalues of H", ", ".join(f"{v:.3g}" for v in lam))
point, kind = landings["true Hessian"]
if point is not None:
    f_land = float(obj.value(point))
    cols[2].metric("f where the model is flat", f"{f_land:.6g}", delta=f"{f_land - f_k:.3g}", delta_color="inverse")
    cols[3].metric("model's stationary point", ", ".join(f"{v:.4g}" for v in point))
st.markdown(f"**The model at x_{k} is {KIND_TEXT[kind]}.**")
if "BFGS estimate" in landings:
    p_b, kind_b = landings["BFGS estimate"]
    lam_b = analysis.symmetric_eigenvalues(models["BFGS estimate"])
    st.markdown(f"BFGS's model: eigenvalues {', '.join(f'{v:.3g}' for v in lam_b)} — {KIND_TEXT[kind_b]}.")
if k < k_max:
    st.caption(f"The run actually moved to x_{k + 1} = ({', '.join(f'{v:.4g}' for v in traj.points[k + 1])}), "
               f"f = {traj.values[k + 1]:.6g}" + (" (its learning rate or line search scales the jump)."
                                                  if optcore.METHODS[method].needs_hessian else "."))

with st.expander("Export", expanded=False):
    frame.export_buttons(fig, {method: traj}, key="nm_export")
