"""Scalar line searches along a direction, written for many rows at once.

Each routine works on ``phi(alpha, rows) -> f`` where ``phi`` evaluates the objective at
``x[rows] + alpha * d[rows]``; ``alpha`` has one entry per entry of ``rows`` (a row may appear
more than once: backtracking tries several steps of a few rows in one call). Only rows still
searching are evaluated (an active mask per row, as in SciPy's elementwise iterative methods),
and every trial ``(alpha, f)`` is kept so the explorer can show what the search tried.
"""

from __future__ import annotations

from typing import NamedTuple
from collections.abc import Callable

import numpy as np

from .rows import put_rows

Phi = Callable[[np.ndarray, np.ndarray], np.ndarray]

GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0  # 0.618..., the golden-section shrink factor


class _TrialLog:
    """Collects the (alpha, f) rounds of a search as they come: ``(rows, alphas, values)`` each.

    Only a single run's diagnostics ever read the trials (per row, through ``trials``); padding
    every round to all m rows cost more than the search itself at 40,000 rows.
    """

    def __init__(self, m: int) -> None:
        self.m = m
        self.rounds: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.evaluations = np.zeros(m, dtype=np.int64)

    def evaluate(self, phi: Phi, alpha: np.ndarray, rows: np.ndarray) -> np.ndarray:
        values = np.asarray(phi(alpha, rows), dtype=float)
        self.record(rows, np.array(alpha, dtype=float), values)
        return values

    def record(self, rows: np.ndarray, alpha: np.ndarray, values: np.ndarray) -> None:
        """One round: ``rows`` (distinct) were evaluated at ``alpha``."""
        self.rounds.append((rows, alpha, values))
        if rows.size == self.m:
            self.evaluations += 1
        else:
            self.evaluations[rows] += 1

    def trials(self, row: int) -> list[tuple[float, float]]:
        return [(float(a), float(v)) for a, v in self.trial_array(row)]

    def trial_array(self, row: int) -> np.ndarray:
        """The (alpha, f) pairs tried for one row, in order, as a (trials, 2) array: what a run keeps
        per step (tuples of Python floats held ~7x the memory and scattered the heap, issue 14)."""
        found = []
        for rows, alpha, value in self.rounds:
            hit = np.flatnonzero(rows == row)
            if hit.size:
                found.append((alpha[hit[0]], value[hit[0]]))
        return np.array(found, dtype=float).reshape(-1, 2)


class LineSearchResult(NamedTuple):
    """Outcome per row: chosen step, f there, number of f evaluations, success flag, trials."""

    alpha: np.ndarray
    value: np.ndarray
    evaluations: np.ndarray
    success: np.ndarray
    log: _TrialLog

    def trials(self, row: int) -> list[tuple[float, float]]:
        """The (alpha, f) pairs tried for one row, in order."""
        return self.log.trials(row)

    def trial_array(self, row: int) -> np.ndarray:
        """The same as a (trials, 2) float array."""
        return self.log.trial_array(row)


def backtracking(
    phi: Phi,
    f0: np.ndarray,
    slope0: np.ndarray,
    alpha0: np.ndarray | float,
    *,
    c1: float = 1e-4,
    shrink: float = 0.5,
    max_trials: int = 60,
) -> LineSearchResult:
    """Armijo backtracking: halve alpha until ``phi(a) <= phi(0) + c1 * a * phi'(0)``.

    Args:
      phi: batched ``phi(alpha, rows)``.
      f0: ``phi(0)`` per row, shape ``(m,)``.
      slope0: ``phi'(0) = g . d`` per row (negative for a descent direction).
      alpha0: first trial step (the learning rate, or 1 for Newton-like directions).

    Rows that find no sufficient decrease within ``max_trials`` get ``alpha = 0`` and
    ``success = False`` (standing still is the only step known not to increase f).
    """
    f0 = np.asarray(f0, dtype=float)
    m = f0.shape[0]
    alpha = _first_alphas(alpha0, m)
    log = _TrialLog(m)
    if max_trials < 1 or m == 0:
        return LineSearchResult(np.zeros(m), f0.copy(), log.evaluations, np.zeros(m, dtype=bool), log)
    if m <= SPECULATE_BELOW:
        # A few rows (the tail of a batch run): most steps need more than one trial, and each
        # round costs more in call overhead than in arithmetic, so speculate from the first.
        value = np.full(m, np.nan)
        success = np.zeros(m, dtype=bool)
        searching = np.arange(m)
        trials = 0
    else:
        # The first trial covers every row: no gathers (it is most of the search's work).
        trial = log.evaluate(phi, alpha, np.arange(m))
        success = trial <= f0 + c1 * alpha * slope0
        value = np.where(success, trial, np.nan)
        searching = np.flatnonzero(~success)
        alpha[searching] *= shrink
        trials = 1  # every row still searching has made exactly this many trials
    while searching.size and trials < max_trials:
        if searching.size <= SPECULATE_BELOW:
            ahead = min(SPECULATE_TRIALS, max_trials - trials)
            searching = _backtrack_ahead(phi, log, f0, slope0, alpha, value, success, searching, ahead, c1, shrink)
            trials += ahead
            continue
        tried = alpha[searching]
        trial = log.evaluate(phi, tried, searching)
        f0_s, slope_s = f0[searching], slope0[searching]
        sufficient = trial <= f0_s + c1 * tried * slope_s
        accepted = searching[sufficient]
        value[accepted] = trial[sufficient]
        success[accepted] = True
        searching = searching[~sufficient]
        alpha[searching] *= shrink
        trials += 1
    alpha[~success] = 0.0
    value[~success] = f0[~success]
    return LineSearchResult(alpha, value, log.evaluations, success, log)


# A few rows often need many halvings (up to ~40 at 40,000 starts of a wiggly function), and
# each round of a handful of rows costs ~50 us of call overhead, more than the round's
# arithmetic. Below this many searching rows, the next SPECULATE_TRIALS halvings are evaluated in
# one call; only the trials up to each row's first acceptable one are logged and counted, so the
# result (alpha, value, trials, evaluation counts) is exactly that of halving one at a time.
SPECULATE_BELOW = 64
SPECULATE_TRIALS = 8


def _backtrack_ahead(phi, log, f0, slope0, alpha, value, success, searching, ahead, c1, shrink) -> np.ndarray:
    """``ahead`` halvings of the ``searching`` rows in one ``phi`` call (rows repeat in it).

    Updates ``alpha``, ``value``, ``success`` in place; returns the rows still searching.
    """
    alphas = _halvings(alpha.take(searching), ahead, shrink)  # (ahead, n)
    values = np.asarray(phi(alphas.ravel(), np.tile(searching, ahead)), dtype=float).reshape(alphas.shape)
    sufficient = values <= f0.take(searching) + c1 * alphas * slope0.take(searching)
    found = sufficient.any(axis=0)
    first = np.where(found, sufficient.argmax(axis=0), ahead)  # each row's first acceptable trial
    _log_trials_made(log, searching, alphas, values, first)
    hit = np.flatnonzero(found)
    accepted = searching[hit]
    alpha[accepted] = alphas[first[hit], hit]
    value[accepted] = values[first[hit], hit]
    success[accepted] = True
    rest = ~found
    searching = searching[rest]
    alpha[searching] = alphas[-1, rest] * shrink
    return searching


def _halvings(start: np.ndarray, ahead: int, shrink: float) -> np.ndarray:
    """``(ahead, n)`` trial steps ``start, start*shrink, (start*shrink)*shrink, ...``: the same
    products, in the same order, as shrinking in place one round at a time (``accumulate``
    multiplies sequentially), in three calls instead of one per round."""
    alphas = np.empty((ahead, start.shape[0]))
    alphas[0] = start
    alphas[1:] = shrink
    return np.multiply.accumulate(alphas, axis=0, out=alphas)


def _log_trials_made(log: _TrialLog, searching: np.ndarray, alphas: np.ndarray, values: np.ndarray,
                     first: np.ndarray) -> None:
    """Log (and count) only the trials a one-at-a-time search makes: row ``i`` makes rounds
    ``0..first[i]`` (all of them when none was acceptable, ``first = ahead``).

    Rounds are appended as before; the per-row evaluation counts are added once (the number of
    rounds each row made) instead of one fancy-indexed add per round.
    """
    ahead = alphas.shape[0]
    rounds = min(int(first.max()) + 1, ahead)
    log.rounds.append((searching, alphas[0], values[0]))  # round 0: every searching row
    for j in range(1, rounds):
        made = first >= j
        log.rounds.append((searching[made], alphas[j, made], values[j, made]))
    log.evaluations[searching] += np.minimum(first + 1, ahead)


def _first_alphas(alpha0: np.ndarray | float, m: int) -> np.ndarray:
    """``alpha0`` as a fresh ``(m,)`` array (``np.full`` for a number: one call, not three)."""
    if isinstance(alpha0, (float, int)):
        return np.full(m, float(alpha0))
    return np.broadcast_to(np.asarray(alpha0, dtype=float), (m,)).copy()


def exact(
    phi: Phi,
    f0: np.ndarray,
    alpha0: np.ndarray | float,
    *,
    xtol: float = 1e-6,
    max_expand: int = 60,
    max_shrink: int = 60,
    max_golden: int = 80,
) -> LineSearchResult:
    """Minimise ``phi`` over ``alpha >= 0``: bracket, golden section, one parabolic polish.

    1. Bracket: from ``[0, alpha0]`` expand the right end by the golden ratio while phi keeps
       decreasing, or shrink it toward 0 until a point below ``phi(0)`` is found.
    2. Golden section on the bracket ``lo < mid < hi`` (phi(mid) lowest) down to a width of
       ``xtol * (1 + mid)``.
    3. One parabola through the final three points; it is exact for quadratic phi, so
       quadratic objectives get their exact line minimum, not just ``xtol`` accuracy.

    Rows where no point below ``phi(0)`` exists (non-descent direction) return ``alpha = 0``,
    ``success = False``.
    """
    f0 = np.asarray(f0, dtype=float)
    m = f0.shape[0]
    log = _TrialLog(m)
    grow = 1.0 + 1.0 / GOLDEN  # 2.618...

    lo = np.zeros(m)
    f_lo = f0.copy()
    mid = np.broadcast_to(np.asarray(alpha0, dtype=float), (m,)).copy()
    f_mid = np.full(m, np.nan)
    hi = np.full(m, np.nan)
    f_hi = np.full(m, np.nan)
    rows = np.arange(m)
    f_mid[rows] = log.evaluate(phi, mid, rows)

    # Shrink toward 0 until phi(mid) < phi(0); the old mid becomes hi.
    too_far = rows[~(f_mid < f0)]
    for _ in range(max_shrink):
        if too_far.size == 0:
            break
        hi[too_far], f_hi[too_far] = mid[too_far], f_mid[too_far]
        mid[too_far] *= GOLDEN * GOLDEN
        f_mid[too_far] = log.evaluate(phi, mid[too_far], too_far)
        too_far = too_far[~(f_mid[too_far] < f0[too_far])]
    found = f_mid < f0

    # Expand while still decreasing: (lo, mid, hi) slides right.
    expanding = rows[found & np.isnan(hi)]
    for _ in range(max_expand):
        if expanding.size == 0:
            break
        candidate = mid[expanding] + (mid[expanding] - lo[expanding]) * grow
        f_candidate = log.evaluate(phi, candidate, expanding)
        still_down = f_candidate < f_mid[expanding]
        down, up = expanding[still_down], expanding[~still_down]
        lo[down], f_lo[down] = mid[down], f_mid[down]
        mid[down], f_mid[down] = candidate[still_down], f_candidate[still_down]
        hi[up], f_hi[up] = candidate[~still_down], f_candidate[~still_down]
        expanding = down
    bracketed = found & ~np.isnan(hi)

    # Golden section on (lo, mid, hi): probe the larger sub-interval.
    searching = rows[bracketed]
    for _ in range(max_golden):
        width = hi[searching] - lo[searching]
        searching = searching[width > xtol * (1.0 + mid[searching])]
        if searching.size == 0:
            break
        a, x, b = lo[searching], mid[searching], hi[searching]
        right_larger = (b - x) > (x - a)
        probe = np.where(right_larger, x + (1 - GOLDEN) * (b - x), x - (1 - GOLDEN) * (x - a))
        f_probe = log.evaluate(phi, probe, searching)
        better = f_probe < f_mid[searching]
        # Four cases of the bracket update, written as masks over the searching rows.
        r_b, r_w = right_larger & better, right_larger & ~better
        l_b, l_w = ~right_larger & better, ~right_larger & ~better
        idx = searching
        lo[idx[r_b]], f_lo[idx[r_b]] = x[r_b], f_mid[idx[r_b]]
        mid[idx[r_b]], f_mid[idx[r_b]] = probe[r_b], f_probe[r_b]
        hi[idx[r_w]], f_hi[idx[r_w]] = probe[r_w], f_probe[r_w]
        hi[idx[l_b]], f_hi[idx[l_b]] = x[l_b], f_mid[idx[l_b]]
        mid[idx[l_b]], f_mid[idx[l_b]] = probe[l_b], f_probe[l_b]
        lo[idx[l_w]], f_lo[idx[l_w]] = probe[l_w], f_probe[l_w]

    # Parabolic polish through (lo, mid, hi), accepted only if it lowers phi.
    polish = rows[bracketed]
    if polish.size:
        a, x, b = lo[polish], mid[polish], hi[polish]
        fa, fx, fb = f_lo[polish], f_mid[polish], f_hi[polish]
        numerator = (x - a) ** 2 * (fx - fb) - (x - b) ** 2 * (fx - fa)
        denominator = (x - a) * (fx - fb) - (x - b) * (fx - fa)
        vertex = x - 0.5 * numerator / denominator
        usable = np.isfinite(vertex) & (vertex > a) & (vertex < b) & (vertex != x)
        if usable.any():
            rows_v = polish[usable]
            f_vertex = log.evaluate(phi, vertex[usable], rows_v)
            lower = f_vertex <= f_mid[rows_v]
            mid[rows_v[lower]], f_mid[rows_v[lower]] = vertex[usable][lower], f_vertex[lower]

    alpha = np.where(found, mid, 0.0)
    value = np.where(found, f_mid, f0)
    return LineSearchResult(alpha, value, log.evaluations, found, log)


class TrialMemo:
    """f and ∇f at the trial points of one step's search, kept in the search's state so the
    driver can reuse them at the accepted point (as optax keeps ``value_and_grad`` in the state of
    its line search). Reuse needs the new point to equal the trial bit for bit, so results do
    not change, only the time: one objective call per step saved.

    Each row's latest trial is kept as a candidate; whole partial calls are kept too, since a
    speculative backtracking call holds several trials of a row and the accepted one is often not
    the last (nothing modifies these arrays afterwards).
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self._candidates: list[np.ndarray] | None = None  # [X, f, g] of each row's latest trial
        self._owned = False
        self._partial_calls: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []  # (rows, X, f, g)

    def remember(self, X: np.ndarray, f: np.ndarray, g: np.ndarray, rows: np.ndarray) -> None:
        n = self.n
        if self._candidates is None and rows.size == n:  # first trial of every row: keep as is
            self._candidates = [X, f.copy(), g]
            return
        self._partial_calls.append((rows, X, f, g))
        if self._candidates is None:
            self._candidates = [np.full((n, X.shape[1]), np.nan), np.full(n, np.nan), np.full((n, X.shape[1]), np.nan)]
        elif not self._owned:  # copy on first write: the first arrays may be shared
            self._candidates = [a.copy() for a in self._candidates]
        self._owned = True
        for stored, new in zip(self._candidates, (X, f, g)):
            put_rows(stored, rows, new)

    @property
    def owned(self) -> bool:
        """Whether the remembered candidate arrays are copies only this memo holds (the caller may
        then fill them in place)."""
        return self._owned

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
        """Fill f and ∇f of rows whose ``X_new`` equals a partial-round trial, marking them in ``hit``."""
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
