"""Shared look of every figure: one small template, the method palette, marker styles.

The template is written out by hand (not plotly's default) because the default template is ~8 kB
of JSON repeated in every figure, and an animated figure should carry data, not styling.
"""
from __future__ import annotations

import plotly.graph_objects as go

FONT = "Inter, Source Sans Pro, Helvetica, Arial, sans-serif"

# Warm, distinct, colour-blind-friendly-ish path colours that stand out on the cool contour scale.
METHOD_COLORS = ("#ff7f0e", "#d62728", "#e377c2", "#17becf", "#8c564b", "#bcbd22", "#7f7f7f", "#9467bd")

# Contour/surface scale: dark valleys (low f) to light ridges, so warm paths read on top.
CONTOUR_SCALE = [[0.0, "#1b3a6b"], [0.2, "#2f5f98"], [0.45, "#6f9ccb"], [0.7, "#b7d0e8"], [1.0, "#f4f7fb"]]

START_MARKER = dict(symbol="circle", size=12, color="white", line=dict(color="black", width=2))
END_MARKER = dict(symbol="x", size=12, line=dict(color="black", width=1))
MINIMUM_MARKER = dict(symbol="star", size=16, color="#ffd400", line=dict(color="black", width=1))

TEMPLATE = go.layout.Template(layout=go.Layout(
    font=dict(family=FONT, size=13, color="#262730"),
    paper_bgcolor="white", plot_bgcolor="white",
    margin=dict(l=60, r=20, t=50, b=50),
    # exponentformat "power": ticks read 10^-11, never SI prefixes ("80p" for 8e-11 looked like a unit)
    xaxis=dict(showgrid=True, gridcolor="#e6e9ef", zeroline=False, linecolor="#bbb", ticks="outside",
               exponentformat="power"),
    yaxis=dict(showgrid=True, gridcolor="#e6e9ef", zeroline=False, linecolor="#bbb", ticks="outside",
               exponentformat="power"),
    scene=dict(xaxis=dict(exponentformat="power"), yaxis=dict(exponentformat="power"),
               zaxis=dict(exponentformat="power")),
    legend=dict(bgcolor="rgba(255,255,255,0.85)", bordercolor="#ddd", borderwidth=1),
    hoverlabel=dict(font=dict(family=FONT)),
    colorway=list(METHOD_COLORS),
))


# Plotly's toolbar (the modebar: camera, zoom, reset) sits in a band this tall at the top right of
# every figure. A legend at the top of the plot area used to sit in that band, and a compare
# overlay's long legend ran under the toolbar's buttons.
MODEBAR_PX = 34
TITLE_PX = 8    # a title (16 px font, 8 px from the top, left) fits in the modebar's band: the
                # legend only moves down by this much more under it


def top_legend(height: float, title: bool = False) -> dict:
    """A horizontal legend at the top left that starts below the modebar's band (and below the
    title's row): placed in pixels from the figure's top (yref "container"), so Plotly reserves
    the top margin it needs and the plot area starts under it, however many rows it wraps to."""
    below = MODEBAR_PX + (TITLE_PX if title else 0)
    return dict(orientation="h", x=0, xanchor="left", y=1 - below / float(height), yanchor="top",
                yref="container")


def top_title(text: str, height: float) -> dict:
    """A title at the top left, in the band beside the modebar (its row is kept free by
    `top_legend(..., title=True)`)."""
    return dict(text=text, x=0.01, xanchor="left", y=1 - 8 / float(height), yanchor="top", yref="container",
                font=dict(size=16))


def method_color(i: int) -> str:
    return METHOD_COLORS[i % len(METHOD_COLORS)]


def styled(fig: go.Figure, title: str | None = None, **layout) -> go.Figure:
    """Apply the shared template (and an optional title) to a figure."""
    fig.update_layout(template=TEMPLATE, **layout)
    if title:
        fig.update_layout(title=dict(text=title, x=0.01, xanchor="left", font=dict(size=16)))
    return fig


def keep_unselected_visible(fig: go.Figure) -> go.Figure:
    """After a click in 'points' selection mode Plotly fades every unselected point; keep paths
    and markers as they were (the click is a command, not a selection to highlight)."""
    for trace in fig.data:
        if trace.type == "scatter":
            trace.unselected = dict(marker=dict(opacity=trace.marker.opacity if trace.marker.opacity
                                                is not None else 1.0))
            trace.selected = dict(marker=dict(opacity=trace.marker.opacity if trace.marker.opacity
                                              is not None else 1.0))
    return fig


def _hex_rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))


def colorscale_lut(scale=CONTOUR_SCALE, n: int = 256):
    """(n, 3) uint8 colours interpolated along a Plotly colour scale of hex stops."""
    import numpy as np
    stops = np.array([s for s, _ in scale], dtype=float)
    rgb = np.array([_hex_rgb(c) for _, c in scale], dtype=float)
    t = np.linspace(0, 1, n)
    return np.stack([np.interp(t, stops, rgb[:, k]) for k in range(3)], axis=1).round().astype(np.uint8)


def banded_raster(Z, zmin: float, zmax: float, bands: int = 24, upsample: int = 2, scale=CONTOUR_SCALE) -> str:
    """A filled-contour picture of Z as a PNG data URI: `bands` colour bands with a darker pixel
    line where the band changes (the level lines), nan transparent. Z[i, j] is at row i (y up).

    Why a picture and not go.Contour: plotly.js removes contour layers as soon as an animation
    with redraw=False starts (plotly.js #4491, reproduced in Chromium), while a layout image is
    never touched by frames. It is also smaller than the z grid (a palette PNG of ~20-60 kB).
    """
    import base64
    import io

    import numpy as np
    from PIL import Image

    Z = np.asarray(Z, dtype=float)
    if upsample > 1:  # bilinear refinement so the level lines come out thin
        ny, nx = Z.shape
        yi = np.linspace(0, ny - 1, (ny - 1) * upsample + 1)
        xi = np.linspace(0, nx - 1, (nx - 1) * upsample + 1)
        Zx = np.array([np.interp(xi, np.arange(nx), row) for row in Z])
        Z = np.array([np.interp(yi, np.arange(ny), col) for col in Zx.T]).T
    span = zmax - zmin if zmax > zmin else 1.0
    with np.errstate(invalid="ignore"):
        t = np.clip((Z - zmin) / span, 0, 1)
    finite = np.isfinite(t)
    band = np.where(finite, np.minimum((np.where(finite, t, 0) * bands).astype(int), bands - 1), -1)
    lut = colorscale_lut(scale)
    centers = ((np.arange(bands) + 0.5) / bands * 255).round().astype(int)
    rgb = lut[centers[np.clip(band, 0, None)]].astype(float)
    edge = np.zeros(band.shape, dtype=bool)
    edge[:-1, :] |= band[:-1, :] != band[1:, :]
    edge[:, :-1] |= band[:, :-1] != band[:, 1:]
    rgb[edge] *= 0.72
    alpha = np.where(band >= 0, 255, 0).astype(np.uint8)
    img = np.dstack([rgb.round().astype(np.uint8), alpha])[::-1]  # row 0 of a picture is the top
    buf = io.BytesIO()
    Image.fromarray(img, "RGBA").quantize(colors=2 * bands + 2, method=Image.Quantize.FASTOCTREE).save(
        buf, format="PNG", compress_level=6)  # optimize=True made every formula edit ~80 ms slower
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class PlainFrame(go.Frame):
    """An animation frame kept as the plain dict it was built from, checked only when read.

    plotly.py turns every trace of every frame into a validated object (for a compare figure,
    ~1,600 Scatter objects and ~0.4 s) although Streamlit and `to_json` only need the dict back.
    The builders make frame data from checked NumPy numbers, so the frame keeps its dict
    (`to_dict`/`to_json` read it as is) and becomes a validated `go.Frame` the first time
    someone reads `.data` or `.layout` (exports, tests)."""

    def __init__(self, spec: dict):
        super().__init__(spec, _validate=False)

    def _checked(self) -> go.Frame:
        full = self.__dict__.get("_checked_frame")
        if full is None:
            import copy
            full = go.Frame(copy.deepcopy(self._props))
            self.__dict__["_checked_frame"] = full
        return full

    @property
    def data(self):
        return self._checked().data

    @property
    def layout(self):
        return self._checked().layout


def set_plain_frames(fig: go.Figure, frames: list[dict]) -> None:
    """Give `fig` its frames without plotly.py's per-trace validation (see `PlainFrame`)."""
    fig._frame_objs = tuple(PlainFrame(frame) for frame in frames)
