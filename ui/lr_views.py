"""The learning-rate lab's four views, one function each: several η at once (η and β scrubbed in the
chart), the quadratic rate r(α), sweeps over η (and momentum), and the empirical order of convergence.
The page draws one of them at a time (`VIEWS`)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import streamlit as st

from optcore import analysis
from optcore.figures import analysis as afigs
from optcore.objective import Objective
from ui import cache, charts, rates, scrub, views, widgets

# the four views (key "lr_tab"); only the chosen one is computed and sent
TRACES, RATE, SWEEP, ORDER = ("Several learning rates", "Rate r(α) on the quadratic model", "Sweep η (and momentum)",
                              "Order of convergence")


class Setting(NamedTuple):
    """What every view starts from: the objective, the view window, the start and the known minima."""
    formula: str
    obj: Objective
    window: list
    x0: np.ndarray
    minima: np.ndarray
    f_star: float | None
    model: rates.RateModel


def several_rates(s: Setting) -> None:
    c1, c2 = st.columns([1, 3])
    with c1:
        method, params = widgets.method_picker("m0", default="gd", allowed=rates.SWEEP_METHODS)
        steps, tol = widgets.steps_and_tol(default_steps=10)
        lrs = widgets.learning_rates_input()
        scrubbing = s.obj.dim in (1, 2) and bool(scrub.scrubbable(method, params)) and scrub.toggle(
            "lr_scrub", "Scrub η (and β) in the chart",
            "Adds the run at the method's η, with sliders under the chart that redraw it in your browser for a "
            "ladder of learning rates (and momentum weights) around it; the learning rates listed stay as they are.")
    base = [float(params.get("lr", 0.1))]   # the method's own η: the one the sliders scrub
    shown = base + [lr for lr in lrs if lr not in base] if scrubbing else (lrs or base)
    runs = {f"η = {lr:g}": cache.run(s.formula, method, {**params, "lr": lr}, s.x0, steps, tol) for lr in shown}
    with c2:
        # the start and every run in the picture (a 1-D chart draws every point, so f must reach them)
        view = views.run_window(s.window, list(runs.values()), follow=s.obj.dim == 1)
        fig = rates.traces_figure(s.formula, s.obj, view, runs, s.minima,
                                  scrubbed=(method, params, s.x0, steps, tol) if scrubbing else None)
        if fig is not None:
            charts.chart(fig, key="lr_traces_chart", keep_value=scrub.keeper("m0", method, params) if scrubbing else None,
                         paint_first=True)
        charts.chart(afigs.value_history_figure({k: t.values for k, t in runs.items()}, f_star=s.f_star),
                     key="lr_history", clickable=False)
        for label, t in runs.items():
            views.show_status(t, label)
    with st.expander("Export", expanded=False):
        charts.export_buttons(fig, runs, key="lr_export")


def rate_curve(s: Setting) -> None:
    model = s.model
    if rates.explain_missing_rates(model):
        return
    views.rate_metrics(model.eigs, model.where)
    # not the η of the method picker: a gradient-descent run of its own, from α* on
    alpha = st.slider("learning rate α of a gradient-descent run", 0.0, float(1.3 * model.edge),
                      float(round(model.alpha_star, 6)), format="%.4g", key="lr_alpha")
    rate_fig, chosen = rates.rate_figure(s.formula, s.obj, s.x0, model, alpha)
    charts.chart(rate_fig, key="lr_rate_chart", clickable=False)
    if chosen is not None:
        st.markdown(f"Gradient descent at α = {alpha:.4g}: measured shrink per step **{chosen[1]:.4g}**, predicted "
                    f"r(α) = **{analysis.contraction_factor(alpha, model.eigs):.4g}**.")
    st.caption("Circles: the per-step shrink of ‖x_k − x*‖ measured over the last steps of a gradient-descent "
               "run from the start point, one run per α.")


def sweeps(s: Setting) -> None:
    sweep = rates.sweep_controls()
    if len(sweep.methods) * len(sweep.lrs) > rates.MAX_SWEEP_RUNS:
        st.warning(f"At most {rates.MAX_SWEEP_RUNS} runs per sweep; use fewer methods or learning rates.")
    elif sweep.methods:
        found = cache.learning_rate_sweeps(s.formula, sweep.methods, s.x0, sweep.lrs, sweep.steps, s.f_star)
        if found is not None:  # None: cancelled
            charts.chart(afigs.sweep_figure(found, metric=sweep.metric, edge=s.model.edge), key="lr_sweep_chart",
                         clickable=False)

    st.markdown("**Learning rate × a second parameter**")
    hm_method, hm_lrs, second = rates.heatmap_controls(sweep.decades)
    hm = cache.param_heatmap(s.formula, hm_method, s.x0, hm_lrs, second, rates.SECOND_PARAM[hm_method], sweep.steps,
                             s.f_star)
    edge_lrs = (analysis.momentum_stability_edge(s.model.eigs, second)
                if s.model.positive and hm_method == "momentum" else None)
    if hm is not None:  # None: cancelled
        charts.chart(afigs.param_heatmap_figure(hm, metric=sweep.metric, edge_lrs=edge_lrs), key="lr_heatmap_chart",
                     clickable=False)
    st.caption(rates.HEATMAP_CAPTION)
    if edge_lrs is None and hm_method == "momentum":
        st.caption("The stability edge needs a positive-definite Hessian at a known minimum.")


def convergence_order(s: Setting) -> None:
    st.markdown(rates.ORDER_INTRO)
    order_runs = rates.order_runs(s.formula, s.x0, s.model)
    targets = analysis.order_target(order_runs, s.minima)
    if not targets:
        st.info("Neither a converged Newton run nor a known minimum gives x*; try another start.")
        return
    errors, slopes = analysis.convergence_orders(order_runs, targets)
    charts.chart(afigs.convergence_order_figure(errors, slopes), key="lr_order_chart", clickable=False)
    st.caption(views.order_caption(targets, order_runs, errors, slopes))


VIEWS = {TRACES: several_rates, RATE: rate_curve, SWEEP: sweeps, ORDER: convergence_order}
