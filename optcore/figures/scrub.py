"""Scrubbing a parameter in the browser: the paths for a ladder of values travel with the figure and
an in-figure slider swaps the drawn path with Plotly's `restyle`, so no server round trip happens.

Pure functions on plain numbers and figures (no Streamlit). The page computes the ladder's paths in
one batched run (`run_batch` with a per-row learning rate) and hands them here.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .thinning import thin_indices

LADDER_SIZE = 33          # odd: the current value sits in the middle
LADDER_SPAN = 10.0        # the ladder runs from value / span to value * span
SCRUB_POINTS = 200        # drawn points per ladder path: 33 paths stay ~200 kB of JSON
SCRUB_ROW_PX = 80         # the slider's own row under the plot


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


def active_index(values: Sequence[float], value: float) -> int:
    """The ladder step nearest to `value` on a log scale."""
    v = np.asarray(values, dtype=float)
    return int(np.argmin(np.abs(np.log(v) - np.log(float(value)))))


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


def add_scrub_slider(fig: go.Figure, path_name: str, values: Sequence[float], paths: Sequence[dict], *,
                     active: int, label: str = "η", param: str = "lr",
                     max_points: int = SCRUB_POINTS) -> go.Figure:
    """Give a static path figure (one of `trajectory`'s builders with `animate=False`) a slider that
    redraws the path named `path_name` for each value of the ladder, in the browser.

    `paths[i]` is the path (`x`, `y`, optional `steps`) for `values[i]`. Each slider step restyles
    the path's line, its head marker and its end cross. The line's `customdata` is [k, value], so a
    click on the drawn path tells the page which value the student settled on. `layout.meta["scrub"]`
    records the parameter, the ladder and the value drawn first.
    """
    if len(values) != len(paths) or not len(values):
        raise ValueError(f"one path per ladder value: {len(values)} values, {len(paths)} paths")
    line = _trace_index(fig, path_name)
    if line is None:
        raise ValueError(f"no trace named {path_name!r} in the figure")
    targets = [line]
    for extra in (f"{path_name} now", f"{path_name} end"):
        i = _trace_index(fig, extra)
        if i is not None:
            targets.append(i)
    head = len(targets) > 1
    steps = []
    drawn = []
    for value, path in zip(values, paths):
        x, y, k = _thinned(path, max_points)
        data = [[kk, float(value)] for kk in k]
        ends_x = [x[-1:]] * (len(targets) - 1)
        ends_y = [y[-1:]] * (len(targets) - 1)
        drawn.append((x, y, data))
        steps.append(dict(label=f"{value:.3g}", method="restyle",
                          args=[{"x": [x, *ends_x], "y": [y, *ends_y], "customdata": [data, *([None] * (len(targets) - 1))]},
                                targets]))
    x, y, data = drawn[active]
    fig.data[line].update(x=x, y=y, customdata=data, mode="lines+markers",
                          hovertemplate=f"{path_name}<br>k = %{{customdata[0]}}<br>{label} = %{{customdata[1]:.4g}}"
                                        "<br>(%{x:.4g}, %{y:.4g})<br>click the path to keep this "
                                        f"{label}<extra></extra>")
    fig.data[line].marker.size = 4
    if head:
        for i in targets[1:]:
            fig.data[i].update(x=x[-1:], y=y[-1:])
    height = int(fig.layout.height or 600) + SCRUB_ROW_PX
    margin_b = int(fig.layout.margin.b or 50) + SCRUB_ROW_PX
    plot_px = max(height - int(fig.layout.margin.t or 40) - margin_b, 100)
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, dict) else {}
    meta["scrub"] = dict(param=param, label=label, values=[float(v) for v in values], active=int(active))
    fig.update_layout(height=height, margin_b=margin_b, meta=meta, sliders=[dict(
        active=int(active), x=0.0, len=1.0, transition=dict(duration=0), xanchor="left", y=-70 / plot_px, yanchor="top", pad=dict(t=0, b=0),
        currentvalue=dict(prefix=f"{label} = ", xanchor="left", font=dict(size=13)),
        steps=steps, name="scrub")])
    return fig


def ladder_range_text(values: Sequence[float], label: str = "η") -> str:
    """What the caption under a scrub figure says about the ladder."""
    v = np.asarray(values, dtype=float)
    return (f"The slider under the chart redraws the path in your browser for {len(v)} values of {label} "
            f"from {v.min():.3g} to {v.max():.3g}; click the path to keep the {label} shown. "
            f"For a value outside that range, set {label} in the controls.")
