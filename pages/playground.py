"""Playground: one method on the current objective, animated, with a step inspector."""
from __future__ import annotations

import numpy as np
import streamlit as st

from optcore.figures import trajectory as figs
from ui import frame, views

obj = frame.current_objective()
names = list(obj.variables)
window = frame.current_window()
x0 = frame.current_start()
minima = views.known_minima()
fig = None


def slice_title(names: list[str], axes: tuple[int, int], through, k: int) -> str:
    """Say which plane the picture is: "f(x, y, z = 3.6): a slice through step k = 0"."""
    held = [f"{n} = {through[m]:.3g}" for m, n in enumerate(names) if m not in axes]
    if len(held) > 3:
        held = held[:3] + ["…"]
    inside = [names[axes[0]], names[axes[1]], *held]
    return f"f({', '.join(inside)}): a slice through step k = {k}"


st.header("Playground")
controls, main = st.columns([1, 3], gap="medium")
with controls:
    method, params = frame.method_picker("m0")
    steps, tol = frame.steps_and_tol()
    if obj.dim == 1 and "lr" in params:
        lrs_text = frame.shared_option(st.text_input, "learning rates to compare", "lrs",
                                       help="several η at once, separated by commas (as in the textbook plots)",
                                       placeholder="e.g. 0.05, 0.2, 0.9")
    else:
        lrs_text = ""

traj = frame.run(method, params, x0, steps, tol)
runs = {f"{method}": traj}
if obj.dim == 1 and lrs_text:
    lrs = []
    for part in lrs_text.replace(";", ",").split(","):
        try:
            value = float(part)
        except ValueError:
            continue
        if 0 < value <= 10 and value not in lrs and len(lrs) < 6:
            lrs.append(value)
    runs = {f"{method} η={lr:g}": frame.run(method, {**params, "lr": lr}, x0, steps, tol) for lr in lrs} or runs

with main:
    for label, t in runs.items():
        views.show_status(t, label if len(runs) > 1 else None)
    views.show_stationary_start(traj, obj.dim)
    if obj.dim == 1:
        xs, _, fx = frame.grid(window, n=400)
        paths = [figs.path_from_points(t.points, label, figs.default_color(i), values=t.values)
                 for i, (label, t) in enumerate(runs.items())]
        fig = figs.curve_figure(xs, fx, paths, name=names[0], minima=minima[:, 0] if len(minima) else (),
                                minima_values=obj.value(minima) if len(minima) else ())
        frame.chart(fig, key="pg_chart")
    elif obj.dim == 2:
        xs, ys, Z = frame.grid(window, n=200)
        path = figs.path_from_points(traj.points, method, figs.default_color(0), values=traj.values)
        # Lazy tabs: the 3-D surface is built and sent only while its tab is open (a WebGL surface
        # on every formula edit would double the time until the contour answers).
        tab_contour, tab_surface = st.tabs(["Contour (animated)", "3-D surface"], key="pg_tab", on_change="rerun")
        if tab_contour.open:
            with tab_contour:
                fig = figs.contour_paths_figure(xs, ys, Z, [path], minima=minima, names=names)
                frame.chart(fig, key="pg_chart")
        if tab_surface.open:
            with tab_surface:
                surface = figs.surface_figure(xs, ys, Z, [path], names=names, minima=minima,
                                              minima_values=obj.value(minima) if len(minima) else ())
                frame.chart(surface, key="pg_surface", clickable=False)
                fig = surface  # what the export buttons save while this tab is open
    else:
        k_now = st.session_state.get("pg_inspect_k") or 0  # the step inspector below moves it
        k_now = min(int(k_now), int(traj.iterations))
        c1, c2 = st.columns(2)
        a = frame.shared_option(c1.selectbox, "slice: horizontal variable", "slice_x", options=names, index=0)
        b = frame.shared_option(c2.selectbox, "slice: vertical variable", "slice_y", options=names, index=1)
        if a == b:
            st.warning("Pick two different variables for the slice.")
        else:
            i, j = names.index(a), names.index(b)
            through = traj.points[k_now]
            xs, ys, Z = frame.grid(window, n=120, base=through, axes=(i, j))
            path = figs.path_from_points(traj.points, method, figs.default_color(0), axes=(i, j))
            fig = figs.contour_paths_figure(
                xs, ys, Z, [path], minima=minima[:, [i, j]] if len(minima) else (), names=(a, b),
                click_axes=(i, j), title=slice_title(names, (i, j), through, k_now))
            frame.chart(fig, key="pg_chart")
            st.caption(f"The other variables are held at their values at step k = {k_now} of the run (move k "
                       "with the step inspector below); the path is projected onto this plane.")
    if (obj.dim >= 2 or len(runs) == 1) and traj.iterations > 0:
        k = np.arange(traj.iterations + 1)
        c1, c2 = st.columns(2)
        f_star = float(obj.value(minima).min()) if len(minima) else float(np.nanmin(traj.values))
        c1.plotly_chart(figs.convergence_figure([dict(name="f − f*", x=k, y=traj.values - f_star, color="#d62728")],
                                                y_title="f(x<sub>k</sub>) − f*", height=280), key="pg_conv_f")
        c2.plotly_chart(figs.convergence_figure([dict(name="‖∇f‖", x=k, y=traj.grad_norms, color="#1b3a6b")],
                                                y_title="‖∇f(x<sub>k</sub>)‖", height=280), key="pg_conv_g")

st.subheader("Step inspector")
views.step_inspector(traj, key="pg_inspect_k")

with st.expander("Export and share", expanded=False):
    frame.export_buttons(fig, runs, key="pg_export")
    st.caption("The address bar holds the whole state: copy it to share exactly this view.")
