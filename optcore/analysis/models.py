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


def newton_direction_label(f0: float, slope: float, f_full: float | None, f_half: float | None) -> str:
    """Which way the Newton step s points, in words that agree with the f values shown beside it: a
    direction can be downhill at first (∇fᵀs < 0) while f rises after the full and the half step
    (the blog's start (3.1, 1.8)); then the label says so."""
    if f_full is None:
        return "none: H is singular"
    if slope > 0:
        return "uphill (∇fᵀs > 0)"
    if slope == 0:
        return "flat (∇fᵀs = 0)"
    # short enough for a table column at 1440 px (the longer wording was cut off at the page's edge)
    rises = [name for name, v in (("full", f_full), ("half", f_half)) if v is not None and not v < f0]
    if len(rises) == 2:
        return "downhill only at first: f rises after both steps"
    if rises == ["full"]:
        return "downhill, but the full step overshoots"
    return "downhill (∇fᵀs < 0)"


def newton_at_starts(obj: Objective, starts) -> list[dict]:
    """One table row per start: what the Hessian says there (det H, its eigenvalues), the Newton
    step, f after the full and the half step, and whether the Newton direction points downhill."""
    rows = []
    for x0 in starts:
        f0, g, H = taylor_model(obj, x0)
        lam = symmetric_eigenvalues(H)
        step = newton_landing_point(g, H)
        f_full = float(obj.value(x0 + step)) if step is not None else None
        f_half = float(obj.value(x0 + 0.5 * step)) if step is not None else None
        slope = float(g @ step) if step is not None else 0.0
        # the verdict beside the start (it was the last column, cut off at the page's edge), then the evidence
        rows.append({"start": ", ".join(f"{v:.4g}" for v in x0),
                     "Newton direction": newton_direction_label(f0, slope, f_full, f_half),
                     "f": f0, "det H": float(np.linalg.det(H)),
                     # + 0.0: a -0.0 prints as "0", not "-0" (sin(x)cos(y) at the origin: "0, -0")
                     "eigenvalues of H": ", ".join(f"{v + 0.0:.4g}" for v in lam),
                     "Newton step −H⁻¹∇f": ", ".join(f"{v + 0.0:.3g}" for v in step) if step is not None else "H singular",
                     "f after the full step": f_full, "f after half the step": f_half})
    return rows


def newton_models(obj: Objective, points: np.ndarray, k: int, bfgs_inverse=None):
    """The quadratic models at step k of a run through `points`: (f_k, ∇f, H, {label: model
    Hessian}, {label: (where the model is flat, its kind)}, note). A BFGS run's inverse-Hessian
    estimates (`bfgs_inverse`, one per step) add its own model; `note` says when that estimate is
    singular."""
    x_k = points[k]
    f_k, g, H = taylor_model(obj, x_k)
    models, note = {"true Hessian": H}, None
    if bfgs_inverse is not None and len(bfgs_inverse) > k:
        try:
            models["BFGS estimate"] = np.linalg.inv(np.asarray(bfgs_inverse[k], dtype=float))
        except np.linalg.LinAlgError:
            note = "BFGS's estimate is singular at this step."
    landings = {label: (newton_landing_point(g, M, x_k), quadratic_model_kind(M)) for label, M in models.items()}
    return f_k, g, H, models, landings, note


# How a second-order method's step differs from the jump to where the true model is flat, η = 1
# and no line search aside.
CHANGED_HESSIAN = {"newton_abs": "it solves with |H| (H's eigenvalues made positive), not H",
                   "newton_reg": "it adds the damping λI to H before solving",
                   "diag_newton": "it divides by diag H only, not the whole H"}


def newton_step_note(method: str, params: dict, moved_to, landing) -> str:
    """Why the step a second-order method took is, or is not, the jump to where the true model is
    flat, said from its actual settings: "the full jump to where the model is flat" (η = 1, no line
    search), "the learning rate η = 0.5 scales the jump", "the backtracking line search chose the
    step length", or the change the method makes to H."""
    search = params.get("line_search", "none")
    searched = search not in (None, "none")
    if landing is not None and np.allclose(moved_to, landing, rtol=1e-9, atol=1e-12):
        return (f"the {search} line search kept the full jump to where the model is flat" if searched
                else "the full jump to where the model is flat")
    reasons = []
    lr = params.get("lr")
    if isinstance(lr, (int, float)) and lr != 1:
        reasons.append(f"the learning rate η = {lr:g} scales the jump")
    if searched:
        reasons.append(f"the {search} line search chose the step length")
    if method in CHANGED_HESSIAN:
        reasons.append(CHANGED_HESSIAN[method])
    if reasons:
        return "; ".join(reasons)
    return "H is singular here: the model has no unique flat point" if landing is None else \
        "not where the model is flat"
