"""Plotly figure builders (pure: arrays in, go.Figure out). The only place in optcore that imports plotly.

    base.py        shared template, colours, marker styles
    grid.py        value grids for contours and surfaces (NumPy; the builders receive the result)
    thinning.py    which points of a long path or curve to draw (`thin_indices`; NumPy only)
    trajectory.py  animated paths on a contour, small multiples, surface, 1-D curve, convergence
    analysis.py    curvature maps, Newton model, learning-rate and basin plots (analysis pages)

Names are re-exported flat and loaded on first use: `from optcore.figures import contour_paths_figure`.
"""
from __future__ import annotations

import importlib
from typing import Any

_MODULES = ("trajectory", "base", "grid", "thinning", "analysis")


def __getattr__(name: str) -> Any:
    for module in _MODULES:
        try:
            mod = importlib.import_module(f".{module}", __name__)
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{module}":
                raise
            continue
        if hasattr(mod, name):
            value = getattr(mod, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
