"""Stationary points of f in a window, found by batched Newton on ∇f = 0 and named by curvature."""
from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np

from ..curvature import SHORT_KIND, STATIONARY_RTOL, classify_curvature
from ..objective import Objective
from .curvature_maps import symmetric_eigenvalues
from .grids import Window, grid


@dataclass(frozen=True)
class CriticalPoint:
    """A stationary point ∇f(x) = 0 with its type read off the Hessian eigenvalues."""

    point: np.ndarray
    value: float
    kind: str                 # "min" | "max" | "saddle" | "degenerate"
    eigenvalues: np.ndarray   # of ∇²f at the point, ascending

    def __repr__(self) -> str:
        pt = ", ".join(f"{v:.6g}" for v in self.point)
        return f"CriticalPoint(({pt}), f={self.value:.6g}, {self.kind})"


def classify_stationary(eigenvalues: Sequence[float], rtol: float = STATIONARY_RTOL) -> str:
    """'min' (all λ > 0), 'max' (all λ < 0), 'saddle' (both signs) or 'degenerate' (some λ ≈ 0
    and no sign change, or undefined: the second-order test cannot decide). The engine's one
    classifier (:func:`optcore.curvature.classify_curvature`) in the short words of analysis."""
    lam = np.asarray(eigenvalues, dtype=float)[None, :]
    return SHORT_KIND[classify_curvature(lam, rtol)[0]]


def _seeds(window: Window, count: int, rng_seed: int) -> np.ndarray:
    """Start points spread over the window: a regular grid for d ≤ 2, uniform random beyond."""
    window = np.asarray(window, dtype=float)
    d = len(window)
    if d == 1:
        return np.linspace(window[0, 0], window[0, 1], count)[:, None]
    if d == 2:
        n = max(2, int(round(math.sqrt(count))))
        return grid(window, n)[2].reshape(-1, 2)
    rng = np.random.default_rng(rng_seed)
    return window[:, 0] + rng.random((count, d)) * (window[:, 1] - window[:, 0])


def _merge_lowest_first(X: np.ndarray, radius: float, max_points: int) -> np.ndarray:
    """Rows of X (sorted by f, lowest first) farther than `radius` from every row kept before them:
    the lowest of each cluster, at most `max_points` (one vectorised pass per kept point)."""
    kept = []
    remaining = np.ones(len(X), dtype=bool)
    while len(kept) < max_points and remaining.any():
        first = int(np.argmax(remaining))
        kept.append(first)
        remaining &= np.linalg.norm(X - X[first], axis=-1) > radius
    return X[kept]


def _newton_on_gradient(obj: Objective, X: np.ndarray, iterations: int, max_step: float) -> np.ndarray:
    """Batched Newton iteration x ← x − H⁻¹∇f for the equation ∇f = 0 (finds minima, maxima and
    saddles alike). Steps are capped at `max_step`; a singular H falls back to its pseudo-inverse.
    Rows whose step has become negligible stop iterating (most starts settle in a few steps, and
    the pseudo-inverse of every row each iteration was most of the cost)."""
    X = X.copy()
    active = np.arange(len(X))
    scale = np.maximum(1.0, np.abs(X).max(initial=0.0))
    for _ in range(iterations):
        if len(active) == 0:
            break
        Xa = X[active]
        g, H = obj.grad_hess(Xa) if hasattr(obj, "grad_hess") else obj.value_grad_hess(Xa)[1:]
        ok = np.isfinite(g).all(axis=-1) & np.isfinite(H).all(axis=(-2, -1))
        step = np.zeros_like(Xa)
        with np.errstate(all="ignore"):
            step[ok] = -(np.linalg.pinv(H[ok], rcond=1e-12, hermitian=True) @ g[ok][..., None])[..., 0]
        norm = np.linalg.norm(step, axis=-1, keepdims=True)
        with np.errstate(all="ignore"):
            step *= np.where(norm > max_step, max_step / norm, 1.0)
        Xa = Xa + step
        Xa[~ok] = np.nan
        X[active] = Xa
        moving = ok & (norm[:, 0] > 1e-13 * scale)
        active = active[moving]
    return X


def critical_points(obj: Objective, window: Window, seeds: int = 900, iterations: int = 60,
                    grad_tol: float = 1e-6, merge_tol: float = 1e-4, max_points: int = 60,
                    rng_seed: int = 0) -> list[CriticalPoint]:
    """Stationary points of f inside `window`, sorted by value.

    Batched Newton on ∇f = 0 from `seeds` starts spread over the window (Newton's method on the
    gradient converges to any nondegenerate stationary point it starts near, not only to minima);
    points that end outside the window or with ‖∇f‖ > grad_tol·max(1, |f|) are dropped, the rest
    merged when closer than merge_tol × (window diagonal), then classified by the eigenvalues of
    ∇²f: min (all > 0), max (all < 0), saddle (mixed) or degenerate (some ≈ 0).

    A function with a whole curve of stationary points yields samples along it, at most
    `max_points`.
    """
    W = np.asarray(window, dtype=float)
    diag = float(np.linalg.norm(W[:, 1] - W[:, 0]))
    X = _newton_on_gradient(obj, _seeds(W, seeds, rng_seed), iterations, max_step=0.25 * diag)
    margin = 1e-9 * diag
    inside = np.isfinite(X).all(axis=-1) & ((X >= W[:, 0] - margin) & (X <= W[:, 1] + margin)).all(axis=-1)
    X = X[inside]
    if len(X) == 0:
        return []
    f, g = obj.value_grad(X) if hasattr(obj, "value_grad") else obj.value_grad_hess(X)[:2]
    with np.errstate(over="ignore"):  # huge but finite gradients far out: simply not small
        small = np.isfinite(f) & (np.linalg.norm(g, axis=-1) <= grad_tol * np.maximum(1.0, np.abs(f)))
    X, f = X[small], f[small]
    P = _merge_lowest_first(X[np.argsort(f, kind="stable")], merge_tol * diag, max_points)
    if len(P) == 0:
        return []
    values = obj.value(P)
    eigs = symmetric_eigenvalues(obj.hess(P))
    return [CriticalPoint(point=P[i], value=float(values[i]), kind=classify_stationary(eigs[i]),
                          eigenvalues=eigs[i]) for i in np.argsort(values, kind="stable")]
