"""Analysis of an objective and of runs on it: curvature maps, critical points, Newton's quadratic
model, convergence rates, learning-rate sweeps, basins of attraction and preconditioning.

Everything here is NumPy/SymPy on top of the `Objective` interface (`value`, `grad`, `hess`,
`value_grad_hess` on (..., d) arrays) and `run_batch`; nothing draws. Grids follow the Plotly
convention: `XY[i, j]` is the point (xs[j], ys[i]), so a (n, n) result is a heatmap's `z` as is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from .objective import Objective, objective_from_expr

Window = Sequence[tuple[float, float]]
Progress = Callable[[float], None] | None

MAX_GRID = 300          # largest n for an n × n grid of runs (90,000 starts)
_UNDEFINED = np.nan


# --------------------------------------------------------------------------------------------
# Grids
# --------------------------------------------------------------------------------------------
def grid(window: Window, n: int, base: Sequence[float] | None = None,
         axes: tuple[int, int] = (0, 1)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An n × n grid over two variables of `window`: (xs, ys, XY) with XY of shape (n, n, d).

    XY[i, j] = (xs[j], ys[i]) in the plotted variables `axes`; for d > 2 the other coordinates are
    held at `base` (a slice through that point). For d == 1 the "grid" is a line: xs has n points,
    ys is empty and XY has shape (n, 1).
    """
    window = [tuple(map(float, w)) for w in window]
    d = len(window)
    n = int(n)
    if n < 2:
        raise ValueError("a grid needs at least 2 points per axis")
    if d == 1:
        xs = np.linspace(*window[0], n)
        return xs, np.empty(0), xs[:, None]
    i, j = axes
    xs = np.linspace(*window[i], n)
    ys = np.linspace(*window[j], n)
    if base is None:
        base = [0.5 * (lo + hi) for lo, hi in window]
    XY = np.broadcast_to(np.asarray(base, dtype=float), (n, n, d)).copy()
    XY[..., i] = xs[None, :]
    XY[..., j] = ys[:, None]
    return xs, ys, XY


# --------------------------------------------------------------------------------------------
# Curvature
# --------------------------------------------------------------------------------------------
def symmetric_eigenvalues(H: np.ndarray) -> np.ndarray:
    """Eigenvalues of symmetric matrices H (..., d, d), ascending, shape (..., d); nan where H is not finite.

    For d = 2 the closed form is used: with m = (a + c)/2 and r = sqrt(((a − c)/2)² + b²),
    λ = m ∓ r for H = [[a, b], [b, c]]. Otherwise `numpy.linalg.eigvalsh` on the finite entries.
    """
    H = np.asarray(H, dtype=float)
    d = H.shape[-1]
    finite = np.isfinite(H).all(axis=(-2, -1))
    if d == 1:
        out = H[..., 0, :].copy()
    elif d == 2:
        a, b, c = H[..., 0, 0], H[..., 0, 1], H[..., 1, 1]
        with np.errstate(all="ignore"):
            m = 0.5 * (a + c)
            r = np.hypot(0.5 * (a - c), b)
            out = np.stack([m - r, m + r], axis=-1)
    else:
        out = np.full(H.shape[:-1], np.nan)
        if finite.any():
            out[finite] = np.linalg.eigvalsh(H[finite])
    out[~finite] = np.nan
    return out


def hessian_where_defined(obj: Objective, XY: np.ndarray) -> np.ndarray:
    """∇²f at every point of XY, nan wherever f itself is undefined: for log(x) the formula
    −1/x² is finite at x < 0, but there is no function there to have a curvature."""
    f, _, H = obj.value_grad_hess(XY)
    H = np.array(H, dtype=float)
    H[~np.isfinite(f)] = np.nan
    return H


def hessian_det_grid(obj: Objective, XY: np.ndarray) -> np.ndarray:
    """det ∇²f at every point of XY (..., d). For d = 2: f_xx f_yy − f_xy²; its sign tells
    locally convex/concave (> 0) from saddle-shaped (< 0). nan where f or its Hessian is undefined."""
    H = hessian_where_defined(obj, XY)
    if H.shape[-1] == 1:
        det = H[..., 0, 0].copy()
    elif H.shape[-1] == 2:
        with np.errstate(all="ignore"):
            det = H[..., 0, 0] * H[..., 1, 1] - H[..., 0, 1] * H[..., 1, 0]
    else:
        det = np.full(H.shape[:-2], np.nan)
        finite = np.isfinite(H).all(axis=(-2, -1))
        det[finite] = np.linalg.det(H[finite])
    det[~np.isfinite(det)] = np.nan
    return det


def hessian_eigenvalues_grid(obj: Objective, XY: np.ndarray) -> np.ndarray:
    """Eigenvalues λ₁ ≤ … ≤ λ_d of ∇²f at every point of XY: shape (..., d); nan where f is undefined."""
    return symmetric_eigenvalues(hessian_where_defined(obj, XY))


def min_eigenvalue_grid(obj: Objective, XY: np.ndarray) -> np.ndarray:
    """Smallest Hessian eigenvalue λ_min at every point: the curvature along the worst direction.
    λ_min ≥ 0 everywhere on a region is what convexity means there."""
    return hessian_eigenvalues_grid(obj, XY)[..., 0]


def curvature_class(eigenvalues: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """+1 where every eigenvalue is ≥ 0 (locally convex), −1 where every one is ≤ 0 (concave),
    0 where the signs are mixed (saddle-shaped), nan where undefined.

    Eigenvalues within rtol·max|λ| of zero count as zero (a flat direction does not make a region
    a saddle); a perfectly flat point counts as convex.
    """
    lam = np.asarray(eigenvalues, dtype=float)
    scale = np.nanmax(np.abs(lam), axis=-1, initial=0.0) if lam.size else np.zeros(lam.shape[:-1])
    eps = rtol * np.maximum(scale, 1e-300)
    lo, hi = lam[..., 0], lam[..., -1]
    out = np.zeros(lam.shape[:-1])
    out[lo >= -eps] = 1.0
    out[(hi <= eps) & (lo < -eps)] = -1.0
    out[~np.isfinite(lam).all(axis=-1)] = np.nan
    return out


def curvature_class_grid(obj: Objective, XY: np.ndarray) -> np.ndarray:
    """`curvature_class` of the Hessian at every point of XY (see there for the codes)."""
    return curvature_class(hessian_eigenvalues_grid(obj, XY))


CURVATURE_CLASS_NAMES = {1.0: "convex (all λ ≥ 0)", 0.0: "saddle (mixed signs)", -1.0: "concave (all λ ≤ 0)"}


# --------------------------------------------------------------------------------------------
# Critical points
# --------------------------------------------------------------------------------------------
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


def classify_stationary(eigenvalues: Sequence[float], rtol: float = 1e-7) -> str:
    """'min' (all λ > 0), 'max' (all λ < 0), 'saddle' (both signs) or 'degenerate' (some λ ≈ 0
    and no sign change: the second-order test cannot decide)."""
    lam = np.asarray(eigenvalues, dtype=float)
    if not np.isfinite(lam).all():
        return "degenerate"
    eps = rtol * max(1.0, float(np.max(np.abs(lam))))
    if (lam > eps).all():
        return "min"
    if (lam < -eps).all():
        return "max"
    if (lam > eps).any() and (lam < -eps).any():
        return "saddle"
    return "degenerate"


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


def _newton_on_gradient(obj: Objective, X: np.ndarray, iterations: int, max_step: float) -> np.ndarray:
    """Batched Newton iteration x ← x − H⁻¹∇f for the equation ∇f = 0 (finds minima, maxima and
    saddles alike). Steps are capped at `max_step`; a singular H falls back to its pseudo-inverse."""
    X = X.copy()
    for _ in range(iterations):
        g, H = obj.grad_hess(X) if hasattr(obj, "grad_hess") else obj.value_grad_hess(X)[1:]
        ok = np.isfinite(g).all(axis=-1) & np.isfinite(H).all(axis=(-2, -1))
        if not ok.any():
            break
        step = np.zeros_like(X)
        with np.errstate(all="ignore"):
            step[ok] = -(np.linalg.pinv(H[ok], rcond=1e-12) @ g[ok][..., None])[..., 0]
        norm = np.linalg.norm(step, axis=-1, keepdims=True)
        with np.errstate(all="ignore"):
            step *= np.where(norm > max_step, max_step / norm, 1.0)
        X[ok] += step[ok]
        X[~ok] = np.nan
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
    kept: list[np.ndarray] = []
    radius = merge_tol * diag
    for x in X[np.argsort(f, kind="stable")]:
        if all(np.linalg.norm(x - k) > radius for k in kept):
            kept.append(x)
            if len(kept) >= max_points:
                break
    if not kept:
        return []
    P = np.array(kept)
    values = obj.value(P)
    eigs = symmetric_eigenvalues(obj.hess(P))
    return [CriticalPoint(point=P[i], value=float(values[i]), kind=classify_stationary(eigs[i]),
                          eigenvalues=eigs[i]) for i in np.argsort(values, kind="stable")]


# --------------------------------------------------------------------------------------------
# Newton's quadratic model
# --------------------------------------------------------------------------------------------
def taylor_model(obj: Objective, x0: Sequence[float]) -> tuple[float, np.ndarray, np.ndarray]:
    """(f(x₀), ∇f(x₀), ∇²f(x₀)): the pieces of the second-order model
    m(x) = f(x₀) + ∇f(x₀)ᵀ(x − x₀) + ½ (x − x₀)ᵀ ∇²f(x₀) (x − x₀)."""
    f, g, H = obj.value_grad_hess(np.asarray(x0, dtype=float))
    return float(f), np.asarray(g, dtype=float), np.asarray(H, dtype=float)


def taylor_model_grid(x0: Sequence[float], f0: float, g: np.ndarray, H: np.ndarray,
                      XY: np.ndarray) -> np.ndarray:
    """The quadratic model m(x) = f₀ + gᵀ(x − x₀) + ½ (x − x₀)ᵀ H (x − x₀) at every point of XY.

    H need not be the true Hessian: pass BFGS's approximation to see the model that method uses.
    """
    D = np.asarray(XY, dtype=float) - np.asarray(x0, dtype=float)
    H = np.asarray(H, dtype=float)
    return f0 + D @ np.asarray(g, dtype=float) + 0.5 * np.einsum("...i,ij,...j->...", D, H, D)


def newton_landing_point(g: np.ndarray, H: np.ndarray, x0: Sequence[float] | None = None,
                         max_condition: float = 1e12) -> np.ndarray | None:
    """Where the quadratic model is stationary: x₀ − H⁻¹g (the full Newton step from x₀).

    With x0 omitted the result is the step −H⁻¹g itself. None when H is singular or nearly so
    (condition number above max_condition): the model then has no unique stationary point.
    Note the landing point is the model's minimum only when H is positive definite; with mixed
    eigenvalues it is the model's saddle, which is where Newton heads (see `quadratic_model_kind`).
    """
    g = np.asarray(g, dtype=float)
    H = np.asarray(H, dtype=float)
    if not (np.isfinite(g).all() and np.isfinite(H).all()):
        return None
    if np.linalg.cond(H) > max_condition:
        return None
    step = -np.linalg.solve(H, g)
    return step if x0 is None else np.asarray(x0, dtype=float) + step


def quadratic_model_kind(H: np.ndarray) -> str:
    """What the stationary point of a model with Hessian H is: 'min', 'max', 'saddle', 'degenerate'."""
    return classify_stationary(symmetric_eigenvalues(np.asarray(H, dtype=float)))


# --------------------------------------------------------------------------------------------
# Vector fields
# --------------------------------------------------------------------------------------------
def gradient_field(obj: Objective, XY: np.ndarray) -> np.ndarray:
    """The steepest-descent direction −∇f at every point of XY, shape (..., d)."""
    return -obj.grad(XY)


def newton_step_field(obj: Objective, XY: np.ndarray, max_condition: float = 1e12) -> np.ndarray:
    """The full Newton step −∇²f⁻¹ ∇f at every point of XY, shape (..., d); nan where the Hessian
    is singular or undefined. Where ∇²f is indefinite this step points toward the model's saddle,
    which can be uphill: the blog post's (3.1, 1.3)."""
    g, H = obj.grad_hess(XY) if hasattr(obj, "grad_hess") else obj.value_grad_hess(XY)[1:]
    out = np.full(g.shape, np.nan)
    ok = np.isfinite(g).all(axis=-1) & np.isfinite(H).all(axis=(-2, -1))
    if ok.any():
        Hs = H[ok]
        with np.errstate(all="ignore"):
            cond = np.linalg.cond(Hs)
        good = np.isfinite(cond) & (cond <= max_condition)
        steps = np.full(g[ok].shape, np.nan)
        if good.any():
            steps[good] = -np.linalg.solve(Hs[good], g[ok][good][..., None])[..., 0]
        out[ok] = steps
    return out


# --------------------------------------------------------------------------------------------
# Rates on a quadratic
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# Sweeps over method parameters
# --------------------------------------------------------------------------------------------
def _run_batch(*args, **kwargs):
    from .run import run_batch  # late import: the curvature maps do not need the engine
    return run_batch(*args, **kwargs)


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


def _report(on_progress: Progress, fraction: float) -> None:
    if on_progress is not None:
        on_progress(float(min(1.0, max(0.0, fraction))))


def _sweep_one(obj: Objective, method: str, X0: np.ndarray, steps: int, tol: float,
               params: Mapping) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    batch = _run_batch(obj, method, X0, steps=steps, tol=tol, **params)
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


# --------------------------------------------------------------------------------------------
# Basins of attraction
# --------------------------------------------------------------------------------------------
DIVERGED = -1
NOT_CONVERGED = -2


@dataclass
class BasinMap:
    """Which stationary point each start of a grid ends at.

    labels[i, j] indexes `attractors` (≥ 0), or is DIVERGED (−1) / NOT_CONVERGED (−2).
    """

    xs: np.ndarray
    ys: np.ndarray
    labels: np.ndarray            # (n, n) int
    iterations: np.ndarray        # (n, n) steps taken
    attractors: np.ndarray        # (k, d) where converged runs ended (cluster centres / known minima)
    attractor_kinds: list[str]    # "min" | "max" | "saddle" | "degenerate" per attractor
    attractor_values: np.ndarray  # f at each attractor
    final_points: np.ndarray = field(repr=False)  # (n, n, d)

    def label_name(self, label: int) -> str:
        if label == DIVERGED:
            return "diverged"
        if label == NOT_CONVERGED:
            return "not converged"
        pt = ", ".join(f"{v:.3g}" for v in self.attractors[label])
        return f"{self.attractor_kinds[label]} ({pt})"

    def fractions(self) -> dict[str, float]:
        """Share of starts per outcome, largest first."""
        labels, counts = np.unique(self.labels, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return {self.label_name(int(labels[i])): counts[i] / self.labels.size for i in order}


def _cluster(points: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy clustering of points (m, d): (centres (k, d), label per point). Points are bucketed on
    a lattice of cell `radius` first so 90,000 end points cost a handful of distance checks."""
    if len(points) == 0:
        return np.empty((0, points.shape[-1])), np.empty(0, dtype=int)
    keys, inverse = np.unique(np.round(points / radius).astype(np.int64), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse)
    sums = np.zeros((len(keys), points.shape[1]))
    np.add.at(sums, inverse, points)
    cell_means = sums / counts[:, None]
    centres: list[np.ndarray] = []
    weights: list[int] = []
    cell_label = np.empty(len(keys), dtype=int)
    for c in np.argsort(-counts, kind="stable"):   # the most popular cells found the clusters
        for k, centre in enumerate(centres):
            if np.linalg.norm(cell_means[c] - centre) <= 2.0 * radius:
                cell_label[c] = k
                weights[k] += counts[c]
                break
        else:
            cell_label[c] = len(centres)
            centres.append(cell_means[c])
            weights.append(counts[c])
    return np.array(centres), cell_label[inverse]


def basin_map(obj: Objective, method: str, window: Window, n: int = 100, steps: int = 200,
              tol: float = 1e-6, known_minima: Sequence[Sequence[float]] | None = None,
              on_progress: Progress = None, chunk: int = 10_000, merge_tol: float = 1e-3,
              **params) -> BasinMap:
    """Run `method` from every point of an n × n grid over a 2-D window and label each start by
    where it ended.

    Starts run in batches of `chunk` rows (one `run_batch` each; `on_progress(fraction)` after each).
    Converged end points within merge_tol × (window diagonal) of a known minimum take its label;
    the rest are clustered, and each cluster centre is classified as min/max/saddle by its Hessian
    (gradient descent can stop exactly on a saddle from a symmetric start). n ≤ MAX_GRID.
    """
    if len(window) != 2:
        raise ValueError("a basin map needs a function of exactly two variables")
    n = int(n)
    if not 2 <= n <= MAX_GRID:
        raise ValueError(f"grid size must be between 2 and {MAX_GRID} per axis, got {n}")
    xs, ys, XY = grid(window, n)
    X0 = XY.reshape(-1, 2)
    m = len(X0)
    finals = np.full((m, 2), np.nan)
    iterations = np.zeros(m, dtype=int)
    status = np.empty(m, dtype=object)
    for start in range(0, m, chunk):
        stop = min(m, start + chunk)
        batch = _run_batch(obj, method, X0[start:stop], steps=steps, tol=tol, **params)
        finals[start:stop] = batch.final_points
        iterations[start:stop] = batch.iterations
        status[start:stop] = batch.status
        _report(on_progress, stop / m)

    W = np.asarray(window, dtype=float)
    diag = float(np.linalg.norm(W[:, 1] - W[:, 0]))
    radius = merge_tol * diag
    labels = np.full(m, NOT_CONVERGED, dtype=int)
    labels[status == "diverged"] = DIVERGED
    converged = np.flatnonzero((status == "converged") & np.isfinite(finals).all(axis=1))

    attractors: list[np.ndarray] = []
    pending = converged
    if known_minima is not None and len(known_minima):
        known = np.asarray(known_minima, dtype=float).reshape(-1, 2)
        dist = np.linalg.norm(finals[converged][:, None, :] - known[None, :, :], axis=-1)
        nearest = np.argmin(dist, axis=1)
        matched = dist[np.arange(len(converged)), nearest] <= 10 * radius
        used = np.unique(nearest[matched])
        remap = {int(k): i for i, k in enumerate(used)}
        attractors.extend(known[used])
        labels[converged[matched]] = [remap[int(k)] for k in nearest[matched]]
        pending = converged[~matched]
    if len(pending):
        centres, sub = _cluster(finals[pending], radius)
        labels[pending] = sub + len(attractors)
        attractors.extend(centres)

    A = np.array(attractors).reshape(-1, 2)
    values = obj.value(A) if len(A) else np.empty(0)
    kinds = [classify_stationary(e) for e in symmetric_eigenvalues(obj.hess(A))] if len(A) else []
    # Order attractors by value so colours are stable between runs of the same function.
    order = np.argsort(values, kind="stable")
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    good = labels >= 0
    labels[good] = rank[labels[good]]
    return BasinMap(xs=xs, ys=ys, labels=labels.reshape(n, n), iterations=iterations.reshape(n, n),
                    attractors=A[order], attractor_kinds=[kinds[i] for i in order],
                    attractor_values=values[order], final_points=finals.reshape(n, n, 2))


def align_basin_labels(maps: Sequence[BasinMap], merge_tol: float = 1e-3
                       ) -> tuple[np.ndarray, list[str], list[np.ndarray]]:
    """Give the attractors of several basin maps (same grid, different methods) common labels, so
    one minimum has one colour in every panel. Returns (attractors (k, d), kinds, labels per map).
    Attractors closer than merge_tol × (grid diagonal) are the same point."""
    if not maps:
        return np.empty((0, 2)), [], []
    diag = math.hypot(np.ptp(maps[0].xs), np.ptp(maps[0].ys))
    radius = merge_tol * diag * 10
    common: list[np.ndarray] = []
    kinds: list[str] = []
    values: list[float] = []
    relabelled = []
    for bm in maps:
        remap = {}
        for k, (a, kind, v) in enumerate(zip(bm.attractors, bm.attractor_kinds, bm.attractor_values)):
            for i, c in enumerate(common):
                if np.linalg.norm(a - c) <= radius:
                    remap[k] = i
                    break
            else:
                remap[k] = len(common)
                common.append(a)
                kinds.append(kind)
                values.append(float(v))
        lab = bm.labels.copy()
        good = lab >= 0
        lab[good] = np.vectorize(remap.get, otypes=[int])(lab[good]) if good.any() else lab[good]
        relabelled.append(lab)
    # Sort the common list by value (minima first in a typical map) and relabel once more.
    order = np.argsort(values, kind="stable")
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    for lab in relabelled:
        good = lab >= 0
        lab[good] = rank[lab[good]]
    return np.array(common)[order].reshape(-1, maps[0].attractors.shape[-1] if len(common) else 2), \
        [kinds[i] for i in order], relabelled


# --------------------------------------------------------------------------------------------
# Preconditioning lab
# --------------------------------------------------------------------------------------------
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
    """Steps `method` needs from x0 to reach ‖∇f‖ ≤ tol; nan when it does not within `steps`."""
    batch = _run_batch(obj, method, np.asarray(x0, dtype=float)[None, :], steps=steps, tol=tol, **params)
    return float(batch.iterations[0]) if batch.status[0] == "converged" else math.nan


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
