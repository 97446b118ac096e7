"""Row gather/scatter helpers for the batched engine (one row per start point).

``take`` and opaque row writes are an order of magnitude faster than NumPy's fancy indexing for
``(n, d)`` and ``(n, d, d)`` arrays of tiny rows; the driver, the line-search memo and the result
history all move rows this way. Nothing here knows about objectives or methods.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np


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


def take_tree(tree: Any, rows: np.ndarray | None) -> Any:
    """Rows of every array in a (nested) NamedTuple state; ``None`` means all rows. Anything that
    is neither an array nor a tuple (e.g. a line search's memo of this step) passes through."""
    if rows is None:
        return tree
    if isinstance(tree, np.ndarray):
        return take_rows(tree, rows)
    if isinstance(tree, tuple):
        parts = [take_tree(part, rows) for part in tree]
        return type(tree)(*parts) if hasattr(tree, "_fields") else tuple(parts)
    return tree


def row_norm(A: np.ndarray) -> np.ndarray:
    """``||A[i]||`` for (n, d) A: column sums beat ``np.linalg.norm(axis=-1)``'s short-axis reduce
    several times over, and for d <= 8 add in the same order (so the same bits)."""
    d = A.shape[1]
    if d > 8:
        return np.linalg.norm(A, axis=-1)
    total = A[:, 0] * A[:, 0]
    for i in range(1, d):
        total += A[:, i] * A[:, i]
    return np.sqrt(total, out=total)
