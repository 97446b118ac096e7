"""Newton's model: the second-order Taylor model at any step of a run, next to f itself."""
from __future__ import annotations

import numpy as np
import streamlit as st

import optcore
from optcore import analysis
from optcore.figures import analysis as afigs
from ui import cache, charts, fragments, registry, state, views, widgets
from ui.numbers import format_number, format_vector

KIND_TEXT = {"min": "a bowl: its stationary point is its minimum, and the Newton step heads there",
             "max": "a dome: its stationary point is its maximum, so a full Newton step climbs",
             "saddle": "saddle-shaped: its stationary point is a saddle, which Newton heads for even uphill",
             "degenerate": "flat in some direction: no unique stationary point (H is singular)"}
PICKER = registry.BY_KEY["newton_model"]

st.header("Newton's model")
st.markdown(
    "At x_k Newton's method replaces f by its quadratic Taylor model "
    "m(x) = f(x_k) + ∇f(x_k)ᵀ(x − x_k) + ½(x − x_k)ᵀH(x − x_k) and jumps to where m is flat. "
    "Step through a run and compare the model's contours with f's: near a minimum they agree and the "
    "jump lands almost on it; far away, or where H is not positive definite, the model lies. "
    "For BFGS the panel on the right uses its own estimate of H, built from gradient changes only.")
c1, c2 = st.columns(2)
widgets.example_button("Blog example: Newton from (3.1, 1.8)", "blog-sin-convex-start", c1)
widgets.example_button("Blog example: the squished paraboloid (one step)", "blog-squished", c2)


@fragments.view_fragment("newton_model")
def newton_model() -> None:
    """The page below its header: a knob here reruns this, not the sidebar."""
    formula, obj = state.current_formula(), state.current_objective()
    names, window, x0 = list(obj.variables), state.current_window(), state.current_start()
    controls, main = st.columns([1, 3], gap="medium")
    with controls, st.container(key="controls_newton"):   # a minimum width: ui/sidebar.py NARROW_CSS
        method, params = widgets.method_picker(PICKER.picker, default=PICKER.picker_default)
        steps, tol = widgets.steps_and_tol(default_steps=20)
        zoom = st.toggle("zoom around x_k", value=False, key="nm_zoom",
                         help="a window around the current point instead of the whole plot window")

    traj = cache.run(formula, method, params, x0, steps, tol)
    views.show_status(traj)
    k_max = int(traj.iterations)
    if st.session_state.get("nm_k", 0) > k_max:
        st.session_state["nm_k"] = k_max
    k = st.slider("step k", 0, max(k_max, 1), key="nm_k", disabled=k_max == 0) if k_max else 0
    x_k = traj.points[k]
    bfgs_inverse = (traj.extras or {}).get("bfgs_inverse")
    f_k, g, H, models, landings, note = analysis.newton_models(obj, traj.points, k, bfgs_inverse)
    if note:
        st.caption(note)
    view_window = views.model_window(window, traj.points[:k + 1], landings["true Hessian"][0], x_k if zoom else None)

    with main:
        if obj.dim == 1:
            xs, _, fx, curves = cache.taylor_grids(formula, view_window, 400, tuple(x_k), f_k, g, models, None)
            fig = afigs.taylor_model_1d_figure(xs, fx, curves, float(x_k[0]), f_k, landings,
                                               path=(traj.points[:k + 1, 0], traj.values[:k + 1]), name=names[0])
        else:
            axes = (0, 1)
            if obj.dim > 2:
                axes = widgets.slice_picker(names)
                st.caption(f"The plane through x_{k} spanned by {names[axes[0]]} and {names[axes[1]]}; points and "
                           "steps are projected onto it.")
            xs, ys, F, curves = cache.taylor_grids(formula, view_window, 120, tuple(x_k), f_k, g, models, axes)
            projected = {label: ((p[list(axes)] if p is not None else None), kind)
                         for label, (p, kind) in landings.items()}
            fig = afigs.taylor_model_figure(xs, ys, F, curves, x_k[list(axes)], projected,
                                            path=traj.points[:k + 1][:, list(axes)], names=[names[i] for i in axes])
            fig.update_layout(meta=dict(view="newton_model", click_axes=list(axes)))
        charts.chart(fig, key="nm_chart", clickable=False)

    cols = st.columns(3)   # three, not four: "model's stationary point -0.2708, -0.9…" was cut off
    cols[0].metric(f"f(x_{k})", format_number(f_k))
    cols[1].metric("eigenvalues of H", ", ".join(format_number(v, digits=3) for v in analysis.symmetric_eigenvalues(H)))
    point, kind = landings["true Hessian"]
    if point is not None:
        f_land = float(obj.value(point))
        cols[2].metric("f where the model is flat", format_number(f_land), delta=f"{f_land - f_k:.3g}", delta_color="inverse")
    st.markdown(f"**The model at x_{k} is {KIND_TEXT[kind]}.**"
                + (f" The stationary point: {format_vector(point, 4)}." if point is not None else ""))
    if "BFGS estimate" in landings:
        lam_b = analysis.symmetric_eigenvalues(models["BFGS estimate"])
        st.markdown(f"BFGS's model: eigenvalues {', '.join(f'{v:.3g}' for v in lam_b)} — "
                    f"{KIND_TEXT[landings['BFGS estimate'][1]]}.")
    if k < k_max:
        why = analysis.newton_step_note(method, params, traj.points[k + 1], point)   # true for these settings
        moved = (f"The run actually moved to x_{k + 1} = {format_vector(traj.points[k + 1], 4)}, "
                 f"f = {format_number(traj.values[k + 1])}" if np.any(traj.points[k + 1] != x_k)
                 else f"The run did not move: x_{k + 1} = x_{k}")   # sin(x)cos(y) at (0, 0): "moved to (0, 0)"
        st.caption(moved + (f" ({why})." if optcore.METHODS[method].needs_hessian else "."))

    with st.expander("Export", expanded=False):
        charts.export_buttons(fig, {method: traj}, key="nm_export")


newton_model()
