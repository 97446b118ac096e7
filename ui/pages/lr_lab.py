"""Learning-rate lab: several η at once (η and β scrubbed in the chart), the quadratic rate r(α),
sweeps over η (and momentum), and the empirical order of convergence, one view at a time (`ui.lr_views`)."""
from __future__ import annotations

import streamlit as st

from ui import fragments, lr_views, rates, state, views, widgets

st.header("Learning-rate lab")
st.markdown(rates.INTRO)
b = st.columns(3)
widgets.example_button("Textbook: x² with η = 0.2, 0.05, 1.1", "textbook-x2-divergent", b[0])
widgets.example_button("Textbook: x·cos(0.15πx) with η = 2", "textbook-xcos", b[1])
widgets.example_button("Course notes: ½(w1² + 4w2²)", "course-quadratic", b[2])


@fragments.view_fragment("lr_lab")
def lab() -> None:
    """The chosen view: a knob here reruns it alone, not the sidebar or the other three."""
    formula, obj = state.current_formula(), state.current_objective()
    x0, minima = state.current_start(), views.known_minima()
    f_star = float(obj.value(minima).min()) if len(minima) else None
    setting = lr_views.Setting(formula, obj, state.current_window(), x0, minima, f_star, rates.rate_model(obj, x0, minima))
    lr_views.VIEWS[views.view_switch(list(lr_views.VIEWS), key="lr_tab")](setting)


lab()
