"""Preconditioning lab: the same landscape in rotated and stretched coordinates, and how many
iterations gradient descent, diagonal Newton and Newton need in each."""
from __future__ import annotations

import functools
import math

import numpy as np
import streamlit as st

from optcore import window as windows
from optcore.figures import analysis as afigs
from optcore.figures import trajectory as tfigs
from ui import cache, charts, fragments, link, state, views, widgets

SCALES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)   # the stretch sweep
TUNED = "its best constant step 2/(λmin + λmax) for each problem"
ANGLES = functools.partial(widgets.even_grid, 0.0, 90.0, 5.0)   # the angle sliders' stops, plus the typed angle

st.header("Preconditioning lab")
st.markdown(
    "Measure one variable in millimetres instead of kilometres, or turn the axes by 45°: the function is the same, "
    "only the coordinates changed. Some methods notice. Here f is rewritten as g(u) = f(R(θ)·diag(s, 1, …)·u) and "
    "each method starts from the image of the same start point, so every difference in the count of iterations is "
    "the method's own sensitivity to coordinates: **Newton** ignores any linear change; **diagonal Newton** "
    "(dividing by diag H) undoes stretching but not rotation; **gradient descent**, even at its best constant step,"
    " does not mind rotation but slows down in proportion to the condition number stretching creates.")
b1, b2 = st.columns(2)
widgets.example_button("Textbook exercise: x² + 100y², badly scaled", "textbook-badly-scaled", b1)
widgets.example_button("A rotated quadratic (diagonal Newton struggles)", "rotated-quadratic", b2)


@fragments.view_fragment("preconditioning")
def preconditioning() -> None:
    """The page below its header: a knob here reruns this, not the sidebar."""
    formula, obj = state.current_formula(), state.current_objective()
    names, window, x0 = list(obj.variables), state.current_window(), state.current_start()
    minima = views.known_minima()
    if obj.dim >= 2:
        c1, c2, c3, c4 = st.columns(4)
        fixed_scale = widgets.shared_typed_input("scale s while rotating", "pc_scale", 1.0, 1000.0, 1.0, c1)
        fixed_theta = widgets.shared_typed_input("θ while stretching (degrees)", "pc_theta", 0.0, 90.0, 0.0, c2,
                                                 ladder=ANGLES)
    else:   # nothing to rotate: no rotation knobs
        st.info("With one variable there is nothing to rotate: only the scale sweep is shown.")
        (c3, c4), fixed_scale, fixed_theta = st.columns(2), 1.0, 0.0
    st.session_state.setdefault("pc_steps", 2000)   # a preset sets its own (Preset.view "steps_cap")
    steps = int(link.shared_option(c3.number_input, "step limit", "pc_steps", min_value=50, max_value=20000, step=500,
                                   convert=lambda text: min(max(int(float(text)), 50), 20000)))
    tol = widgets.shared_typed_input("tolerance on ‖∇g‖", "pc_tol", 1e-10, 1e-4, 1e-6, c4,
                                   help="stop a run when ‖∇g‖ falls below this: type any value or slide")
    gd_mode = link.shared_option(st.radio, "gradient-descent step", "pc_gd_mode", horizontal=True,
                                 options=[TUNED, "a fixed learning rate"])
    gd_lr = "tuned" if gd_mode == TUNED else float(
        link.shared_option(st.number_input, "learning rate", "pc_gd_lr", min_value=1e-6, max_value=10.0, value=0.01,
                           format="%.4g"))
    methods = {"gradient descent": ("gd", {"lr": gd_lr}),
               "diagonal Newton": ("diag_newton", {"lr": 1.0}),
               "Newton": ("newton", {"lr": 1.0})}
    x_min = minima[int(np.argmin(np.linalg.norm(minima - x0, axis=1)))] if len(minima) else None

    thetas = np.radians(np.arange(0, 91, 5)) if obj.dim >= 2 else np.empty(0)
    study = cache.preconditioning_study(formula, x0, methods, thetas, np.array(SCALES, dtype=float), fixed_scale,
                                        math.radians(fixed_theta), x_min, steps, tol)
    if study is None:  # cancelled
        st.stop()
    fig = afigs.preconditioning_figure(study, steps)
    charts.chart(fig, key="pc_chart", clickable=False)
    if obj.dim > 2:
        st.caption(f"The rotation turns the plane of {names[0]} and {names[1]}; the stretch applies to {names[0]}.")

    if obj.dim == 2:
        st.subheader("One of these problems, with the three paths")
        p1, p2 = st.columns(2)
        st.session_state.setdefault("pc_view_theta", 45)   # a preset sets its own (Preset.view "angle")
        theta_deg = widgets.shared_typed_input("θ (degrees)", "pc_view_theta", 0.0, 90.0, 45.0, p1, ladder=ANGLES)
        scale = widgets.shared_typed_input("scale s", "pc_view_scale", 1.0, 1000.0, fixed_scale, p2)
        recipes = tuple((label, m, tuple(p.items())) for label, (m, p) in methods.items())
        runs, (xs, ys, Z) = cache.rotated_runs(formula, math.radians(theta_deg), scale, window, recipes, tuple(x0),
                                               None if x_min is None else tuple(x_min), steps, tol)
        paths = [tfigs.path_from_points(t.points, f"{label}: {t.iterations} step{'s' if t.iterations != 1 else ''} "
                                                  f"({views.outcome(t)})", tfigs.default_color(i))
                 for i, (label, t) in enumerate(runs.items())]
        view = tfigs.contour_paths_figure(xs, ys, Z, paths, names=[f"u_{names[0]}", f"u_{names[1]}"],
                                          clickable=False, animate=False, height=520,
                                          title=f"g(u) = f(R({theta_deg:g}°)·diag({scale:g}, 1)·u)")
        charts.chart(view, key="pc_view_chart", clickable=False)
        leaving = windows.leaving_caption(((xs[0], xs[-1]), (ys[0], ys[-1])), [t.points for t in runs.values()])
        if leaving:   # the view widens for the runs, but not for one that diverges far away
            st.caption(leaving)
        st.caption("The axes are the new coordinates u; a stretched problem looks squashed because u₁ covers a "
                   "range s times smaller than x.")
        with st.expander("Export", expanded=False):
            charts.export_buttons(view, runs, key="pc_export_view")
    else:
        with st.expander("Export", expanded=False):
            charts.export_buttons(fig, None, key="pc_export")


preconditioning()
