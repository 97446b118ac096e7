"""One curvature classifier for the whole engine: what the Hessian's eigenvalues say about a point.

Every place that names a point or a region by its curvature (a converged run's ``stopped_at``,
critical points, basin attractors, Newton's quadratic model, curvature maps) reads the signs of
the smallest and largest eigenvalue from :func:`eigenvalue_signs`; an eigenvalue within
``rtol * max(floor, max|λ|)`` of zero counts as zero.

Two tolerances, for two questions:
* a *point* (``STATIONARY_RTOL``, scale floored at 1): "is this stationary point a minimum?" A
  curvature of 1e-12 at a stationary point cannot be told from rounding of a ∇f ≈ 0 test.
* a *region* on a map (``REGION_RTOL``, purely relative): the sign pattern of ∇²f does not change
  when f is multiplied by 1e-6, so neither may the map.
"""
from __future__ import annotations

import numpy as np

STATIONARY_RTOL = 1e-8
REGION_RTOL = 1e-9

# The engine's words for a point, and the short codes of analysis results (CriticalPoint.kind).
KINDS = ("minimum", "maximum", "saddle point", "flat point")
SHORT_KIND = {"minimum": "min", "maximum": "max", "saddle point": "saddle", "flat point": "degenerate",
              "": "degenerate"}


def eigenvalue_signs(eigenvalues: np.ndarray, rtol: float = STATIONARY_RTOL,
                     floor: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(lowest, highest, finite)``: sign (-1, 0, +1) of the smallest and largest eigenvalue of each
    row of ascending eigenvalues ``(..., d)``, zero within ``rtol * max(floor, max|λ|)``, and whether
    every eigenvalue of the row is finite."""
    lam = np.asarray(eigenvalues, dtype=float)
    if lam.size:
        scale = np.maximum(floor, np.nanmax(np.abs(lam), axis=-1, initial=0.0))
    else:
        scale = np.full(lam.shape[:-1], float(floor))
    eps = rtol * scale
    lo, hi = lam[..., 0], lam[..., -1]
    lowest = np.where(lo > eps, 1, np.where(lo < -eps, -1, 0))
    highest = np.where(hi > eps, 1, np.where(hi < -eps, -1, 0))
    return lowest, highest, np.isfinite(lam).all(axis=-1)


def classify_curvature(eigenvalues: np.ndarray, rtol: float = STATIONARY_RTOL) -> np.ndarray:
    """Name the point each row of ascending Hessian eigenvalues ``(..., d)`` describes:
    "minimum" (all λ > 0), "maximum" (all λ < 0), "saddle point" (both signs), "flat point" (some
    λ ≈ 0 and no sign change: the second-order test cannot decide), "" where undefined."""
    lowest, highest, finite = eigenvalue_signs(eigenvalues, rtol)
    kinds = np.full(np.shape(lowest), "flat point", dtype=object)
    kinds[lowest > 0] = "minimum"
    kinds[highest < 0] = "maximum"
    kinds[(lowest < 0) & (highest > 0)] = "saddle point"
    kinds[~finite] = ""
    return kinds


def region_class(eigenvalues: np.ndarray, rtol: float = REGION_RTOL) -> np.ndarray:
    """+1 where every eigenvalue is ≥ 0 (locally convex), −1 where every one is ≤ 0 (concave),
    0 where the signs are mixed (saddle-shaped), nan where undefined. A flat direction does not
    make a region a saddle; a perfectly flat point counts as convex."""
    lowest, highest, finite = eigenvalue_signs(eigenvalues, rtol, floor=1e-300)
    out = np.zeros(np.shape(lowest))
    out[lowest >= 0] = 1.0
    out[(highest <= 0) & (lowest < 0)] = -1.0
    out[~finite] = np.nan
    return out
