"""Learning-rate lab: several η at once, the quadratic rate r(α), sweeps over η (and momentum), and
the empirical order of convergence."""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

import optcore
from optcore import analysis
from optcore.figures import analysis as afigs
from optcore.figures import trajectory as tfigs
from ui import frame, views

SWEEP_METHODS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "diag_newton")
SECOND_PARAM = {"momentum": "beta", "nesterov": "beta", "adam": "beta1", "rmsprop": "gamma"}
MAX_SWEEP_RUNS = 600

obj = frame.current_objective()
names = list(obj.variables)
window = frame.current_window()
x0 = frame.current_start()
minima = views.known_minima()

st.header("Learning-rate lab")
st.markdown(
    "On a quadratic every direction of the Hessian shrinks by |1 − αλᵢ| per gradient step, so the whole "
    "error shrinks by r(α) = max |1 − αλᵢ|. The best single rate α* = 2/(λmin + λmax) balances the flattest "
    "and the steepest direction and gives r* = (κ − 1)/(κ + 1); above 2/λmax the steepest direction "
    "overshoots more each step and the run diverges. Away from quadratics the same numbers hold near a "
    "minimum, with λ the eigenvalues of the Hessian there.")
b = st.columns(3)
if b[0].button("Textbook: x² with η = 0.2, 0.05, 1.1", icon=":material/school:"):
    frame.load_preset("textbook-x2-divergent")
if b[1].button("Textbook: x·cos(0.15πx) with η = 2", icon=":material/school:"):
    frame.load_preset("textbook-xcos")
if b[2].button("Course notes: ½(w1² + 4w2²)", icon=":material/school:"):
    frame.load_preset("course-quadratic")


def memo(key: tuple, compute):
    """Keep the last few expensive results in the session (sweeps run only when their inputs change)."""
    store = st.session_state.setdefault("_lr_lab_memo", {})
    if key not in store:
        if len(store) >= 8:
            store.pop(next(iter(store)))
        store[key] = compute()
    return store[key]


def parse_lrs(text: str) -> list[float]:
    out = []
    for part in (text or "").replace(";", ",").split(","):
        try:
            v = float(part)
        except ValueError:
            continue
        if 0 < v <= 100 and v not in out and len(out) < 8:
            out.append(v)
    return out


def reference_point() -> tuple[np.ndarray | None, str]:
    """Where to read the Hessian: anywhere for a quadratic, else a known or found minimum."""
    if obj.is_quadratic:
        return x0, "constant (f is quadratic)"
    if len(minima):
        i = int(np.argmin(np.linalg.norm(minima - x0, axis=1)))
        return minima[i], f"at the minimum nearest the start ({', '.join(f'{v:.4g}' for v in minima[i])})"
    return None, ""


x_ref, where = reference_point()
eigs = analysis.symmetric_eigenvalues(obj.hess(x_ref)) if x_ref is not None else None
positive = eigs is not None and bool(np.all(np.isfinite(eigs))) and float(eigs.min()) > 0
edge = analysis.stability_edge(eigs) if positive else None

tab_traces, tab_rate, tab_sweep, tab_order = st.tabs(
    ["Several learning rates", "Rate r(α) on the quadratic model", "Sweep η (and momentum)", "Order of convergence"])

fig = None
runs: dict = {}
with tab_traces:
    c1, c2 = st.columns([1, 3])
    with c1:
        method, params = frame.method_picker("m0", default="gd", allowed=[m for m in SWEEP_METHODS])
        steps, tol = frame.steps_and_tol(default_steps=10)
        lrs_text = frame.shared_option(st.text_input, "learning rates to compare", "lrs",
                                       placeholder="e.g. 0.05, 0.2, 1.1", help="up to 8, separated by commas")
    lrs = parse_lrs(lrs_text) or [float(params.get("lr", 0.1))]
    runs = {f"η = {lr:g}": frame.run(method, {**params, "lr": lr}, x0, steps, tol) for lr in lrs}
    with c2:
        if obj.dim == 1:
            pts = np.concatenate([t.points[:, 0] for t in runs.values()])
            pts = pts[np.isfinite(pts) & (np.abs(pts) < 1e6)]
            lo = min(window[0][0], float(pts.min())) if pts.size else window[0][0]
            hi = max(window[0][1], float(pts.max())) if pts.size else window[0][1]
            xs, _, X = analysis.grid([(lo, hi)], 500)
            fig = afigs.traces_1d_figure(xs, obj.value(X), {k: (t.points[:, 0], t.values) for k, t in runs.items()},
                                         name=names[0])
        elif obj.dim == 2:
            xs, ys, Z = frame.grid(window, n=160)
            fig = tfigs.contour_paths_figure(
                xs, ys, Z, [tfigs.path_from_points(t.points, k, tfigs.default_color(i)) for i, (k, t) in
                            enumerate(runs.items())], minima=minima, names=names, height=520)
        if fig is not None:
            frame.chart(fig, key="lr_traces_chart")
        f_star = float(obj.value(minima).min()) if len(minima) else None
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
        m = st.columns(5)
        m[0].metric("eigenvalues λ", ", ".join(f"{v:.4g}" for v in eigs))
        m[1].metric("κ = λmax/λmin", f"{analysis.condition_number(eigs):.4g}")
        m[2].metric("α* = 2/(λmin+λmax)", f"{a_star:.4g}")
        m[3].metric("r* = (κ−1)/(κ+1)", f"{r_star:.4g}")
        m[4].metric("stability edge 2/λmax", f"{edge:.4g}")
        st.caption(f"Hessian {where}.")
        alpha = st.slider("learning rate of your run", 0.0, float(1.3 * edge), float(round(a_star, 6)),
                          format="%.4g", key="lr_alpha")
        x_star = x_ref if not obj.is_quadratic else analysis.newton_landing_point(*analysis.taylor_model(obj, x0)[1:],
                                                                                  x0)

        def measure(a: float) -> float:
            t = optcore.run(obj, "gd", x0, steps=300, tol=1e-13, lr=float(a))
            return analysis.measured_contraction(analysis.errors_to_point(t.points, x_star))

        probe = np.linspace(0.1 * edge, 1.05 * edge, 12)
        measured = [(a, measure(a)) for a in probe] if x_star is not None else []
        measured = [(a, r) for a, r in measured if math.isfinite(r)]
        chosen = (alpha, measure(alpha)) if x_star is not None and alpha > 0 else None
        alphas = np.linspace(0, 1.3 * edge, 400)
        rate_fig = afigs.rate_curve_figure(alphas, analysis.contraction_factor(alphas, eigs), a_star, r_star, edge,
                                           measured=measured, chosen=chosen if chosen and math.isfinite(chosen[1])
                                           else None)
        st.plotly_chart(rate_fig, key="lr_rate_chart")
        if chosen is not None and math.isfinite(chosen[1]):
            st.markdown(f"Your run at α = {alpha:.4g}: measured shrink per step **{chosen[1]:.4g}**, predicted "
                        f"r(α) = **{analysis.contraction_factor(alpha, eigs):.4g}**.")
        st.caption("Circles: the per-step shrink of ‖x_k − x*‖ measured over the last steps of a gradient-descent "
                   "run from the start point, one run per α.")

with tab_sweep:
    c1, c2, c3 = st.columns(3)
    chosen_methods = c1.multiselect("methods", SWEEP_METHODS, default=["gd", "momentum", "adam"], key="lr_sweep_methods",
                                    format_func=lambda n: optcore.METHODS[n].label)
    decades = c2.select_slider("learning-rate range", options=[f"1e{p}" for p in range(-5, 3)],
                               value=("1e-3", "1e1"), key="lr_sweep_range")
    count = c3.slider("learning rates", 5, 40, 20, key="lr_sweep_count")
    c4, c5 = st.columns(2)
    metric = c4.radio("measure", ["final f − f*", "iterations to tolerance"], horizontal=True, key="lr_sweep_metric")
    sweep_steps = int(c5.number_input("steps per run", 10, 2000, 200, step=50, key="lr_sweep_steps"))
    grid_lrs = np.logspace(float(decades[0][2:]), float(decades[1][2:]), int(count))
    f_star = float(obj.value(minima).min()) if len(minima) else None
    if len(chosen_methods) * len(grid_lrs) > MAX_SWEEP_RUNS:
        st.warning(f"At most {MAX_SWEEP_RUNS} runs per sweep; use fewer methods or learning rates.")
    elif chosen_methods:
        def compute_sweeps():
            bar = st.progress(0.0, text="sweeping learning rates…")
            out = {}
            for i, m_name in enumerate(chosen_methods):
                out[optcore.METHODS[m_name].label] = analysis.learning_rate_sweep(
                    obj, m_name, x0, grid_lrs, steps=sweep_steps, tol=1e-8, f_star=f_star,
                    on_progress=lambda f, i=i: bar.progress((i + f) / len(chosen_methods), text="sweeping…"))
            bar.empty()
            return out
        sweeps = memo(("sweep", obj.text, obj.variables, tuple(x0), tuple(chosen_methods), tuple(grid_lrs),
                       sweep_steps, f_star), compute_sweeps)
        fig = afigs.sweep_figure(sweeps, metric="gap" if metric.startswith("final") else "iterations",
                                 edge=edge)
        st.plotly_chart(fig, key="lr_sweep_chart")

    st.markdown("**Learning rate × a second parameter**")
    h1, h2, h3 = st.columns(3)
    hm_method = h1.selectbox("method", list(SECOND_PARAM), key="lr_hm_method",
                             format_func=lambda n: optcore.METHODS[n].label)
    rows = h2.slider("values of " + SECOND_PARAM[hm_method], 4, 20, 10, key="lr_hm_rows")
    cols_n = h3.slider("learning rates", 5, 30, 16, key="lr_hm_cols")
    hm_lrs = np.logspace(float(decades[0][2:]), float(decades[1][2:]), int(cols_n))
    second = np.linspace(0.0, 0.95, int(rows)) if SECOND_PARAM[hm_method] != "beta2" else np.linspace(0.9, 0.999, int(rows))

    def compute_heatmap():
        bar = st.progress(0.0, text="running the grid…")
        out = analysis.param_heatmap(obj, hm_method, x0, hm_lrs, second, beta_name=SECOND_PARAM[hm_method],
                                     steps=sweep_steps, tol=1e-8, f_star=f_star,
                                     on_progress=lambda f: bar.progress(f, text="running the grid…"))
        bar.empty()
        return out
    hm = memo(("heat", obj.text, obj.variables, tuple(x0), hm_method, tuple(hm_lrs), tuple(second), sweep_steps,
               f_star), compute_heatmap)
    edge_lrs = analysis.momentum_stability_edge(eigs, second) if positive and hm_method == "momentum" else None
    hm_fig = afigs.param_heatmap_figure(hm, metric="gap" if metric.startswith("final") else "iterations",
                                        edge_lrs=edge_lrs)
    st.plotly_chart(hm_fig, key="lr_heatmap_chart")
    st.caption("Blank cells: the run diverged. Dashed red line (heavy-ball momentum on a positive-definite "
               "Hessian): the theoretical edge η = 2(1 + β)/λmax, beyond which it must diverge.")
    if edge_lrs is None and hm_method == "momentum":
        st.caption("The stability edge needs a positive-definite Hessian at a known minimum.")

with tab_order:
    st.markdown("Plot $\\log e_{k+1}$ against $\\log e_k$, where $e_k = \\lVert x_k - x^* \\rVert$. A straight line of slope 1 is linear "
                "convergence (a fixed fraction per step, gradient descent); slope 2 is quadratic (the number of "
                "correct digits doubles, Newton near a minimum).")
    o1, o2 = st.columns(2)
    gd_lr = o1.number_input("gradient-descent learning rate", 1e-5, 10.0,
                            float(analysis.optimal_learning_rate(eigs) * 0.5) if positive else 0.01,
                            format="%.4g", key="lr_order_gd")
    order_steps = int(o2.number_input("steps", 5, 5000, 500, step=100, key="lr_order_steps"))
    order_runs = {"gradient descent": optcore.run(obj, "gd", x0, steps=order_steps, tol=1e-14, lr=float(gd_lr)),
                  "Newton": optcore.run(obj, "newton", x0, steps=min(order_steps, 100), tol=1e-14)}
    target = order_runs["Newton"].points[-1] if order_runs["Newton"].status == "converged" else None
    if target is None and len(minima):
        target = minima[int(np.argmin(np.linalg.norm(minima - order_runs["gradient descent"].points[-1], axis=1)))]
    if target is None:
        st.info("Neither a converged Newton run nor a known minimum gives x*; try another start.")
    else:
        errors, slopes = {}, {}
        for label, t in order_runs.items():
            e = analysis.errors_to_point(t.points, target)
            e = e[np.isfinite(e) & (e > 1e-12 * max(1.0, float(np.linalg.norm(target))))]
            errors[label] = e
            slopes[label] = analysis.convergence_order(e)
        order_fig = afigs.convergence_order_figure(errors, slopes)
        st.plotly_chart(order_fig, key="lr_order_chart")
        st.caption(f"x* = ({', '.join(f'{v:.6g}' for v in target)}); slopes fitted over the last three pairs "
                   "above rounding error. "
                   + " · ".join(f"{k}: {v:.2f}" if math.isfinite(v) else
                                f"{k}: reached x* exactly in {order_runs[k].iterations} step(s), no order to fit"
                                if errors[k].size <= 2 else f"{k}: too few points" for k, v in slopes.items()))

with st.expander("Export", expanded=False):
    frame.export_buttons(fig, runs, key="lr_export")
