"""Which points of a long path to draw: the first steps, the turning points and the end.

A 5000-step run drawn point by point is megabytes of JSON and a slow redraw, yet a screen shows
no more than a few hundred distinct places along a path. `thin_indices` picks at most
`max_points` of them (the same indices serve every coordinate, the function values and the
step numbers), so a figure's size no longer depends on the number of steps. Exports keep every
point: only figures call this.

The turning points come from a breadth-first Ramer–Douglas–Peucker: every round splits each
drawn segment at the point farthest from it, all segments at once (one vectorised pass over the
path per round, about log2(max_points) rounds), and when the budget runs short the farthest
points win. Straight stretches cost two points; a zig-zag keeps its corners.
"""
from __future__ import annotations

import numpy as np

MAX_POINTS = 400
HEAD_FRACTION = 1 / 8   # share of the budget spent on the first steps (where most paths turn fastest)
TAIL_POINTS = 4         # the last few steps: the approach to where the run stopped
TOLERANCE = 1e-4        # deviation (in units of the path's extent) below which a segment is straight


def thin_indices(points, max_points: int = MAX_POINTS, *, scale=None, tolerance: float = TOLERANCE) -> np.ndarray:
    """Sorted indices of the rows of `points` (k+1, d) worth drawing: at most `max_points`.

    Always the first and the last row; then the first steps and the last few, then the turning
    points (largest deviation from the chord between kept neighbours, measured after dividing
    each coordinate by `scale`, default its extent over the path). A path of at most
    `max_points` rows comes back whole. Rows with a non-finite coordinate are not candidates,
    except the first of each non-finite stretch (the gap it draws stays visible).
    """
    P = np.asarray(points, dtype=float)
    if P.ndim == 1:
        P = P[:, None]
    n = len(P)
    max_points = max(int(max_points), 2)
    if n <= max_points:
        return np.arange(n)
    finite = np.isfinite(P).all(axis=1)
    gaps = np.flatnonzero(~finite & np.r_[True, finite[:-1]])   # first row of each non-finite stretch
    head = max(1, min(int(max_points * HEAD_FRACTION), max_points // 2))
    tail = min(TAIL_POINTS, max(0, max_points - head - 2))
    keep = np.zeros(n, dtype=bool)
    keep[:head] = True
    keep[n - 1 - tail:] = True
    keep[gaps[: max(0, max_points - int(keep.sum()))]] = True
    budget = max_points - int(keep.sum())
    rows = np.flatnonzero(finite)
    if budget > 0 and len(rows) > 2:
        Q = P[rows]
        if scale is None:
            scale = np.ptp(Q, axis=0)
        scale = np.asarray(scale, dtype=float) * np.ones(Q.shape[1])
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        chosen = _rdp_breadth_first(Q / scale, keep[rows], budget, tolerance)
        keep[rows[chosen]] = True
    return np.flatnonzero(keep)


def _rdp_breadth_first(Q: np.ndarray, kept: np.ndarray, budget: int, tolerance: float) -> np.ndarray:
    """Indices of Q to add to `kept` (bool per row; the first and last finite rows are added
    here if missing): at most `budget` of them, the farthest from their segment's chord first."""
    kept = kept.copy()
    added: list[np.ndarray] = []
    for end in (0, len(Q) - 1):
        if not kept[end]:
            kept[end] = True
            added.append(np.array([end]))
            budget -= 1
    while budget > 0:
        anchors = np.flatnonzero(kept)
        inner = np.flatnonzero(~kept)
        if inner.size == 0:
            break
        segment = np.searchsorted(anchors, inner) - 1        # the kept neighbours of each candidate
        a, b = Q[anchors[segment]], Q[anchors[segment + 1]]
        deviation = _distance_to_segment(Q[inner], a, b)
        # the farthest candidate of every segment: sort by (segment, -deviation), take each first
        order = np.lexsort((-deviation, segment))
        first = order[np.r_[True, segment[order][1:] != segment[order][:-1]]]
        first = first[deviation[first] > tolerance]
        if first.size == 0:
            break
        if first.size > budget:
            first = first[np.argsort(-deviation[first], kind="stable")[:budget]]
        kept[inner[first]] = True
        added.append(inner[first])
        budget -= first.size
    return np.concatenate(added) if added else np.array([], dtype=int)


def _distance_to_segment(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distance from p to the segment a–b (to a itself when a == b: a loop)."""
    ab = b - a
    length2 = np.einsum("ij,ij->i", ab, ab)
    t = np.einsum("ij,ij->i", p - a, ab) / np.where(length2 > 0, length2, 1.0)
    t = np.clip(np.where(length2 > 0, t, 0.0), 0.0, 1.0)
    return np.linalg.norm(p - (a + t[:, None] * ab), axis=1)


def thin_series(x, y, max_points: int = MAX_POINTS, *, log_y: bool = False) -> np.ndarray:
    """Indices of a curve y(x) worth drawing (a convergence plot): thinned in the space it is
    drawn in, log10 |y| on a log axis, so the shape seen on the log scale is kept."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if log_y:
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.log10(np.abs(y))
    return thin_indices(np.column_stack([x, y]), max_points)


__all__ = ["MAX_POINTS", "thin_indices", "thin_series"]
