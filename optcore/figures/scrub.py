"""Scrubbing parameters in the browser: the paths for a ladder of values travel with the figure as
animation frames, and an in-figure slider per parameter (η, and β where the method has one) swaps
the drawn path with Plotly's `animate` (no server round trip).

Why `animate` with `redraw: false` and not `restyle`: a restyle of x/y clears the figure's calcdata
and replots every trace and layout component (plot_api.js `restyle` -> `_doPlot`); `Plots.transition`
also recomputes calcdata but redraws only the scatter traces its frame names (plots.js). In Chromium
that took a slider step from ~70-120 ms to ~20-40 ms on the Playground figure.

Pure functions on plain numbers and figures (no Streamlit). The page computes each ladder's paths in
one batched run (`run_batch` with a per-row parameter) and hands them here.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from .base import set_plain_frames
from .thinning import thin_indices

LADDER_SIZE = 33          # odd: the current value sits in the middle
LADDER_SPAN = 10.0        # the ladder runs from value / span to value * span
DECAY_LADDER_SIZE = 17    # β ladder: fewer steps (the payload grows with every ladder value)
DECAY_CLOSEST_TO_ONE = 0.999
SCRUB_POINTS = 150        # drawn points per ladder path: 50 paths stay ~250 kB of JSON
MARKERS_DRAWN = 40        # markers drawn per path; hover and click still see every point
SCRUB_ROW_PX = 80         # each slider's own row under the plot
FRAME_OPTIONS = dict(mode="immediate", frame=dict(duration=0, redraw=False), transition=dict(duration=0))


class Ladder(NamedTuple):
    """One in-figure slider: `paths[i]` (dicts with `x`, `y`, optional `steps`) is the run with
    `param` = `values[i]`, the other parameters at their committed values."""
    param: str
    label: str
    values: Sequence[float]
    paths: Sequence[dict]
    active: int


def ladder(value: float, *, size: int = LADDER_SIZE, span: float = LADDER_SPAN, low: float | None = None,
           high: float | None = None) -> np.ndarray:
    """Log-spaced values around `value` (which is one of them, in the middle when the bounds allow),
    kept inside [low, high]. Example: ladder(0.1, size=5, span=100) -> [0.001, 0.01, 0.1, 1, 10]."""
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"a ladder needs a positive value, got {value!r}")
    half = size // 2
    values = value * np.geomspace(1 / span, span, 2 * half + 1)
    values[half] = value  # exactly the current value, not its round-trip through logs
    if low is not None:
        values = values[values >= low]
    if high is not None:
        values = values[values <= high]
    return values


def decay_ladder(value: float, *, size: int = DECAY_LADDER_SIZE, span: float = LADDER_SPAN,
                 high: float = DECAY_CLOSEST_TO_ONE) -> np.ndarray:
    """Values of a momentum or decay weight β in [0, high], log-spaced in 1 − β (the memory
    1/(1 − β) is what changes the path), increasing, with `value` among them.
    Example: decay_ladder(0.9, size=5, span=10) -> [0, 0.684, 0.9, 0.968, 0.99]."""
    value = float(value)
    if not (np.isfinite(value) and 0.0 <= value < 1.0):
        raise ValueError(f"a decay ladder needs a value in [0, 1), got {value!r}")
    high = max(high, value)
    gaps = ladder(1.0 - value, size=size, span=span, low=1.0 - high, high=1.0)[::-1]
    if gaps[0] < 1.0 and (1.0 - value) * span > 1.0:
        gaps = np.concatenate([[1.0], gaps])  # the ladder reached past β = 0: end it at β = 0 itself
    values = np.round(1.0 - gaps, 12)  # 1 - (1 - 0) is 2e-16, not 0
    values[np.argmin(np.abs(gaps - (1.0 - value)))] = value  # exactly the current value
    return np.clip(values, 0.0, high)


def active_index(values: Sequence[float], value: float) -> int:
    """The ladder step nearest to `value` (on a log scale where all values are positive)."""
    v = np.asarray(values, dtype=float)
    if np.all(v > 0) and value > 0:
        return int(np.argmin(np.abs(np.log(v) - np.log(float(value)))))
    return int(np.argmin(np.abs(v - float(value))))


def _short(a: np.ndarray) -> list[float]:
    return [float(f"{x:.6g}") for x in np.asarray(a, dtype=float).tolist()]


def _thinned(path: dict, max_points: int) -> tuple[list, list, list]:
    x, y = np.asarray(path["x"], dtype=float), np.asarray(path["y"], dtype=float)
    steps = np.asarray(path.get("steps", np.arange(len(x))))
    if len(x) == 0:
        return [], [], []
    keep = thin_indices(np.column_stack([x, y]), max_points)
    return _short(x[keep]), _short(y[keep]), [int(k) for k in steps[keep].tolist()]


def _trace_index(fig: go.Figure, name: str) -> int | None:
    return next((i for i, t in enumerate(fig.data) if t.name == name), None)


def add_scrub_sliders(fig: go.Figure, path_name: str, ladders: Sequence[Ladder], *,
                      committed: Mapping[str, float], max_points: int = SCRUB_POINTS,
                      legend_name: str | None = None) -> go.Figure:
    """Give a static path figure (one of `trajectory`'s builders with `animate=False`) one slider
    per ladder that redraws the path named `path_name` for each of its values, in the browser.

    Each slider step animates one frame (`"<param>:<i>"`) that updates only the path's line, head
    marker and end cross (every other scatter trace is named with an empty update, so plotly.js
    keeps their drawing: see `trajectory._frames`). A slider moves its own parameter with the other
    ones at their `committed` values. Every point of the line carries [k, value of each ladder's
    parameter] in `customdata`, so a click on the drawn path tells the page the values it shows.
    `layout.meta["scrub"]` records the parameters, the ladders and the values drawn first.
    `legend_name` renames the path in the legend and its hover (a frame cannot: the legend is not
    redrawn while a slider moves), for a `path_name` that states the committed values.
    """
    if not ladders:
        raise ValueError("at least one ladder")
    for lad in ladders:
        if len(lad.values) != len(lad.paths) or not len(lad.values):
            raise ValueError(f"one path per ladder value: {len(lad.values)} values, {len(lad.paths)} paths")
    line = _trace_index(fig, path_name)
    if line is None:
        raise ValueError(f"no trace named {path_name!r} in the figure")
    targets = [line] + [i for i in (_trace_index(fig, f"{path_name} {part}") for part in ("now", "end"))
                        if i is not None]
    static = [i for i, t in enumerate(fig.data) if t.type == "scatter" and i not in targets]
    params = [lad.param for lad in ladders]
    frames, sliders, first = [], [], None
    plot_px = max(int(fig.layout.height or 600) - int(fig.layout.margin.t or 40) - int(fig.layout.margin.b or 50), 100)
    for s, lad in enumerate(ladders):
        steps = []
        for i, (value, path) in enumerate(zip(lad.values, lad.paths)):
            x, y, k = _thinned(path, max_points)
            # 4 significant digits: what a click keeps anyway, and half the bytes of full floats
            shown = [float(f"{float({**committed, lad.param: value}[p]):.4g}") for p in params]
            data = [[kk, *shown] for kk in k]
            name = f"{lad.param}:{i}"
            frames.append(dict(name=name, traces=targets + static, data=[
                dict(type="scatter", x=x, y=y, customdata=data),
                *[dict(type="scatter", x=x[-1:], y=y[-1:]) for _ in targets[1:]],
                *[dict(type="scatter") for _ in static]]))
            steps.append(dict(label=f"{value:.3g}", method="animate", args=[[name], FRAME_OPTIONS]))
            if s == 0 and i == lad.active:
                first = (x, y, data)
        sliders.append(dict(active=int(lad.active), x=0.0, len=1.0, xanchor="left", yanchor="top",
                            y=-(70 + s * SCRUB_ROW_PX) / plot_px, pad=dict(t=0, b=0), name=f"scrub {lad.param}",
                            transition=dict(duration=0), steps=steps,
                            currentvalue=dict(prefix=f"{lad.label} = ", xanchor="left", font=dict(size=13))))
    x, y, data = first
    shown = "<br>".join(f"{lad.label} = %{{customdata[{j + 1}]:.4g}}" for j, lad in enumerate(ladders))
    label = legend_name or path_name
    fig.data[line].update(x=x, y=y, customdata=data, mode="lines+markers", name=label,
                          hovertemplate=f"{label}<br>k = %{{customdata[0]}}<br>{shown}"
                                        "<br>(%{x:.4g}, %{y:.4g})<br>click the path to keep these values<extra></extra>")
    fig.data[line].marker.update(size=4, maxdisplayed=MARKERS_DRAWN)
    for i in targets[1:]:
        fig.data[i].update(x=x[-1:], y=y[-1:])
    for i in static:   # redrawn on every step: invisible click targets (the 1-D curve's) need not all be drawn
        t = fig.data[i]
        if t.marker.opacity == 0 and not t.marker.maxdisplayed and t.x is not None and len(t.x) > MARKERS_DRAWN:
            t.marker.maxdisplayed = MARKERS_DRAWN
    extra = SCRUB_ROW_PX * len(ladders)
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, dict) else {}
    head = ladders[0]
    meta["scrub"] = dict(param=head.param, label=head.label, values=[float(v) for v in head.values],
                         active=int(head.active), params=params,
                         ladders=[dict(param=lad.param, label=lad.label, values=[float(v) for v in lad.values],
                                       active=int(lad.active)) for lad in ladders])
    fig.update_layout(height=int(fig.layout.height or 600) + extra, margin_b=int(fig.layout.margin.b or 50) + extra,
                      meta=meta, sliders=sliders)
    set_plain_frames(fig, frames)
    return fig


def add_scrub_slider(fig: go.Figure, path_name: str, values: Sequence[float], paths: Sequence[dict], *,
                     active: int, label: str = "η", param: str = "lr",
                     max_points: int = SCRUB_POINTS) -> go.Figure:
    """`add_scrub_sliders` with one ladder (of `param`, η by default)."""
    return add_scrub_sliders(fig, path_name, [Ladder(param, label, values, paths, active)],
                             committed={param: values[active]}, max_points=max_points)


def ladder_range_text(values: Sequence[float], label: str = "η") -> str:
    """What the caption under a scrub figure says about one ladder."""
    v = np.asarray(values, dtype=float)
    return (f"The {label} slider under the chart redraws the path in your browser for {len(v)} values of "
            f"{label} from {v.min():.3g} to {v.max():.3g}; click the path to keep the values shown. "
            f"For a value outside that range, set {label} in the controls.")


def ladders_range_text(ladders: Sequence[Ladder]) -> str:
    """The caption for one or several ladders: each one's range, and that each slider moves only its own."""
    if len(ladders) == 1:
        return ladder_range_text(ladders[0].values, ladders[0].label)
    ranges = "; ".join(f"{lad.label} from {min(lad.values):.3g} to {max(lad.values):.3g} ({len(lad.values)} values)"
                       for lad in ladders)
    return (f"The sliders under the chart redraw the path in your browser: {ranges}. Each slider moves its own "
            "parameter with the others at their set values. Click the path to keep the values it shows; for a "
            "value outside a range, set it in the controls.")
