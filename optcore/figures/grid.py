"""Value grids for contour and surface plots (NumPy only: figure builders receive the result)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def value_grid(obj, window: Sequence[tuple[float, float]], n: int = 200, base: Sequence[float] | None = None,
               axes: tuple[int, int] = (0, 1)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, Z): f on an n × n grid over two variables of `window` (Z[i, j] = f(xs[j], ys[i])).

    For d > 2 the other coordinates are held at `base` (a slice). For d == 1: ys is empty and Z is
    f along xs. Non-finite values become nan (gaps in the plot).
    """
    from optcore.analysis import grid

    xs, ys, XY = grid(window, n, base=base, axes=axes)
    Z = np.asarray(obj.value(XY), dtype=float)
    Z = np.where(np.isfinite(Z), Z, np.nan)
    return xs, ys, Z
