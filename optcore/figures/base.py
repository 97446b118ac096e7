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
# A square, not the ✖ of a saddle point: runs ending in the path's colour on a ✖ read as saddles
# (the legend's only ✖), and a run ending beside a saddle hid it.
END_MARKER = dict(symbol="square", size=10, line=dict(color="black", width=1))
MINIMUM_MARKER = dict(symbol="star", size=16, color="#ffd400", line=dict(color="black", width=1))

TEMPLATE = go.layout.Template(layout=go.Layout(
    font=dict(family=FONT, size=13, color="#262730"),
    paper_bgcolor="white", plot_bgcolor="white",
    margin=dict(l=60, r=20, t=50, b=50),
    # exponentformat "power": ticks read 10^-11, never SI prefixes ("80p" for 8e-11 looked like a unit)
    # ticklabeloverflow "allow": the default ("hide past div") measures every tick label's box on each
    # draw, a forced page layout each (~50 ms per formula edit in the app); our margins hold the labels
    xaxis=dict(showgrid=True, gridcolor="#e6e9ef", zeroline=False, linecolor="#bbb", ticks="outside",
               exponentformat="power", ticklabeloverflow="allow"),
    yaxis=dict(showgrid=True, gridcolor="#e6e9ef", zeroline=False, linecolor="#bbb", ticks="outside",
               exponentformat="power", ticklabeloverflow="allow"),
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
LEGEND_ROW_PX = 44   # one row of a horizontal legend (its markers are 13 px) and its gap to the plot
LEGEND_LINE_PX = 20  # each further row of a wrapped horizontal legend
PANEL_TITLE_PX = 24  # a subplot's title row above its panel
AXIS_TITLE_PX = 56   # an x axis's ticks, tick labels and title under the plot
NARROW_CHART_PX = 600  # a chart narrower than this (a phone) puts side-by-side panels one under the other
TITLE_PX = 8    # a title (16 px font, 8 px from the top, left) fits in the modebar's band: the
                # legend only moves down by this much more under it


def narrow_chart(width_px: int | None) -> bool:
    """A chart of known width narrower than `NARROW_CHART_PX` (a phone): its panels go one under the other."""
    return width_px is not None and width_px < NARROW_CHART_PX


def top_legend(height: float, title: bool = False) -> dict:
    """A horizontal legend at the top left that starts below the modebar's band (and below the
    title's row): placed in pixels from the figure's top (yref "container"), so Plotly reserves
    the top margin it needs and the plot area starts under it, however many rows it wraps to."""
    below = MODEBAR_PX + (TITLE_PX if title else 0)
    return dict(orientation="h", x=0, xanchor="left", y=1 - below / float(height), yanchor="top",
                yref="container")


def bottom_legend() -> dict:
    """A horizontal legend at the bottom left of the figure, under the x axis title: placed from the
    figure's bottom edge (yref "container"), so a legend that wraps to more rows makes Plotly reserve
    the room above it instead of running into the axis title (placed without measuring the tick
    labels: no automargin, see TEMPLATE). Leave `AXIS_TITLE_PX + LEGEND_ROW_PX` of bottom margin."""
    return dict(orientation="h", x=0, xanchor="left", y=0, yanchor="bottom", yref="container")


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


def top_margin(title: bool, legend_rows: int = 1) -> int:
    """Room above the plot for the modebar's band, the title's row and a `top_legend` of that many rows."""
    return MODEBAR_PX + (TITLE_PX if title else 0) + LEGEND_ROW_PX + LEGEND_LINE_PX * (max(legend_rows, 1) - 1)


def styled_legend_on_top(fig: go.Figure, title: str | None, height: int, bottom: int = 60,
                         panel_titles: bool = False, legend_rows: int = 1) -> go.Figure:
    """`styled`, with the title and a horizontal legend at the top left below the modebar's band (a
    long legend wraps there and pushes the plot down). A legend under the plot ran into the x axis
    title, which plotly.js places without measuring the tick labels (no automargin: see TEMPLATE).
    `panel_titles`: subplots titled above their panels get a row for those titles under the legend.
    `legend_rows`: the rows a long legend wraps to (Plotly does not push a fixed margin for them)."""
    top = top_margin(bool(title), legend_rows) + (PANEL_TITLE_PX if panel_titles else 0)
    styled(fig, None, height=height, legend=top_legend(height, title=bool(title)), margin=dict(t=top, b=bottom))
    if title:
        fig.update_layout(title=top_title(title, height))
    return fig


def keep_unselected_visible(fig: go.Figure) -> go.Figure:
    """After a click in 'points' selection mode Plotly fades every unselected point; keep paths
    and markers as they were (the click is a command, not a selection to highlight)."""
    spec = plain_spec(fig)
    if spec is not None:  # a PlainFigure: the same on its dicts, no validation
        for trace in spec["data"]:
            if trace.get("type", "scatter") == "scatter":
                opacity = (trace.get("marker") or {}).get("opacity")
                keep = dict(marker=dict(opacity=opacity if opacity is not None else 1.0))
                trace["selected"], trace["unselected"] = keep, dict(keep)
        return fig
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


def _refined(Z, factor: int):
    """Z with `factor - 1` linearly interpolated columns between each pair of neighbours: what
    `np.interp` gives row by row, as whole-array arithmetic (no Python loop over the rows)."""
    import numpy as np
    frac = (np.arange(factor) / factor).astype(Z.dtype)
    with np.errstate(invalid="ignore"):
        between = Z[:, :-1, None] + (Z[:, 1:, None] - Z[:, :-1, None]) * frac
    between[:, :, 0] = Z[:, :-1]   # the grid's own values, also beside a nan (as np.interp keeps them)
    return np.concatenate([between.reshape(len(Z), -1), Z[:, -1:]], axis=1)


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

    # The band position of each cell, float32, scaled before the refinement: every later pass runs
    # on upsample^2 times as many pixels (a formula edit paid ~20 ms here in float64).
    span = zmax - zmin if zmax > zmin else 1.0
    with np.errstate(invalid="ignore"):
        t = ((np.asarray(Z, dtype=float) - zmin) * (bands / span)).astype(np.float32)
    if upsample > 1:  # bilinear refinement so the level lines come out thin
        t = _refined(_refined(t, upsample).T, upsample).T
    nan = np.isnan(t)
    with np.errstate(invalid="ignore"):
        band = np.clip(t, 0, bands - 1).astype(np.int8)   # nan cells: any band, overwritten below
    band[nan] = -1
    edge = np.zeros(band.shape, dtype=bool)
    edge[:-1, :] |= band[:-1, :] != band[1:, :]
    edge[:, :-1] |= band[:, :-1] != band[:, 1:]
    # A palette picture made directly: index b is band b, bands + b its darker level line, 2 * bands
    # transparent (nan). Building RGBA floats and quantizing them cost ~3x as much per formula edit.
    lut = colorscale_lut(scale)
    centers = ((np.arange(bands) + 0.5) / bands * 255).round().astype(int)
    colours = lut[centers].astype(float)
    palette = np.concatenate([colours, colours * 0.72, [[0.0, 0.0, 0.0]]]).round().astype(np.uint8)
    index = (band + bands * edge).astype(np.uint8)
    index[nan] = 2 * bands
    img = Image.fromarray(np.ascontiguousarray(index[::-1]), "P")   # row 0 is the top
    img.putpalette(palette.ravel().tolist())
    buf = io.BytesIO()
    # levels 1-3: ~2 ms sooner but 1.5x the bytes to send; optimize=True: ~80 ms slower
    img.save(buf, format="PNG", transparency=2 * bands, compress_level=6)
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


# ---------------------------------------------------------------------------------------------
# Figures kept as plain dicts until someone reads them as objects
# ---------------------------------------------------------------------------------------------
_PLAIN_NAMES = frozenset({"to_dict", "to_plotly_json", "_plain", "__dict__", "__class__", "__getattribute__",
                          "_materialize"})


def _json_ready(value):
    """A copy of a plain figure part as `BaseFigure.to_dict` would give it: NumPy arrays as typed-array
    specs (base64, like plotly.py does), plotly objects as their dicts, None entries dropped. Lists of
    numbers are shared, not copied (nothing downstream writes into them)."""
    import numpy as np
    from _plotly_utils.utils import to_typed_array_spec

    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items() if v is not None}
    if isinstance(value, np.ndarray):
        return to_typed_array_spec(value)
    if isinstance(value, (list, tuple)):  # the builders' lists are homogeneous: the first item says
        if value and isinstance(value[0], (dict, list, tuple, np.ndarray, np.generic)):
            return [_json_ready(v) for v in value]
        return list(value) if isinstance(value, tuple) else value
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "to_plotly_json"):
        return value.to_plotly_json()
    return value


class PlainFigure(go.Figure):
    """A figure built as plain dicts that reaches the browser without plotly.py's validation.

    `st.plotly_chart` calls `to_dict()` on a figure (a dict it would validate again), and plotly.py's
    validation plus `to_dict`'s deep copy took ~0.1-0.3 s per Playground rerun for numbers the
    builders already checked. A `PlainFigure` answers `to_dict`/`to_plotly_json` from its dicts; the
    first time anything else is read (`.data`, `.layout`, `update_layout`, exports, tests) it becomes
    an ordinary validated `go.Figure` (frames stay `PlainFrame`s), and from then on behaves as one."""

    def __init__(self, spec: dict):  # noqa: D107 - no super().__init__: validation happens on first use
        self.__dict__["_plain"] = dict(data=list(spec.get("data") or []), layout=dict(spec.get("layout") or {}),
                                       frames=list(spec.get("frames") or []))

    def __getattribute__(self, name):
        if name not in _PLAIN_NAMES and "_plain" in object.__getattribute__(self, "__dict__"):
            object.__getattribute__(self, "_materialize")()
        return object.__getattribute__(self, name)

    def _materialize(self) -> None:
        spec = object.__getattribute__(self, "__dict__").pop("_plain", None)
        if spec is None:
            return
        go.Figure.__init__(self, dict(data=spec["data"], layout=spec["layout"]))
        if spec["frames"]:
            set_plain_frames(self, spec["frames"])

    def to_dict(self) -> dict:
        spec = object.__getattribute__(self, "__dict__").get("_plain")
        if spec is None:
            return go.Figure.to_dict(self)
        out = dict(data=_json_ready(spec["data"]), layout=_json_ready(spec["layout"]))
        if spec["frames"]:
            out["frames"] = spec["frames"]  # plain lists of rounded numbers already (see trajectory._frames)
        return out

    def to_plotly_json(self) -> dict:
        return self.to_dict()


def plain_spec(fig) -> dict | None:
    """The dicts of a `PlainFigure` not yet turned into objects (edit them in place), else None."""
    return fig.__dict__.get("_plain") if isinstance(fig, PlainFigure) else None


def layout_meta(fig) -> dict:
    """`layout.meta` as a dict, without validating a `PlainFigure`."""
    spec = plain_spec(fig)
    meta = spec["layout"].get("meta") if spec is not None else fig.layout.meta
    return meta if isinstance(meta, dict) else {}
