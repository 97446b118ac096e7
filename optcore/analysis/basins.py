"""Basins of attraction: which stationary point each start of a grid ends at."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from collections.abc import Sequence

import numpy as np

from ..driver import run_batch
from ..objective import Objective
from .critical_points import classify_stationary
from .curvature_maps import symmetric_eigenvalues
from .grids import MAX_GRID, Progress, Window, grid, report_progress as _report

DIVERGED = -1
NOT_CONVERGED = -2


@dataclass
class BasinMap:
    """Which stationary point each start of a grid ends at.

    labels[i, j] indexes `attractors` (≥ 0), or is DIVERGED (−1) / NOT_CONVERGED (−2).
    """

    xs: np.ndarray
    ys: np.ndarray
    labels: np.ndarray            # (n, n) int
    iterations: np.ndarray        # (n, n) steps taken
    attractors: np.ndarray        # (k, d) where converged runs ended (cluster centres / known minima)
    attractor_kinds: list[str]    # "min" | "max" | "saddle" | "degenerate" per attractor
    attractor_values: np.ndarray  # f at each attractor
    final_points: np.ndarray = field(repr=False)  # (n, n, d)

    def label_name(self, label: int) -> str:
        if label == DIVERGED:
            return "diverged"
        if label == NOT_CONVERGED:
            return "not converged"
        return f"{self.attractor_kinds[label]} {coordinates_text(self.attractors[label])}"

    def fractions(self) -> dict[str, float]:
        """Share of starts per outcome, largest first."""
        labels, counts = np.unique(self.labels, return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return {self.label_name(int(labels[i])): counts[i] / self.labels.size for i in order}


def coordinates_text(point: Sequence[float], digits: int = 3, noise: float = 1e-9) -> str:
    """"(-0.995, 0)": a coordinate below `noise` times the point's scale (at least 1) is the end's
    float noise, not a place; it printed as (-0.995, -4.96e-25)."""
    values = np.asarray(point, dtype=float).ravel()
    finite = np.abs(values[np.isfinite(values)])
    scale = max(float(finite.max()) if finite.size else 1.0, 1.0)
    return "(" + ", ".join("0" if abs(v) < noise * scale else f"{v:.{digits}g}" for v in values) + ")"


def _cluster(points: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy clustering of points (m, d): (centres (k, d), label per point). Points are bucketed on
    a lattice of cell `radius` first so 90,000 end points cost a handful of distance checks."""
    if len(points) == 0:
        return np.empty((0, points.shape[-1])), np.empty(0, dtype=int)
    keys, inverse = np.unique(np.round(points / radius).astype(np.int64), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse)
    sums = np.zeros((len(keys), points.shape[1]))
    np.add.at(sums, inverse, points)
    cell_means = sums / counts[:, None]
    centres: list[np.ndarray] = []
    weights: list[int] = []
    cell_label = np.empty(len(keys), dtype=int)
    for c in np.argsort(-counts, kind="stable"):   # the most popular cells found the clusters
        for k, centre in enumerate(centres):
            if np.linalg.norm(cell_means[c] - centre) <= 2.0 * radius:
                cell_label[c] = k
                weights[k] += counts[c]
                break
        else:
            cell_label[c] = len(centres)
            centres.append(cell_means[c])
            weights.append(counts[c])
    return np.array(centres), cell_label[inverse]


def basin_map(obj: Objective, method: str, window: Window, n: int = 100, steps: int = 200,
              tol: float = 1e-6, known_minima: Sequence[Sequence[float]] | None = None,
              on_progress: Progress = None, chunk: int = 10_000, merge_tol: float = 1e-3,
              **params) -> BasinMap:
    """Run `method` from every point of an n × n grid over a 2-D window and label each start by
    where it ended.

    Starts run in batches of `chunk` rows (one `run_batch` each; `on_progress(fraction)` after each).
    Converged end points within merge_tol × (window diagonal) of a known minimum take its label;
    the rest are clustered, and each cluster centre is classified as min/max/saddle by its Hessian
    (gradient descent can stop exactly on a saddle from a symmetric start). n ≤ MAX_GRID.
    """
    if len(window) != 2:
        raise ValueError("a basin map needs a function of exactly two variables")
    n = int(n)
    if not 2 <= n <= MAX_GRID:
        raise ValueError(f"grid size must be between 2 and {MAX_GRID} per axis, got {n}")
    xs, ys, XY = grid(window, n)
    X0 = XY.reshape(-1, 2)
    m = len(X0)
    finals = np.full((m, 2), np.nan)
    iterations = np.zeros(m, dtype=int)
    status = np.empty(m, dtype=object)
    for start in range(0, m, chunk):
        stop = min(m, start + chunk)
        batch = run_batch(obj, method, X0[start:stop], steps=steps, tol=tol, **params)
        finals[start:stop] = batch.final_points
        iterations[start:stop] = batch.iterations
        status[start:stop] = batch.status
        _report(on_progress, stop / m)

    W = np.asarray(window, dtype=float)
    diag = float(np.linalg.norm(W[:, 1] - W[:, 0]))
    radius = merge_tol * diag
    labels = np.full(m, NOT_CONVERGED, dtype=int)
    labels[status == "diverged"] = DIVERGED
    converged = np.flatnonzero((status == "converged") & np.isfinite(finals).all(axis=1))

    attractors: list[np.ndarray] = []
    pending = converged
    if known_minima is not None and len(known_minima):
        known = np.asarray(known_minima, dtype=float).reshape(-1, 2)
        dist = np.linalg.norm(finals[converged][:, None, :] - known[None, :, :], axis=-1)
        nearest = np.argmin(dist, axis=1)
        matched = dist[np.arange(len(converged)), nearest] <= 10 * radius
        used = np.unique(nearest[matched])
        remap = {int(k): i for i, k in enumerate(used)}
        attractors.extend(known[used])
        labels[converged[matched]] = [remap[int(k)] for k in nearest[matched]]
        pending = converged[~matched]
    if len(pending):
        centres, sub = _cluster(finals[pending], radius)
        labels[pending] = sub + len(attractors)
        attractors.extend(centres)

    A = np.array(attractors).reshape(-1, 2)
    values = obj.value(A) if len(A) else np.empty(0)
    kinds = [classify_stationary(e) for e in symmetric_eigenvalues(obj.hess(A))] if len(A) else []
    # Order attractors by value so colours are stable between runs of the same function.
    order = np.argsort(values, kind="stable")
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    good = labels >= 0
    labels[good] = rank[labels[good]]
    return BasinMap(xs=xs, ys=ys, labels=labels.reshape(n, n), iterations=iterations.reshape(n, n),
                    attractors=A[order], attractor_kinds=[kinds[i] for i in order],
                    attractor_values=values[order], final_points=finals.reshape(n, n, 2))


def align_basin_labels(maps: Sequence[BasinMap], merge_tol: float = 1e-3
                       ) -> tuple[np.ndarray, list[str], list[np.ndarray]]:
    """Give the attractors of several basin maps (same grid, different methods) common labels, so
    one minimum has one colour in every panel. Returns (attractors (k, d), kinds, labels per map).
    Attractors closer than merge_tol × (grid diagonal) are the same point."""
    if not maps:
        return np.empty((0, 2)), [], []
    diag = math.hypot(np.ptp(maps[0].xs), np.ptp(maps[0].ys))
    radius = merge_tol * diag * 10
    common: list[np.ndarray] = []
    kinds: list[str] = []
    values: list[float] = []
    relabelled = []
    for bm in maps:
        remap = {}
        for k, (a, kind, v) in enumerate(zip(bm.attractors, bm.attractor_kinds, bm.attractor_values)):
            for i, c in enumerate(common):
                if np.linalg.norm(a - c) <= radius:
                    remap[k] = i
                    break
            else:
                remap[k] = len(common)
                common.append(a)
                kinds.append(kind)
                values.append(float(v))
        lab = bm.labels.copy()
        good = lab >= 0
        lab[good] = np.vectorize(remap.get, otypes=[int])(lab[good]) if good.any() else lab[good]
        relabelled.append(lab)
    # Sort the common list by value (minima first in a typical map) and relabel once more.
    order = np.argsort(values, kind="stable")
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    for lab in relabelled:
        good = lab >= 0
        lab[good] = rank[lab[good]]
    return np.array(common)[order].reshape(-1, maps[0].attractors.shape[-1] if len(common) else 2), \
        [kinds[i] for i in order], relabelled
