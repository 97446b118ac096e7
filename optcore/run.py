"""One batched driver for every method: many start points in one NumPy step, honest results.

``run_batch`` advances all still-running rows together (finished rows are frozen, not removed,
so trajectories stay aligned) and ends each row with a status and a sentence saying why.
``run`` is the same driver on one row with per-step diagnostics switched on.

Convergence: ``||grad f|| <= tol`` (a tiny step alone is not taken as convergence: a small lr or a
shrinking line search would pass it far from any minimum); ``tol <= 0`` runs every step. Divergence: f or x not finite, or ``||x|| > 1e8``; the row stays at its last
finite point.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .methods import build_rule, get_method

DIVERGENCE_RADIUS = 1e8

RUNNING, CONVERGED, MAX_STEPS, DIVERGED = 0, 1, 2, 3
STATUS_NAMES = np.array(["running", "converged", "max_steps", "diverged"])

EVALUATION_KINDS = ("f", "grad", "hess")

# Events that rules report per row (oracle.note), and how the final message mentions them.
NOTE_TEXT = {
    "singular_hessian": "the Hessian was singular at {n} step(s), so the pseudo-inverse was used",
    "line_search_failed": "the line search found no decrease at {n} step(s), so the point stayed put",
    "bfgs_skipped": "the quasi-Newton update was skipped at {n} step(s) because s·y ≤ 0",
    "lbfgs_reset": "the L-BFGS memory was cleared at {n} step(s) because s·y ≤ 0",
}


# ---------------------------------------------------------------- results


@dataclass
class Trajectory:
    """One run: the points visited, why it stopped, and per-step diagnostics."""

    points: np.ndarray  # (k+1, d), row 0 is x0
    values: np.ndarray  # (k+1,)
    grads: np.ndarray  # (k+1, d)
    status: str
    message: str
    iterations: int
    evaluations: dict[str, np.ndarray]  # "f"/"grad"/"hess" -> cumulative counts (k+1,)
    extras: dict[str, Any]
    method: str
    params: dict[str, Any]
    variables: tuple[str, ...]

    @property
    def step_sizes(self) -> np.ndarray:
        """``||x_{j+1} - x_j||`` for each step, shape ``(k,)``."""
        return np.linalg.norm(np.diff(self.points, axis=0), axis=-1)

    @property
    def grad_norms(self) -> np.ndarray:
        return np.linalg.norm(self.grads, axis=-1)

    @property
    def final_point(self) -> np.ndarray:
        return self.points[-1]

    @property
    def final_value(self) -> float:
        return float(self.values[-1])

    def distance_to(self, point: Sequence[float]) -> np.ndarray:
        """Distance of every iterate to ``point`` (e.g. a known minimiser), shape ``(k+1,)``."""
        return np.linalg.norm(self.points - np.asarray(point, dtype=float), axis=-1)

    def to_csv(self) -> str:
        """Columns: step, one per variable, f, grad_norm, step_size (empty for step 0)."""
        header = ["step", *self.variables, "f", "grad_norm", "step_size"]
        lines = [",".join(header)]
        sizes = self.step_sizes
        norms = self.grad_norms
        for j in range(self.points.shape[0]):
            cells = [str(j), *(repr(float(v)) for v in self.points[j]), repr(float(self.values[j])),
                     repr(float(norms[j])), repr(float(sizes[j - 1])) if j > 0 else ""]
            lines.append(",".join(cells))
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """Everything as JSON; nan/inf become null and schedules their name, so it always parses."""
        payload = {
            "method": self.method,
            "params": {k: _describe_param(v) for k, v in self.params.items()},
            "variables": list(self.variables),
            "status": self.status,
            "message": self.message,
            "iterations": self.iterations,
            "points": self.points,
            "values": self.values,
            "grads": self.grads,
            "step_sizes": self.step_sizes,
            "evaluations": self.evaluations,
            "extras": self.extras,
        }
        return json.dumps(_jsonable(payload), allow_nan=False)


def _pad_history(history: np.ndarray, steps: int) -> np.ndarray:
    """Time-major ``(K+1, m, ...)`` history -> ``(m, steps+1, ...)``, repeating the last slice
    (every row had finished by step K, so later steps are frozen copies)."""
    if history.shape[0] < steps + 1:
        padded = np.empty((steps + 1,) + history.shape[1:], dtype=history.dtype)
        padded[: history.shape[0]] = history
        padded[history.shape[0]:] = history[-1]
        history = padded
    return np.moveaxis(history, 0, 1)


@dataclass
class BatchTrajectory:
    """m runs advanced together. Finished rows repeat their last point up to ``steps``.

    The history is kept time-major and only up to the step where the last row finished;
    ``points`` / ``values`` / ``grad_norms`` / ``evaluations`` expand it to ``(m, steps+1, ...)``
    on first use (big batches that stop early never pay for the frozen tail).
    """

    steps: int
    point_history: np.ndarray = field(repr=False)  # (K+1, m, d)
    value_history: np.ndarray = field(repr=False)  # (K+1, m)
    grad_norm_history: np.ndarray = field(repr=False)  # (K+1, m)
    evaluation_history: np.ndarray = field(repr=False)  # (K+1, m, 3) cumulative f, grad, hess
    status: np.ndarray  # (m,) str
    iterations: np.ndarray  # (m,)
    method: str
    params: dict[str, Any]
    variables: tuple[str, ...]
    tol: float = 0.0
    reasons: np.ndarray | None = field(repr=False, default=None)  # (m,) divergence sentence or ""
    notes: dict[str, np.ndarray] = field(repr=False, default_factory=dict)  # event -> (m,) counts
    objective: Any = field(repr=False, default=None)
    grad_history: np.ndarray | None = field(repr=False, default=None)  # (K+1, m, d), only when recorded
    extras: list[dict[str, Any]] | None = field(repr=False, default=None)

    @functools.cached_property
    def points(self) -> np.ndarray:
        """``(m, steps+1, d)``."""
        return _pad_history(self.point_history, self.steps)

    @functools.cached_property
    def values(self) -> np.ndarray:
        """``(m, steps+1)``."""
        return _pad_history(self.value_history, self.steps)

    @functools.cached_property
    def grad_norms(self) -> np.ndarray:
        """``(m, steps+1)``."""
        return _pad_history(self.grad_norm_history, self.steps)

    @functools.cached_property
    def evaluations(self) -> np.ndarray:
        """``(m, steps+1, 3)`` cumulative counts of f, grad and Hessian evaluations."""
        return _pad_history(self.evaluation_history, self.steps)

    def message(self, i: int) -> str:
        """Why row ``i`` stopped, as a sentence."""
        k = int(self.iterations[i])
        notes = {name: int(count[i]) for name, count in self.notes.items() if count[i]}
        return _message(str(self.status[i]), k, self.reasons[i], float(self.grad_norm_history[k, i]), notes)

    @functools.cached_property
    def messages(self) -> np.ndarray:
        """``(m,)`` sentences; built on first use (40,000 of them take a moment)."""
        return np.array([self.message(i) for i in range(len(self))], dtype=object)

    @property
    def final_points(self) -> np.ndarray:
        return self.point_history[self.iterations, np.arange(len(self))]

    @property
    def final_values(self) -> np.ndarray:
        return self.value_history[self.iterations, np.arange(len(self))]

    def __len__(self) -> int:
        return self.point_history.shape[1]

    def distance_to(self, point: Sequence[float]) -> np.ndarray:
        """Distance of each row's final point to ``point``, shape ``(m,)``."""
        return np.linalg.norm(self.final_points - np.asarray(point, dtype=float), axis=-1)

    def row(self, i: int) -> Trajectory:
        """Row ``i`` as a :class:`Trajectory` (same numbers as ``run`` from ``X0[i]``)."""
        k = int(self.iterations[i])
        points = self.point_history[: k + 1, i].copy()
        if self.grad_history is not None:
            grads = self.grad_history[: k + 1, i].copy()
        else:  # not stored for big batches; recomputing at the same points gives the same numbers
            with np.errstate(all="ignore"):
                grads = np.asarray(self.objective.grad(points), dtype=float)
        counts = self.evaluation_history[: k + 1, i]
        return Trajectory(
            points=points,
            values=self.value_history[: k + 1, i].copy(),
            grads=grads,
            status=str(self.status[i]),
            message=self.message(i),
            iterations=k,
            evaluations={kind: counts[:, j].astype(np.int64) for j, kind in enumerate(EVALUATION_KINDS)},
            extras=self.extras[i] if self.extras is not None else {},
            method=self.method,
            params=dict(self.params),
            variables=self.variables,
        )


def _describe_param(value: Any) -> Any:
    if callable(value):
        return f"schedule {getattr(value, '__name__', type(value).__name__)}"
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


# ---------------------------------------------------------------- the oracle rules talk to


class StepOracle:
    """The objective as seen by the rules during one step, for the rows in ``rows``.

    Reading ``value`` or ``hess`` counts one evaluation per row (once per step): the driver
    computes them anyway for the report, but a textbook GD would not.
    """

    def __init__(self, objective, X, value, grad, hess, recording: bool) -> None:
        self.objective = objective
        self.X = X
        self._value = value
        self._grad = grad
        self._hess = hess
        self.recording = recording
        self.counts = np.zeros((X.shape[0], len(EVALUATION_KINDS)), dtype=np.int64)
        self.counts[:, 1] = 1  # every method reads the gradient at x_k
        self.notes: dict[str, np.ndarray] = {}
        self.logged: dict[str, Any] = {}
        self._value_counted = False
        self._hess_counted = False

    @property
    def value(self) -> np.ndarray:
        if not self._value_counted:
            self.counts[:, 0] += 1
            self._value_counted = True
        return self._value

    @property
    def grad(self) -> np.ndarray:
        return self._grad

    @property
    def hess(self) -> np.ndarray:
        if self._hess is None:  # a rule wants curvature the method did not declare
            self._hess = np.asarray(self.objective.hess(self.X), dtype=float)
        if not self._hess_counted:
            self.counts[:, 2] += 1
            self._hess_counted = True
        return self._hess

    def evaluate(self, X: np.ndarray, rows: np.ndarray) -> np.ndarray:
        self.counts[rows, 0] += 1
        return np.asarray(self.objective.value(X), dtype=float)

    def note(self, name: str, mask: np.ndarray) -> None:
        self.notes[name] = self.notes.get(name, 0) + np.asarray(mask, dtype=np.int64)

    def log(self, name: str, value: Any) -> None:
        self.logged[name] = value


# ---------------------------------------------------------------- state bookkeeping


def _take(tree: Any, rows: np.ndarray | None) -> Any:
    """Rows of every array in a (nested) NamedTuple state; ``None`` means all rows."""
    if rows is None:
        return tree
    if isinstance(tree, np.ndarray):
        return tree[rows]
    if isinstance(tree, tuple):
        parts = [_take(part, rows) for part in tree]
        return type(tree)(*parts) if hasattr(tree, "_fields") else tuple(parts)
    return tree


def _put(tree: Any, rows: np.ndarray | None, new: Any) -> Any:
    """Write ``new`` (a state for ``rows``) back into the full state ``tree``."""
    if rows is None:
        return new
    if isinstance(tree, np.ndarray):
        merged = tree.copy()  # never in place: old arrays may be shared with the history
        merged[rows] = new
        return merged
    if isinstance(tree, tuple):
        parts = [_put(part, rows, new_part) for part, new_part in zip(tree, new)]
        return type(tree)(*parts) if hasattr(tree, "_fields") else tuple(parts)
    return new


def _evaluate(objective, X: np.ndarray, needs_hessian: bool):
    if needs_hessian:
        f, g, H = objective.value_grad_hess(X)
        return np.asarray(f, dtype=float), np.asarray(g, dtype=float), np.asarray(H, dtype=float)
    if hasattr(objective, "value_grad"):
        f, g = objective.value_grad(X)
    else:
        f, g = objective.value(X), objective.grad(X)
    return np.asarray(f, dtype=float), np.asarray(g, dtype=float), None


# ---------------------------------------------------------------- the driver


def run_batch(objective, method: str, X0, *, steps: int = 100, tol: float = 1e-8, **params: Any) -> BatchTrajectory:
    """Run ``method`` from every row of ``X0`` (shape ``(m, d)``) at once.

    Example::

        batch = run_batch(parse("x^2 + 3y^2"), "gd", np.random.randn(1000, 2), lr=0.1)
        batch.status        # array of "converged" / "max_steps" / "diverged"
    """
    return _drive(objective, method, X0, steps=steps, tol=tol, record_extras=False, **params)


def run(objective, method: str, x0, *, steps: int = 100, tol: float = 1e-8, **params: Any) -> Trajectory:
    """Run ``method`` from one start point, recording per-step diagnostics in ``extras``.

    Example: the textbook's GD on x^2 from 10 with eta = 0.2 for 10 steps::

        run(parse("x^2"), "gd", [10.0], steps=10, tol=0, lr=0.2).points[-1]   # [0.060466...]
    """
    x0 = np.asarray(x0, dtype=float).reshape(1, -1)
    return _drive(objective, method, x0, steps=steps, tol=tol, record_extras=True, **params).row(0)


def _drive(objective, method: str, X0, *, steps: int, tol: float, record_extras: bool, **params: Any) -> BatchTrajectory:
    spec = get_method(method)
    rule, used_params = build_rule(spec, **params)
    steps = int(steps)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    X = np.array(X0, dtype=float, ndmin=2)
    d = objective.dim
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"start points must have shape (m, {d}) for variables {tuple(objective.variables)}, got {X.shape}")
    with np.errstate(all="ignore"):
        return _loop(objective, spec, rule, used_params, X, steps, float(tol), record_extras)


def _loop(objective, spec, rule, used_params, X, steps, tol, record_extras) -> BatchTrajectory:
    m, d = X.shape
    check_convergence = tol > 0
    f, g, H = _evaluate(objective, X, spec.needs_hessian)

    # Per-step snapshots (time-major). X, f, g are replaced, never modified, so no copies.
    point_history = [X]
    value_history = [f]
    grad_norm_history: list[np.ndarray] = []
    evaluation_history = [np.zeros((m, len(EVALUATION_KINDS)), dtype=np.int32)]  # int32: big batches
    grad_history = [g] if record_extras else None
    extras: list[dict[str, list]] | None = [dict() for _ in range(m)] if record_extras else None

    status = np.full(m, RUNNING)
    iterations = np.zeros(m, dtype=np.int64)
    reason = np.full(m, "", dtype=object)  # detail for the message
    notes: dict[str, np.ndarray] = {}

    gnorm = np.linalg.norm(g, axis=-1)
    start_bad = ~(np.isfinite(X).all(axis=-1) & np.isfinite(f))
    status[start_bad] = DIVERGED
    reason[start_bad] = "the start point has no finite value"
    if check_convergence:
        at_minimum = ~start_bad & (gnorm <= tol)
        status[at_minimum] = CONVERGED
        reason[at_minimum] = "grad"

    grad_norm_history.append(gnorm)
    state = rule.init(X)
    rows_all = np.arange(m)

    for k in range(steps):
        active = rows_all[status == RUNNING]
        if active.size == 0:
            break
        subset = None if active.size == m else active  # skip copies while every row runs
        X_a = X if subset is None else X[active]
        g_a = g if subset is None else g[active]
        oracle = StepOracle(objective, X_a, f if subset is None else f[active], g_a,
                            None if H is None else (H if subset is None else H[active]), record_extras)
        update, state_a = rule.update(g_a, _take(state, subset), X_a, k, oracle)
        X_new = X_a + update
        f_new, g_new, H_new = _evaluate(objective, X_new, spec.needs_hessian)

        # Divergence: keep the last finite point, record why.
        x_finite = np.isfinite(X_new).all(axis=-1)
        radius = np.linalg.norm(X_new, axis=-1)
        blew_up = ~x_finite | ~np.isfinite(f_new) | (radius > DIVERGENCE_RADIUS)
        ok = ~blew_up
        rows_ok, rows_bad = active[ok], active[blew_up]
        if rows_bad.size:
            status[rows_bad] = DIVERGED
            iterations[rows_bad] = k
            reason[rows_bad] = [
                _divergence_reason(k + 1, xf, r, fv)
                for xf, r, fv in zip(x_finite[blew_up], radius[blew_up], f_new[blew_up])
            ]

        if subset is None and rows_bad.size == 0:
            X, f, g, H = X_new, f_new, g_new, H_new
        else:  # fresh arrays, never in-place: rules may keep references to the old ones
            X, f, g = X.copy(), f.copy(), g.copy()
            X[rows_ok], f[rows_ok], g[rows_ok] = X_new[ok], f_new[ok], g_new[ok]
            if H is not None:
                H = H.copy()
                H[rows_ok] = H_new[ok]
        state = _put(state, subset, state_a) if rows_bad.size == 0 else _put_rows(state, active, ok, state_a)
        gnorm_new = np.linalg.norm(g_new[ok], axis=-1)
        iterations[rows_ok] = k + 1
        if check_convergence:
            # Gradient test only: a tiny step (small lr, a line search that shrank a lot) is not
            # a minimum, and calling it "converged" would mislead.
            small_grad = gnorm_new <= tol
            status[rows_ok[small_grad]] = CONVERGED
            reason[rows_ok[small_grad]] = "grad"

        for name, counts in oracle.notes.items():
            notes.setdefault(name, np.zeros(m, dtype=np.int64))[active] += counts
        counts = evaluation_history[-1].copy()
        counts[rows_ok] += oracle.counts[ok]
        evaluation_history.append(counts)
        gnorm = gnorm.copy()
        gnorm[rows_ok] = gnorm_new
        point_history.append(X)
        value_history.append(f)
        grad_norm_history.append(gnorm)
        if grad_history is not None:
            grad_history.append(g)
        if extras is not None:
            for local, row in enumerate(active):
                if ok[local]:
                    for name, value in oracle.logged.items():
                        extras[row].setdefault(name, []).append(value[local])

    running = status == RUNNING
    status[running] = MAX_STEPS
    iterations[running] = steps

    return BatchTrajectory(
        steps=steps, point_history=np.stack(point_history), value_history=np.stack(value_history),
        grad_norm_history=np.stack(grad_norm_history), evaluation_history=np.stack(evaluation_history),
        status=STATUS_NAMES[status], iterations=iterations, method=spec.name,
        params=used_params, variables=tuple(objective.variables), tol=tol, reasons=reason, notes=notes,
        objective=objective,
        grad_history=None if grad_history is None else np.stack(grad_history),
        extras=None if extras is None else [_finish_extras(e) for e in extras],
    )


def _put_rows(state, active: np.ndarray, ok: np.ndarray, state_a):
    """Write back only the rows that took a finite step (diverged rows keep their old state)."""
    return _put(state, active[ok], _take(state_a, np.flatnonzero(ok)))


def _finish_extras(extras: dict[str, list]) -> dict[str, Any]:
    finished: dict[str, Any] = {}
    for name, per_step in extras.items():
        if name == "line_search_trials":
            finished[name] = per_step  # ragged: list of lists of (alpha, f)
        else:
            finished[name] = np.array(per_step)
    return finished


def _divergence_reason(step: int, x_finite: bool, radius: float, value: float) -> str:
    if not x_finite:
        return f"diverged at step {step}: the step became non-finite"
    if not np.isfinite(radius) or radius > DIVERGENCE_RADIUS:
        return f"diverged at step {step}: ‖x‖ exceeded {DIVERGENCE_RADIUS:.0e}"
    return f"diverged at step {step}: f became {'nan' if np.isnan(value) else ('inf' if value > 0 else '-inf')}"


def _message(status: str, iterations: int, reason: str, grad_norm: float, notes: dict[str, int]) -> str:
    if status == "converged":
        text = f"converged in {iterations} steps: ‖∇f‖ = {grad_norm:.3g} ≤ tol"
    elif status == "diverged":
        text = reason
    else:
        text = f"stopped after {iterations} steps; ‖∇f‖ = {grad_norm:.3g}"
    details = [NOTE_TEXT.get(name, name + " at {n} step(s)").format(n=n) for name, n in notes.items()]
    return text + (f" ({'; '.join(details)})" if details else "")
