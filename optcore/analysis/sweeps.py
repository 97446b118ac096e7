"""Outcomes over method parameters: learning-rate sweeps and lr × β heatmaps."""
from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Mapping, Sequence

import numpy as np

from ..driver import run_batch
from ..methods import get_method
from ..results import STATUS_NAMES
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


CHUNK = 10_000  # rows per batched run (a 64 x 64 grid is one run)


def _sweep_rows(obj: Objective, method: str, x0: np.ndarray, steps: int, tol: float, params: Mapping,
                per_row: Mapping[str, np.ndarray], on_progress: Progress
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f at the end, iterations and status of one run per row of the ``per_row`` values, all from
    x0: batched runs of up to CHUNK rows when every swept parameter may vary per row (row i is the
    run with row i's values, bit for bit), else one run per row."""
    spec = get_method(method)
    rows_ok = {p.name for p in spec.params if p.per_row}
    m = len(next(iter(per_row.values())))
    finals, iters = np.empty(m), np.empty(m)
    status = np.empty(m, dtype=STATUS_NAMES.dtype)
    step = CHUNK if set(per_row) <= rows_ok else 1
    for start in range(0, m, step):
        stop = min(m, start + step)
        if step == 1:
            values = {name: float(v[start]) for name, v in per_row.items()}
        else:
            values = {name: v[start:stop] for name, v in per_row.items()}
        batch = run_batch(obj, method, x0, steps=steps, tol=tol, **params, **values)
        finals[start:stop] = obj.value(batch.final_points)
        iters[start:stop] = batch.iterations
        status[start:stop] = batch.status
        _report(on_progress, stop / m)
    return finals, iters, status


def learning_rate_sweep(obj: Objective, method: str, x0: Sequence[float], lrs: Sequence[float],
                        steps: int = 100, tol: float = 1e-8, f_star: float | None = None,
                        on_progress: Progress = None, **params) -> Sweep:
    """Run `method` from x0 once per learning rate in `lrs` (other settings from `params`), all
    in one batched run.

    Reports f(x_final) − f* (f* given, else the lowest final value of the sweep) and the
    iterations to reach ‖∇f‖ ≤ tol (nan when the run did not converge).
    """
    lrs = np.asarray(lrs, dtype=float)
    x0 = np.asarray(x0, dtype=float)[None, :]
    finals, iters, status = _sweep_rows(obj, method, x0, steps, tol, params, {"lr": lrs}, on_progress)
    return _finish_sweep("lr", lrs, finals, iters, status, f_star)


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
    """Final gap and iterations for every (lr, β) pair from x0, all pairs in one batched run.

    `beta_name` is the method's parameter on the second axis (momentum, damping, ...).
    """
    lrs = np.asarray(lrs, dtype=float)
    betas = np.asarray(betas, dtype=float)
    x0 = np.asarray(x0, dtype=float)[None, :]
    shape = (len(betas), len(lrs))
    grid_betas, grid_lrs = np.meshgrid(betas, lrs, indexing="ij")  # row-major: β rows, lr columns
    finals, iters, status = _sweep_rows(obj, method, x0, steps, tol, params,
                                        {"lr": grid_lrs.ravel(), beta_name: grid_betas.ravel()}, on_progress)
    finals = finals.reshape(shape)
    flat = _finish_sweep("lr", lrs, finals.ravel(), iters, status, f_star)
    return ParamHeatmap(lrs=lrs, second_name=beta_name, second_values=betas,
                        gap=flat.gap.reshape(finals.shape), iterations=flat.iterations.reshape(finals.shape),
                        status=flat.status.reshape(finals.shape), f_star=flat.f_star)
