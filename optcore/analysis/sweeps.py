"""Outcomes over method parameters: learning-rate sweeps and lr × β heatmaps."""
from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Mapping, Sequence

import numpy as np

from ..driver import run_batch
from ..objective import Objective
from .grids import Progress, report_progress as _report


@dataclass
class Sweep:
    """Outcome of one run per parameter value from the same start."""

    param: str
    values: np.ndarray            # the swept parameter values
    final_value: np.ndarray       # f at the last finite point
    gap: np.ndarray               # final_value − f_star (≥ 0 up to rounding; inf when diverged)
    iterations: np.ndarray        # steps taken (float; nan when the run did not converge)
    status: np.ndarray            # "converged" | "max_steps" | "diverged"
    f_star: float


def _sweep_one(obj: Objective, method: str, X0: np.ndarray, steps: int, tol: float,
               params: Mapping) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    batch = run_batch(obj, method, X0, steps=steps, tol=tol, **params)
    final_value = obj.value(batch.final_points)
    return final_value, np.asarray(batch.iterations, dtype=float), np.asarray(batch.status)


def learning_rate_sweep(obj: Objective, method: str, x0: Sequence[float], lrs: Sequence[float],
                        steps: int = 100, tol: float = 1e-8, f_star: float | None = None,
                        on_progress: Progress = None, **params) -> Sweep:
    """Run `method` from x0 once per learning rate in `lrs` (other settings from `params`).

    Reports f(x_final) − f* (f* given, else the lowest final value of the sweep) and the
    iterations to reach ‖∇f‖ ≤ tol (nan when the run did not converge).
    """
    lrs = np.asarray(lrs, dtype=float)
    x0 = np.asarray(x0, dtype=float)[None, :]
    finals, iters, status = [], [], []
    for i, lr in enumerate(lrs):
        fv, it, st = _sweep_one(obj, method, x0, steps, tol, {**params, "lr": float(lr)})
        finals.append(fv[0]), iters.append(it[0]), status.append(st[0])
        _report(on_progress, (i + 1) / len(lrs))
    return _finish_sweep("lr", lrs, np.array(finals), np.array(iters), np.array(status), f_star)


def _finish_sweep(param: str, values: np.ndarray, finals: np.ndarray, iters: np.ndarray,
                  status: np.ndarray, f_star: float | None) -> Sweep:
    diverged = status == "diverged"
    finals = np.where(diverged | ~np.isfinite(finals), np.nan, finals)
    if f_star is None:
        f_star = float(np.nanmin(finals)) if np.isfinite(finals).any() else math.nan
    gap = np.where(np.isnan(finals), np.inf, finals - f_star)
    iters = np.where(status == "converged", iters, np.nan)
    return Sweep(param=param, values=values, final_value=finals, gap=gap, iterations=iters,
                 status=status, f_star=f_star)


@dataclass
class ParamHeatmap:
    """Outcome over a grid of learning rate × a second parameter (rows: second parameter)."""

    lrs: np.ndarray
    second_name: str
    second_values: np.ndarray
    gap: np.ndarray               # (len(second_values), len(lrs))
    iterations: np.ndarray        # same shape, nan where not converged
    status: np.ndarray
    f_star: float


def param_heatmap(obj: Objective, method: str, x0: Sequence[float], lrs: Sequence[float],
                  betas: Sequence[float], beta_name: str = "momentum", steps: int = 100,
                  tol: float = 1e-8, f_star: float | None = None, on_progress: Progress = None,
                  **params) -> ParamHeatmap:
    """Final gap and iterations for every (lr, β) pair, one run per pair from x0.

    `beta_name` is the method's parameter on the second axis (momentum, damping, ...).
    """
    lrs = np.asarray(lrs, dtype=float)
    betas = np.asarray(betas, dtype=float)
    x0 = np.asarray(x0, dtype=float)[None, :]
    finals = np.empty((len(betas), len(lrs)))
    iters = np.empty_like(finals)
    status = np.empty(finals.shape, dtype=object)
    total, done = len(lrs) * len(betas), 0
    for i, beta in enumerate(betas):
        for j, lr in enumerate(lrs):
            fv, it, st = _sweep_one(obj, method, x0, steps, tol,
                                    {**params, "lr": float(lr), beta_name: float(beta)})
            finals[i, j], iters[i, j], status[i, j] = fv[0], it[0], st[0]
            done += 1
            _report(on_progress, done / total)
    flat = _finish_sweep("lr", lrs, finals.ravel(), iters.ravel(), status.ravel().astype(str), f_star)
    return ParamHeatmap(lrs=lrs, second_name=beta_name, second_values=betas,
                        gap=flat.gap.reshape(finals.shape), iterations=flat.iterations.reshape(finals.shape),
                        status=flat.status.reshape(finals.shape), f_star=flat.f_star)
