"""The preconditioning lab: the same landscape in rotated and rescaled coordinates, and the
iterations each method needs there."""
from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp

from ..driver import run_batch
from ..objective import Objective, objective_from_expr
from .curvature_maps import symmetric_eigenvalues
from .grids import Progress, report_progress as _report
from .rates import optimal_learning_rate


def rotation_scale_matrix(dim: int, theta: float, scale: float) -> np.ndarray:
    """M = R(θ) S with S = diag(scale, 1, …, 1) and R(θ) a rotation in the plane of the first two
    variables (θ in radians). For dim = 1 only the scale applies."""
    S = np.eye(dim)
    S[0, 0] = scale
    R = np.eye(dim)
    if dim >= 2:
        c, s = math.cos(theta), math.sin(theta)
        R[:2, :2] = [[c, -s], [s, c]]
    return R @ S


def rotate_and_scale(obj: Objective, theta: float, scale: float) -> Objective:
    """g(u) = f(R(θ) S u): the same landscape in rotated and stretched coordinates.

    S = diag(scale, 1, …): scale = 1000 means the first new coordinate is measured in units a
    thousand times larger (the textbook's millimetres against kilometres), so g's curvature along
    it is scale² times f's. A minimiser x* of f becomes u* = S⁻¹ R(θ)ᵀ x*. Uses the same variable
    names, so the result plots on the same axes.
    """
    M = rotation_scale_matrix(obj.dim, theta, scale)
    symbols = obj.symbols
    images = [sum(sp.Float(M[i, j]) * symbols[j] for j in range(obj.dim) if M[i, j] != 0)
              for i in range(obj.dim)]
    expr = obj.expr.xreplace(dict(zip(symbols, [sp.sympify(e) for e in images])))
    text = f"({obj.text}) at R({math.degrees(theta):.4g}°)·diag({scale:g}, 1)·x"
    return objective_from_expr(expr, obj.variables, text=text)


def to_rotated_coordinates(x: Sequence[float], theta: float, scale: float) -> np.ndarray:
    """u = S⁻¹ R(θ)ᵀ x: where a point of the original landscape sits after `rotate_and_scale`."""
    x = np.asarray(x, dtype=float)
    return np.linalg.solve(rotation_scale_matrix(len(x), theta, scale), x)


def iterations_to_tol(obj: Objective, method: str, x0: Sequence[float], steps: int = 1000,
                      tol: float = 1e-6, **params) -> float:
    """Steps `method` needs from x0 to reach ‖∇f‖ ≤ tol at a minimum; nan when it does not within
    `steps`, or when the point it stops at is a saddle or a maximum (Newton from Himmelblau's (0, 0)
    "converged" in 4 steps to the maximum: the fastest method by that count)."""
    batch = run_batch(obj, method, np.asarray(x0, dtype=float)[None, :], steps=steps, tol=tol, **params)
    reached = batch.status[0] == "converged" and batch.stopped_at[0] == "minimum"
    return float(batch.iterations[0]) if reached else math.nan


def tuned_gd_learning_rate(obj: Objective, x_min: Sequence[float] | None, x0: Sequence[float]) -> float:
    """GD's best constant rate 2/(λ_min + λ_max) from the Hessian at a minimiser (or at x0 when
    none is known, or when that Hessian is not positive definite there: then 1/λ_max)."""
    point = np.asarray(x_min if x_min is not None else x0, dtype=float)
    lam = symmetric_eigenvalues(obj.hess(point))
    if np.isfinite(lam).all() and lam.min() > 0:
        return optimal_learning_rate(lam)
    hi = float(np.nanmax(np.abs(lam))) if np.isfinite(lam).any() else 1.0
    return 1.0 / hi if hi > 0 else 1.0


@dataclass
class PreconditioningStudy:
    """Iterations to tolerance per method as θ varies (scale fixed) and as the scale varies (θ fixed)."""

    thetas: np.ndarray                       # radians
    scales: np.ndarray
    by_theta: dict[str, np.ndarray]          # method label -> iterations per θ (nan: not converged)
    by_scale: dict[str, np.ndarray]
    fixed_scale: float
    fixed_theta: float


def preconditioning_study(obj: Objective, x0: Sequence[float], methods: Mapping[str, tuple[str, dict]],
                          thetas: Sequence[float], scales: Sequence[float], fixed_scale: float = 1.0,
                          fixed_theta: float = 0.0, x_min: Sequence[float] | None = None,
                          steps: int = 1000, tol: float = 1e-6, on_progress: Progress = None
                          ) -> PreconditioningStudy:
    """For each (label -> (method, params)) count iterations on rotate_and_scale(obj, θ, s), starting
    from the image of x0 so every problem is the same landscape seen in other coordinates.

    A method whose params have lr="tuned" gets GD's best constant rate for that very problem
    (`tuned_gd_learning_rate` at the image of x_min), so GD is judged at its best.
    Newton is invariant under any linear change of coordinates, diagonal preconditioning under
    rescaling only, plain GD under rotation only: the plot shows exactly that.
    """
    thetas = np.asarray(thetas, dtype=float)
    scales = np.asarray(scales, dtype=float)
    settings = [(t, fixed_scale) for t in thetas] + [(fixed_theta, s) for s in scales]
    results = {label: np.full(len(settings), np.nan) for label in methods}
    total, done = len(settings) * len(methods), 0
    for k, (theta, scale) in enumerate(settings):
        g = rotate_and_scale(obj, theta, scale)
        u0 = to_rotated_coordinates(x0, theta, scale)
        u_min = to_rotated_coordinates(x_min, theta, scale) if x_min is not None else None
        for label, (method, params) in methods.items():
            params = dict(params)
            if params.get("lr") == "tuned":
                params["lr"] = tuned_gd_learning_rate(g, u_min, u0)
            results[label][k] = iterations_to_tol(g, method, u0, steps=steps, tol=tol, **params)
            done += 1
            _report(on_progress, done / total)
    nt = len(thetas)
    return PreconditioningStudy(thetas=thetas, scales=scales,
                                by_theta={k: v[:nt] for k, v in results.items()},
                                by_scale={k: v[nt:] for k, v in results.items()},
                                fixed_scale=fixed_scale, fixed_theta=fixed_theta)
