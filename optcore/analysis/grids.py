"""Grids over a window (Plotly convention: ``XY[i, j]`` is the point ``(xs[j], ys[i])``) and the
shared types of the analysis modules."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Window = Sequence[tuple[float, float]]
Progress = Callable[[float], None] | None

MAX_GRID = 300          # largest n for an n × n grid of runs (90,000 starts)


def grid(window: Window, n: int, base: Sequence[float] | None = None,
         axes: tuple[int, int] = (0, 1)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An n × n grid over two variables of `window`: (xs, ys, XY) with XY of shape (n, n, d).

    XY[i, j] = (xs[j], ys[i]) in the plotted variables `axes`; for d > 2 the other coordinates are
    held at `base` (a slice through that point). For d == 1 the "grid" is a line: xs has n points,
    ys is empty and XY has shape (n, 1).
    """
    window = [tuple(map(float, w)) for w in window]
    d = len(window)
    n = int(n)
    if n < 2:
        raise ValueError("a grid needs at least 2 points per axis")
    if d == 1:
        xs = np.linspace(*window[0], n)
        return xs, np.empty(0), xs[:, None]
    i, j = axes
    xs = np.linspace(*window[i], n)
    ys = np.linspace(*window[j], n)
    if base is None:
        base = [0.5 * (lo + hi) for lo, hi in window]
    XY = np.broadcast_to(np.asarray(base, dtype=float), (n, n, d)).copy()
    XY[..., i] = xs[None, :]
    XY[..., j] = ys[:, None]
    return xs, ys, XY


def report_progress(on_progress: Progress, fraction: float) -> None:
    if on_progress is not None:
        on_progress(float(min(1.0, max(0.0, fraction))))
