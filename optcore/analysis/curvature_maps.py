"""Curvature of f over a grid: Hessian eigenvalues, determinant, and the convex / saddle /
concave class of every point (the classifier is :mod:`optcore.curvature`)."""
from __future__ import annotations

import numpy as np

from ..curvature import region_class
from ..objective import Objective


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
    0 where the signs are mixed (saddle-shaped), nan where undefined: the engine's one classifier
    (:func:`optcore.curvature.region_class`) read for a region."""
    return region_class(eigenvalues, rtol)


def curvature_class_grid(obj: Objective, XY: np.ndarray) -> np.ndarray:
    """`curvature_class` of the Hessian at every point of XY (see there for the codes)."""
    return curvature_class(hessian_eigenvalues_grid(obj, XY))


CURVATURE_CLASS_NAMES = {1.0: "convex (all λ ≥ 0)", 0.0: "saddle (mixed signs)", -1.0: "concave (all λ ≤ 0)"}
