"""Basins of attraction: run a method from every point of a grid and colour each start by where it ends."""
from __future__ import annotations

import numpy as np
import streamlit as st

import optcore
from optcore import analysis
from optcore.figures import analysis as afigs
from ui import cache, chart_widths, charts, fragments, link, state, views, widgets

AUTO_LIMIT = 150          # grids up to this size per axis recompute on their own; bigger ones on a click
DEFAULTS = ("gd", "newton", "newton_abs")

obj = state.current_objective()

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
            f"{', '.join(obj.variables)}). For one variable, the Learning-rate lab shows where runs from a start go; "
            "for more, pick two variables by fixing the others in the formula.")
    st.stop()


@fragments.view_fragment("basins")
def basins() -> None:
    """The page below its header: a knob here reruns this, not the sidebar."""
    formula, obj, window = state.current_formula(), state.current_objective(), state.current_window()
    names = list(obj.variables)
    c1, c2, c3, c4 = st.columns(4)
    st.session_state.setdefault("basin_panels", 3 if state.current_preset() else 2)   # a preset sets its own
    st.session_state.setdefault("basin_steps", 200)
    panels = int(link.shared_option(c1.number_input, "methods side by side", "basin_panels", min_value=1, max_value=3,
                                    step=1))
    n = int(link.shared_option(c2.slider, "grid points per axis", "basin_n", min_value=20, max_value=analysis.MAX_GRID,
                               value=100, step=10, help=f"{analysis.MAX_GRID} × {analysis.MAX_GRID} = 90,000 starts at most"))
    steps = int(link.shared_option(c3.number_input, "steps per run", "basin_steps", min_value=10, max_value=2000,
                                   step=50, convert=lambda text: min(max(int(float(text)), 10), 2000)))
    tol = widgets.shared_typed_input("tolerance on ‖∇f‖", "basin_tol", 1e-10, 1e-3, 1e-6, c4,
                                   help="stop a run when ‖∇f‖ falls below this: type any value or slide")

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
        fig = afigs.basin_figure(maps[0].xs, maps[0].ys, labels, [bm.iterations for bm in maps], titles, attractors,
                                 kinds, F=cache.grid(formula, window, n=min(n, 120)), names=names,
                                 values=obj.value(np.asarray(attractors, dtype=float).reshape(-1, 2))
                                 if len(attractors) else None, width=chart_widths.layout_width("basin_chart"))
        charts.chart(fig, key="basin_chart", clickable=False)
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


basins()
