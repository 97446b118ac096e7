"""Numbers as the pages print them: no float noise (values below 1e-12 of their scale print as 0)
and vectors in full, never cut off."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optcore.analysis import coordinates_text


def format_number(v: float, scale: float = 1.0, digits: int = 6) -> str:
    """A number without float noise: values below 1e-12 of the scale shown (the largest |value| of
    the vector or run it belongs to) print as 0."""
    v = float(v)
    if not np.isfinite(v):
        return str(v)
    if abs(v) < 1e-12 * abs(float(scale)):
        return "0"
    return f"{v:.{digits}g}"


def format_vector(v: Sequence[float], digits: int = 6) -> str:
    """A vector in full (never cut off), coordinates below 1e-12 of its largest shown as 0:
    (7.1e-15, 0) is (0, 0)."""
    return coordinates_text(v, digits, noise=1e-12)   # the basins' legend's printer, at the pages' threshold


def without_noise(v: float, values) -> float:
    """v, or 0.0 when it is float noise (below 1e-12 of the run's largest |f|)."""
    values = np.asarray(values, dtype=float)
    scale = float(np.abs(values[np.isfinite(values)]).max()) if np.isfinite(values).any() else 1.0
    return 0.0 if np.isfinite(v) and abs(v) < 1e-12 * scale else v
