"""Basins of attraction: run a method from every point of a grid and colour each start by where it ends."""
from __future__ import annotations

import numpy as np
import streamlit as st

import optcore
from optcore import analysis
from optcore.figures import analysis as afigs
from ui import frame, views

AUTO_LIMIT = 150          # grids up to this size per axis recompute on their own; bigger ones on a click
DEFAULTS = ("gd", "newton", "newton_abs")

obj = frame.current_objective()
names = list(obj.variables)
window = frame.current_window()

st.header("Basins of attraction")
st.markdown(
    "Start the same method from every point of a grid and colour each start by the point it ends at: "
    "one colour per minimum (or saddle, or maximum: Newton's method is happy to stop at any stationary "
    "point), black where the run diverged, grey where it ran out of steps. Lighter shades took more "
    "iterations. Compare methods side by side: the borders between colours are where the choice of "
    "method, step size or start decides which answer you get.")
if st.button("Open the classic example: Himmelblau's four minima", icon=":material/school:"):
    frame.load_preset("himmelblau")

if obj.dim != 2:
    st.info(f"A basin map needs a function of exactly two variables (this one has {obj.dim}: "
            f"{', '.join(names)}). For one variable, the Learning-rate lab shows where runs from a start go; "
            "for more, pick two variables by fixing the others in the formula.")
    st.stop()

c1, c2, c3, c4 = st.columns(4)
panels = int(c1.number_input("methods side by side", 1, 3, 3 if frame.current_preset() else 2, key="basin_panels"))
n = int(c2.slider("grid points per axis", 20, analysis.MAX_GRID, 100, step=10, key="basin_n",
                  help=f"{analysis.MAX_GRID} × {analysis.MAX_GRID} = 90,000 starts at most"))
steps = int(c3.number_input("steps per run", 10, 2000, 200, step=50, key="basin_steps"))
tol = float(c4.select_slider("tolerance on ‖∇f‖", [1e-10, 1e-8, 1e-6, 1e-4, 1e-3], value=1e-6,
                             format_func=lambda v: f"{v:.0e}", key="basin_tol"))

picked = []
for i, col in enumerate(st.columns(panels)):
    with col.container(border=True):
        picked.append(frame.method_picker(f"m{i}", default=DEFAULTS[i % len(DEFAULTS)], label=f"Method {i + 1}"))

minima = views.known_minima()
key = ("basins", obj.text, obj.variables, window, n, steps, tol,
       tuple((m, tuple(sorted(p.items()))) for m, p in picked), tuple(map(tuple, minima)))
store = st.session_state.setdefault("_basins_memo", {})
ready = key in store
if not ready and n > AUTO_LIMIT:
    st.caption(f"{n * n * panels:,} runs of up to {steps} steps: press the button to start.")
    start_now = st.button("Compute basins", type="primary", key="basin_go")
else:
    start_now = not ready

if start_now:
    bar = st.progress(0.0, text="running every start point…")
    maps = []
    for i, (method, params) in enumerate(picked):
        maps.append(analysis.basin_map(obj, method, window, n=n, steps=steps, tol=tol,
                                       known_minima=minima if len(minima) else None,
                                       on_progress=lambda f, i=i: bar.progress(
                                           (i + f) / len(picked), text=f"method {i + 1} of {len(picked)}: {f:.0%}"),
                                       **params))
    bar.empty()
    store.clear()                        # keep one result: 3 maps of 90,000 starts are big enough
    store[key] = maps

fig = None
if key in store:
    maps = store[key]
    attractors, kinds, labels = analysis.align_basin_labels(maps)
    titles = [f"{optcore.METHODS[m].label}" + (f" η={p['lr']:g}" if "lr" in p else "") for m, p in picked]
    xs_f, ys_f, F = frame.grid(window, n=min(n, 120))
    fig = afigs.basin_figure(maps[0].xs, maps[0].ys, labels, [bm.iterations for bm in maps], titles, attractors,
                             kinds, names=names)
    for col in range(1, len(maps) + 1):
        fig.add_trace(afigs.contour_lines(xs_f, ys_f, F, n=12, color="rgba(255,255,255,0.5)"), 1, col)
    st.plotly_chart(fig, key="basin_chart")
    cols = st.columns(len(maps))
    for col, title, bm, lab in zip(cols, titles, maps, labels):
        with col:
            st.markdown(f"**{title}**")
            values, counts = np.unique(lab, return_counts=True)
            rows = []
            for v, c in sorted(zip(values, counts), key=lambda t: -t[1]):
                name = ("diverged" if v == analysis.DIVERGED else "not converged" if v == analysis.NOT_CONVERGED
                        else f"{kinds[v]} ({', '.join(f'{a:.4g}' for a in attractors[v])})")
                rows.append({"ends at": name, "share": f"{c / lab.size:.1%}"})
            st.dataframe(rows, hide_index=True)
            done = bm.iterations[lab >= 0]
            if done.size:
                st.caption(f"median iterations to converge: {np.median(done):.0f}")

with st.expander("Export", expanded=False):
    if fig is not None:
        frame.export_buttons(fig, None, key="basin_export")
