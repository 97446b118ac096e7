"""The learning-rate lab's pieces: the quadratic model's rate facts at the start, the traces chart
(with η and β scrubbed in the figure), and the sweep and heatmap controls (plain values back)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import streamlit as st

import optcore
from optcore import analysis
from optcore.figures import analysis as afigs
from optcore.figures import trajectory as tfigs
from ui import cache, scrub

SWEEP_METHODS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "diag_newton")
SECOND_PARAM = {"momentum": "beta", "nesterov": "beta", "adam": "beta1", "rmsprop": "gamma"}
MAX_SWEEP_RUNS = 600
DECADES = [f"1e{p}" for p in range(-5, 3)]

INTRO = (
    "On a quadratic every direction of the Hessian shrinks by |1 − αλᵢ| per gradient step, so the whole "
    "error shrinks by r(α) = max |1 − αλᵢ|. The best single rate α* = 2/(λmin + λmax) balances the flattest "
    "and the steepest direction and gives r* = (κ − 1)/(κ + 1); above 2/λmax the steepest direction "
    "overshoots more each step and the run diverges. Away from quadratics the same numbers hold near a "
    "minimum, with λ the eigenvalues of the Hessian there.")
ORDER_INTRO = (
    "Plot $\\log e_{k+1}$ against $\\log e_k$, where $e_k = \\lVert x_k - x^* \\rVert$. A straight line of slope 1 "
    "is linear convergence (a fixed fraction per step, gradient descent); slope 2 is quadratic (the number of "
    "correct digits doubles, Newton near a minimum).")
HEATMAP_CAPTION = ("Blank cells: the run diverged. Dashed red line (heavy-ball momentum, λmax of the Hessian at "
                   "the minimum): the theoretical edge η = 2(1 + β)/λmax, beyond which momentum cannot settle at "
                   "that minimum; on a quadratic it diverges there, elsewhere a run may also wander off to "
                   "another point and stay finite.")


def label_of(name: str) -> str:
    return optcore.METHODS[name].label


class RateModel(NamedTuple):
    """Gradient descent's rate theory at the reference Hessian (`eigs` None: no Hessian to read)."""
    x_ref: np.ndarray | None
    eigs: np.ndarray | None
    where: str
    positive: bool
    edge: float | None

    @property
    def alpha_star(self) -> float:
        return analysis.optimal_learning_rate(self.eigs)


def rate_model(obj, x0, minima) -> RateModel:
    x_ref, eigs, where = analysis.reference_hessian(obj, x0, minima)
    positive = eigs is not None and bool(np.all(np.isfinite(eigs))) and float(eigs.min()) > 0
    return RateModel(x_ref, eigs, where, positive, analysis.stability_edge(eigs) if positive else None)


def explain_missing_rates(model: RateModel) -> bool:
    """Says why there is no rate theory to show; True when that is the case."""
    if model.eigs is None:
        st.info("No minimum is known or found in the window, so there is no Hessian to read the rates from. "
                "Widen the window or start nearer a minimum.")
    elif not model.positive:
        st.warning(f"The Hessian {model.where} has eigenvalues {', '.join(f'{v:.4g}' for v in model.eigs)}: not all "
                   "positive, so gradient descent has no stable rate there.")
    return not model.positive


def rate_figure(formula, obj, x0, model: RateModel, alpha: float):
    """r(α) on the quadratic model with the rates measured from runs (one at the student's α)."""
    x_star = analysis.rate_target(obj, x0, model.x_ref)
    measured = cache.measured_rates(formula, x0, x_star, np.linspace(0.1 * model.edge, 1.05 * model.edge, 12))
    chosen = next(iter(cache.measured_rates(formula, x0, x_star, [alpha] if alpha > 0 else [])), None)
    alphas = np.linspace(0, 1.3 * model.edge, 400)
    fig = afigs.rate_curve_figure(alphas, analysis.contraction_factor(alphas, model.eigs), model.alpha_star,
                                  analysis.optimal_rate(model.eigs), model.edge, measured=measured, chosen=chosen)
    return fig, chosen


def traces_figure(formula, obj, view, runs: dict, minima, *, scrubbed: tuple | None = None):
    """Every run on f (1-D curve or 2-D contour; None for more variables). `scrubbed` = (method,
    params, x0, steps, tol): the first run gets the in-figure η (and β) sliders."""
    names = list(obj.variables)
    if obj.dim == 1:
        xs, _, fx = cache.grid(formula, view, n=500)
        fig = afigs.traces_1d_figure(xs, fx, {k: (t.points[:, 0], t.values) for k, t in runs.items()}, name=names[0])
        path_of = lambda P: tfigs.path_from_points(P, "", "", values=obj.value(P))  # noqa: E731
    elif obj.dim == 2:
        paths = [tfigs.path_from_points(t.points, k, tfigs.default_color(i)) for i, (k, t) in enumerate(runs.items())]
        fig = tfigs.contour_paths_figure(*cache.grid(formula, view, n=160), paths, minima=minima, names=names,
                                         height=520, animate=scrubbed is None)
        path_of = lambda P: tfigs.path_from_points(P, "", "")  # noqa: E731
    else:
        return None
    if scrubbed is not None:
        method, params, x0, steps, tol = scrubbed
        fig = scrub.add_sliders(fig, formula, method, params, x0, steps, tol, path_name=next(iter(runs)),
                                path_of=path_of, status_note=True, legend_prefix="")
    return fig


class SweepSettings(NamedTuple):
    methods: list[str]
    decades: tuple[str, str]
    lrs: np.ndarray
    metric: str       # "gap" or "iterations"
    steps: int


def sweep_controls() -> SweepSettings:
    c1, c2, c3 = st.columns(3)
    methods = c1.multiselect("methods", SWEEP_METHODS, default=["gd", "momentum", "adam"], key="lr_sweep_methods",
                             format_func=label_of)
    decades = c2.select_slider("learning-rate range", options=DECADES, value=("1e-3", "1e1"), key="lr_sweep_range")
    count = c3.slider("learning rates", 5, 40, 20, key="lr_sweep_count")
    c4, c5 = st.columns(2)
    metric = c4.radio("measure", ["final f − f*", "iterations to tolerance"], horizontal=True, key="lr_sweep_metric")
    steps = int(c5.number_input("steps per run", 10, 2000, 200, step=50, key="lr_sweep_steps"))
    return SweepSettings(methods, decades, log_range(decades, count), "gap" if metric.startswith("final") else
                         "iterations", steps)


def log_range(decades: tuple[str, str], count: int) -> np.ndarray:
    return np.logspace(float(decades[0][2:]), float(decades[1][2:]), int(count))


def heatmap_controls(decades: tuple[str, str]) -> tuple[str, np.ndarray, np.ndarray]:
    """(method, learning rates, values of its second parameter) for the η × β heatmap."""
    h1, h2, h3 = st.columns(3)
    method = h1.selectbox("method", list(SECOND_PARAM), key="lr_hm_method", format_func=label_of)
    rows = h2.slider("values of " + SECOND_PARAM[method], 4, 20, 10, key="lr_hm_rows")
    cols = h3.slider("learning rates", 5, 30, 16, key="lr_hm_cols")
    return method, log_range(decades, cols), np.linspace(0.0, 0.95, int(rows))


def order_runs(formula, x0, model: RateModel):
    """Gradient descent (η from a box, half α* by default) and Newton, run to 1e-14 for the order plot."""
    o1, o2 = st.columns(2)
    gd_lr = o1.number_input("gradient-descent learning rate", 1e-5, 10.0,
                            float(model.alpha_star * 0.5) if model.positive else 0.01, format="%.4g", key="lr_order_gd")
    steps = int(o2.number_input("steps", 5, 5000, 500, step=100, key="lr_order_steps"))
    return {"gradient descent": cache.run(formula, "gd", {"lr": float(gd_lr)}, x0, steps, 1e-14),
            "Newton": cache.run(formula, "newton", {}, x0, min(steps, 100), 1e-14)}
