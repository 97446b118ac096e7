"""Step rules: small composable pieces of an optimisation method (in the style of optax).

A rule is a pair of pure functions held in a :class:`StepRule`:

* ``init(X) -> state``: ``X`` is ``(m, d)``, one row per start point; the state is a
  NamedTuple of arrays whose leading dimension is ``m``.
* ``update(U, state, X, k, oracle) -> (U, state)``: transforms the incoming update ``U``
  (the gradient for the first link) for step ``k``.

Convention: every link except the last returns a *preconditioned gradient* ``p`` (so the search
direction is ``-p``); the last link (:func:`scale_by_lr` or :func:`line_search`) turns it into
the displacement ``x_{k+1} - x_k``. A method is a recipe, e.g.
``chain(scale_by_adam(0.9, 0.999, 1e-8), scale_by_lr(0.1))``.

The ``oracle`` is the driver's window onto the objective at the current rows: ``oracle.value``,
``oracle.grad`` and ``oracle.hess`` (reading ``value``/``hess`` counts as an evaluation, so the
counts show what a textbook implementation would spend), ``oracle.evaluate(X)`` and
``oracle.evaluate_with_grad(X)`` for trial points (counted through ``oracle.count_trials``),
``oracle.note(name, mask)`` for per-row events reported in the final message, and
``oracle.log(name, value)`` for per-step diagnostics (only kept when ``oracle.recording``; every
name is declared once in :data:`STEP_DIAGNOSTICS`).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol
from collections.abc import Callable

import numpy as np

from . import linesearch
from .linesearch import TrialMemo

Schedule = float | Callable[[int], float]


class Diagnostic(NamedTuple):
    """One per-step diagnostic a rule may log: its key in ``Trajectory.extras``, what to call it
    on screen, and its shape per step (``"()"``, ``"(d,)"``, ``"(d, d)"`` or ``"trials"``: a
    ``(trials, 2)`` array of ``(alpha, f)`` pairs, its length varying from step to step)."""

    name: str
    label: str
    shape: str


STEP_DIAGNOSTICS: tuple[Diagnostic, ...] = (
    Diagnostic("lr", "step size used α", "()"),
    Diagnostic("damping", "damping λ", "()"),
    Diagnostic("cg_beta", "conjugate-gradient β", "()"),
    Diagnostic("hess_eigenvalues", "eigenvalues of the Hessian used", "(d,)"),
    Diagnostic("hess_diagonal", "diag H used", "(d,)"),
    Diagnostic("bfgs_inverse", "BFGS inverse-Hessian approximation B", "(d, d)"),
    Diagnostic("adam_m", "first moment m", "(d,)"),
    Diagnostic("adam_v", "second moment v", "(d,)"),
    Diagnostic("momentum_m", "momentum m (Lion)", "(d,)"),
    Diagnostic("line_search_trials", "line-search trials (α, f)", "trials"),
)
DIAGNOSTIC_NAMES = frozenset(d.name for d in STEP_DIAGNOSTICS)


class Oracle(Protocol):
    """What a rule may ask of the driver (implemented by ``oracle.StepOracle``)."""

    recording: bool
    trial_grads: bool  # whether a search that may end on a trial should evaluate ∇f there too

    @property
    def value(self) -> np.ndarray: ...  # (m,) f at the current points; counts one f evaluation

    @property
    def grad(self) -> np.ndarray: ...  # (m, d) true gradient (already counted by the driver)

    @property
    def hess(self) -> np.ndarray: ...  # (m, d, d); counts one Hessian evaluation

    def evaluate(self, X: np.ndarray) -> np.ndarray: ...  # f at trial points

    def evaluate_with_grad(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...  # f, ∇f at trial points

    def count_trials(self, evaluations: np.ndarray) -> None: ...  # (m,) f evaluations a search made

    def note(self, name: str, mask: np.ndarray) -> None: ...

    def log(self, name: str, value: Any) -> None: ...


class StepRule(NamedTuple):
    init: Callable[[np.ndarray], Any]
    update: Callable[[np.ndarray, Any, np.ndarray, int, Oracle], tuple[np.ndarray, Any]]


class EmptyState(NamedTuple):
    """State of a rule that remembers nothing."""


# Up to this many variables, row-wise dot products and matrix-vector products are written as
# column arithmetic: for 40,000 tiny vectors that beats einsum several times over. (For d = 3
# einsum sums in another order, so 2 keeps every result bit for bit what it was.)
SMALL_DIM = 2


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a[i] . b[i]`` for every row."""
    d = a.shape[-1]
    if a.ndim != 2 or b.ndim != 2 or d > SMALL_DIM:
        return np.einsum("...i,...i->...", a, b)
    total = a[:, 0] * b[:, 0]
    for i in range(1, d):
        total += a[:, i] * b[:, i]
    return total


def _row_norm(a: np.ndarray) -> np.ndarray:
    """``||a[i]||`` for every row (same sum order as ``np.linalg.norm(axis=-1)`` for small d)."""
    if a.ndim != 2 or a.shape[-1] > SMALL_DIM:
        return np.linalg.norm(a, axis=-1)
    return np.sqrt(_rowdot(a, a))


def _matvec(B: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``B[i] @ v[i]`` for (m, d, d) B and (m, d) v."""
    d = v.shape[-1]
    if v.ndim != 2 or d > SMALL_DIM:
        return np.einsum("...ij,...j->...i", B, v)
    out = np.empty(v.shape)
    for i in range(d):
        out[:, i] = _rowdot(B[:, i, :], v)
    return out


def _scale_rows(a: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``a[:, None] * V`` for (m,) a and (m, d) V. Small d: column by column, since broadcasting
    over an inner axis of length 2 costs about three times as much (same products, same bits)."""
    if V.ndim != 2 or V.shape[1] > SMALL_DIM:
        return a[:, None] * V
    out = np.empty(V.shape)
    for i in range(V.shape[1]):
        np.multiply(a, V[:, i], out=out[:, i])
    return out


def learning_rate_at(lr: Schedule, k: int) -> float:
    """The learning rate for step ``k``: a constant, or a schedule ``k -> float``."""
    return float(lr(k)) if callable(lr) else float(lr)


# ---------------------------------------------------------------- per-row hyperparameters
#
# ``run_batch`` accepts some parameters as arrays of one value per start (a ladder of learning
# rates, an lr x beta grid). A rule keeps such a value in its *state* as an (m, 1) column, so the
# driver gathers it with the rows when finished rows are dropped (as optax's inject_hyperparams
# keeps hyperparameters in the state). A plain number stays a number: single runs compute exactly
# what they always did, and row i of a batch multiplies by the same number elementwise.


def per_row(value: Any) -> Any:
    """A parameter as a rule keeps it: a number as is, an ``(m,)`` array as an ``(m, 1)`` column."""
    if isinstance(value, np.ndarray):
        return np.array(value, dtype=float).reshape(-1, 1)
    return value


def _flat(value: Any) -> Any:
    """An ``(m, 1)`` column as ``(m,)`` (for per-row scalars such as a step length); numbers as is."""
    return value[:, 0] if isinstance(value, np.ndarray) else value


def _rate_at(lr: Any, k: int) -> Any:
    """The learning rate for step ``k`` from a rule's state: a column passes through."""
    return lr if isinstance(lr, np.ndarray) else learning_rate_at(lr, k)


def chain(*rules: StepRule) -> StepRule:
    """Apply rules one after another; the state is the tuple of the links' states."""

    def init(X: np.ndarray) -> tuple:
        return tuple(rule.init(X) for rule in rules)

    def update(U, state, X, k, oracle):
        new_states = []
        for rule, link_state in zip(rules, state):
            U, link_state = rule.update(U, link_state, X, k, oracle)
            new_states.append(link_state)
        return U, tuple(new_states)

    return StepRule(init, update)


# ---------------------------------------------------------------- first-order building blocks


class NoiseState(NamedTuple):
    std: Any  # a number, or an (m, 1) column of per-row values


def add_noise(std: float, seed: int) -> StepRule:
    """Add Gaussian noise ``std * xi_k`` to the gradient (a stand-in for stochastic gradients).

    ``xi_k`` depends only on ``(seed, k)``: every start point sees the same noise sequence, so a
    row of a batch run reproduces the single run from that start.
    """

    def init(X):
        return NoiseState(per_row(std))

    def update(U, state, X, k, oracle):
        if not np.any(state.std):
            return U, state
        xi = np.random.default_rng([int(seed), int(k)]).standard_normal(U.shape[-1])
        return U + state.std * xi, state

    return StepRule(init, update)


class MomentumState(NamedTuple):
    velocity: np.ndarray
    beta: Any = None  # a number or an (m, 1) column (see per_row)


def scale_by_momentum(beta: float, nesterov: bool = False) -> StepRule:
    """Heavy ball: ``v <- beta v + g``, output ``v`` (Nesterov: ``g + beta v``)."""

    def init(X):
        return MomentumState(np.zeros_like(X), per_row(beta))

    def update(U, state, X, k, oracle):
        b = state.beta
        velocity = b * state.velocity + U
        out = U + b * velocity if nesterov else velocity
        return out, MomentumState(velocity, b)

    return StepRule(init, update)


class SumOfSquaresState(NamedTuple):
    sum_of_squares: np.ndarray
    decay: Any = None  # gamma (RMSProp): a number or an (m, 1) column
    eps: Any = None


def scale_by_adagrad(eps: float) -> StepRule:
    """AdaGrad: ``s <- s + g^2``, output ``g / sqrt(s + eps)`` (per coordinate)."""

    def init(X):
        return SumOfSquaresState(np.zeros_like(X), None, per_row(eps))

    def update(U, state, X, k, oracle):
        total = state.sum_of_squares + U * U
        return U / np.sqrt(total + state.eps), state._replace(sum_of_squares=total)

    return StepRule(init, update)


def scale_by_rms(gamma: float, eps: float) -> StepRule:
    """RMSProp: ``s <- gamma s + (1 - gamma) g^2``, output ``g / sqrt(s + eps)``."""

    def init(X):
        return SumOfSquaresState(np.zeros_like(X), per_row(gamma), per_row(eps))

    def update(U, state, X, k, oracle):
        g = state.decay
        average = g * state.sum_of_squares + (1.0 - g) * U * U
        return U / np.sqrt(average + state.eps), state._replace(sum_of_squares=average)

    return StepRule(init, update)


def _array_power(base: Any, exponent: int) -> Any:
    """``base ** exponent`` through numpy's array loop, which may round differently from libm's
    ``pow`` (SIMD builds): the same bits as when the exponent was a per-row array. A per-row
    ``(m, 1)`` base goes through the same one-element loop row by row value (few distinct values)."""
    if isinstance(base, np.ndarray):
        values, inverse = np.unique(base, return_inverse=True)
        powers = np.array([_array_power(float(v), exponent) for v in values])
        return powers[inverse.reshape(-1)].reshape(base.shape)
    return float(np.power(base, np.array([float(exponent)]))[0])


class AdamState(NamedTuple):
    mu: np.ndarray  # first moment m
    nu: np.ndarray  # second moment v
    b1: Any = None  # numbers, or (m, 1) columns of per-row values
    b2: Any = None
    eps: Any = None


def scale_by_adam(b1: float, b2: float, eps: float) -> StepRule:
    """Adam: moments ``m, v`` with bias correction; output ``m_hat / (sqrt(v_hat) + eps)``.

    The bias correction uses the step index: at step ``k`` every row the driver advances has
    taken exactly ``k`` steps (finished rows are dropped, not carried), so ``1 - b1^(k+1)`` is one
    number instead of a per-row power (two ``pow`` passes over 40,000 rows cost more than the
    moments themselves).
    """

    def init(X):
        return AdamState(np.zeros_like(X), np.zeros_like(X), per_row(b1), per_row(b2), per_row(eps))

    def update(U, state, X, k, oracle):
        beta1, beta2 = state.b1, state.b2
        mu = beta1 * state.mu
        mu += (1.0 - beta1) * U
        nu = beta2 * state.nu
        nu += (1.0 - beta2) * U * U
        mu_hat = mu / (1.0 - _array_power(beta1, k + 1))
        nu_hat = nu / (1.0 - _array_power(beta2, k + 1))
        if oracle.recording:
            oracle.log("adam_m", mu)
            oracle.log("adam_v", nu)
        denominator = np.sqrt(nu_hat, out=nu_hat)
        denominator += state.eps
        return np.divide(mu_hat, denominator, out=mu_hat), state._replace(mu=mu, nu=nu)

    return StepRule(init, update)


class LionState(NamedTuple):
    mu: np.ndarray  # momentum m
    b1: Any = None  # numbers, or (m, 1) columns of per-row values
    b2: Any = None


def scale_by_lion(b1: float, b2: float) -> StepRule:
    """Lion (Chen et al. 2023): output ``sign(b1 m + (1 - b1) g)``, then ``m <- b2 m + (1 - b2) g``.

    Every coordinate moves by exactly the learning rate (where the blend is not 0): the step's
    size carries no information about the gradient's, only its sign does.
    """

    def init(X):
        return LionState(np.zeros_like(X), per_row(b1), per_row(b2))

    def update(U, state, X, k, oracle):
        beta1, beta2 = state.b1, state.b2
        blend = beta1 * state.mu
        blend += (1.0 - beta1) * U
        mu = beta2 * state.mu
        mu += (1.0 - beta2) * U
        if oracle.recording:
            oracle.log("momentum_m", mu)
        return np.sign(blend), state._replace(mu=mu)

    return StepRule(init, update)


class DecayState(NamedTuple):
    weight_decay: Any  # a number, or an (m, 1) column of per-row values


def add_decayed_weights(weight_decay: float) -> StepRule:
    """Decoupled weight decay: output ``p + wd x`` (the next link scales both by the learning rate,
    so x also shrinks by ``lr wd x``, apart from whatever the gradient part does)."""

    def init(X):
        return DecayState(per_row(weight_decay))

    def update(U, state, X, k, oracle):
        if not np.any(state.weight_decay):
            return U, state
        return U + state.weight_decay * X, state

    return StepRule(init, update)


# ---------------------------------------------------------------- curvature: Newton family

# |lambda| below this fraction of the largest |lambda| counts as zero for the pure Newton solve.
SINGULAR_RCOND = 1e-12


def symmetric_eigenvalues_2x2(H: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Closed form for symmetric 2x2 ``H``: ``(l_small, l_large, cos2t, sin2t)``.

    ``cos2t, sin2t`` give the eigenvector of ``l_large``; the projector onto it is
    ``0.5 [[1 + cos2t, sin2t], [sin2t, 1 - cos2t]]``. Explicit formulas beat ``eigh`` many
    times over for 40,000 tiny matrices.
    """
    a, b, c = H[..., 0, 0], H[..., 0, 1], H[..., 1, 1]
    half_trace = 0.5 * (a + c)
    half_gap = 0.5 * (a - c)
    radius = np.sqrt(half_gap * half_gap + b * b)
    # The eigenvalue of larger magnitude has no cancellation; the other one comes from
    # det = l_small * l_large (trace - radius would lose all digits of a tiny eigenvalue).
    nonnegative = half_trace >= 0
    # half_trace ± radius as one product with an exact ±1 (np.where is ~10x an add here).
    sign = nonnegative.astype(float)
    sign *= 2.0
    sign -= 1.0
    dominant = half_trace + sign * radius
    with np.errstate(divide="ignore", invalid="ignore"):
        other = (a * c - b * b) / dominant
    zero = dominant == 0
    if zero.any():
        other[zero] = 0.0
    small = np.where(nonnegative, other, dominant)
    large = np.where(nonnegative, dominant, other)
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse_radius = 1.0 / radius
        cos2t = half_gap * inverse_radius
        sin2t = b * inverse_radius
    isotropic = radius == 0  # any eigenvector works: pick e1 (0/0 above gave nan)
    if isotropic.any():
        cos2t[isotropic], sin2t[isotropic] = 1.0, 0.0
    return small, large, cos2t, sin2t


def spectral_apply(
    H: np.ndarray, G: np.ndarray, spectral_map: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(V h(Lambda) V^T g, eigenvalues)`` for symmetric ``H = V Lambda V^T``.

    ``spectral_map(eigenvalues, largest_abs)`` maps eigenvalues to the preconditioner's
    eigenvalues (``1/lambda``, ``1/|lambda|``, ...). ``largest_abs`` (per row, broadcastable)
    lets the map judge "small". d = 1 and d = 2 use closed forms; larger d uses ``eigh``.
    """
    d = G.shape[-1]
    if d == 1:
        lam = H[..., 0, 0]
        return spectral_map(lam, np.abs(lam))[..., None] * G, lam[..., None]
    if d == 2:
        H = np.asarray(H, dtype=float)
        small, large, cos2t, sin2t = symmetric_eigenvalues_2x2(H)
        scale = np.maximum(np.abs(small), np.abs(large))
        h_small, h_large = spectral_map(small, scale), spectral_map(large, scale)
        g0, g1 = G[..., 0], G[..., 1]
        # p = h_small g + (h_large - h_small) P_large g, with P_large the projector above.
        gap = 0.5 * (h_large - h_small)
        P = np.empty(G.shape)  # column writes: cheaper than np.stack for 40,000 rows
        P[..., 0] = h_small * g0 + gap * (g0 + cos2t * g0 + sin2t * g1)
        P[..., 1] = h_small * g1 + gap * (sin2t * g0 + g1 - cos2t * g1)
        eigenvalues = np.empty(G.shape)
        eigenvalues[..., 0], eigenvalues[..., 1] = small, large
        return P, eigenvalues
    return spectral_apply_general(H, G, spectral_map)


def spectral_apply_general(
    H: np.ndarray, G: np.ndarray, spectral_map: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The any-d path of :func:`spectral_apply` via ``np.linalg.eigh``."""
    finite = np.isfinite(H).all(axis=(-2, -1))
    safe_H = np.where(finite[..., None, None], H, 0.0)  # eigh raises on nan; those rows get nan
    eigenvalues, vectors = np.linalg.eigh(safe_H)
    eigenvalues = np.where(finite[..., None], eigenvalues, np.nan)
    scale = np.max(np.abs(eigenvalues), axis=-1, keepdims=True)
    coefficients = np.einsum("...ji,...j->...i", vectors, G)
    P = np.einsum("...ij,...j->...i", vectors, spectral_map(eigenvalues, scale) * coefficients)
    return P, eigenvalues


class _PseudoInverse:
    """Spectral map ``1/lambda`` that treats eigenvalues tiny relative to the largest as zero
    (the pseudo-inverse) and remembers which rows needed that."""

    def __init__(self, m: int) -> None:
        self.singular_rows = np.zeros(m, dtype=bool)

    def __call__(self, lam: np.ndarray, scale: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            inverse = 1.0 / lam
        singular = np.abs(lam) <= SINGULAR_RCOND * scale
        if singular.any():
            inverse[singular] = 0.0
            self.singular_rows |= singular.reshape(self.singular_rows.shape[0], -1).any(axis=1)
        return inverse


class LevenbergState(NamedTuple):
    damping: np.ndarray  # (m,) lambda of H + lambda I
    previous_value: np.ndarray  # (m,) f at the previous point (nan before the first step)


def precondition_newton(
    mode: str = "pure", floor: float = 1e-3, lambda0: float = 1.0
) -> StepRule:
    """Turn the gradient into a Newton-like step ``p = M^{-1} g`` from the oracle Hessian.

    Modes:
      * ``pure``: ``M = H`` (pseudo-inverse where H is singular, noted in the run message);
      * ``abs``: ``M = V max(|Lambda|, floor) V^T`` (saddle-free Newton: always descends);
      * ``reg``: ``M = H + lambda I`` with Levenberg-Marquardt damping: lambda /= 10 after a step
        that lowered f, *= 10 after one that raised it, and raised further until
        ``H + lambda I`` is positive definite;
      * ``diag``: ``M = diag(H)`` (entries of size < floor pushed to +-floor);
      * ``diag_abs``: ``M = max(|diag(H)|, floor)``.
    """
    if mode not in ("pure", "abs", "reg", "diag", "diag_abs"):
        raise ValueError(f"unknown Newton mode {mode!r}; use pure, abs, reg, diag or diag_abs")

    def init(X):
        if mode == "reg":
            start = np.array(lambda0, dtype=float) if isinstance(lambda0, np.ndarray) else np.full(X.shape[0], float(lambda0))
            return LevenbergState(start, np.full(X.shape[0], np.nan))
        return EmptyState()

    def update(U, state, X, k, oracle):
        H = oracle.hess
        if mode in ("diag", "diag_abs"):
            diagonal = np.diagonal(H, axis1=-2, axis2=-1)
            if mode == "diag_abs":
                curvature = np.maximum(np.abs(diagonal), floor)
            else:
                curvature = np.where(np.abs(diagonal) < floor, np.where(diagonal < 0, -floor, floor), diagonal)
            if oracle.recording:
                oracle.log("hess_diagonal", diagonal)
            return U / curvature, state
        if mode == "pure":
            pseudo_inverse = _PseudoInverse(U.shape[0])
            P, eigenvalues = spectral_apply(H, U, pseudo_inverse)
            oracle.note("singular_hessian", pseudo_inverse.singular_rows)
        elif mode == "abs":
            P, eigenvalues = spectral_apply(H, U, lambda lam, scale: 1.0 / np.maximum(np.abs(lam), floor))
        else:
            P, eigenvalues, state = _levenberg_step(H, U, state, oracle.value)
            if oracle.recording:
                oracle.log("damping", state.damping)
        if oracle.recording:
            oracle.log("hess_eigenvalues", eigenvalues)
        return P, state

    return StepRule(init, update)


def _levenberg_step(H, G, state: LevenbergState, value: np.ndarray):
    damping = state.damping
    rose = value > state.previous_value
    fell = value < state.previous_value  # nan previous value (first step): keep lambda
    damping = np.where(rose, damping * 10.0, np.where(fell, damping / 10.0, damping))
    d = G.shape[-1]
    if d == 2:
        small, large, _, _ = symmetric_eigenvalues_2x2(H)
        lowest = small
        scale = np.maximum(np.abs(small), np.abs(large))
    else:
        eigs = np.linalg.eigvalsh(np.where(np.isfinite(H), H, 0.0))
        lowest = eigs[..., 0]
        scale = np.max(np.abs(eigs), axis=-1)
    # Not positive definite enough: shift so the lowest eigenvalue of H + lambda I is |lowest|.
    margin = 1e-8 * (1.0 + scale)
    needs_more = lowest + damping <= margin
    damping = np.where(needs_more, np.maximum(-2.0 * lowest, margin), damping)
    P, eigenvalues = spectral_apply(H, G, lambda lam, _scale: 1.0 / (lam + damping.reshape(damping.shape + (1,) * (lam.ndim - damping.ndim))))
    return P, eigenvalues, LevenbergState(damping, value)


# ---------------------------------------------------------------- quasi-Newton and CG

# Skip a curvature pair unless s.y > CURVATURE_EPS |s| |y| (keeps the inverse positive definite).
CURVATURE_EPS = 1e-10


class BFGSState(NamedTuple):
    inverse_hessian: np.ndarray  # (m, d, d)
    previous_x: np.ndarray
    previous_grad: np.ndarray
    has_previous: np.ndarray  # (m,) bool


def _curvature_pair(X, G, previous_x, previous_grad, has_previous):
    s = X - previous_x
    y = G - previous_grad
    sy = _rowdot(s, y)
    size = _row_norm(s) * _row_norm(y)
    moved = has_previous & (size > 0)
    usable = moved & (sy > CURVATURE_EPS * size)
    return s, y, sy, moved, usable


def bfgs_inverse() -> StepRule:
    """BFGS: keep ``B ~ H^{-1}`` (starting at I), output ``p = B g``.

    ``B <- (I - rho s y^T) B (I - rho y s^T) + rho s s^T`` with ``s = x_k - x_{k-1}``,
    ``y = g_k - g_{k-1}``, ``rho = 1 / s.y``; skipped when ``s.y <= 0`` (noted).
    """

    def init(X):
        m, d = X.shape
        eye = np.broadcast_to(np.eye(d), (m, d, d)).copy()
        return BFGSState(eye, X.copy(), np.zeros_like(X), np.zeros(m, dtype=bool))

    def update(U, state, X, k, oracle):
        G = oracle.grad
        if X.ndim == 2 and X.shape[1] == 2:
            B, P = _bfgs_step_2d(state, X, G, U, oracle)
            if oracle.recording:
                oracle.log("bfgs_inverse", B)
            return P, BFGSState(B, X, G, np.ones(X.shape[0], dtype=bool))
        s, y, sy, moved, usable = _curvature_pair(X, G, state.previous_x, state.previous_grad, state.has_previous)
        oracle.note("bfgs_skipped", moved & ~usable)
        B = state.inverse_hessian
        if usable.any():
            rho = np.where(usable, 1.0 / np.where(usable, sy, 1.0), 0.0)
            B = _bfgs_inverse_update(B, s, y, rho)
        if oracle.recording:
            oracle.log("bfgs_inverse", B)
        P = _matvec(B, U)
        # No copies of X and G: the driver never modifies arrays it has handed to the rules.
        return P, BFGSState(B, X, G, np.ones(X.shape[0], dtype=bool))

    return StepRule(init, update)


def _bfgs_inverse_update(B: np.ndarray, s: np.ndarray, y: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``B + (rho^2 y.By + rho) s s^T - rho (s By^T + By s^T)``: the product update expanded (B
    symmetric); rows with ``rho = 0`` come back unchanged. Small d: entry by entry over columns,
    no (m, d, d) temporaries."""
    By = _matvec(B, y)
    c = rho * rho * _rowdot(y, By) + rho
    d = s.shape[-1]
    if s.ndim != 2 or d > SMALL_DIM:
        outer = lambda a, b: np.einsum("...i,...j->...ij", a, b)  # noqa: E731
        return B + (c[:, None, None] * outer(s, s) - rho[:, None, None] * (outer(s, By) + outer(By, s)))
    new = np.empty(B.shape)
    for i in range(d):
        for j in range(i, d):  # the (j, i) entry is the same sums of the same products
            new[:, i, j] = B[:, i, j] + (c * (s[:, i] * s[:, j]) - rho * (s[:, i] * By[:, j] + By[:, i] * s[:, j]))
            new[:, j, i] = new[:, i, j]
    return new


def _bfgs_step_2d(state: BFGSState, X: np.ndarray, G: np.ndarray, U: np.ndarray, oracle) -> tuple[np.ndarray, np.ndarray]:
    """The d = 2 update and ``P = B U`` on contiguous columns: the same products and sums as
    :func:`_curvature_pair`, :func:`_bfgs_inverse_update` and :func:`_matvec` (so the same bits),
    in about 60 passes over contiguous vectors instead of 75 over strided columns.

    The new B is stored as a ``(m, 2, 2)`` view of a ``(2, 2, m)`` array, so the next step reads
    its entries contiguously too. Returns ``(B, P)``.
    """
    m = X.shape[0]
    s = np.subtract(X.T, state.previous_x.T, order="C")  # (2, m): rows are contiguous columns
    y = np.subtract(G.T, state.previous_grad.T, order="C")
    s0, s1, y0, y1 = s[0], s[1], y[0], y[1]
    sy = s0 * y0
    sy += s1 * y1
    size = np.sqrt(_sum_of_squares(s0, s1))
    size *= np.sqrt(_sum_of_squares(y0, y1))
    moved = state.has_previous & (size > 0)
    size *= CURVATURE_EPS
    usable = moved & (sy > size)
    skipped = moved & ~usable
    oracle.note("bfgs_skipped", skipped)
    B = state.inverse_hessian
    b00, b01, b11 = B[:, 0, 0], B[:, 0, 1], B[:, 1, 1]
    if usable.any():
        with np.errstate(divide="ignore"):  # s.y = 0 only on skipped rows, zeroed next
            rho = np.divide(1.0, sy, out=sy)
        if not usable.all():  # a skipped pair leaves its row's B as it was (rho = 0)
            rho[~usable] = 0.0
        # By = B y; c = rho^2 y.By + rho
        By0 = b00 * y0
        By0 += b01 * y1
        By1 = b01 * y0
        By1 += b11 * y1
        c = y0 * By0
        c += y1 * By1
        c *= rho * rho
        c += rho
        new = np.empty((2, 2, m))
        _bfgs_entry(b00, s0, s0, By0, By0, c, rho, new[0, 0])
        _bfgs_entry(b01, s0, s1, By0, By1, c, rho, new[0, 1])
        _bfgs_entry(b11, s1, s1, By1, By1, c, rho, new[1, 1])
        new[1, 0] = new[0, 1]
        B = new.transpose(2, 0, 1)
        b00, b01, b11 = new[0, 0], new[0, 1], new[1, 1]
    P = np.empty(U.shape)
    u0, u1 = U[:, 0], U[:, 1]
    np.add(b00 * u0, b01 * u1, out=P[:, 0])
    np.add(b01 * u0, b11 * u1, out=P[:, 1])
    return B, P


def _sum_of_squares(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    total = a * a
    total += b * b
    return total


def _bfgs_entry(b, s_i, s_j, By_i, By_j, c, rho, out) -> None:
    """``out = b + (c s_i s_j - rho (s_i By_j + By_i s_j))``, one entry of the BFGS update."""
    np.multiply(s_i, s_j, out=out)
    out *= c
    cross = s_i * By_j
    cross += By_i * s_j
    cross *= rho
    out -= cross
    out += b


class LBFGSState(NamedTuple):
    s_history: np.ndarray  # (m, memory, d), newest last; unused slots are zero
    y_history: np.ndarray
    previous_x: np.ndarray
    previous_grad: np.ndarray
    has_previous: np.ndarray


def lbfgs(memory: int) -> StepRule:
    """L-BFGS: the two-loop recursion over the last ``memory`` pairs, ``H0 = (s.y / y.y) I``.

    A pair with ``s.y <= 0`` empties the memory (noted), so the next step is a gradient step.
    """
    memory = int(memory)

    def init(X):
        m, d = X.shape
        return LBFGSState(
            np.zeros((m, memory, d)), np.zeros((m, memory, d)), X.copy(), np.zeros_like(X), np.zeros(m, dtype=bool)
        )

    def update(U, state, X, k, oracle):
        G = oracle.grad
        s, y, sy, moved, usable = _curvature_pair(X, G, state.previous_x, state.previous_grad, state.has_previous)
        oracle.note("lbfgs_reset", moved & ~usable)
        S, Y = state.s_history, state.y_history
        # Armijo steps do not guarantee s.y > 0; a stale memory then keeps proposing the same poor
        # step, so a rejected pair clears the memory (restart from a scaled gradient step).
        rejected = moved & ~usable
        if rejected.any():
            S = np.where(rejected[:, None, None], 0.0, S)
            Y = np.where(rejected[:, None, None], 0.0, Y)
        if usable.any():
            shifted_S = np.concatenate([S[:, 1:], s[:, None]], axis=1)
            shifted_Y = np.concatenate([Y[:, 1:], y[:, None]], axis=1)
            S = np.where(usable[:, None, None], shifted_S, S)
            Y = np.where(usable[:, None, None], shifted_Y, Y)
        sy_hist = np.einsum("...ki,...ki->...k", S, Y)
        rho = np.where(sy_hist > 0, 1.0 / np.where(sy_hist > 0, sy_hist, 1.0), 0.0)  # empty slots: 0
        q = U.copy()
        alphas = np.zeros(sy_hist.shape)
        for i in range(memory - 1, -1, -1):
            alphas[:, i] = rho[:, i] * _rowdot(S[:, i], q)
            q -= alphas[:, i, None] * Y[:, i]
        yy = _rowdot(Y[:, -1], Y[:, -1])
        gamma = np.where(rho[:, -1] > 0, sy_hist[:, -1] / np.where(yy > 0, yy, 1.0), 1.0)
        r = gamma[:, None] * q
        for i in range(memory):
            beta = rho[:, i] * _rowdot(Y[:, i], r)
            r += (alphas[:, i] - beta)[:, None] * S[:, i]
        return r, LBFGSState(S, Y, X.copy(), G.copy(), np.ones(X.shape[0], dtype=bool))

    return StepRule(init, update)


class CGState(NamedTuple):
    previous_grad: np.ndarray
    previous_p: np.ndarray
    since_restart: np.ndarray  # (m,) steps since the last steepest-descent step


def cg(beta_rule: str = "PR+") -> StepRule:
    """Nonlinear conjugate gradient: ``p = g + beta p_prev`` (direction ``-p``).

    ``beta``: ``FR = g.g / g'.g'``, ``PR = g.(g - g') / g'.g'``, ``PR+ = max(PR, 0)``.
    Restarts (``beta = 0``) every d steps and whenever ``-p`` is not a descent direction.
    """
    if beta_rule not in ("FR", "PR", "PR+"):
        raise ValueError(f"unknown beta_rule {beta_rule!r}; use FR, PR or PR+")

    def init(X):
        m = X.shape[0]
        return CGState(np.zeros_like(X), np.zeros_like(X), np.zeros(m, dtype=np.int64))

    def update(U, state, X, k, oracle):
        d = X.shape[-1]
        g_prev = state.previous_grad
        previous_norm2 = _rowdot(g_prev, g_prev)
        safe = np.where(previous_norm2 > 0, previous_norm2, 1.0)
        if beta_rule == "FR":
            beta = _rowdot(U, U) / safe
        else:
            beta = _rowdot(U, U - g_prev) / safe
            if beta_rule == "PR+":
                beta = np.maximum(beta, 0.0)
        restart = (state.since_restart == 0) | (state.since_restart >= d) | (previous_norm2 == 0)
        beta = np.where(restart, 0.0, beta)
        P = U + beta[:, None] * state.previous_p
        not_descent = _rowdot(P, U) <= 0
        P = np.where(not_descent[:, None], U, P)
        restarted = restart | not_descent
        since_restart = np.where(restarted, 1, state.since_restart + 1)
        if oracle.recording:
            oracle.log("cg_beta", np.where(not_descent, 0.0, beta))
        return P, CGState(U.copy(), P, since_restart)

    return StepRule(init, update)


# ---------------------------------------------------------------- last links: how far to go


class RateState(NamedTuple):
    lr: Any  # a number, a schedule k -> lr, or an (m, 1) column of per-row values


def scale_by_lr(lr: Schedule) -> StepRule:
    """Fixed step: output ``-lr_k p`` (``lr`` a number or a schedule ``k -> float``)."""

    def init(X):
        return RateState(per_row(lr))

    def update(U, state, X, k, oracle):
        rate = _rate_at(state.lr, k)
        if oracle.recording:
            oracle.log("lr", np.full(X.shape[0], rate) if not isinstance(rate, np.ndarray) else rate[:, 0].copy())
        return -rate * U, state

    return StepRule(init, update)


class LineSearchState(NamedTuple):
    """What the last search evaluated: f and ∇f at its trial points, when it may end on one
    (backtracking with ``oracle.trial_grads``), else None. See :func:`trial_memo`. ``lr``: the
    first trial step (a number, a schedule, or an (m, 1) column of per-row values)."""

    trials: TrialMemo | None
    lr: Any = None


def trial_memo(state: Any) -> TrialMemo | None:
    """The memo of the line search inside a (chained) rule state, if any: f and ∇f the search
    already evaluated, which the driver reuses at the accepted point."""
    if isinstance(state, LineSearchState):
        return state.trials
    if isinstance(state, tuple) and not hasattr(state, "_fields"):
        for part in reversed(state):  # the search is the last link
            found = trial_memo(part)
            if found is not None:
                return found
    return None


def line_search(kind: str = "backtracking", lr: Schedule = 1.0, *, c1: float = 1e-4, shrink: float = 0.5) -> StepRule:
    """Choose how far to go along ``-p``: ``none`` (step ``lr``), ``backtracking`` (Armijo,
    first trial ``lr``) or ``exact`` (minimise ``f(x - a p)`` over ``a >= 0``).

    Rows where the search finds no decrease stay put (noted as ``line_search_failed``).
    """
    if kind == "none":
        return scale_by_lr(lr)
    if kind not in ("backtracking", "exact"):
        raise ValueError(f"unknown line search {kind!r}; use none, backtracking or exact")

    def init(X):
        return LineSearchState(None, per_row(lr))

    def update(U, state, X, k, oracle):
        direction = -U
        f0 = oracle.value
        # A backtracking search ends on its last trial, so each trial may be the next point: keep
        # f and ∇f there (an exact search ends elsewhere).
        memo = TrialMemo(X.shape[0]) if kind == "backtracking" and oracle.trial_grads else None

        def phi(alpha: np.ndarray, rows: np.ndarray) -> np.ndarray:
            trial = _scale_rows(alpha, direction.take(rows, axis=0))  # take: fast row gather
            trial += X.take(rows, axis=0)  # x + alpha d, the same sum the driver forms
            if memo is None:
                return oracle.evaluate(trial)
            f, g = oracle.evaluate_with_grad(trial)
            memo.remember(trial, f, g, rows)
            return f

        first_trial = _flat(_rate_at(state.lr, k))
        if kind == "backtracking":
            slope = _rowdot(oracle.grad, direction)
            result = linesearch.backtracking(phi, f0, slope, first_trial, c1=c1, shrink=shrink)
        else:
            result = linesearch.exact(phi, f0, first_trial)
        oracle.count_trials(result.evaluations)
        oracle.note("line_search_failed", ~result.success)
        if oracle.recording:
            oracle.log("lr", result.alpha)
            oracle.log("line_search_trials", [result.trial_array(row) for row in range(X.shape[0])])
        return _scale_rows(result.alpha, direction), LineSearchState(memo, state.lr)

    return StepRule(init, update)
