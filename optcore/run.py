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
from typing import Any
from collections.abc import Sequence

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


# A converged run that is not at a minimum says so: students read "converged" as "found the minimum".
STOPPED_AT_TEXT = {
    "saddle point": ", at a saddle point (∇²f has eigenvalues of both signs), not a minimum",
    "maximum": ", at a local maximum (∇²f is negative definite), not a minimum",
    "flat point": ", at a point where ∇²f is singular: the curvature cannot tell a minimum from a saddle",
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
    stopped_at: str = ""  # for a converged run: "minimum" | "saddle point" | "maximum" | "flat point"

    @property
    def step_sizes(self) -> np.ndarray:
        """``||x_{j+1} - x_j||`` for each step, shape ``(k,)``."""
        return np.linalg.norm(np.diff(self.points, axis=0), axis=-1)

    @property
    def grad_norms(self) -> np.ndarray:
        with np.errstate(over="ignore"):  # a finite gradient of 1e170 has an infinite norm²: fine
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
            "stopped_at": self.stopped_at,
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


class _History:
    """Per-step snapshots of the rows still running, expanded to dense time-major arrays on demand.

    The driver only advances running rows (finished ones are dropped from its arrays), so a step
    records arrays for those rows alone: no per-step copy of the frozen rows, which made long
    runs where a few rows keep going cost O(m) per step. A *segment* is a run of steps with the
    same row set; rows outside a segment repeat their previous value when the history is expanded.
    """

    def __init__(self, m: int) -> None:
        self.m = m
        self.segments: list[tuple[np.ndarray | None, dict[str, list[np.ndarray]]]] = []

    def start_segment(self, rows: np.ndarray | None) -> None:
        """Following records cover global ``rows`` (``None``: all m rows, in order)."""
        self.segments.append((rows, {}))

    def record(self, **arrays: np.ndarray) -> None:
        channels = self.segments[-1][1]
        for name, value in arrays.items():
            channels.setdefault(name, []).append(value)

    def cumulative(self, name: str, width: int) -> np.ndarray:
        """``(K+1, m, width)`` running sums of a channel of per-step increments: ``(uniform,
        extra_f)`` with ``uniform`` ``(width,)`` or ``(n, width)`` and ``extra_f`` ``(n,)`` added to
        column 0, or None. Rows missing from a segment add 0."""
        total = sum(len(channels.get(name, ())) for _, channels in self.segments)
        out = np.zeros((total, self.m, width), dtype=np.int32)
        t = 0
        for rows, channels in self.segments:
            for uniform, extra_f in channels.get(name, ()):
                where = slice(None) if rows is None else rows
                out[t, where] = uniform
                if extra_f is not None:
                    out[t, where, 0] += extra_f
                t += 1
        return np.cumsum(out, axis=0, out=out)

    def dense(self, name: str) -> np.ndarray:
        """``(K+1, m, ...)`` for one channel; rows missing from a segment repeat their last value."""
        first = self.segments[0][1][name][0]
        total = sum(len(channels.get(name, ())) for _, channels in self.segments)
        out = np.empty((total, self.m) + first.shape[1:], dtype=first.dtype)
        t = 0
        for rows, channels in self.segments:
            for value in channels.get(name, ()):
                if rows is None:
                    out[t] = value
                else:
                    out[t] = out[t - 1]
                    put_rows(out[t], rows, value)
                t += 1
        return out


@dataclass
class BatchTrajectory:
    """m runs advanced together. Finished rows repeat their last point up to ``steps``.

    The history is kept time-major and only up to the step where the last row finished;
    ``points`` / ``values`` / ``grad_norms`` / ``evaluations`` expand it to ``(m, steps+1, ...)``
    on first use (big batches that stop early never pay for the frozen tail, and a basin map that
    only wants final points never builds the history at all).
    """

    steps: int
    history: _History = field(repr=False)
    final_points: np.ndarray = field(repr=False)  # (m, d) last finite point of each row
    final_values: np.ndarray = field(repr=False)  # (m,)
    final_grad_norms: np.ndarray = field(repr=False)  # (m,)
    status: np.ndarray  # (m,) str
    iterations: np.ndarray  # (m,)
    method: str
    params: dict[str, Any]
    variables: tuple[str, ...]
    tol: float = 0.0
    reasons: np.ndarray | None = field(repr=False, default=None)  # (m,) divergence sentence or ""
    notes: dict[str, np.ndarray] = field(repr=False, default_factory=dict)  # event -> (m,) counts
    objective: Any = field(repr=False, default=None)
    extras: list[dict[str, Any]] | None = field(repr=False, default=None)

    @functools.cached_property
    def point_history(self) -> np.ndarray:
        """``(K+1, m, d)``, time-major."""
        return self.history.dense("points")

    @functools.cached_property
    def value_history(self) -> np.ndarray:
        """``(K+1, m)``."""
        return self.history.dense("values")

    @functools.cached_property
    def grad_norm_history(self) -> np.ndarray:
        """``(K+1, m)``."""
        return self.history.dense("grad_norms")

    @functools.cached_property
    def evaluation_history(self) -> np.ndarray:
        """``(K+1, m, 3)`` cumulative f, grad, hess evaluations."""
        return self.history.cumulative("evaluations", len(EVALUATION_KINDS))

    @functools.cached_property
    def grad_history(self) -> np.ndarray | None:
        """``(K+1, m, d)``, only when the run recorded gradients (single runs)."""
        recorded = any("grads" in channels for _, channels in self.history.segments)
        return self.history.dense("grads") if recorded else None

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
        text = _message(str(self.status[i]), k, self.reasons[i], float(self.final_grad_norms[i]), notes)
        return text + STOPPED_AT_TEXT.get(self.stopped_at[i], "")

    @functools.cached_property
    def stopped_at(self) -> np.ndarray:
        """``(m,)`` what each converged row found: "minimum", "saddle point", "maximum" or "flat
        point" (a zero eigenvalue: the Hessian cannot tell); "" for rows that did not converge.

        ∇f = 0 is all a method checks; Newton's method in particular is as happy on a saddle as on
        a minimum. One batched Hessian evaluation at the converged points tells them apart.
        """
        kinds = np.full(len(self), "", dtype=object)
        converged = np.flatnonzero(self.status == "converged")
        if self.objective is None or converged.size == 0:
            return kinds
        with np.errstate(all="ignore"):
            H = np.asarray(self.objective.hess(self.final_points[converged]), dtype=float)
        ok = np.isfinite(H).all(axis=(-2, -1))
        eigenvalues = np.full(H.shape[:-1], np.nan)
        eigenvalues[ok] = np.linalg.eigvalsh(H[ok])
        kinds[converged] = classify_curvature(eigenvalues)
        return kinds

    @functools.cached_property
    def messages(self) -> np.ndarray:
        """``(m,)`` sentences; built on first use (40,000 of them take a moment)."""
        return np.array([self.message(i) for i in range(len(self))], dtype=object)

    def __len__(self) -> int:
        return self.final_points.shape[0]

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
            stopped_at=str(self.stopped_at[i]),
        )


def classify_curvature(eigenvalues: np.ndarray, rtol: float = 1e-8) -> np.ndarray:
    """Name the stationary point each row of ascending Hessian eigenvalues ``(n, d)`` describes."""
    lam = np.asarray(eigenvalues, dtype=float)
    scale = np.maximum(1.0, np.abs(lam).max(axis=-1, initial=0.0)) if lam.size else np.ones(lam.shape[:-1])
    eps = rtol * scale
    lo, hi = lam[..., 0], lam[..., -1]
    kinds = np.full(lam.shape[:-1], "flat point", dtype=object)
    kinds[lo > eps] = "minimum"
    kinds[hi < -eps] = "maximum"
    kinds[(lo < -eps) & (hi > eps)] = "saddle point"
    kinds[~np.isfinite(lam).all(axis=-1)] = ""
    return kinds


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
    """The objective as seen by the rules during one step, for the rows the driver is advancing.

    Reading ``value`` or ``hess`` counts one evaluation per row (once per step): the driver
    computes them anyway for the report, but a textbook GD would not.

    ``evaluate(X, rows, candidate=True)`` marks trial points the step may end at (a backtracking
    line search accepts its last trial); ``count_trials`` adds the search's evaluations per row.
    Where a row appears several times in one call, the last one is remembered; a candidate that
    is not the accepted point is simply not reused. When ``fuse_candidates`` is set, those are evaluated
    together with their gradient and remembered, so the driver does not evaluate f and ∇f again
    at the accepted point (it reuses them only where the new point equals the trial bit for bit).
    """

    def __init__(self, objective, X, value, grad, hess, recording: bool, fuse_candidates: bool = False) -> None:
        self.objective = objective
        self.X = X
        self._value = value
        self._grad = grad
        self._hess = hess
        self.recording = recording
        self.fuse_candidates = fuse_candidates
        self.trial_counts: np.ndarray | None = None  # (n,) f evaluations at trial points
        self.notes: dict[str, np.ndarray] = {}
        self.logged: dict[str, Any] = {}
        self._value_counted = False
        self._hess_counted = False
        self._candidates: list[np.ndarray] | None = None  # [X, f, g] of each row's latest candidate
        self._candidates_owned = False
        self._partial_calls: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # (rows, X, f, g)

    @property
    def value(self) -> np.ndarray:
        self._value_counted = True
        return self._value

    @property
    def grad(self) -> np.ndarray:
        return self._grad

    @property
    def hess(self) -> np.ndarray:
        if self._hess is None:  # a rule wants curvature the method did not declare
            self._hess = np.asarray(self.objective.hess(self.X), dtype=float)
        self._hess_counted = True
        return self._hess

    @property
    def counts(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Evaluations of f, grad, hess this step: ``(3,)`` for every row, plus ``(n,)`` more f
        evaluations per row from a line search (or None). Kept apart: building an (n, 3) array
        every step cost more than a first-order step's own arithmetic."""
        return _uniform_counts(self._value_counted, self._hess_counted), self.trial_counts

    def evaluate(self, X: np.ndarray, rows: np.ndarray, candidate: bool = False) -> np.ndarray:
        """f at trial points (``rows`` may repeat); not counted here: see ``count_trials``."""
        n = self.X.shape[0]
        if not (candidate and self.fuse_candidates):
            return np.asarray(self.objective.value(X), dtype=float)
        f, g = self.objective.value_grad(X)
        self._remember(X, f, g, rows, n)
        return f

    def count_trials(self, evaluations: np.ndarray) -> None:
        """Add a line search's f evaluations per row (it knows which trials a textbook search
        makes; a speculative call evaluates more)."""
        counts = np.asarray(evaluations, dtype=np.int32)
        self.trial_counts = counts if self.trial_counts is None else self.trial_counts + counts

    def _remember(self, X, f, g, rows, n) -> None:
        if self._candidates is None and rows.size == n:  # first trial of every row: keep as is
            self._candidates = [X, f.copy(), g]
            return
        # Kept whole for `recall`: a speculative call holds several trials of a row, and the
        # accepted one is often not the last (nothing here modifies these arrays).
        self._partial_calls.append((rows, X, f, g))
        if self._candidates is None:
            self._candidates = [np.full((n, X.shape[1]), np.nan), np.full(n, np.nan), np.full((n, X.shape[1]), np.nan)]
        elif not self._candidates_owned:  # copy on first write: the first arrays may be shared
            self._candidates = [a.copy() for a in self._candidates]
        self._candidates_owned = True
        for stored, new in zip(self._candidates, (X, f, g)):
            put_rows(stored, rows, new)

    @property
    def candidates_owned(self) -> bool:
        """Whether the remembered candidate arrays are copies only this oracle holds."""
        return self._candidates_owned

    def known_at(self, X_new: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(f, g, hit)`` from remembered candidates; ``hit`` marks rows whose candidate is X_new."""
        if self._candidates is None:
            return None
        X_c, f_c, g_c = self._candidates
        hit = X_c[:, 0] == X_new[:, 0]
        for i in range(1, X_new.shape[1]):
            hit &= X_c[:, i] == X_new[:, i]
        return f_c, g_c, hit

    def recall(self, X_new: np.ndarray, hit: np.ndarray, f_out: np.ndarray, g_out: np.ndarray) -> None:
        """Fill f and ∇f of rows whose ``X_new`` equals a partial-round trial, marking them in ``hit``.

        A backtracking search that speculates (several halvings of a few rows in one call)
        remembers only each row's last trial, usually not the accepted one; without this the
        driver evaluated f and ∇f again at such rows, one more objective call per step in the
        few-rows tail. The same point gives the same numbers, so only the time changes.
        """
        for rows, X, f, g in reversed(self._partial_calls):  # speculative calls come last
            same = (X == X_new.take(rows, axis=0)).all(axis=1)
            found = np.flatnonzero(same & ~hit.take(rows))  # rows that hit keep their candidate
            if found.size:
                found_rows = rows.take(found)
                f_out[found_rows] = f.take(found)
                put_rows(g_out, found_rows, g.take(found, axis=0))
                hit[found_rows] = True
                if hit.all():
                    return

    def note(self, name: str, mask: np.ndarray) -> None:
        self.notes[name] = self.notes.get(name, 0) + np.asarray(mask, dtype=np.int64)

    def log(self, name: str, value: Any) -> None:
        self.logged[name] = value


@functools.cache
def _uniform_counts(value_counted: bool, hess_counted: bool) -> np.ndarray:
    """The ``(3,)`` per-step f, grad, hess counts, one shared read-only array per combination
    (history keeps one per step; building it each step was a call the few-rows tail paid for)."""
    counts = np.array([int(value_counted), 1, int(hess_counted)], dtype=np.int32)
    counts.setflags(write=False)
    return counts


# ---------------------------------------------------------------- state bookkeeping


def take_rows(A: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``A[rows]`` along the first axis. ``take`` is an order of magnitude faster than fancy
    indexing for (n, d) and (n, d, d) arrays (numpy's multi-dimensional indexing path)."""
    return A.take(rows, axis=0)


def put_rows(A: np.ndarray, rows: np.ndarray, values) -> None:
    """``A[rows] = values`` along the first axis, fast for (n, ...) float arrays: each row is
    written as one opaque item instead of through numpy's multi-dimensional indexing path."""
    if A.ndim > 1 and A.flags.c_contiguous and isinstance(values, np.ndarray) and values.dtype == A.dtype:
        item = _row_item(A.itemsize * math.prod(A.shape[1:]))
        A.view(item).reshape(A.shape[0])[rows] = np.ascontiguousarray(values).view(item).reshape(-1)
    else:
        A[rows] = values


@functools.cache
def _row_item(nbytes: int) -> np.dtype:
    """An opaque dtype of one row's size (building a dtype costs ~10 us: more than a small put)."""
    return np.dtype((np.void, nbytes))


def _take(tree: Any, rows: np.ndarray | None) -> Any:
    """Rows of every array in a (nested) NamedTuple state; ``None`` means all rows."""
    if rows is None:
        return tree
    if isinstance(tree, np.ndarray):
        return take_rows(tree, rows)
    if isinstance(tree, tuple):
        parts = [_take(part, rows) for part in tree]
        return type(tree)(*parts) if hasattr(tree, "_fields") else tuple(parts)
    return tree


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


def _row_norm(A: np.ndarray) -> np.ndarray:
    """``||A[i]||`` for (n, d) A: column sums beat ``np.linalg.norm(axis=-1)``'s short-axis reduce
    several times over, and for d <= 8 add in the same order (so the same bits)."""
    d = A.shape[1]
    if d > 8:
        return np.linalg.norm(A, axis=-1)
    total = A[:, 0] * A[:, 0]
    for i in range(1, d):
        total += A[:, i] * A[:, i]
    return np.sqrt(total, out=total)


def _next_point(objective, oracle: StepOracle, X_new: np.ndarray, needs_hessian: bool):
    """f, ∇f (and H) at the new points, reusing what a line search already evaluated there."""
    known = None if needs_hessian else oracle.known_at(X_new)
    if known is None:
        return _evaluate(objective, X_new, needs_hessian)
    f_c, g_c, hit = known
    if hit.all():
        return f_c, g_c, None
    # Candidates written row by row are the oracle's own copies, and the oracle ends with this
    # step: fill them in place (two copies of every row saved). The first trial's arrays may not be.
    f_new, g_new = (f_c, g_c) if oracle.candidates_owned else (f_c.copy(), g_c.copy())
    oracle.recall(X_new, hit, f_new, g_new)
    miss = np.flatnonzero(~hit)
    if miss.size == 0:
        return f_new, g_new, None
    f_miss, g_miss, _ = _evaluate(objective, take_rows(X_new, miss), False)
    f_new[miss] = f_miss
    put_rows(g_new, miss, g_miss)
    return f_new, g_new, None


def _loop(objective, spec, rule, used_params, X, steps, tol, record_extras) -> BatchTrajectory:
    """Advance the running rows together; a row that finishes is written out and dropped.

    ``rows`` maps the working arrays (X, f, g, H, state) to global rows (``None`` while
    all m rows run, so the common case gathers nothing). Dropping finished rows at once means no
    step ever touches a frozen row, and the line search never searches on behalf of one.
    """
    m, d = X.shape
    check_convergence = tol > 0
    needs_hessian = spec.needs_hessian
    f, g, H = _evaluate(objective, X, needs_hessian)
    gnorm = _row_norm(g)

    history = _History(m)
    history.start_segment(None)
    # Evaluation counts are recorded as per-step increments, usually one (3,) row for all rows,
    # and summed up only when someone asks for them.
    history.record(points=X, values=f, grad_norms=gnorm, evaluations=(np.zeros(len(EVALUATION_KINDS), dtype=np.int32), None),
                   **({"grads": g} if record_extras else {}))
    extras: list[dict[str, list]] | None = [dict() for _ in range(m)] if record_extras else None

    status = np.full(m, RUNNING)
    iterations = np.zeros(m, dtype=np.int64)
    reason = np.full(m, "", dtype=object)  # detail for the message
    notes: dict[str, np.ndarray] = {}
    final_X, final_f, final_gnorm = X.copy(), f.copy(), gnorm.copy()

    start_bad = ~(np.isfinite(X).all(axis=-1) & np.isfinite(f))
    status[start_bad] = DIVERGED
    reason[start_bad] = "the start point has no finite value"
    if check_convergence:
        at_minimum = ~start_bad & (gnorm <= tol)
        status[at_minimum] = CONVERGED
        reason[at_minimum] = "grad"

    state = rule.init(X)
    rows: np.ndarray | None = None
    if (status != RUNNING).any():
        keep = np.flatnonzero(status == RUNNING)
        X, f, g, gnorm, H, state = _take((X, f, g, gnorm, H, state), keep)
        rows = keep
        history.start_segment(rows)

    for k in range(steps):
        if X.shape[0] == 0:
            break
        oracle = StepOracle(objective, X, f, g, H, record_extras, fuse_candidates=not needs_hessian)
        update, state = rule.update(g, state, X, k, oracle)
        X_new = X + update
        f_new, g_new, H_new = _next_point(objective, oracle, X_new, needs_hessian)
        gnorm_new = _row_norm(g_new)

        # Divergence: f or x not finite, or ||x|| too big (a nan radius fails the test too).
        radius = _row_norm(X_new)
        ok = (radius <= DIVERGENCE_RADIUS) & np.isfinite(f_new)
        all_ok = bool(ok.all())
        step_counts = oracle.counts
        if not all_ok:  # blown-up rows stay at their last finite point, uncounted
            bad = np.flatnonzero(~ok)
            global_bad = bad if rows is None else rows[bad]
            status[global_bad] = DIVERGED
            iterations[global_bad] = k
            reason[global_bad] = _divergence_reasons(k + 1, X_new[bad], radius[bad], f_new[bad])
            for old, new in ((X, X_new), (f, f_new), (g, g_new), (gnorm, gnorm_new), (H, H_new)):
                if new is not None:
                    new[bad] = old[bad]
            step_counts = _counts_without(step_counts, bad, X.shape[0])
        finished = ~ok
        if check_convergence:
            # Gradient test only: a tiny step (small lr, a line search that shrank a lot) is not
            # a minimum, and calling it "converged" would mislead.
            small_grad = (gnorm_new <= tol) & ok
            if small_grad.any():
                done = np.flatnonzero(small_grad)
                global_done = done if rows is None else rows[done]
                status[global_done] = CONVERGED
                iterations[global_done] = k + 1
                reason[global_done] = "grad"
                finished = finished | small_grad

        for name, note_counts in oracle.notes.items():
            target = notes.get(name)
            if target is None:
                target = notes[name] = np.zeros(m, dtype=np.int64)
            if rows is None:
                target += note_counts
            else:
                target[rows] += note_counts
        history.record(points=X_new, values=f_new, grad_norms=gnorm_new, evaluations=step_counts,
                       **({"grads": g_new} if record_extras else {}))
        if extras is not None:
            for local in range(X.shape[0]):
                if ok[local]:
                    row = local if rows is None else rows[local]
                    for name, value in oracle.logged.items():
                        extras[row].setdefault(name, []).append(value[local])

        X, f, g, H, gnorm = X_new, f_new, g_new, H_new, gnorm_new
        if finished.any():  # write the finished rows out and drop them from the working set
            done = np.flatnonzero(finished)
            global_done = done if rows is None else rows[done]
            put_rows(final_X, global_done, take_rows(X, done))
            final_f[global_done], final_gnorm[global_done] = f[done], gnorm[done]
            keep = np.flatnonzero(~finished)
            X, f, g, gnorm, H, state = _take((X, f, g, gnorm, H, state), keep)
            rows = keep if rows is None else rows[keep]
            history.start_segment(rows)

    if X.shape[0]:  # rows still running after the last step
        running = np.arange(m) if rows is None else rows
        status[running] = MAX_STEPS
        iterations[running] = steps
        final_X[running], final_f[running], final_gnorm[running] = X, f, gnorm

    return BatchTrajectory(
        steps=steps, history=history, final_points=final_X, final_values=final_f, final_grad_norms=final_gnorm,
        status=STATUS_NAMES[status], iterations=iterations, method=spec.name,
        params=used_params, variables=tuple(objective.variables), tol=tol, reasons=reason, notes=notes,
        objective=objective,
        extras=None if extras is None else [_finish_extras(e) for e in extras],
    )


def _finish_extras(extras: dict[str, list]) -> dict[str, Any]:
    finished: dict[str, Any] = {}
    for name, per_step in extras.items():
        if name == "line_search_trials":
            finished[name] = per_step  # ragged: list of lists of (alpha, f)
        else:
            finished[name] = np.array(per_step)
    return finished


def _divergence_reasons(step: int, X_bad: np.ndarray, radius: np.ndarray, values: np.ndarray) -> list[str]:
    x_finite = np.isfinite(X_bad).all(axis=-1)
    return [_divergence_reason(step, xf, r, fv) for xf, r, fv in zip(x_finite, radius, values)]


def _counts_without(step_counts: tuple, bad: np.ndarray, n: int) -> tuple[np.ndarray, None]:
    """The step's ``(uniform, extra_f)`` evaluation counts as an (n, 3) array, 0 on ``bad`` rows."""
    uniform, extra_f = step_counts
    per_row = np.broadcast_to(uniform, (n, len(EVALUATION_KINDS))).copy()
    if extra_f is not None:
        per_row[:, 0] += extra_f
    per_row[bad] = 0
    return per_row, None


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
