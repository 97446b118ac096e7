"""Learning-rate lab: several η at once (η and β scrubbed in the chart), the quadratic rate r(α),
sweeps over η (and momentum), and the empirical order of convergence."""
from __future__ import annotations

import streamlit as st

from optcore import analysis
from optcore.figures import analysis as afigs
from ui import cache, charts, rates, scrub, state, views, widgets

formula, obj = state.current_formula(), state.current_objective()
window, x0, minima = state.current_window(), state.current_start(), views.known_minima()
f_star = float(obj.value(minima).min()) if len(minima) else None

st.header("Learning-rate lab")
st.markdown(rates.INTRO)
b = st.columns(3)
widgets.example_button("Textbook: x² with η = 0.2, 0.05, 1.1", "textbook-x2-divergent", b[0])
widgets.example_button("Textbook: x·cos(0.15πx) with η = 2", "textbook-xcos", b[1])
widgets.example_button("Course notes: ½(w1² + 4w2²)", "course-quadratic", b[2])

model = rates.rate_model(obj, x0, minima)
tab_traces, tab_rate, tab_sweep, tab_order = st.tabs(
    ["Several learning rates", "Rate r(α) on the quadratic model", "Sweep η (and momentum)", "Order of convergence"])

with tab_traces:
    c1, c2 = st.columns([1, 3])
    with c1:
        method, params = widgets.method_picker("m0", default="gd", allowed=rates.SWEEP_METHODS)
        steps, tol = widgets.steps_and_tol(default_steps=10)
        lrs = widgets.learning_rates_input()
        scrubbing = obj.dim in (1, 2) and bool(scrub.scrubbable(method, params)) and scrub.toggle(
            "lr_scrub", "Scrub η (and β) in the chart",
            "Adds the run at the method's η, with sliders under the chart that redraw it in your browser for a "
            "ladder of learning rates (and momentum weights) around it; the learning rates listed stay as they are.")
    base = [float(params.get("lr", 0.1))]   # the method's own η: the one the sliders scrub
    shown = base + [lr for lr in lrs if lr not in base] if scrubbing else (lrs or base)
    runs = {f"η = {lr:g}": cache.run(formula, method, {**params, "lr": lr}, x0, steps, tol) for lr in shown}
    with c2:
        # the start and every run in the picture (a 1-D chart draws every point, so f must reach them)
        view = views.run_window(window, list(runs.values()), follow=obj.dim == 1)
        fig = rates.traces_figure(formula, obj, view, runs, minima,
                                  scrubbed=(method, params, x0, steps, tol) if scrubbing else None)
        if fig is not None:
            charts.chart(fig, key="lr_traces_chart", keep_value=scrub.keeper("m0", method, params) if scrubbing else None,
                         paint_first=True)
        charts.chart(afigs.value_history_figure({k: t.values for k, t in runs.items()}, f_star=f_star),
                     key="lr_history", clickable=False)
        for label, t in runs.items():
            views.show_status(t, label)

with tab_rate:
    if not rates.explain_missing_rates(model):
        views.rate_metrics(model.eigs, model.where)
        alpha = st.slider("learning rate of your run", 0.0, float(1.3 * model.edge), float(round(model.alpha_star, 6)),
                          format="%.4g", key="lr_alpha")
        rate_fig, chosen = rates.rate_figure(formula, obj, x0, model, alpha)
        charts.chart(rate_fig, key="lr_rate_chart", clickable=False)
        if chosen is not None:
            st.markdown(f"Your run at α = {alpha:.4g}: measured shrink per step **{chosen[1]:.4g}**, predicted "
                        f"r(α) = **{analysis.contraction_factor(alpha, model.eigs):.4g}**.")
        st.caption("Circles: the per-step shrink of ‖x_k − x*‖ measured over the last steps of a gradient-descent "
                   "run from the start point, one run per α.")

with tab_sweep:
    sweep = rates.sweep_controls()
    if len(sweep.methods) * len(sweep.lrs) > rates.MAX_SWEEP_RUNS:
        st.warning(f"At most {rates.MAX_SWEEP_RUNS} runs per sweep; use fewer methods or learning rates.")
    elif sweep.methods:
        sweeps = cache.learning_rate_sweeps(formula, sweep.methods, x0, sweep.lrs, sweep.steps, f_star)
        if sweeps is not None:  # None: cancelled
            charts.chart(afigs.sweep_figure(sweeps, metric=sweep.metric, edge=model.edge), key="lr_sweep_chart",
                         clickable=False)

    st.markdown("**Learning rate × a second parameter**")
    hm_method, hm_lrs, second = rates.heatmap_controls(sweep.decades)
    hm = cache.param_heatmap(formula, hm_method, x0, hm_lrs, second, rates.SECOND_PARAM[hm_method], sweep.steps, f_star)
    edge_lrs = analysis.momentum_stability_edge(model.eigs, second) if model.positive and hm_method == "momentum" else None
    if hm is not None:  # None: cancelled
        charts.chart(afigs.param_heatmap_figure(hm, metric=sweep.metric, edge_lrs=edge_lrs), key="lr_heatmap_chart",
                     clickable=False)
    st.caption(rates.HEATMAP_CAPTION)
    if edge_lrs is None and hm_method == "momentum":
        st.caption("The stability edge needs a positive-definite Hessian at a known minimum.")

with tab_order:
    st.markdown(rates.ORDER_INTRO)
    order_runs = rates.order_runs(formula, x0, model)
    targets = analysis.order_target(order_runs, minima)
    if not targets:
        st.info("Neither a converged Newton run nor a known minimum gives x*; try another start.")
    else:
        errors, slopes = analysis.convergence_orders(order_runs, targets)
        charts.chart(afigs.convergence_order_figure(errors, slopes), key="lr_order_chart", clickable=False)
        st.caption(views.order_caption(targets, order_runs, errors, slopes))

with st.expander("Export", expanded=False):
    charts.export_buttons(fig, runs, key="lr_export")
