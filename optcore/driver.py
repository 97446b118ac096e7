"""One batched driver for every method: many start points in one NumPy step, honest results.

``run_batch`` advances all still-running rows together (finished rows are frozen, not removed,
so trajectories stay aligned) and ends each row with a status and a sentence saying why.
``run`` is the same driver on one row with per-step diagnostics switched on.

Convergence: ``||grad f|| <= tol`` (a tiny step alone is not taken as convergence: a small lr or
a shrinking line search would pass it far from any minimum); ``tol <= 0`` runs every step.
Divergence: f or x not finite, or ``||x|| > 1e8``; the row stays at its last finite point.

One step of the loop, each a function below: **evaluate** (f, ∇f, H at the start), **step**
(the rule's update, line search included), **next point** (f and ∇f at the new points, reusing
what the line search evaluated), **termination** (diverged or converged rows), **bookkeeping**
(notes, history, diagnostics), and dropping the rows that finished.
"""
from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np

from .methods import build_rule, get_method
from .oracle import StepOracle, evaluate
from .results import (CONVERGED, DIVERGED, DIVERGENCE_RADIUS, EVALUATION_KINDS, MAX_STEPS, RUNNING,
                      STATUS_NAMES, UNDERFLOW_SCALE, BatchTrajectory, History, Trajectory, divergence_reasons,
                      finish_extras)
from .rows import put_rows, row_norm, take_rows, take_tree
from .rules import trial_memo


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


MAX_RUN_STEPS = 1_000_000

# Optional hook for long-running callers (the app's heavy jobs): a callable checked every 20 steps of
# every batched loop in this thread/context; it raises to abandon the run (a cancelled or orphaned job).
STOP_CHECK: ContextVar[Callable[[], None] | None] = ContextVar("optcore_stop_check", default=None)


def _checked_steps(steps: Any) -> int:
    try:
        whole = not isinstance(steps, bool) and float(steps).is_integer()
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole or not 0 <= float(steps) <= MAX_RUN_STEPS:
        raise ValueError(f"steps must be a whole number in [0, {MAX_RUN_STEPS:,}], got {steps!r}")
    return int(float(steps))


def _checked_tol(tol: Any) -> float:
    try:
        value = float(tol)
    except (TypeError, ValueError, OverflowError):
        value = float("nan")
    if not np.isfinite(value):
        raise ValueError(f"tol must be a finite number (tol <= 0 runs every step), got {tol!r}")
    return value


def _drive(objective, method: str, X0, *, steps: int, tol: float, record_extras: bool, **params: Any) -> BatchTrajectory:
    """The front door: every parameter is checked (finite, within its hard bounds) before any work."""
    spec = get_method(method)
    steps, tol = _checked_steps(steps), _checked_tol(tol)
    rule, used_params = build_rule(spec, **params)
    X = np.array(X0, dtype=float, ndmin=2)
    d = objective.dim
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"start points must have shape (m, {d}) for variables {tuple(objective.variables)}, got {X.shape}")
    X = _rows_for_per_row_params(X, used_params, record_extras)
    with np.errstate(all="ignore"):
        return _loop(objective, spec, rule, used_params, X, steps, float(tol), record_extras)


def _rows_for_per_row_params(X: np.ndarray, used_params: dict[str, Any], single: bool) -> np.ndarray:
    """Check per-row parameters (arrays of shape (m,)) against the rows of X; one start point is
    repeated for every row (a ladder of learning rates from one start)."""
    sizes = {name: value.shape[0] for name, value in used_params.items() if isinstance(value, np.ndarray)}
    if not sizes:
        return X
    if single:
        raise ValueError(f"run takes one value per parameter; {', '.join(sizes)} "
                         "given per row: use run_batch for one value per start")
    if len(set(sizes.values())) > 1:
        raise ValueError("per-row parameters must all have the same length, got "
                         + ", ".join(f"{name}: {size}" for name, size in sizes.items()))
    m = next(iter(sizes.values()))
    if X.shape[0] == 1:
        return np.repeat(X, m, axis=0)
    if X.shape[0] != m:
        raise ValueError(f"per-row parameters ({', '.join(sizes)}) have {m} values but there are "
                         f"{X.shape[0]} start points; give one start, or one per value")
    return X


@dataclass
class _Working:
    """The rows still running. ``rows`` maps the working arrays to global rows (``None`` while all
    m rows run, so the common case gathers nothing)."""

    X: np.ndarray
    f: np.ndarray
    g: np.ndarray
    gnorm: np.ndarray
    H: np.ndarray | None
    state: Any
    rows: np.ndarray | None = None

    def global_rows(self, local: np.ndarray) -> np.ndarray:
        return local if self.rows is None else self.rows[local]

    def keep(self, local: np.ndarray) -> None:
        """Drop every working row but ``local``."""
        self.X, self.f, self.g, self.gnorm, self.H, self.state = take_tree(
            (self.X, self.f, self.g, self.gnorm, self.H, self.state), local)
        self.rows = self.global_rows(local)


@dataclass
class _Book:
    """What is known about all m rows: why and when each stopped, where it ended, its history."""

    status: np.ndarray
    iterations: np.ndarray
    reason: np.ndarray  # detail for the message
    notes: dict[str, np.ndarray]
    final_X: np.ndarray
    final_f: np.ndarray
    final_gnorm: np.ndarray
    history: History
    extras: list[dict[str, list]] | None

    def stop(self, rows: np.ndarray, status: int, iterations: int, reason) -> None:
        self.status[rows] = status
        self.iterations[rows] = iterations
        self.reason[rows] = reason


def _loop(objective, spec, rule, used_params, X, steps, tol, record_extras) -> BatchTrajectory:
    """Advance the running rows together; a row that finishes is written out and dropped, so no
    step ever touches a frozen row, and the line search never searches on behalf of one."""
    needs_hessian = spec.needs_hessian
    work, book = _start(objective, rule, X, tol, record_extras, needs_hessian)
    should_stop = STOP_CHECK.get()
    for k in range(steps):
        if work.X.shape[0] == 0:
            break
        if should_stop is not None and k % 20 == 0:
            should_stop()  # may raise: the caller abandons the run
        _advance(objective, rule, work, book, k, tol, record_extras, needs_hessian)
    return _finish(objective, spec, used_params, work, book, steps, tol)


def _start(objective, rule, X, tol, record_extras, needs_hessian) -> tuple[_Working, _Book]:
    """Evaluate at the starts, record step 0, stop rows that start undefined or already converged."""
    m = X.shape[0]
    f, g, H = evaluate(objective, X, needs_hessian)
    gnorm = row_norm(g)
    history = History(m)
    history.start_segment(None)
    # Evaluation counts are recorded as per-step increments, usually one (3,) row for all rows,
    # and summed up only when someone asks for them.
    history.record(points=X, values=f, grad_norms=gnorm,
                   evaluations=(np.zeros(len(EVALUATION_KINDS), dtype=np.int32), None),
                   **({"grads": g} if record_extras else {}))
    book = _Book(status=np.full(m, RUNNING), iterations=np.zeros(m, dtype=np.int64),
                 reason=np.full(m, "", dtype=object), notes={}, final_X=X.copy(), final_f=f.copy(),
                 final_gnorm=gnorm.copy(), history=history,
                 extras=[dict() for _ in range(m)] if record_extras else None)
    start_bad = ~(np.isfinite(X).all(axis=-1) & np.isfinite(f))
    book.stop(start_bad, DIVERGED, 0, "the start point has no finite value")
    if tol > 0:
        at_minimum = ~start_bad & (gnorm <= tol)
        if at_minimum.any():
            at_minimum &= ~_underflowed(objective, X, f, g, at_minimum, book, None)
        book.stop(at_minimum, CONVERGED, 0, "grad")
    work = _Working(X, f, g, gnorm, H, rule.init(X))
    if (book.status != RUNNING).any():
        work.keep(np.flatnonzero(book.status == RUNNING))
        history.start_segment(work.rows)
    return work, book


def _advance(objective, rule, work: _Working, book: _Book, k: int, tol: float, record_extras: bool,
             needs_hessian: bool) -> None:
    """One step of every working row: step, next point, termination, bookkeeping, drop finished."""
    oracle = StepOracle(objective, work.X, work.f, work.g, work.H, record_extras, trial_grads=not needs_hessian)
    update, state = rule.update(work.g, work.state, work.X, k, oracle)
    X_new = work.X + update
    f_new, g_new, H_new = _next_point(objective, trial_memo(state), X_new, needs_hessian)
    gnorm_new = row_norm(g_new)
    new = [X_new, f_new, g_new, gnorm_new, H_new]
    ok, finished, step_counts = _terminate(objective, work, book, k, new, oracle.counts, tol)
    _bookkeep(work, book, oracle, ok, new, step_counts, record_extras)
    work.X, work.f, work.g, work.gnorm, work.H = new
    work.state = state
    if finished.any():  # write the finished rows out and drop them from the working set
        done = np.flatnonzero(finished)
        global_done = work.global_rows(done)
        put_rows(book.final_X, global_done, take_rows(work.X, done))
        book.final_f[global_done], book.final_gnorm[global_done] = work.f[done], work.gnorm[done]
        work.keep(np.flatnonzero(~finished))
        book.history.start_segment(work.rows)


def _next_point(objective, memo, X_new: np.ndarray, needs_hessian: bool):
    """f, ∇f (and H) at the new points, reusing what the line search already evaluated there."""
    known = None if needs_hessian or memo is None else memo.known_at(X_new)
    if known is None:
        return evaluate(objective, X_new, needs_hessian)
    f_c, g_c, hit = known
    if hit.all():
        return f_c, g_c, None
    # Candidates written row by row are the memo's own copies, and the memo ends with this step:
    # fill them in place (two copies of every row saved). The first trial's arrays may not be.
    f_new, g_new = (f_c, g_c) if memo.owned else (f_c.copy(), g_c.copy())
    memo.recall(X_new, hit, f_new, g_new)
    miss = np.flatnonzero(~hit)
    if miss.size == 0:
        return f_new, g_new, None
    f_miss, g_miss, _ = evaluate(objective, take_rows(X_new, miss), False)
    f_new[miss] = f_miss
    put_rows(g_new, miss, g_miss)
    return f_new, g_new, None


def _terminate(objective, work: _Working, book: _Book, k: int, new: list, step_counts, tol: float):
    """Stop the rows that diverged (they stay at their last finite point, this step uncounted) or
    converged. Returns ``(ok, finished, step_counts)`` over the working rows."""
    X_new, f_new, g_new, gnorm_new, H_new = new
    # Divergence: f or x not finite, or ||x|| too big (a nan radius fails the test too).
    radius = row_norm(X_new)
    ok = (radius <= DIVERGENCE_RADIUS) & np.isfinite(f_new)
    if not ok.all():
        bad = np.flatnonzero(~ok)
        book.stop(work.global_rows(bad), DIVERGED, k,
                  divergence_reasons(k + 1, X_new[bad], radius[bad], f_new[bad]))
        for old_value, new_value in zip((work.X, work.f, work.g, work.gnorm, work.H), new):
            if new_value is not None:
                new_value[bad] = old_value[bad]
        step_counts = _counts_without(step_counts, bad, work.X.shape[0])
    finished = ~ok
    if tol > 0:
        # Gradient test only: a tiny step (small lr, a line search that shrank a lot) is not
        # a minimum, and calling it "converged" would mislead.
        small_grad = (gnorm_new <= tol) & ok
        if small_grad.any():
            small_grad &= ~_underflowed(objective, X_new, f_new, g_new, small_grad, book, work.rows)
        if small_grad.any():
            book.stop(work.global_rows(np.flatnonzero(small_grad)), CONVERGED, k + 1, "grad")
            finished = finished | small_grad
    return ok, finished, step_counts


def _underflowed(objective, X, f, g, candidates: np.ndarray, book: _Book, rows: np.ndarray | None) -> np.ndarray:
    """Rows among ``candidates`` (small gradient) where f, ∇f and ∇²f are all tiny but not all
    exactly 0: values too small to be evidence of a stationary point (an exponential's tail).
    Noted per row; exact zeros (x⁴ at 0) are left to the curvature words."""
    tiny = candidates & (np.abs(f) < UNDERFLOW_SCALE) & (np.abs(g) < UNDERFLOW_SCALE).all(axis=-1)
    if not tiny.any():
        return tiny
    local = np.flatnonzero(tiny)
    H = np.asarray(objective.hess(X[local]), dtype=float).reshape(local.size, -1)
    nonzero = (f[local] != 0) | (g[local] != 0).any(axis=-1) | (H != 0).any(axis=-1)
    under = np.zeros_like(tiny)
    under[local] = nonzero & (np.abs(H) < UNDERFLOW_SCALE).all(axis=-1)
    # Exact zeros are a true flat point (x⁴ at 0) unless they are zeros by underflow
    # (exp(-121506) is 0.0): only a re-evaluation with the underflow flag tells them apart.
    zeros = local[~nonzero]
    if zeros.size and _evaluation_underflows(objective, X[zeros]):
        # Which rows? One by one for the first few; the rest of such a batch keep running (no claim).
        under[zeros] = True
        for i in zeros[:_UNDERFLOW_CHECKS]:
            under[i] = _evaluation_underflows(objective, X[i : i + 1])
    if under.any():
        counts = book.notes.setdefault("underflow", np.zeros(book.status.shape[0], dtype=np.int64))
        counts[under.nonzero()[0] if rows is None else rows[under]] += 1
    return under


# Rows of exact zeros re-evaluated one by one when their batch underflowed (bounded work per step).
_UNDERFLOW_CHECKS = 8


def _evaluation_underflows(objective, X: np.ndarray) -> bool:
    """Whether evaluating f and ∇f at the rows of ``X`` underflows anywhere (a value flushed to 0
    or subnormal)."""
    function = getattr(objective, "_function", None)  # the compiled f, ∇f (Objective._evaluate ignores flags)
    if function is None:
        return False
    try:
        with np.errstate(all="ignore", under="raise"):
            function("fg")(*(np.asarray(X[:, i], dtype=float) for i in range(X.shape[-1])))
    except FloatingPointError:
        return True
    except Exception:  # any other failure is not evidence of underflow
        return False
    return False


def _counts_without(step_counts: tuple, bad: np.ndarray, n: int) -> tuple[np.ndarray, None]:
    """The step's ``(uniform, extra_f)`` evaluation counts as an (n, 3) array, 0 on ``bad`` rows."""
    uniform, extra_f = step_counts
    per_row = np.broadcast_to(uniform, (n, len(EVALUATION_KINDS))).copy()
    if extra_f is not None:
        per_row[:, 0] += extra_f
    per_row[bad] = 0
    return per_row, None


def _bookkeep(work: _Working, book: _Book, oracle: StepOracle, ok: np.ndarray, new: list, step_counts,
              record_extras: bool) -> None:
    """Add the step's notes, history and (single runs) per-step diagnostics."""
    X_new, f_new, g_new, gnorm_new, _ = new
    m = book.status.shape[0]
    for name, note_counts in oracle.notes.items():
        target = book.notes.get(name)
        if target is None:
            target = book.notes[name] = np.zeros(m, dtype=np.int64)
        if work.rows is None:
            target += note_counts
        else:
            target[work.rows] += note_counts
    book.history.record(points=X_new, values=f_new, grad_norms=gnorm_new, evaluations=step_counts,
                        **({"grads": g_new} if record_extras else {}))
    if book.extras is not None:
        for local in range(X_new.shape[0]):
            if ok[local]:
                row = local if work.rows is None else work.rows[local]
                for name, value in oracle.logged.items():
                    book.extras[row].setdefault(name, []).append(value[local])


def _finish(objective, spec, used_params, work: _Working, book: _Book, steps: int, tol: float) -> BatchTrajectory:
    """Rows still running after the last step stop at ``max_steps``; wrap everything up."""
    m = book.status.shape[0]
    if work.X.shape[0]:
        running = np.arange(m) if work.rows is None else work.rows
        book.status[running] = MAX_STEPS
        book.iterations[running] = steps
        book.final_X[running], book.final_f[running], book.final_gnorm[running] = work.X, work.f, work.gnorm
    return BatchTrajectory(
        steps=steps, history=book.history, final_points=book.final_X, final_values=book.final_f,
        final_grad_norms=book.final_gnorm, status=STATUS_NAMES[book.status], iterations=book.iterations,
        method=spec.name, params=used_params, variables=tuple(objective.variables), tol=tol,
        reasons=book.reason, notes=book.notes, objective=objective,
        extras=None if book.extras is None else [finish_extras(e) for e in book.extras],
    )
