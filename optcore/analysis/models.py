"""Newton's quadratic model at a point, where it lands, and the step fields −∇f and −H⁻¹∇f."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..objective import Objective
from .critical_points import classify_stationary
from .curvature_maps import symmetric_eigenvalues


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
