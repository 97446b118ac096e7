"""Basins of attraction: run a method from every point of a grid and colour each start by where it ends."""
from __future__ import annotations

import numpy as np
import streamlit as st

import optcore
from optcore import analysis
from optcore.figures import analysis as afigs
from ui import cache, charts, state, views, widgets

AUTO_LIMIT = 150          # grids up to this size per axis recompute on their own; bigger ones on a click
DEFAULTS = ("gd", "newton", "newton_abs")

formula, obj = state.current_formula(), state.current_objective()
names, window = list(obj.variables), state.current_window()

st.header("Basins of attraction")
st.markdown(
    "Start the same method from every point of a grid and colour each start by the point it ends at: "
    "one colour per minimum (or saddle, or maximum: Newton's method is happy to stop at any stationary "
    "point), black where the run diverged, grey where it ran out of steps. Lighter shades took more "
    "iterations. Compare methods side by side: the borders between colours are where the choice of "
    "method, step size or start decides which answer you get.")
widgets.example_button("Open the classic example: Himmelblau's four minima", "himmelblau")

if obj.dim != 2:
    st.info(f"A basin map needs a function of exactly two variables (this one has {obj.dim}: "
            f"{', '.join(names)}). For one variable, the Learning-rate lab shows where runs from a start go; "
            "for more, pick two variables by fixing the others in the formula.")
    st.stop()

c1, c2, c3, c4 = st.columns(4)
st.session_state.setdefault("basin_panels", 3 if state.current_preset() else 2)   # a preset sets its own
st.session_state.setdefault("basin_steps", 200)
panels = int(c1.number_input("methods side by side", 1, 3, key="basin_panels"))
n = int(c2.slider("grid points per axis", 20, analysis.MAX_GRID, 100, step=10, key="basin_n",
                  help=f"{analysis.MAX_GRID} × {analysis.MAX_GRID} = 90,000 starts at most"))
steps = int(c3.number_input("steps per run", 10, 2000, step=50, key="basin_steps"))
tol = float(c4.select_slider("tolerance on ‖∇f‖", [1e-10, 1e-8, 1e-6, 1e-4, 1e-3], value=1e-6,
                             format_func=lambda v: f"{v:.0e}", key="basin_tol"))

picked = []
for i, col in enumerate(st.columns(panels)):
    with col.container(border=True):
        picked.append(widgets.method_picker(f"m{i}", default=DEFAULTS[i % len(DEFAULTS)], label=f"Method {i + 1}"))

minima = views.known_minima()
maps = cache.basin_maps(formula, picked, window, n, steps, tol, minima, compute=n <= AUTO_LIMIT)
if maps is None:
    st.caption(f"{n * n * panels:,} runs of up to {steps} steps: press the button to start "
               "(one heavy job runs at a time on the server; you can cancel it).")
    if st.button("Compute basins", type="primary", key="basin_go"):
        maps = cache.basin_maps(formula, picked, window, n, steps, tol, minima, asked=True)

fig = None
if maps is not None:
    attractors, kinds, labels = analysis.align_basin_labels(maps)
    titles = [f"{optcore.METHODS[m].label}" + (f" η={p['lr']:g}" if "lr" in p else "") for m, p in picked]
    xs_f, ys_f, F = cache.grid(formula, window, n=min(n, 120))
    fig = afigs.basin_figure(maps[0].xs, maps[0].ys, labels, [bm.iterations for bm in maps], titles, attractors,
                             kinds, names=names, values=obj.value(np.asarray(attractors, dtype=float).reshape(-1, 2))
                             if len(attractors) else None)
    for col in range(1, len(maps) + 1):
        fig.add_trace(afigs.contour_lines(xs_f, ys_f, F, n=12, color="rgba(255,255,255,0.5)"), 1, col)
    st.plotly_chart(fig, key="basin_chart")
    for col, title, bm in zip(st.columns(len(maps)), titles, maps):
        with col:
            st.markdown(f"**{title}**")
            st.dataframe([{"ends at": name, "share": f"{share:.1%}"} for name, share in bm.fractions().items()],
                         hide_index=True)
            done = bm.iterations[bm.labels >= 0]
            if done.size:
                st.caption(f"median iterations to converge: {np.median(done):.0f}")

with st.expander("Export", expanded=False):
    if fig is not None:
        charts.export_buttons(fig, None, key="basin_export")
