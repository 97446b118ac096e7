"""What a run returns: :class:`Trajectory` (one start) and :class:`BatchTrajectory` (m starts).

Both speak one vocabulary (scipy's ``OptimizeResult`` is the model: every run says *why* it
stopped): ``points``, ``values``, ``grads``, ``grad_norms``, ``status``, ``message``,
``iterations``, ``evaluations``, ``stopped_at``, ``final_point``, ``final_value``,
``final_grad_norm``; a batch has a leading row axis on each (``batch.message[i]`` is row i's
sentence). Older names stay as aliases: ``BatchTrajectory.final_points`` / ``final_values`` /
``final_grad_norms`` / ``messages`` and ``batch.message(i)``.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Sequence

import numpy as np

from .curvature import classify_curvature
from .rows import put_rows
from .rules import STEP_DIAGNOSTICS

DIVERGENCE_RADIUS = 1e8
# Below this size f, ∇f and ∇²f are no evidence of a stationary point: squares underflow (‖∇f‖
# reads 0), and exp(100x) at x = -5 has ∇f = 7e-216 with no stationary point anywhere.
UNDERFLOW_SCALE = 1e-150

RUNNING, CONVERGED, MAX_STEPS, DIVERGED = 0, 1, 2, 3
STATUS_NAMES = np.array(["running", "converged", "max_steps", "diverged"])

EVALUATION_KINDS = ("f", "grad", "hess")

_RAGGED_DIAGNOSTICS = frozenset(d.name for d in STEP_DIAGNOSTICS if d.shape == "trials")
# Events that rules report per row (oracle.note), and how the final message mentions them.
NOTE_TEXT = {
    "singular_hessian": "the Hessian was singular at {n} step(s), so the pseudo-inverse was used",
    "line_search_failed": "the line search found no decrease at {n} step(s), so the point stayed put",
    "bfgs_skipped": "the quasi-Newton update was skipped at {n} step(s) because s·y ≤ 0",
    "lbfgs_reset": "the L-BFGS memory was cleared at {n} step(s) because s·y ≤ 0",
    "underflow": "f, ∇f and ∇²f underflowed (below 1e-150 in size, or 0 only by underflow) at {n} point(s): "
                 "no minimum found there; a gradient that small is no evidence of one, so it was not taken "
                 "as convergence",
}


# A converged run that is not at a minimum says so: students read "converged" as "found the minimum".
STOPPED_AT_TEXT = {
    "saddle point": ", at a saddle point (∇²f has eigenvalues of both signs), not a minimum",
    "maximum": ", at a local maximum (∇²f is negative definite), not a minimum",
    "flat point": ", at a point where ∇²f is singular: the curvature cannot tell a minimum from a saddle",
}

# A run whose ∇f fell below tol while x kept moving by steady steps is not at a stationary point:
# Newton on exp(100x) steps by -1/100 forever while ∇f shrinks geometrically ("converged in 28
# steps" of a function with no stationary point). A point approached has shrinking steps: Newton
# on x^8 shrinks them by 6/7 per step, GD on x^4 like k^(-3/2).
STILL_MOVING = "still moving"
STEADY_MIN_STEPS = 6     # judged over the second half of the run: at least 3 steps in it
STEADY_RATIO = 0.8       # the last steps at least this share of the steps half-way: not shrinking
STRAIGHT_RATIO = 0.9     # net displacement over the second half / distance walked: one direction
MOVING_SCALE = 1e-9      # a last step below this (relative to max(1, ‖x‖)) is rounding, not movement


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
    stopped_at: str = ""  # for a converged run: "minimum" | "saddle point" | "maximum" | "flat point" | "still moving"

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

    @property
    def final_grad_norm(self) -> float:
        return float(self.grad_norms[-1])

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


class History:
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
    history: History = field(repr=False)
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

    # One vocabulary with Trajectory: singular names, a leading row axis.
    @property
    def final_point(self) -> np.ndarray:
        """``(m, d)`` last finite point of each row (alias: ``final_points``)."""
        return self.final_points

    @property
    def final_value(self) -> np.ndarray:
        """``(m,)`` f at ``final_point`` (alias: ``final_values``)."""
        return self.final_values

    @property
    def final_grad_norm(self) -> np.ndarray:
        """``(m,)`` ‖∇f‖ at ``final_point`` (alias: ``final_grad_norms``)."""
        return self.final_grad_norms

    @functools.cached_property
    def grads(self) -> np.ndarray:
        """``(m, steps+1, d)`` gradients (recorded for single runs, recomputed at the points for
        big batches: the same point gives the same numbers)."""
        if self.grad_history is not None:
            return _pad_history(self.grad_history, self.steps)
        with np.errstate(all="ignore"):
            return np.asarray(self.objective.grad(self.points), dtype=float)

    @functools.cached_property
    def message(self) -> RowMessages:
        """Why each row stopped: ``message[i]`` (or the older ``message(i)``), built on demand."""
        return RowMessages(self._row_message, len(self))

    def _row_message(self, i: int) -> str:
        """Why row ``i`` stopped, as a sentence."""
        k = int(self.iterations[i])
        notes = {name: int(count[i]) for name, count in self.notes.items() if count[i]}
        if self.stopped_at[i] == STILL_MOVING:
            last_step = float(np.linalg.norm(self.point_history[k, i] - self.point_history[k - 1, i]))
            return _still_moving_message(k, float(self.final_grad_norms[i]), last_step, notes)
        text = _message(str(self.status[i]), k, self.reasons[i], float(self.final_grad_norms[i]), notes)
        return text + STOPPED_AT_TEXT.get(self.stopped_at[i], "")

    @functools.cached_property
    def stopped_at(self) -> np.ndarray:
        """``(m,)`` what each converged row found: "minimum", "saddle point", "maximum" or "flat
        point" (a zero eigenvalue: the Hessian cannot tell), or "still moving" (∇f fell below tol
        while x kept walking toward an infimum, see `still_moving`); "" for rows that did not converge.

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
        if "points" in self.history.segments[0][1]:
            moving = converged[still_moving(self.objective, self.point_history, self.value_history,
                                            self.iterations[converged], converged)]
            kinds[moving] = STILL_MOVING
        return kinds

    @functools.cached_property
    def messages(self) -> np.ndarray:
        """``(m,)`` sentences (an alias of ``np.asarray(message)``); 40,000 take a moment."""
        return np.asarray(self.message)

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
            message=self._row_message(i),
            iterations=k,
            evaluations={kind: counts[:, j].astype(np.int64) for j, kind in enumerate(EVALUATION_KINDS)},
            extras=self.extras[i] if self.extras is not None else {},
            method=self.method,
            params={name: float(value[i]) if isinstance(value, np.ndarray) else value
                    for name, value in self.params.items()},
            variables=self.variables,
            stopped_at=str(self.stopped_at[i]),
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


class RowMessages:
    """Per-row sentences of a batch, built when read: ``message[i]``, ``message(i)`` (the older
    spelling), ``len``, iteration and ``np.asarray``."""

    def __init__(self, build, m: int) -> None:
        self._build = build
        self._m = m
        self._cache: dict[int, str] = {}

    def __getitem__(self, i: int) -> str:
        i = int(i)
        if i < 0:
            i += self._m
        if not 0 <= i < self._m:
            raise IndexError(f"row {i} out of range for {self._m} rows")
        if i not in self._cache:
            self._cache[i] = self._build(i)
        return self._cache[i]

    __call__ = __getitem__

    def __len__(self) -> int:
        return self._m

    def __iter__(self):
        return (self[i] for i in range(self._m))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.array(list(self), dtype=object)


def finish_extras(extras: dict[str, list]) -> dict[str, Any]:
    finished: dict[str, Any] = {}
    for name, per_step in extras.items():
        if name in _RAGGED_DIAGNOSTICS:
            finished[name] = per_step  # ragged: one (trials, 2) array of (alpha, f) per step
        else:
            finished[name] = np.array(per_step)
    return finished


def divergence_reasons(step: int, X_bad: np.ndarray, radius: np.ndarray, values: np.ndarray) -> list[str]:
    x_finite = np.isfinite(X_bad).all(axis=-1)
    return [_divergence_reason(step, xf, r, fv) for xf, r, fv in zip(x_finite, radius, values)]


def _divergence_reason(step: int, x_finite: bool, radius: float, value: float) -> str:
    if not x_finite:
        return f"diverged at step {step}: the step became non-finite"
    if not np.isfinite(radius) or radius > DIVERGENCE_RADIUS:
        return f"diverged at step {step}: ‖x‖ exceeded {DIVERGENCE_RADIUS:.0e}"
    if np.isnan(value):  # log(x) at x < 0, sqrt of a negative, 0/0: outside f's domain
        return (f"diverged at step {step}: the step left the region where f is defined "
                "(no real value there, as for the log or the square root of a negative number)")
    if value > 0:
        return f"diverged at step {step}: f became +inf (it overflowed or hit a pole)"
    return f"diverged at step {step}: f became -inf (f is unbounded below there)"


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def still_moving(objective, points: np.ndarray, values: np.ndarray, iterations: np.ndarray,
                 rows: np.ndarray) -> np.ndarray:
    """Which of the stopped ``rows`` (time-major ``points`` (K+1, m, d) and ``values`` (K+1, m), each
    row stopped after ``iterations``) were still walking toward an infimum when ∇f fell below tol:
    over the second half of the run the steps did not shrink (the last three at least STEADY_RATIO
    of the three half-way), went one way (net displacement at least STRAIGHT_RATIO of the distance
    walked) and are not rounding-sized, f kept falling, and f keeps falling along the direction of
    travel for RAY_DOUBLINGS doublings of the last step. Adam crossing the flat bottom of x^4 also
    moves by steady steps, but f rises again one step further: a stationary point lies on its way.
    Returns a bool array over ``rows``."""
    rows = np.asarray(rows, dtype=np.intp)
    k = np.asarray(iterations, dtype=np.intp)
    out = np.zeros(rows.shape, dtype=bool)
    long_enough = k >= STEADY_MIN_STEPS
    if objective is None or not long_enough.any():
        return out
    r, k = rows[long_enough], k[long_enough]
    P = points[:, r]                                        # (K+1, r, d)
    cols = np.arange(r.size)
    with np.errstate(all="ignore"):
        S = np.linalg.norm(np.diff(P, axis=0), axis=-1)     # (K, r): step j+1 is S[j]
        walked = np.vstack([np.zeros((1, r.size)), np.cumsum(S, axis=0)])
        h = k // 2
        last = np.min([S[k - j, cols] for j in (1, 2, 3)], axis=0)
        middle = np.max([S[h + j, cols] for j in (0, 1, 2)], axis=0)
        net = np.linalg.norm(P[k, cols] - P[h, cols], axis=-1)
        path = walked[k, cols] - walked[h, cols]
        scale = np.maximum(1.0, np.linalg.norm(P[k, cols], axis=-1))
        steady = ((last >= STEADY_RATIO * middle) & (net >= STRAIGHT_RATIO * path)
                  & (last > MOVING_SCALE * scale) & (values[k, r] < values[h, r]) & np.isfinite(last))
    if steady.any():
        where = np.flatnonzero(steady)
        steady[where] = _falls_along_the_way(objective, P[k[where], where], P[k[where] - 1, where],
                                             values[k[where], r[where]])
    out[long_enough] = steady
    return out


RAY_DOUBLINGS = 20   # look a million last steps ahead: an infimum at infinity, or a stationary point on the way


def _falls_along_the_way(objective, X: np.ndarray, X_before: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Per row, whether f does not rise along the ray from X in the direction of the last step
    (X - X_before), at 1, 2, 4, ... 2^RAY_DOUBLINGS last steps ahead, up to where f stops being
    finite or ‖x‖ passes DIVERGENCE_RADIUS."""
    t = 2.0 ** np.arange(RAY_DOUBLINGS + 1)
    ahead = X[:, None, :] + t[None, :, None] * (X - X_before)[:, None, :]      # (n, T, d)
    n, T, d = ahead.shape
    try:
        with np.errstate(all="ignore"):
            F = np.asarray(objective.value(ahead.reshape(n * T, d)), dtype=float).reshape(n, T)
    except Exception:
        return np.zeros(n, dtype=bool)
    usable = np.isfinite(F) & (np.linalg.norm(ahead, axis=-1) <= DIVERGENCE_RADIUS)
    usable = np.cumprod(usable, axis=1).astype(bool)        # up to the first unusable point
    G = np.concatenate([f[:, None], np.where(usable, F, np.nan)], axis=1)
    rises = np.nan_to_num(np.diff(G, axis=1), nan=0.0) > 0
    return usable[:, :6].all(axis=1) & ~rises.any(axis=1)


def _still_moving_message(iterations: int, grad_norm: float, last_step: float, notes: dict[str, int]) -> str:
    text = (f"‖∇f‖ = {grad_norm:.3g} fell below tol after {_steps(iterations)}, but x is still moving by "
            f"steady steps (the last one {last_step:.3g} long): f is approaching an infimum (its greatest "
            "lower bound, perhaps at infinity), not a stationary point")
    details = [NOTE_TEXT.get(name, name + " at {n} step(s)").format(n=n) for name, n in notes.items()]
    return text + (f" ({'; '.join(details)})" if details else "")


def _message(status: str, iterations: int, reason: str, grad_norm: float, notes: dict[str, int]) -> str:
    if status == "converged":
        text = f"converged in {_steps(iterations)}: ‖∇f‖ = {grad_norm:.3g} ≤ tol"
    elif status == "diverged":
        text = reason
    else:
        shown = "< 1e-150" if grad_norm == 0 and "underflow" in notes else f"= {grad_norm:.3g}"  # ‖∇f‖² underflowed
        text = f"stopped after {_steps(iterations)}; ‖∇f‖ {shown}"
    details = [NOTE_TEXT.get(name, name + " at {n} step(s)").format(n=n) for name, n in notes.items()]
    return text + (f" ({'; '.join(details)})" if details else "")
