"""Learning-rate lab: several η at once, the quadratic rate r(α), sweeps over η (and momentum), and
the empirical order of convergence."""
from __future__ import annotations

import numpy as np
import streamlit as st

import optcore
from optcore import analysis
from optcore.figures import analysis as afigs
from optcore.figures import trajectory as tfigs
from ui import cache, charts, state, views, widgets

SWEEP_METHODS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "diag_newton")
SECOND_PARAM = {"momentum": "beta", "nesterov": "beta", "adam": "beta1", "rmsprop": "gamma"}
MAX_SWEEP_RUNS = 600
label_of = lambda n: optcore.METHODS[n].label  # noqa: E731

formula, obj = state.current_formula(), state.current_objective()
names, window, x0 = list(obj.variables), state.current_window(), state.current_start()
minima = views.known_minima()
f_star = float(obj.value(minima).min()) if len(minima) else None

st.header("Learning-rate lab")
st.markdown(
    "On a quadratic every direction of the Hessian shrinks by |1 − αλᵢ| per gradient step, so the whole "
    "error shrinks by r(α) = max |1 − αλᵢ|. The best single rate α* = 2/(λmin + λmax) balances the flattest "
    "and the steepest direction and gives r* = (κ − 1)/(κ + 1); above 2/λmax the steepest direction "
    "overshoots more each step and the run diverges. Away from quadratics the same numbers hold near a "
    "minimum, with λ the eigenvalues of the Hessian there.")
b = st.columns(3)
widgets.example_button("Textbook: x² with η = 0.2, 0.05, 1.1", "textbook-x2-divergent", b[0])
widgets.example_button("Textbook: x·cos(0.15πx) with η = 2", "textbook-xcos", b[1])
widgets.example_button("Course notes: ½(w1² + 4w2²)", "course-quadratic", b[2])

x_ref, eigs, where = views.reference_hessian(obj, x0, minima)
positive = eigs is not None and bool(np.all(np.isfinite(eigs))) and float(eigs.min()) > 0
edge = analysis.stability_edge(eigs) if positive else None
tab_traces, tab_rate, tab_sweep, tab_order = st.tabs(
    ["Several learning rates", "Rate r(α) on the quadratic model", "Sweep η (and momentum)", "Order of convergence"])

fig = None
with tab_traces:
    c1, c2 = st.columns([1, 3])
    with c1:
        method, params = widgets.method_picker("m0", default="gd", allowed=SWEEP_METHODS)
        steps, tol = widgets.steps_and_tol(default_steps=10)
        lrs = widgets.learning_rates_input() or [float(params.get("lr", 0.1))]
    runs = {f"η = {lr:g}": cache.run(formula, method, {**params, "lr": lr}, x0, steps, tol) for lr in lrs}
    with c2:
        # the start and every run in the picture (a 1-D chart draws every point, so f must reach them)
        view = views.run_window(window, list(runs.values()), follow=obj.dim == 1)
        if obj.dim == 1:
            xs, _, fx = cache.grid(formula, view, n=500)
            fig = afigs.traces_1d_figure(xs, fx, {k: (t.points[:, 0], t.values) for k, t in runs.items()},
                                         name=names[0])
        elif obj.dim == 2:
            fig = tfigs.contour_paths_figure(*cache.grid(formula, view, n=160), [tfigs.path_from_points(
                t.points, k, tfigs.default_color(i)) for i, (k, t) in enumerate(runs.items())], minima=minima,
                names=names, height=520)
        if fig is not None:
            charts.chart(fig, key="lr_traces_chart")
        st.plotly_chart(afigs.value_history_figure({k: t.values for k, t in runs.items()}, f_star=f_star),
                        key="lr_history")
        for label, t in runs.items():
            views.show_status(t, label)

with tab_rate:
    if eigs is None:
        st.info("No minimum is known or found in the window, so there is no Hessian to read the rates from. "
                "Widen the window or start nearer a minimum.")
    elif not positive:
        st.warning(f"The Hessian {where} has eigenvalues {', '.join(f'{v:.4g}' for v in eigs)}: not all "
                   "positive, so gradient descent has no stable rate there.")
    else:
        a_star, r_star = analysis.optimal_learning_rate(eigs), analysis.optimal_rate(eigs)
        views.rate_metrics(eigs, where)
        alpha = st.slider("learning rate of your run", 0.0, float(1.3 * edge), float(round(a_star, 6)),
                          format="%.4g", key="lr_alpha")
        x_star = views.rate_target(obj, x0, x_ref)
        measured = cache.measured_rates(formula, x0, x_star, np.linspace(0.1 * edge, 1.05 * edge, 12))
        chosen = next(iter(cache.measured_rates(formula, x0, x_star, [alpha] if alpha > 0 else [])), None)
        alphas = np.linspace(0, 1.3 * edge, 400)
        st.plotly_chart(afigs.rate_curve_figure(alphas, analysis.contraction_factor(alphas, eigs), a_star, r_star,
                                                edge, measured=measured, chosen=chosen), key="lr_rate_chart")
        if chosen is not None:
            st.markdown(f"Your run at α = {alpha:.4g}: measured shrink per step **{chosen[1]:.4g}**, predicted "
                        f"r(α) = **{analysis.contraction_factor(alpha, eigs):.4g}**.")
        st.caption("Circles: the per-step shrink of ‖x_k − x*‖ measured over the last steps of a gradient-descent "
                   "run from the start point, one run per α.")

with tab_sweep:
    c1, c2, c3 = st.columns(3)
    chosen_methods = c1.multiselect("methods", SWEEP_METHODS, default=["gd", "momentum", "adam"],
                                    key="lr_sweep_methods", format_func=label_of)
    decades = c2.select_slider("learning-rate range", options=[f"1e{p}" for p in range(-5, 3)],
                               value=("1e-3", "1e1"), key="lr_sweep_range")
    count = c3.slider("learning rates", 5, 40, 20, key="lr_sweep_count")
    c4, c5 = st.columns(2)
    metric = c4.radio("measure", ["final f − f*", "iterations to tolerance"], horizontal=True, key="lr_sweep_metric")
    metric = "gap" if metric.startswith("final") else "iterations"
    sweep_steps = int(c5.number_input("steps per run", 10, 2000, 200, step=50, key="lr_sweep_steps"))
    grid_lrs = np.logspace(float(decades[0][2:]), float(decades[1][2:]), int(count))
    if len(chosen_methods) * len(grid_lrs) > MAX_SWEEP_RUNS:
        st.warning(f"At most {MAX_SWEEP_RUNS} runs per sweep; use fewer methods or learning rates.")
    elif chosen_methods:
        sweeps = cache.learning_rate_sweeps(formula, chosen_methods, x0, grid_lrs, sweep_steps, f_star)
        if sweeps is not None:  # None: cancelled
            fig = afigs.sweep_figure(sweeps, metric=metric, edge=edge)
            st.plotly_chart(fig, key="lr_sweep_chart")

    st.markdown("**Learning rate × a second parameter**")
    h1, h2, h3 = st.columns(3)
    hm_method = h1.selectbox("method", list(SECOND_PARAM), key="lr_hm_method", format_func=label_of)
    rows = h2.slider("values of " + SECOND_PARAM[hm_method], 4, 20, 10, key="lr_hm_rows")
    cols_n = h3.slider("learning rates", 5, 30, 16, key="lr_hm_cols")
    hm_lrs = np.logspace(float(decades[0][2:]), float(decades[1][2:]), int(cols_n))
    second = np.linspace(0.0, 0.95, int(rows))
    hm = cache.param_heatmap(formula, hm_method, x0, hm_lrs, second, SECOND_PARAM[hm_method], sweep_steps, f_star)
    edge_lrs = analysis.momentum_stability_edge(eigs, second) if positive and hm_method == "momentum" else None
    if hm is not None:  # None: cancelled
        st.plotly_chart(afigs.param_heatmap_figure(hm, metric=metric, edge_lrs=edge_lrs), key="lr_heatmap_chart")
    st.caption("Blank cells: the run diverged. Dashed red line (heavy-ball momentum on a positive-definite "
               "Hessian): the theoretical edge η = 2(1 + β)/λmax, beyond which it must diverge.")
    if edge_lrs is None and hm_method == "momentum":
        st.caption("The stability edge needs a positive-definite Hessian at a known minimum.")

with tab_order:
    st.markdown("Plot $\\log e_{k+1}$ against $\\log e_k$, where $e_k = \\lVert x_k - x^* \\rVert$. A straight line "
                "of slope 1 is linear convergence (a fixed fraction per step, gradient descent); slope 2 is quadratic "
                "(the number of correct digits doubles, Newton near a minimum).")
    o1, o2 = st.columns(2)
    gd_lr = o1.number_input("gradient-descent learning rate", 1e-5, 10.0,
                            float(analysis.optimal_learning_rate(eigs) * 0.5) if positive else 0.01,
                            format="%.4g", key="lr_order_gd")
    order_steps = int(o2.number_input("steps", 5, 5000, 500, step=100, key="lr_order_steps"))
    order_runs = {"gradient descent": cache.run(formula, "gd", {"lr": float(gd_lr)}, x0, order_steps, 1e-14),
                  "Newton": cache.run(formula, "newton", {}, x0, min(order_steps, 100), 1e-14)}
    target = views.order_target(order_runs, minima)
    if target is None:
        st.info("Neither a converged Newton run nor a known minimum gives x*; try another start.")
    else:
        errors, slopes = views.convergence_orders(order_runs, target)
        st.plotly_chart(afigs.convergence_order_figure(errors, slopes), key="lr_order_chart")
        st.caption(views.order_caption(target, order_runs, errors, slopes))

with st.expander("Export", expanded=False):
    charts.export_buttons(fig, runs, key="lr_export")
