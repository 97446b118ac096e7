"""Thinned paths: which points of a long run a figure draws (at most ~400, the first steps, the
turning points and the end)."""
from __future__ import annotations

import numpy as np
import pytest

import optcore
from optcore.figures.thinning import MAX_POINTS, thin_indices, thin_series


def _zigzag(corners: int, leg: int, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """A path of straight legs (`leg` points each) between `corners` + 1 corners; the corner indices."""
    rng = rng or np.random.default_rng(0)
    C = np.cumsum(rng.uniform(0.5, 2.0, size=(corners + 1, 2)) * [1.0, 1.0], axis=0)
    C[1::2, 1] -= 3.0   # alternate up and down: every corner turns
    pieces = [np.linspace(C[i], C[i + 1], leg, endpoint=False) for i in range(corners)] + [C[-1:]]
    P = np.concatenate(pieces)
    return P, np.arange(corners + 1) * leg


def _check(idx: np.ndarray, n: int, max_points: int) -> None:
    assert idx.dtype.kind == "i"
    assert len(idx) <= max(max_points, 2)
    assert idx[0] == 0 and idx[-1] == n - 1
    assert np.all(np.diff(idx) > 0), "sorted, no repeats"
    assert idx.min() >= 0 and idx.max() < n


@pytest.mark.parametrize("n", [1, 2, 5, 399, 400])
def test_short_paths_come_back_whole(n):
    P = np.random.default_rng(n).normal(size=(n, 2))
    assert np.array_equal(thin_indices(P), np.arange(n))
    assert np.array_equal(thin_indices(P[:, 0]), np.arange(n))   # 1-D input is one column


@pytest.mark.parametrize("seed", range(12))
def test_bounds_ends_and_order_on_random_walks(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(401, 6000))
    d = int(rng.integers(1, 4))
    max_points = int(rng.integers(2, 600))
    P = np.cumsum(rng.normal(size=(n, d)), axis=0)
    idx = thin_indices(P, max_points)
    _check(idx, n, max_points)
    if max_points >= 16:
        head = int(max_points / 8)
        assert np.array_equal(idx[:head], np.arange(head)), "the first steps are kept"


def test_zigzag_keeps_every_turning_point():
    P, corners = _zigzag(corners=40, leg=120)
    idx = thin_indices(P, 400)
    _check(idx, len(P), 400)
    assert set(corners.tolist()) <= set(idx.tolist())
    # the points between corners are on straight legs: apart from the first steps and the end,
    # nothing else is needed
    extra = set(idx.tolist()) - set(corners.tolist()) - set(range(50)) - set(range(len(P) - 5, len(P)))
    assert not extra, sorted(extra)


def test_zigzag_with_too_many_corners_keeps_the_largest_turns():
    """More corners than the budget: the points kept are corners (largest deviations), never
    points in the middle of a straight leg."""
    P, corners = _zigzag(corners=600, leg=10)
    idx = thin_indices(P, 300)
    _check(idx, len(P), 300)
    middle = set(idx.tolist()) - set(corners.tolist()) - set(range(37)) - set(range(len(P) - 5, len(P)))
    assert not middle, sorted(middle)[:10]


def test_straight_line_needs_only_its_ends_and_head():
    P = np.linspace([0.0, 0.0], [3.0, 1.0], 5000)
    idx = thin_indices(P, 400)
    assert len(idx) <= 400 // 8 + 5 + 1
    _check(idx, 5000, 400)


def test_drawn_path_stays_close_to_the_full_path():
    """Every dropped point lies near the polyline through the kept points (the picture is kept)."""
    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    traj = optcore.run(obj, "momentum", [-1.2, 1.0], steps=5000, tol=0, lr=1e-3)
    P = traj.points
    idx = thin_indices(P, 400)
    _check(idx, len(P), 400)
    scale = np.ptp(P, axis=0)
    Q = P / scale
    seg = np.searchsorted(idx, np.arange(len(P)), side="right") - 1
    seg = np.clip(seg, 0, len(idx) - 2)
    a, b = Q[idx[seg]], Q[idx[seg + 1]]
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", Q - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-300), 0, 1)
    gap = np.linalg.norm(Q - (a + t[:, None] * ab), axis=1)
    assert gap.max() < 0.01, gap.max()   # under 1 % of the path's extent: a few pixels at most


def test_non_finite_points_keep_their_gap_and_are_not_candidates():
    rng = np.random.default_rng(3)
    P = np.cumsum(rng.normal(size=(3000, 2)), axis=0)
    P[1000:1010] = np.nan
    P[2000, 1] = np.inf
    idx = thin_indices(P, 200)
    _check(idx, 3000, 200)
    assert 1000 in idx and 2000 in idx          # the first point of each gap
    assert not set(range(1001, 1010)) & set(idx.tolist())


def test_thin_series_keeps_the_log_scale_shape():
    """A convergence curve that falls fast, plateaus, then falls again: on a log axis the knees
    must survive thinning (a linear-scale thinning would see only the first drop)."""
    k = np.arange(5000)
    y = np.where(k < 1000, 10.0 ** (-k / 250), 1e-4)
    y = np.where(k >= 3000, 1e-4 * 10.0 ** (-(k - 3000) / 200), y)
    idx = thin_series(k, y, 400, log_y=True)
    _check(idx, len(k), 400)
    kept = set(idx.tolist())
    assert any(abs(i - 1000) <= 1 for i in kept) and any(abs(i - 3000) <= 1 for i in kept), "both knees kept"
    logs = np.interp(k, idx, np.log10(y[idx]))
    assert np.max(np.abs(logs - np.log10(y))) < 0.05


def test_default_budget():
    assert MAX_POINTS == 400
    P = np.cumsum(np.random.default_rng(9).normal(size=(10_000, 2)), axis=0)
    assert len(thin_indices(P)) == 400   # a random walk turns everywhere: the budget is used up
