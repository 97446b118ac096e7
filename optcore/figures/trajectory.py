"""Figure builders for runs: animated paths on a contour, small multiples, 3-D surface, 1-D curve,
convergence plots. Pure: arrays in, `go.Figure` out (grids are computed by `grid.value_grid`).

Animation recipe (small JSON, smooth playback): the contour is drawn once in `fig.data`; each frame
carries only the moving traces (the path so far and its head, per run) with `redraw=False`, as
short rounded lists (plotly.js does not decode typed arrays inside frames).

Size does not grow with the number of steps: every path is drawn thinned (`thinning.thin_indices`,
at most `MAX_PATH_POINTS` points: the first steps, the turning points, the end), and the frames
restate "the path so far" from a coarser thinning chosen so that all frames of a figure hold at
most `FRAME_POINT_BUDGET` points whatever the number of runs and steps. The last frame shows the
same path as the figure's data; the head marker of each frame sits on the exact iterate k.

A path is a dict: ``{"name": str, "x": array (k+1,), "y": array (k+1,), "color": str}`` plus
optional ``"z"`` (surface height) and ``"steps"`` (the iteration index of each point, default 0..k).
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import thinning
from .base import (CONTOUR_SCALE, END_MARKER, LEGEND_LINE_PX, MINIMUM_MARKER, MODEBAR_PX, PANEL_TITLE_PX,
                   START_MARKER, TEMPLATE, PlainFigure, banded_raster, method_color, narrow_chart, styled, top_legend,
                   top_margin, top_title)

MAX_FRAMES = 100
MAX_PATH_POINTS = 400        # points drawn per path (the full run stays in the exports)
FRAME_POINT_BUDGET = 24_000  # points restated by all the frames of one figure together
MIN_FRAME_POINTS = 40        # ... but never fewer than this per path and frame
MAX_SERIES_POINTS = 400      # points drawn per convergence curve
CLICK_GRID_DRAWN = 4         # markers of the invisible click grid actually drawn
FRAME_DOTS = 50              # iterate dots (all paths) a figure's frames may redraw while it plays
# plotly.js shows the next frame at the first requestAnimationFrame tick (60 Hz) *more* than
# `duration` ms after the last one began (Plotly.animate: `Date.now() - _lastFrameAt > _timeToNext`).
# 25 ms sits midway between the first (16.7 ms) and second (33.3 ms) tick, so Play lands on every
# second tick (30 fps, 100 frames in ~3.3 s) even when a tick runs a few ms late or early; 30 ms
# missed the second tick whenever it came <30 ms after a late start (20 fps), 33 ms most of the time.
# 10 ms is every tick. 25 ms is also 30 fps at 90 and 120 Hz (ticks of 11.1 / 8.3 ms); 20 ms would
# be 40 fps at 120 Hz. What keeps Play on the beat under load is a frame cheaper than one tick: see
# `_frames` (~13 ms of Chromium's main thread per frame of the Playground, was ~17-19).
SPEEDS = (("▶ Play", 25), ("▶▶ Fast", 10), ("▶ Slow", 120))
PAUSE_LABEL = "■ Pause"


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def display_values(Z: np.ndarray) -> tuple[np.ndarray, str, bool]:
    """Values to colour a contour by: f itself, or log10(f − min + ε) when a few huge values would
    flatten everything else into one colour (Rosenbrock, exponentials). Returns (Zc, label, is_log)."""
    finite = Z[np.isfinite(Z)]
    if finite.size == 0:
        return Z, "f", False
    lo = float(finite.min())
    p10, p50, p99 = np.percentile(finite, [10, 50, 99])
    if p99 - lo > 30 * max(p10 - lo, 1e-300) and p99 - lo > 0:
        eps = max((p50 - lo) * 1e-3, 1e-12 * max(1.0, abs(lo)), 1e-300)
        with np.errstate(all="ignore"):
            Zc = np.log10(np.where(np.isfinite(Z), Z - lo, np.nan) + eps)
        # "min" read as f's minimum, which exp(x) + y² does not have: it is the lowest f in the picture
        return Zc, "log₁₀(f − lowest f shown)", True
    # Cap the colour range at the 99th percentile so one spike does not wash out the picture.
    return np.clip(Z, None, p99) if np.isfinite(p99) else Z, "f", False


def frame_indices(longest: int, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """Iteration indices shown as animation frames: every step when short, evenly thinned when long
    (always including 0 and the last step)."""
    if longest + 1 <= max_frames:
        return np.arange(longest + 1)
    return np.unique(np.round(np.linspace(0, longest, max_frames)).astype(int))


_F32_MAX = float(np.finfo(np.float32).max)


def _f32(a) -> np.ndarray:
    """Half-size arrays for the JSON; values beyond float32's range (exp(x^2) far out) become gaps."""
    a = np.asarray(a, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(a) <= _F32_MAX, a, np.nan).astype(np.float32)


def _short(a, decimals: int = 5) -> list[float]:
    """Plain short numbers for path traces. Frames must not hold typed arrays: plotly.js does not
    decode base64 arrays inside animation frames (the path then stops moving and the contour vanishes
    once Play is pressed), so frame data are lists, rounded so the JSON stays small."""
    a = np.asarray(a, dtype=float)
    finite = a[np.isfinite(a)]
    scale = float(np.max(np.abs(finite))) if finite.size else 1.0
    digits = int(np.clip(decimals - np.floor(np.log10(scale if scale > 0 else 1.0)), 0, 12))
    out = np.round(a, digits).tolist()
    for i in np.flatnonzero(~np.isfinite(a)).tolist():
        out[i] = None
    return out


CONTOUR_CACHE_SIZE = 32
_contour_cache: dict[tuple, tuple[str, float, float, str]] = {}   # contour pictures by grid digest
_THINNED: dict[tuple, np.ndarray] = {}                        # thinned indices by path digest
_THINNED_KEPT = 256
_MEMO_LOCK = threading.Lock()


def _digest(*arrays) -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a, dtype=float)
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _remembered(store: dict, kept: int, key: tuple, make):
    """`make()` remembered under `key` (the oldest forgotten past `kept` entries): figures are rebuilt
    on every knob, but a knob changes one run's path, not the others' nor the grid."""
    found = store.get(key)
    if found is None:
        found = make()
        if isinstance(found, np.ndarray):
            found.setflags(write=False)   # shared by every figure that asks again
        with _MEMO_LOCK:                  # the app builds figures on several sessions' threads
            while len(store) >= kept:
                store.pop(next(iter(store)), None)
            store[key] = found
    return found


def thin_indices(points, max_points: int) -> np.ndarray:
    """`thinning.thin_indices`, remembered by a digest of the points."""
    return _remembered(_THINNED, _THINNED_KEPT, ("path", _digest(points), int(max_points)),
                       lambda: thinning.thin_indices(points, max_points))


def thin_series(x, y, max_points: int, log_y: bool = False) -> np.ndarray:
    """`thinning.thin_series`, remembered by a digest of the curve."""
    return _remembered(_THINNED, _THINNED_KEPT, ("series", _digest(x, y), int(max_points), bool(log_y)),
                       lambda: thinning.thin_series(x, y, max_points, log_y=log_y))


def _contour_picture(Z, bands: int) -> tuple[str, float, float, str]:
    """(PNG data URI, zmin, zmax, colour-bar label) of the banded picture of Z, remembered by a
    digest of Z: a knob that changes the paths but not f or the window (η, a method) redraws the
    same background, and the picture costs more than everything else in a compare figure."""
    def make():
        Zc, label, _ = display_values(np.asarray(Z, dtype=float))
        finite = Zc[np.isfinite(Zc)]
        zmin, zmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        return banded_raster(Zc, zmin, zmax, bands=bands, upsample=3), zmin, zmax, label
    return _remembered(_contour_cache, CONTOUR_CACHE_SIZE, (_digest(Z), int(bands)), make)


def _contour_parts(xs, ys, Z, *, xref: str = "x", yref: str = "y", showscale: bool = True,
                   bands: int = 24) -> tuple[dict, dict | None]:
    """The banded contour picture (a layout image) and the invisible colour-bar point, as new dicts
    (callers style their own copy); the picture itself is remembered (`_contour_picture`), so panels
    of one grid and a learning-rate nudge reuse it (~50 ms saved)."""
    source, zmin, zmax, label = _contour_picture(Z, bands)
    image = dict(source=source, xref=xref, yref=yref,
                 x=float(xs[0]), y=float(ys[-1]), sizex=float(xs[-1] - xs[0]), sizey=float(ys[-1] - ys[0]),
                 xanchor="left", yanchor="top", sizing="stretch", layer="below", name="contour")
    if not showscale:
        return image, None
    bar = dict(type="scatter", x=[float(xs[0])], y=[float(ys[0])], mode="markers", name="f", showlegend=False,
               hoverinfo="skip", xaxis=xref, yaxis=yref,
               marker=dict(size=0.1, opacity=0, color=[zmin], cmin=zmin, cmax=zmax, colorscale=CONTOUR_SCALE,
                           showscale=True, colorbar=dict(title=dict(text=label, side="right"), thickness=14,
                                                         len=0.9, nticks=6,
                                                         exponentformat="power")))   # 1×10¹², not "1T"
    return image, bar


def contour_layer(fig: go.Figure, xs, ys, Z, *, xref: str = "x", yref: str = "y", showscale: bool = True,
                  bands: int = 24) -> None:
    """Filled contour of Z drawn once, as a banded picture under the axes (`layout.images`), plus
    one invisible point carrying the colour bar (trace named "f").

    Not a go.Contour trace: plotly.js drops contour layers when a redraw=False animation starts
    (plotly.js #4491; seen in Chromium), and the picture is also smaller than the z grid."""
    image, bar = _contour_parts(xs, ys, Z, xref=xref, yref=yref, showscale=showscale, bands=bands)
    fig.add_layout_image(**image)
    if bar is not None:
        fig.add_trace(go.Scatter(bar))


def _click_grid(xs, ys, Z=None, n: int = 45, names: Sequence[str] = ("x", "y")) -> dict:
    gx = np.linspace(xs[0], xs[-1], n)
    gy = np.linspace(ys[0], ys[-1], n)
    GX, GY = np.meshgrid(gx, gy)
    custom = None
    hover = f"{names[0]} = %{{x:.3g}}, {names[1]} = %{{y:.3g}}<br>click to start here<extra></extra>"
    if Z is not None:
        iy = np.clip(np.round(np.linspace(0, len(ys) - 1, n)).astype(int), 0, len(ys) - 1)
        ix = np.clip(np.round(np.linspace(0, len(xs) - 1, n)).astype(int), 0, len(xs) - 1)
        custom = _f32(np.asarray(Z)[np.ix_(iy, ix)].ravel())
        hover = (f"{names[0]} = %{{x:.3g}}, {names[1]} = %{{y:.3g}}<br>f = %{{customdata:.4g}}"
                 "<br>click to start here<extra></extra>")
    trace = dict(type="scatter", x=_f32(GX.ravel()), y=_f32(GY.ravel()), mode="markers",
                 marker=dict(size=max(4, int(380 / n)), opacity=0, color="white", maxdisplayed=CLICK_GRID_DRAWN),
                 hovertemplate=hover, name="click grid", showlegend=False)
    if custom is not None:
        trace["customdata"] = custom
    return trace


def _carrying_colour_bar(grid: dict, bar: dict) -> dict:
    """The click grid with the colour bar of `bar` (`_contour_parts`) on its invisible markers: one
    trace fewer. plotly.js restates the defaults and calcdata of every trace on every animation frame
    (~1 ms a trace in headless Chromium), whatever the frame names. The hover label keeps the grid's
    white (it follows the marker colour otherwise)."""
    marker = dict(grid["marker"])
    marker.update({k: v for k, v in bar["marker"].items() if k not in ("size", "opacity")})
    return dict(grid, marker=marker, hoverlabel=dict(bgcolor=grid["marker"]["color"]))


def click_grid_trace(xs, ys, Z=None, n: int = 45, names: Sequence[str] = ("x", "y")) -> go.Scatter:
    """An invisible grid of points over the plot: Streamlit selection events come from scatter
    points, so clicking anywhere picks the nearest grid point (and its hover shows f there).

    Only `CLICK_GRID_DRAWN` of its points are drawn (`marker.maxdisplayed`): hover and click work
    from the data, not the drawing, and every animation frame redraws this trace (see
    `_frames`): drawing ~2,000 invisible markers per frame halved the frame rate of Play."""
    return go.Scatter(_click_grid(xs, ys, Z, n, names))


def _steps_of(path: dict) -> np.ndarray:
    steps = path.get("steps")
    return np.asarray(steps) if steps is not None else np.arange(len(path["x"]))


class _DrawnPath:
    """A path as a figure draws it: the thinned points in `fig.data`, coarser prefixes in frames.

    `x`, `y` and `steps` cover every point (rounded lists for the JSON); `drawn` indexes the
    points in the figure's data (all of them when the run is short)."""

    def __init__(self, path: dict, max_points: int = MAX_PATH_POINTS):
        self.path = path
        x, y = np.asarray(path["x"], dtype=float), np.asarray(path["y"], dtype=float)
        self.points = np.column_stack([x, y])
        self.steps = _steps_of(path)
        self.drawn = thin_indices(self.points, max_points) if len(x) else np.arange(0)
        self.x, self.y = _short(x), _short(y)
        self.step_list = [int(k) for k in self.steps.tolist()]

    @property
    def thinned(self) -> bool:
        return len(self.drawn) < len(self.x)

    def lists(self, indices) -> tuple[list, list, list]:
        return ([self.x[i] for i in indices], [self.y[i] for i in indices], [self.step_list[i] for i in indices])

    def frame_states(self, ks: np.ndarray, frame_points: int) -> list[tuple[list, list, list, int]]:
        """(x, y, steps) of the path so far and the index of its head, for each frame k: the kept
        points reached by k plus the exact iterate at k; the last frame is the whole drawn path."""
        n = len(self.x)
        if n == 0:
            return [([], [], [], -1) for _ in ks]
        kept = self.drawn if len(self.drawn) <= frame_points else thin_indices(self.points, frame_points)
        kept_steps = self.steps[kept]
        reached = np.searchsorted(kept_steps, ks, side="right")
        heads = np.searchsorted(self.steps, ks, side="right") - 1
        kx, ky, ksteps = self.lists(kept)
        states = []
        for u, j in zip(reached.tolist(), heads.tolist()):
            u, j = max(u, 1), max(j, 0)
            x, y, st = kx[:u], ky[:u], ksteps[:u]
            if kept[u - 1] != j:
                x, y, st = x + [self.x[j]], y + [self.y[j]], st + [self.step_list[j]]
            states.append((x, y, st, j))
        last = self.lists(self.drawn)
        states[-1] = (*last, n - 1) if heads[-1] == n - 1 else states[-1]
        return states


def _path_traces(drawn: _DrawnPath, show_legend: bool = True, legendgroup: str | None = None) -> list[dict]:
    """The path's line (thinned; step numbers in customdata for the hover) and its head marker, as
    plain trace dicts (no plotly.py validation: they are built from checked numbers)."""
    path = drawn.path
    x, y, steps = drawn.lists(drawn.drawn)
    group = legendgroup or path["name"]
    line = dict(type="scatter", x=x, y=y, customdata=steps, mode="lines" if drawn.thinned else "lines+markers",
                name=path["name"], legendgroup=group, showlegend=show_legend,
                line=dict(color=path["color"], width=2.5, dash=path.get("dash")),
                marker=dict(size=5, color=path["color"]),
                hovertemplate=f"{path['name']}<br>k = %{{customdata}}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>")
    head = dict(type="scatter", x=x[-1:], y=y[-1:], mode="markers", name=f"{path['name']} now", legendgroup=group,
                showlegend=False, marker=dict(size=13, color=path["color"], line=dict(color="black", width=1.5)),
                hoverinfo="skip")
    if line["line"]["dash"] is None:
        del line["line"]["dash"]
    return [line, head]


SLIDER_ROW_PX = 64  # the frame slider has a row of its own under the buttons
CONTROLS_PX = 130 + SLIDER_ROW_PX  # room below the x axis for the play buttons and the frame slider
SLIDER_BELOW_PX = 38  # slider top below the buttons' top: clear of them even on a narrow plot
BUTTONS_BELOW_PX = 70  # the buttons' top under the plot, below the x axis title
HIDDEN_TEXT = "rgba(0,0,0,0)"
COUNTER_COLOR = "#31333f"  # Streamlit's text colour (the counter would take the hidden labels' colour)


def _animation_controls(ks: np.ndarray, plot_px: float) -> dict:
    """Play buttons (three speeds) and pause ~60 px under the x axis title, and the frame slider
    across the whole width on its own row below them, whatever the figure height (`plot_px` is the
    height of the plotting area). The slider used to start at 36 % of the width on the buttons' row:
    where the plot is narrower than ~700 px (the playground at 1400 px, compare panels) it ran under
    "■ Pause". Fractions of a width that Streamlit sets cannot keep a row of fixed-size buttons
    clear, two rows can. The buttons start 70 px under the plot: the x axis title ends ~61 px under
    it, and on a narrow plot (a phone) the centred title sits above the buttons, not beside them."""
    y = -BUTTONS_BELOW_PX / max(plot_px, 100)
    names = [str(int(k)) for k in ks]
    buttons = [dict(label=label, method="animate",
                    args=[None, dict(frame=dict(duration=ms, redraw=False), fromcurrent=True,
                                     transition=dict(duration=0), mode="immediate")])
               for label, ms in SPEEDS]
    buttons.append(dict(label=PAUSE_LABEL, method="animate",
                        args=[[None], dict(frame=dict(duration=0, redraw=False), mode="immediate",
                                           transition=dict(duration=0))]))
    return dict(
        updatemenus=[dict(type="buttons", direction="right", showactive=False, x=0.0, y=y, xanchor="left",
                          yanchor="top", pad=dict(t=0, r=6), buttons=buttons, font=dict(size=12))],
        # transition 0: the grip jumps to each frame's step instead of a 150 ms d3 tween per frame.
        # Tick labels hidden: plotly.js labels every n-th step from the first, so the row of labels
        # stopped short of the last step (97 of 100, 4,937 of 5,000) and read as the end of the run;
        # the counter names the step and the last one instead.
        sliders=[dict(active=len(names) - 1, x=0.0, y=y - SLIDER_BELOW_PX / max(plot_px, 100), len=1.0,
                      xanchor="left", transition=dict(duration=0),
                      yanchor="top", pad=dict(t=0, b=0), font=dict(color=HIDDEN_TEXT),
                      currentvalue=dict(prefix="step k = ", suffix=f" of {names[-1]}" if names else "",
                                        xanchor="right", font=dict(size=12, color=COUNTER_COLOR)),
                      steps=[dict(label=n, method="animate",
                                  args=[[n], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                                  transition=dict(duration=0))]) for n in names])])


def frame_points_per_path(n_frames: int, n_paths: int, budget: int = FRAME_POINT_BUDGET) -> int:
    """Points of "the path so far" each frame may restate per path: all frames of a figure
    together restate at most about `budget` points, whatever the number of steps."""
    share = budget // max(1, n_frames * n_paths)
    return int(np.clip(share, MIN_FRAME_POINTS, MAX_PATH_POINTS))


def _frames(data: Sequence[dict], paths_by_trace: list[tuple[int, _DrawnPath]], ks: np.ndarray) -> list[dict]:
    """Frames that update only the path traces: `paths_by_trace` pairs each drawn path with the
    index of its line trace in `data` (its head trace follows right after).

    Every other scatter trace (click grid, markers, colour-bar point) is named in each frame too,
    with an empty update. Plotly.animate recomputes the calcdata of *all* traces but redraws only
    the traces a frame names; the others are left without their drawing node (`cd[0].node3`), and
    the next click in "event+select" mode throws inside plotly.js ("Cannot read properties of
    undefined (reading 'selectAll')") before `plotly_selected` is sent: after Play or Pause a click
    on the contour did nothing. Naming them costs a few bytes per frame and keeps them drawn.

    A path drawn with a dot per iterate is restated as a line in every frame but the last when its
    dots would be many (`FRAME_DOTS`): plotly.js re-styles every marker of a named trace on every
    frame (a 200-step run's ~100 dots per frame cost ~3 of the ~17 ms of main-thread time a frame
    took in headless Chromium, and half of the SVG nodes restyled), while the head marker already
    shows where the run is. Short runs keep their dots while they play; every run shows them again
    at its last frame, as at rest. (The rest of a frame is plotly.js itself: `Plots.transition`
    re-runs supplyDefaults and calcdata for the whole figure, ~0.5-1 ms per trace and ~1 ms for
    the 100-step slider, whatever the frame names.)"""
    indices = [i for i, _ in paths_by_trace for i in (i, i + 1)]
    static = [i for i, t in enumerate(data) if t.get("type", "scatter") == "scatter" and i not in indices]
    per_path = frame_points_per_path(len(ks), len(paths_by_trace))
    states = [drawn.frame_states(ks, per_path) for _, drawn in paths_by_trace]
    dotted = [data[i].get("mode") == "lines+markers" for i, _ in paths_by_trace]
    dots = sum(len(drawn.drawn) for (_, drawn), d in zip(paths_by_trace, dotted) if d)
    line_only = dots > FRAME_DOTS
    frames = []
    for f, k in enumerate(ks):
        moving = []
        last = f == len(ks) - 1
        for path_states, has_dots in zip(states, dotted):
            x, y, steps, _ = path_states[f]
            line = {"type": "scatter", "x": x, "y": y, "customdata": steps}
            if has_dots and line_only:
                line["mode"] = "lines+markers" if last else "lines"
            moving.append(line)
            moving.append({"type": "scatter", "x": x[-1:], "y": y[-1:]})
        moving.extend({"type": "scatter"} for _ in static)
        frames.append({"name": str(int(k)), "data": moving, "traces": indices + static})
    return frames


def _figure(data: list[dict], layout: dict, frames: list[dict] | None = None) -> go.Figure:
    """A figure from plain dicts, validated by plotly.py only if something reads it as objects
    (`PlainFigure`: the Playground's contour figure reached the browser ~0.2 s sooner)."""
    return PlainFigure(dict(data=data, layout=layout, frames=frames or []))


# Margins that already hold what Plotly would push them to (a one-row legend, the colour bar and its
# labels): a push makes plotly.js draw the whole figure a second time (~25 % of its drawing time).
COLORBAR_MARGIN_PX = 94
SURFACE_LIFT = 0.012   # paths float this share of the surface's height range above it
SURFACE_OPACITY = 0.65 # ... and the surface lets the valley's path show through the slopes in front


def _layout(title: str | None = None, **layout) -> dict:
    """The shared look (`styled`) as a layout dict; the title at the top left beside the modebar."""
    out = dict(template=TEMPLATE, **layout)
    if title:
        out["title"] = top_title(title, layout.get("height") or 450)
    return out


def _longest(paths: Sequence[dict]) -> int:
    return max((int(_steps_of(p)[-1]) if len(p["x"]) else 0) for p in paths) if paths else 0


def _markers(paths: Sequence[dict], minima: Sequence[Sequence[float]], legend: bool = True,
             axes: dict | None = None) -> list[dict]:
    """Known minima, start points and one end cross per path, as trace dicts."""
    axes = axes or {}
    traces = []
    if minima is not None and len(minima):
        m = np.asarray(minima, dtype=float)
        traces.append(dict(type="scatter", x=m[:, 0], y=m[:, 1], mode="markers", name="known minimum",
                           marker=MINIMUM_MARKER, showlegend=legend, legendgroup="minimum",
                           hovertemplate="minimum (%{x:.4g}, %{y:.4g})<extra></extra>", **axes))
    starts = np.array([[p["x"][0], p["y"][0]] for p in paths if len(p["x"])], dtype=float)
    if len(starts):
        starts = np.unique(starts, axis=0)
        traces.append(dict(type="scatter", x=starts[:, 0], y=starts[:, 1], mode="markers", name="start",
                           marker=START_MARKER, showlegend=legend, legendgroup="start",
                           hovertemplate="start (%{x:.4g}, %{y:.4g})<extra></extra>", **axes))
    for p in paths:
        if len(p["x"]) > 1:
            traces.append(dict(type="scatter", x=[float(p["x"][-1])], y=[float(p["y"][-1])], mode="markers",
                               name=f"{p['name']} end", marker=dict(END_MARKER, color=p["color"]),
                               showlegend=False, legendgroup=p["name"],
                               hovertemplate=f"{p['name']} end (%{{x:.4g}}, %{{y:.4g}})<extra></extra>", **axes))
    return traces


# ---------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------
def contour_paths_figure(xs, ys, Z, paths: Sequence[dict], *, minima: Sequence[Sequence[float]] = (),
                         names: Sequence[str] = ("x", "y"), title: str | None = None, animate: bool = True,
                         clickable: bool = True, click_axes: Sequence[int] = (0, 1),
                         max_frames: int = MAX_FRAMES, height: int = 620,
                         max_path_points: int = MAX_PATH_POINTS, width_px: int | None = None) -> go.Figure:
    """Filled contour of f with one or several paths on it, animated along the iterations.

    Trace order: the colour-bar point (or the click grid carrying the colour bar), path lines and
    heads (pairs), minima, start, end markers.
    An animated figure is `SLIDER_ROW_PX` taller than `height` (the frame slider's own row), and a
    legend that wraps (a dozen runs on one contour) makes it taller by its extra rows, counted for
    `width_px` (the chart's width if known, else a main chart's ~900 px): the plot keeps its size.
    The contour and the grid appear once in `fig.data`; frames update only the path pairs.
    """
    image, bar = _contour_parts(xs, ys, Z)
    data = [_carrying_colour_bar(_click_grid(xs, ys, Z, names=names), bar) if clickable else bar]
    pairs = []
    for p in paths:
        drawn = _DrawnPath(p, max_path_points)
        pairs.append((len(data), drawn))
        data.extend(_path_traces(drawn))
    meta = dict(click_axes=list(click_axes))
    data.extend(_markers(paths, minima))
    animate = bool(animate and paths)
    if animate:
        height += SLIDER_ROW_PX  # the slider's own row: the plot keeps its size
    entries = [t["name"] for t in data if t.get("showlegend", True) and t.get("name")]
    rows = _legend_rows(entries, width_px or 900) if len(entries) > 1 else 1
    height += LEGEND_LINE_PX * (rows - 1)
    top = top_margin(bool(title), rows)
    layout = _layout(title, height=height, meta=meta, dragmode=False,
                     legend=top_legend(height, title=bool(title)),
                     margin=dict(l=60, r=COLORBAR_MARGIN_PX, t=top, b=CONTROLS_PX if animate else 50),
                     hovermode="closest", images=[image],
                     xaxis=dict(title=dict(text=names[0]), range=[float(xs[0]), float(xs[-1])], showgrid=False),
                     yaxis=dict(title=dict(text=names[1]), range=[float(ys[0]), float(ys[-1])], showgrid=False))
    frames = None
    if animate:
        ks = frame_indices(_longest(paths), max_frames)
        frames = _frames(data, pairs, ks)
        layout.update(_animation_controls(ks, plot_px=height - top - CONTROLS_PX))
    return _figure(data, layout, frames)


def small_multiples_figure(xs, ys, Z, panels: Sequence[tuple[str, Sequence[dict]]], *,
                           minima: Sequence[Sequence[float]] = (), names: Sequence[str] = ("x", "y"),
                           max_frames: int = 80, cols: int | None = None, height_per_row: int = 330,
                           max_path_points: int = MAX_PATH_POINTS) -> go.Figure:
    """One contour panel per method (its paths on it), all driven by one shared animation timeline.

    The panels share one colour axis; every frame updates the path traces of all panels at once.
    """
    n = max(1, len(panels))
    cols = cols or min(n, 3)
    rows = (n + cols - 1) // cols
    height = rows * height_per_row + 150 + SLIDER_ROW_PX
    # rows ~60 px apart whatever their number (room for the next panel's title; a fraction of the
    # height left 150 px gaps in a one-column stack of four panels on a phone)
    gap = min(0.1, 60 / max(height - 60 - CONTROLS_PX, 100)) if rows > 1 else 0.05
    # make_subplots only for the grid of axes (domains, shared axes, titles): ~20 ms
    layout = make_subplots(rows=rows, cols=cols, subplot_titles=[t for t, _ in panels], shared_xaxes=True,
                           shared_yaxes=True, horizontal_spacing=0.04, vertical_spacing=gap).to_dict()["layout"]
    layout.pop("template", None)
    data: list[dict] = []
    images = []
    pairs = []
    all_paths = []
    for i, (_, paths) in enumerate(panels):
        suffix = "" if i == 0 else str(i + 1)
        axes = dict(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
        if i == 0:
            picture, bar = _contour_parts(xs, ys, Z, bands=20)
            data.append(bar)
        images.append(dict(picture, xref=axes["xaxis"], yref=axes["yaxis"]))
        for p in paths:
            drawn = _DrawnPath(p, max_path_points)
            pairs.append((len(data), drawn))
            data.extend(dict(t, **axes) for t in _path_traces(drawn, show_legend=False))
            all_paths.append(p)
        data.extend(_markers(paths, minima, legend=(i == 0), axes=axes))
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            axis.update(range=[float(xs[0]), float(xs[-1])] if key[0] == "x" else [float(ys[0]), float(ys[-1])],
                        showgrid=False)
            index = int(key[5:] or 1) - 1
            if key[0] == "x" and index // cols == rows - 1:
                axis["title"] = dict(text=names[0])
            if key[0] == "y" and index % cols == 0:
                axis["title"] = dict(text=names[1])
    for note in layout.get("annotations", []):
        note["font"] = dict(size=13)
    layout.update(_layout(None, height=height, dragmode=False, hovermode="closest",
                          legend=top_legend(height),
                          # the panels' titles sit in the legend row's gap
                          margin=dict(l=60, r=COLORBAR_MARGIN_PX, t=top_margin(False) + 6, b=CONTROLS_PX),
                          images=images))
    frames = None
    if all_paths:
        ks = frame_indices(_longest(all_paths), max_frames)
        frames = _frames(data, pairs, ks)
        layout.update(_animation_controls(ks, plot_px=height - top_margin(False) - 6 - CONTROLS_PX))
    return _figure(data, layout, frames)


def surface_figure(xs, ys, Z, paths: Sequence[dict], *, names: Sequence[str] = ("x", "y"),
                   minima: Sequence[Sequence[float]] = (), minima_values: Sequence[float] = (),
                   height: int = 620, max_path_points: int = MAX_PATH_POINTS) -> go.Figure:
    """3-D surface of f with each path drawn on it (`path["z"]` = f at the iterates), thinned.

    A path drawn exactly on the surface vanished into it after a few points (WebGL draws the
    surface over a line at the same depth, and the opaque slopes in front hid the valley): the
    paths and minima are lifted by SURFACE_LIFT of the surface's height range and the surface is
    SURFACE_OPACITY see-through. Hover texts give the true f."""
    Z = np.asarray(Z, dtype=float)
    finite = Z[np.isfinite(Z)]
    top = float(np.percentile(finite, 98)) if finite.size else 1.0
    Zs = np.where(Z > top, np.nan, Z)  # cut spikes: the interesting part is the bottom
    shown = Zs[np.isfinite(Zs)]
    lift = SURFACE_LIFT * (float(shown.max() - shown.min()) if shown.size else 0.0)
    fig = go.Figure(go.Surface(x=_f32(xs), y=_f32(ys), z=_f32(Zs), colorscale=CONTOUR_SCALE, opacity=SURFACE_OPACITY,
                               showscale=False, name="f", hovertemplate="f = %{z:.4g}<extra></extra>",
                               contours=dict(z=dict(show=True, usecolormap=True, project=dict(z=True), width=1))))
    for p in paths:
        x, y = np.asarray(p["x"], dtype=float), np.asarray(p["y"], dtype=float)
        z = np.asarray(p.get("z", np.zeros(len(x))), dtype=float)
        keep = thin_indices(np.column_stack([x, y, z]), max_path_points) if len(x) else np.arange(0)
        fig.add_trace(go.Scatter3d(x=_f32(x[keep]), y=_f32(y[keep]), z=_f32(z[keep] + lift), name=p["name"],
                                   mode="lines" if len(keep) < len(x) else "lines+markers",
                                   customdata=np.column_stack([_steps_of(p)[keep], z[keep]]),
                                   hovertemplate=f"{p['name']}<br>k = %{{customdata[0]}}<br>(%{{x:.4g}}, %{{y:.4g}})"
                                                 "<br>f = %{customdata[1]:.4g}<extra></extra>",
                                   line=dict(color=p["color"], width=6), marker=dict(size=3, color=p["color"])))
    starts = [p for p in paths if len(p["x"])]
    if starts:   # as on the contour: without it a run seemed to start at a minimum lined up behind it
        z0 = np.array([float(np.asarray(p.get("z", [0.0]), dtype=float)[0]) for p in starts])
        fig.add_trace(go.Scatter3d(x=[float(p["x"][0]) for p in starts], y=[float(p["y"][0]) for p in starts],
                                   z=z0 + lift, mode="markers", name="start", customdata=z0,
                                   marker={**START_MARKER, "size": 6},   # the contour's, at a 3-D size
                                   hovertemplate="start (%{x:.4g}, %{y:.4g})<br>f = %{customdata:.4g}<extra></extra>"))
    if len(minima) and len(minima_values) == len(minima):
        m = np.asarray(minima, dtype=float)
        values = np.asarray(minima_values, dtype=float)
        fig.add_trace(go.Scatter3d(x=m[:, 0], y=m[:, 1], z=values + lift, mode="markers", customdata=values,
                                   name="known minimum", marker=dict(size=6, color="#ffd400", symbol="diamond",
                                                                     line=dict(color="black", width=1)),
                                   hovertemplate="minimum (%{x:.4g}, %{y:.4g})<br>f = %{customdata:.4g}<extra></extra>"))
    styled(fig, None, height=height, margin=dict(l=0, r=0, t=top_margin(False), b=0),
           legend=top_legend(height),
           scene=dict(xaxis_title=names[0], yaxis_title=names[1], zaxis_title="f",
                      # closer, and looking a little lower: the scene filled the lower half of its box
                      camera=dict(eye=dict(x=1.1, y=-1.1, z=0.75), center=dict(x=0, y=0, z=-0.15)), aspectmode="manual",
                      aspectratio=dict(x=1, y=1, z=0.6)))
    return fig


def curve_figure(xs, fx, paths: Sequence[dict], *, name: str = "x", minima: Sequence[float] = (),
                 minima_values: Sequence[float] = (), title: str | None = None, animate: bool = True,
                 max_frames: int = MAX_FRAMES, height: int = 560,
                 max_path_points: int = MAX_PATH_POINTS) -> go.Figure:
    """1-D: the curve y = f(x) with the iterates of each run drawn on it (x_k, f(x_k)), animated.
    Clicking the curve sets the start x."""
    xs = np.asarray(xs, dtype=float)
    fx = np.asarray(fx, dtype=float)
    data = [dict(type="scatter", x=_f32(xs), y=_f32(fx), mode="lines+markers", name="f", showlegend=False,
                 line=dict(color="#1b3a6b", width=2), marker=dict(size=6, opacity=0, color="#1b3a6b"),
                 hovertemplate=f"{name} = %{{x:.4g}}<br>f = %{{y:.4g}}<br>click to start here<extra></extra>")]
    pairs = []
    for p in paths:
        drawn = _DrawnPath(p, max_path_points)
        pairs.append((len(data), drawn))
        data.extend(_path_traces(drawn))
    if len(minima) and len(minima_values) == len(minima):
        data.append(dict(type="scatter", x=[float(v) for v in minima], y=[float(v) for v in minima_values],
                         mode="markers", name="known minimum", marker=MINIMUM_MARKER))
    if paths:
        data.append(dict(type="scatter", x=[float(paths[0]["x"][0])], y=[float(paths[0]["y"][0])], mode="markers",
                         name="start", marker=START_MARKER))
    finite = fx[np.isfinite(fx)]
    yrange = None
    if finite.size:
        lo, hi = float(finite.min()), float(np.percentile(finite, 99))
        pad = 0.08 * max(hi - lo, 1e-9)
        yrange = [lo - pad, hi + pad]
    animate = bool(animate and paths)
    if animate:
        height += SLIDER_ROW_PX
    top = top_margin(bool(title))
    layout = _layout(title, height=height, meta=dict(click_axes=[0]), dragmode=False, hovermode="closest",
                     legend=top_legend(height, title=bool(title)),
                     margin=dict(l=60, r=20, t=top, b=CONTROLS_PX if animate else 50),
                     xaxis=dict(title=dict(text=name), range=[float(xs[0]), float(xs[-1])]),
                     yaxis=dict(title=dict(text=f"f({name})"), range=yrange))
    frames = None
    if animate:
        ks = frame_indices(_longest(paths), max_frames)
        frames = _frames(data, pairs, ks)
        layout.update(_animation_controls(ks, plot_px=height - top - CONTROLS_PX))
    return _figure(data, layout, frames)


def convergence_figure(series: Sequence[dict], *, y_title: str, x_title: str = "iteration k",
                       log_y: bool = True, title: str | None = None, height: int = 340,
                       floor: float = 1e-16, max_points: int = MAX_SERIES_POINTS) -> go.Figure:
    """Lines of a per-iteration quantity (f − f*, ‖∇f‖, distance to x*) on a log scale.
    Each series: {"name", "x", "y", "color", optional "dash", optional "diverged"}; values ≤ floor
    are drawn at floor. Long series are thinned to `max_points` in the space they are drawn in
    (log10 y on a log axis), so the shape on screen is kept. A diverged series is dashed, says
    "(diverged)" in the legend and does not set the y range: the range spans the other series
    (with a margin), so one run that shot off to 1e25 does not squash the rest into a flat line
    at the bottom."""
    return convergence_panels_figure([(y_title, series)], x_title=x_title, log_y=log_y, title=title,
                                     height=height, floor=floor, max_points=max_points, width_px=None)


def _legend_rows(names: Sequence[str], width_px: int | None) -> int:
    """Rows a horizontal legend of `names` wraps to: entries packed into `width_px` (~7 px a
    character, 45 px for the line sample and gap); unknown width: one entry a row for long names
    (the chart may be a third of the page), else three a row."""
    if width_px is None:
        return len(names) if max(map(len, names)) > 18 else -(-len(names) // 3)
    rows, used = 1, 0
    for name in names:
        need = 45 + 7 * len(name)
        if used and used + need > width_px - 85:
            rows, used = rows + 1, 0
        used += need
    return rows


PANEL_GAP_PX = 70  # between side-by-side panels: the next panel's tick labels fit in it (titles are above)
LEGEND_BELOW_PX = 74  # a convergence legend's top below the plot: under the tick labels and the x axis title
STACK_GAP_PX = 95     # between stacked panels: tick labels, the x axis title and the next panel's title


def convergence_panels_figure(panels: Sequence[tuple[str, Sequence[dict]]], *, x_title: str = "iteration k",
                              log_y: bool = True, title: str | None = None, height: int = 340,
                              floor: float = 1e-16, max_points: int = MAX_SERIES_POINTS,
                              width_px: int | None = 1000) -> go.Figure:
    """`convergence_figure` side by side in one figure: one panel per (y title, series), sharing the
    legend (a series drawn in several panels has one entry that toggles it everywhere). One chart
    instead of two or three: each chart the page holds is mounted and drawn again on every knob
    (~30-60 ms each in the browser). `width_px` is the expected width, for the gap between panels;
    narrower than `NARROW_CHART_PX` (a phone), the panels go one under the other, each `height` tall
    (side by side they were ~170 px each, the right one's tick labels inside the left one)."""
    n_panels = max(1, len(panels))
    stacked = n_panels > 1 and narrow_chart(width_px)
    gap = min(0.3, PANEL_GAP_PX / max(width_px or 1000, 300)) if n_panels > 1 and not stacked else 0.0
    width = 1.0 if stacked else (1.0 - gap * (n_panels - 1)) / n_panels
    panel_px = height - 70   # a stacked panel's plot, and the room between two (tick labels, x title, next title)
    stack_px = n_panels * panel_px + (n_panels - 1) * STACK_GAP_PX

    def y_domain(i: int) -> list[float]:
        top = 1.0 - i * (panel_px + STACK_GAP_PX) / stack_px
        return [top - panel_px / stack_px, top]
    data, layout = [], {}
    names: list[str] = []
    panel_titles: list[dict] = []
    for i, (y_title, series) in enumerate(panels):
        suffix = "" if i == 0 else str(i + 1)
        traces, yrange = _series_traces(series, x_title, log_y, floor, max_points)
        for trace in traces:
            group = trace["name"]
            trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}", legendgroup=group, showlegend=group not in names)
            names.append(group)
        data.extend(traces)
        # Side by side, each panel says what it shows above it: a y title beside the next panel's tick
        # labels ran into them (plotly.js places it without measuring the labels: see TEMPLATE).
        yaxis = dict(title=dict(text=y_title if n_panels == 1 else ""), type="log" if log_y else "linear",
                     exponentformat="power", anchor=f"x{suffix}")
        if n_panels > 1:
            panel_titles.append(dict(text=y_title, x=0.5 if stacked else i * (width + gap) + width / 2, xref="paper",
                                     xanchor="center", y=y_domain(i)[1] if stacked else 1, yref="paper",
                                     yanchor="bottom", yshift=4, showarrow=False, font=dict(size=14)))
        if yrange is not None:
            yaxis["range"] = yrange
        if stacked:
            yaxis["domain"] = y_domain(i)
        left = 0.0 if stacked else i * (width + gap)
        layout[f"xaxis{suffix}"] = dict(title=dict(text=x_title), domain=[left, left + width], anchor=f"y{suffix}")
        layout[f"yaxis{suffix}"] = yaxis
    # The legend goes under the x-axis title with its own room: the figure grows by one line per
    # legend row, so a dozen runs neither cover the axis title nor get cut off at the bottom.
    entries = list(dict.fromkeys(names))
    # a legend when a panel holds several lines (one line per panel is named by its y title)
    n = len(entries) if max((len(series) for _, series in panels), default=0) > 1 else 1
    rows = 0 if n <= 1 else _legend_rows(entries, width_px)
    # Panel titles sit under the modebar's band (the modebar, shown on hover, covered the right title);
    # the figure grows by as much, so the plots keep their size.
    clear = MODEBAR_PX - 20 if panel_titles and not title else 0
    top = (45 if title else 20) + clear + (PANEL_TITLE_PX if panel_titles else 0)
    below = LEGEND_BELOW_PX - 58 if rows else 0   # the legend clears the x axis title (it touched it at 58 px)
    bottom = 50 + 22 * rows + (25 + below if rows else 0)
    if panel_titles:
        layout["annotations"] = panel_titles
    if stacked:
        height = top + stack_px + 50
    else:
        height += clear
    height = height + 22 * rows + (25 + below if rows else 0)
    plot_px = max(height - top - bottom, 100)
    # A plain-dict figure (no plotly.py validation): two of these cost ~50 ms per Playground rerun.
    return _figure(data, _layout(title, height=height, hovermode="x unified" if n > 1 else "closest",
                                 showlegend=n > 1, margin=dict(l=85 if n_panels == 1 else 60, r=20, t=top, b=bottom),
                                 legend=dict(orientation="h", x=0, xanchor="left", y=-LEGEND_BELOW_PX / plot_px,
                                             yanchor="top"),
                                 **layout))


def _series_traces(series: Sequence[dict], x_title: str, log_y: bool, floor: float,
                   max_points: int) -> tuple[list[dict], list[float] | None]:
    """The thinned line traces of `convergence_figure`'s series, and the y range that leaves out the
    diverged ones (None when none diverged)."""
    data = []
    kept: list[np.ndarray] = []
    any_diverged = False
    for s in series:
        y = np.asarray(s["y"], dtype=float)
        if log_y:
            y = np.where(np.isfinite(y), np.maximum(np.abs(y), floor), np.nan)
        diverged = bool(s.get("diverged"))
        any_diverged |= diverged
        if not diverged:
            kept.append(y[np.isfinite(y)])
        name = f"{s['name']} (diverged)" if diverged else s["name"]
        x = np.asarray(s["x"])
        x, y = x[:len(y)], y[:len(x)]
        keep = thin_series(x, y, max_points, log_y=log_y)
        line = {k: v for k, v in dict(color=s.get("color"), width=2,
                                      dash="dash" if diverged else s.get("dash")).items() if v is not None}
        data.append(dict(type="scatter", x=x[keep], y=y[keep], mode="lines", name=name, line=line,
                         hovertemplate=f"{name}<br>{x_title} = %{{x}}<br>%{{y:.3e}}<extra></extra>"))
    return data, (_range_without_diverged(kept, log_y) if any_diverged else None)


def _range_without_diverged(kept: Sequence[np.ndarray], log_y: bool) -> list[float] | None:
    """The y range the non-diverged series span, plus a margin (in log10 units on a log axis, as
    plotly wants them), or None when they have nothing to show."""
    values = np.concatenate([v for v in kept if v.size]) if any(v.size for v in kept) else np.array([])
    if log_y:
        values = values[values > 0]
    if values.size == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    if log_y:
        lo, hi = np.log10(lo), np.log10(hi)
        pad = max(0.06 * (hi - lo), 0.3)
    else:
        pad = max(0.06 * (hi - lo), 1e-9 * max(1.0, abs(hi)))
    return [lo - pad, hi + pad]


def path_from_points(points: np.ndarray, name: str, color: str, axes: tuple[int, int] = (0, 1),
                     values: np.ndarray | None = None, steps: np.ndarray | None = None) -> dict:
    """A path dict for the builders above from a trajectory's points (k+1, d)."""
    P = np.asarray(points, dtype=float)
    if P.shape[1] == 1:
        path = dict(name=name, color=color, x=P[:, 0], y=np.asarray(values, dtype=float))
    else:
        path = dict(name=name, color=color, x=P[:, axes[0]], y=P[:, axes[1]])
        if values is not None:
            path["z"] = np.asarray(values, dtype=float)
    if steps is not None:
        path["steps"] = steps
    return path


def default_color(i: int) -> str:
    return method_color(i)


# ---------------------------------------------------------------------------------------------
# Hover preview: the path from the start under the pointer, drawn in the browser
# ---------------------------------------------------------------------------------------------
PREVIEW_GRID = 12          # starts per axis: 144 paths
PREVIEW_POINTS = 60        # points kept per preview path
# How the page's script (ui/hover_preview.py) draws the preview: a dotted white line with small dots,
# readable on every colour of the contour map.
PREVIEW_STYLE = dict(color="#ffffff", width=2, dash=[3, 3], marker=4, outline="#262730")
_QUANT = 65535             # coordinates travel as uint16 steps of a box around the window; this one is a gap


def preview_starts(window, n: int = PREVIEW_GRID) -> np.ndarray:
    """(n*n, 2) starts at the centres of an n x n partition of a 2-D window, x fastest
    (start k is column k % n, row k // n)."""
    (x0, x1), (y0, y1) = [(float(lo), float(hi)) for lo, hi in list(window)[:2]]
    gx = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    gy = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    GX, GY = np.meshgrid(gx, gy)
    return np.column_stack([GX.ravel(), GY.ravel()])


def _arc_length_indices(P: np.ndarray, max_points: int) -> np.ndarray:
    """Iterates evenly spaced along the path's length (first and last kept): a cheap thinning for
    144 previews at once (`thin_indices` costs ~0.7 ms a path, this ~0.02 ms)."""
    if len(P) <= max_points:
        return np.arange(len(P))
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(P, axis=0).T))])
    if not np.isfinite(cum[-1]) or cum[-1] <= 0:
        return np.unique(np.round(np.linspace(0, len(P) - 1, max_points)).astype(int))
    idx = np.searchsorted(cum, np.linspace(0, cum[-1], max_points), side="left")
    return np.unique(np.concatenate([[0], np.clip(idx, 0, len(P) - 1), [len(P) - 1]]))


def _thinned_in_box(A: np.ndarray, lo: np.ndarray, span: np.ndarray, max_points: int) -> list[np.ndarray]:
    """`_arc_length_indices` for many paths at once: A is (m, L, 2), finite and inside the box, each
    row padded with its end point; returns each row's kept points as uint16 box steps."""
    m, L, _ = A.shape
    cum = np.concatenate([np.zeros((m, 1)), np.cumsum(np.hypot(*np.moveaxis(np.diff(A, axis=1), -1, 0)), axis=1)],
                         axis=1)
    total = cum[:, -1:]
    frac = np.divide(cum, total, out=np.zeros_like(cum), where=total > 0)
    rows = np.arange(m)[:, None]
    # one searchsorted for all rows: row r's fractions shifted into [2r, 2r + 1]
    targets = np.linspace(0.0, 1.0, max_points)[None, :] + 2.0 * rows
    idx = np.searchsorted((frac + 2.0 * rows).ravel(), targets.ravel(), side="left").reshape(m, -1) - rows * L
    idx = np.clip(idx, 0, L - 1)
    keep = np.ones(idx.shape, dtype=bool)
    keep[:, 1:] = idx[:, 1:] != idx[:, :-1]                 # indices rise along a row: drop repeats
    q = np.round((A[rows, idx] - lo) / span * (_QUANT - 1)).astype(np.uint16)
    return np.split(q[keep], np.cumsum(keep.sum(axis=1))[:-1])


def hover_preview(window, starts: np.ndarray, paths: Sequence[np.ndarray], n: int = PREVIEW_GRID,
                  max_points: int = PREVIEW_POINTS) -> dict:
    """What the page's hover script (ui/hover_preview.py) draws from, sent beside the chart: every path
    thinned to `max_points` points along its length, coordinates as uint16 steps of the window
    widened by one window on each side (base64, x and y interleaved); where a path leaves that box
    (or stops being finite) a gap point (`_GAP`, drawn as a break in the line), and it ends at its
    last point inside; `len[k]` points for start k. 144 paths x 60 points: ~46 kB."""
    import base64

    (x0, x1), (y0, y1) = [(float(lo), float(hi)) for lo, hi in list(window)[:2]]
    lo = np.array([x0 - (x1 - x0), y0 - (y1 - y0)])
    span = np.array([3 * (x1 - x0), 3 * (y1 - y0)])
    paths = [np.asarray(P, dtype=float)[:, :2] for P in paths]
    chunks: list = [None] * len(paths)
    # Paths that stay in the box (nearly all): thinned together, as one padded array.
    A = np.full((len(paths), max((len(P) for P in paths), default=1), 2), np.nan)
    for i, P in enumerate(paths):
        A[i, :len(P)] = P
        A[i, len(P):] = P[-1] if len(P) else np.nan   # padding repeats the end: zero-length arcs
    with np.errstate(invalid="ignore"):
        ok = np.all(np.isfinite(A), axis=2) & np.all((A >= lo) & (A <= lo + span), axis=2)
    clean = np.flatnonzero(ok.all(axis=1))
    if len(clean):
        for i, q in zip(clean, _thinned_in_box(A[clean], lo, span, max_points)):
            chunks[i] = q
    for i in np.flatnonzero(~ok.all(axis=1)):   # the rest one by one, with gaps where they leave
        P = paths[i]
        with np.errstate(invalid="ignore"):
            inside_mask = np.all(np.isfinite(P), axis=1) & np.all((P >= lo) & (P <= lo + span), axis=1)
        inside = np.flatnonzero(inside_mask)
        keep = inside[_arc_length_indices(P[inside], max_points)] if len(inside) else inside
        q = np.round((P[keep] - lo) / span * (_QUANT - 1)).astype(np.uint16)
        left = np.cumsum(~inside_mask)[keep]
        gaps = np.flatnonzero(np.diff(left) > 0) + 1     # kept points with an excursion before them
        chunks[i] = np.insert(q, gaps, _QUANT, axis=0)
    lengths = [len(q) for q in chunks]
    data = np.concatenate([q.ravel() for q in chunks]) if chunks else np.zeros(0, np.uint16)
    starts = np.asarray(starts, dtype=float)
    return dict(style=PREVIEW_STYLE, n=int(n), len=lengths, gap=_QUANT,
                xy=base64.b64encode(data.astype("<u2").tobytes()).decode("ascii"),
                lo=[float(v) for v in lo], q=[float(v) / (_QUANT - 1) for v in span],
                gx=[float(starts[0, 0]), float((x1 - x0) / n)], gy=[float(starts[0, 1]), float((y1 - y0) / n)])


def decode_preview(preview: dict) -> list[np.ndarray]:
    """The paths of a hover-preview payload, back as (k, 2) arrays, nan rows at the gaps (what the
    page's script draws)."""
    import base64
    raw = np.frombuffer(base64.b64decode(preview["xy"]), dtype="<u2").astype(float)
    out, at = [], 0
    for m in preview["len"]:
        q = raw[2 * at:2 * (at + m)].reshape(m, 2)
        P = np.array(preview["lo"]) + q * np.array(preview["q"])
        P[q[:, 0] == preview["gap"]] = np.nan
        out.append(P)
        at += m
    return out

