"""Rates of gradient descent on a quadratic, and rates and orders measured on a run's errors."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..objective import Objective
from .curvature_maps import symmetric_eigenvalues
from .models import newton_landing_point, taylor_model


def contraction_factor(alpha: float | np.ndarray, eigenvalues: Sequence[float]) -> np.ndarray | float:
    """r(α) = max_i |1 − α λ_i|: the factor by which one gradient-descent step with learning rate α
    shrinks the error on a quadratic with Hessian eigenvalues λ_i (worst direction). r < 1 converges."""
    lam = np.asarray(eigenvalues, dtype=float).ravel()
    a = np.asarray(alpha, dtype=float)
    r = np.max(np.abs(1.0 - a[..., None] * lam), axis=-1)
    return float(r) if r.ndim == 0 else r


def condition_number(eigenvalues: Sequence[float]) -> float:
    """κ = λ_max / λ_min (inf when λ_min ≤ 0)."""
    lam = np.asarray(eigenvalues, dtype=float)
    lo, hi = float(lam.min()), float(lam.max())
    return hi / lo if lo > 0 else math.inf


def optimal_learning_rate(eigenvalues: Sequence[float]) -> float:
    """α* = 2 / (λ_min + λ_max): balances the slowest and the fastest direction, |1 − α λ_min| =
    |1 − α λ_max|. Only meaningful when every λ > 0 (nan otherwise)."""
    lam = np.asarray(eigenvalues, dtype=float)
    lo, hi = float(lam.min()), float(lam.max())
    return 2.0 / (lo + hi) if lo > 0 else math.nan


def optimal_rate(eigenvalues: Sequence[float]) -> float:
    """r* = r(α*) = (κ − 1) / (κ + 1) = (λ_max − λ_min)/(λ_max + λ_min); nan unless every λ > 0."""
    lam = np.asarray(eigenvalues, dtype=float)
    lo, hi = float(lam.min()), float(lam.max())
    return (hi - lo) / (hi + lo) if lo > 0 else math.nan


def stability_edge(eigenvalues: Sequence[float]) -> float:
    """2 / λ_max: gradient descent on the quadratic diverges for every α above this (inf if λ_max ≤ 0)."""
    hi = float(np.max(np.asarray(eigenvalues, dtype=float)))
    return 2.0 / hi if hi > 0 else math.inf


def momentum_stability_edge(eigenvalues: Sequence[float], beta: float | np.ndarray) -> np.ndarray | float:
    """Largest stable learning rate of heavy-ball momentum (v ← βv + ∇f, x ← x − ηv) on a quadratic:
    η < 2(1 + β)/λ_max for 0 ≤ β < 1. β = 0 is plain gradient descent's 2/λ_max."""
    hi = float(np.max(np.asarray(eigenvalues, dtype=float)))
    b = np.asarray(beta, dtype=float)
    edge = np.where(b < 1, 2.0 * (1.0 + b) / hi, 0.0) if hi > 0 else np.full(b.shape, np.inf)
    return float(edge) if edge.ndim == 0 else edge


def errors_to_point(points: np.ndarray, x_star: Sequence[float]) -> np.ndarray:
    """e_k = ‖x_k − x*‖ for a path `points` (k+1, d)."""
    return np.linalg.norm(np.asarray(points, dtype=float) - np.asarray(x_star, dtype=float), axis=-1)


def _usable_errors(errors: Sequence[float], floor: float) -> np.ndarray:
    e = np.asarray(errors, dtype=float)
    e = e[np.isfinite(e)]
    if e.size == 0:
        return e
    # Stop at the first error below the floor: what follows is rounding noise.
    below = np.flatnonzero(e <= floor * max(1.0, float(e.max())))
    return e[: below[0]] if below.size else e


def step_ratios(errors: Sequence[float], floor: float = 1e-12) -> np.ndarray:
    """e_{k+1} / e_k for consecutive errors above the rounding floor."""
    e = _usable_errors(errors, floor)
    return e[1:] / e[:-1] if e.size > 1 else np.empty(0)


def measured_contraction(errors: Sequence[float], tail: int = 10, floor: float = 1e-12) -> float:
    """The per-step contraction a run actually achieved: the geometric mean of e_{k+1}/e_k over the
    last `tail` steps above the rounding floor, (e_K / e_{K−t})^(1/t). nan if fewer than 2 errors."""
    e = _usable_errors(errors, floor)
    if e.size < 2:
        return math.nan
    t = min(tail, e.size - 1)
    return float((e[-1] / e[-1 - t]) ** (1.0 / t))


def convergence_order(errors: Sequence[float], tail: int = 3, floor: float = 1e-12) -> float:
    """Empirical order p in e_{k+1} ≈ C e_k^p: the least-squares slope of log e_{k+1} against
    log e_k over the last `tail` pairs above the rounding floor. ≈ 1 for gradient descent (linear
    convergence), ≈ 2 for Newton near a nondegenerate minimum. nan with fewer than 2 pairs."""
    e = _usable_errors(errors, floor)
    if e.size < 3:
        return math.nan
    a, b = np.log(e[:-1])[-tail:], np.log(e[1:])[-tail:]
    if np.ptp(a) == 0:
        return math.nan
    return float(np.polyfit(a, b, 1)[0])


def first_step_within_tol(grad_norms: Sequence[float], tol: float) -> int | None:
    """First k with ‖∇f(x_k)‖ ≤ tol, or None."""
    hits = np.flatnonzero(np.asarray(grad_norms) <= tol)
    return int(hits[0]) if hits.size else None


def reference_hessian(obj: Objective, x0, minima) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """Where to read the Hessian for the learning-rate theory and its eigenvalues there: anywhere
    for a quadratic, else the known or found minimum nearest the start. (point, eigenvalues, where)."""
    if obj.is_quadratic:
        point, where = np.asarray(x0, dtype=float), "constant (f is quadratic)"
    elif len(minima):
        point = minima[int(np.argmin(np.linalg.norm(minima - x0, axis=1)))]
        # the point first: "nearest the start (3, 2)" read as if the start were (3, 2)
        where = f"at the minimum ({', '.join(f'{v:.4g}' for v in point)}), the one nearest the start"
    else:
        return None, None, ""
    return point, symmetric_eigenvalues(obj.hess(point)), where


def rate_target(obj: Objective, x0, x_ref):
    """x* for the measured rates: the reference minimum, or for a quadratic where Newton lands."""
    if not obj.is_quadratic:
        return x_ref
    return newton_landing_point(*taylor_model(obj, x0)[1:], x0)


def order_target(runs: dict, minima: np.ndarray) -> dict:
    """x* for the order of convergence of each of `runs` {"Newton": ..., "gradient descent": ...}: of
    the points known exactly (where a converged Newton run ended, the known minima), the one nearest
    where that run ended, if the run got at least twice as close to it as it started; a run with none
    gets no entry. One x* for both runs measured gradient descent against a maximum when Newton had
    converged there (Himmelblau from (0, 0))."""
    d = len(runs["Newton"].points[-1])
    exact = [np.asarray(runs["Newton"].points[-1], dtype=float)] if runs["Newton"].status == "converged" else []
    exact += list(np.asarray(minima, dtype=float).reshape(-1, d))
    targets = {}
    for label, t in runs.items():
        start, end = np.asarray(t.points[0], dtype=float), np.asarray(t.points[-1], dtype=float)
        if not exact or not np.isfinite(end).all():
            continue
        nearest = min(exact, key=lambda x: float(np.linalg.norm(x - end)))
        if np.linalg.norm(end - nearest) <= 0.5 * np.linalg.norm(start - nearest):
            targets[label] = nearest
    return targets


def convergence_orders(runs: dict, targets: dict) -> tuple[dict, dict]:
    """Per run with an x* (`order_target`), the errors ‖x_k − x*‖ above rounding error and the fitted
    order of convergence."""
    errors, slopes = {}, {}
    for label, t in runs.items():
        if label not in targets:
            continue
        target = targets[label]
        e = errors_to_point(t.points, target)
        errors[label] = e[np.isfinite(e) & (e > 1e-12 * max(1.0, float(np.linalg.norm(target))))]
        slopes[label] = convergence_order(errors[label])
    return errors, slopes
