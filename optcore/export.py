"""Files a student or teacher takes away: trajectories (CSV, JSON), figures (HTML, PNG, SVG, GIF)
and a run as a Python script. Every file says what it shows (`provenance`).

The functions a UI calls (all return bytes or text; none needs Streamlit):

    provenance(obj, trajectories, steps=..., tol=...) -> dict      formula, runs, settings, version
    trajectories_csv(trajectories, provenance=None) -> str        `#` header lines when given one
    trajectories_json(trajectories, provenance=None) -> str       {"provenance": ..., "runs": ...}
    figure_html(fig, provenance=None) -> str                      titled, captioned, thinned, offline
    png_bytes(fig, caption=..., on_progress=...) / svg_bytes(...)  one Chromium kept alive per process
    gif_bytes(obj, trajectories, window, ..., on_progress=...)    drawn with Pillow: no browser needed
    python_script(obj, traj, steps=..., tol=...) -> str           see script_export.py

HTML needs nothing but plotly (self-contained, animated, offline). PNG/SVG go through kaleido, which
drives a system Chrome/Chromium: `chromium_path()` says whether one is there; callers should offer
HTML and the chart's own camera button when it is not. `on_progress(fraction, text)` callbacks get a
fraction in [0, 1] and a short sentence (what `st.progress` shows).
"""
from __future__ import annotations

import asyncio
import atexit
import copy
import datetime as _dt
import html as _html
import io
import json
import math
import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

Progress = Callable[[float, str], None] | None

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
                       "/usr/bin/google-chrome-stable")



def chromium_path() -> str | None:
    """The browser kaleido will use: $BROWSER_PATH, then the usual system locations, then PATH."""
    env = os.environ.get("BROWSER_PATH")
    if env and os.path.exists(env):
        return env
    for path in CHROMIUM_CANDIDATES:
        if os.path.exists(path):
            return path
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class NoBrowserError(RuntimeError):
    """Static image export needs Chrome/Chromium and none was found."""


# -- provenance ----------------------------------------------------------------------------------

def optcore_version() -> str:
    """The installed optcore's version, else the one in the source tree's pyproject.toml."""
    try:
        from importlib.metadata import version
        return version("optcore")
    except Exception:  # noqa: BLE001 - not installed: running from a checkout
        pass
    try:
        import tomllib
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text())["project"]["version"])
    except Exception:  # noqa: BLE001
        return "unknown"


def _number(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if callable(value):
        return f"schedule {getattr(value, '__name__', type(value).__name__)}"
    return value


def _short(v: float) -> str:
    return f"{v:.6g}" if v is not None else "nan"


def provenance(obj, trajectories: Mapping[str, object], *, steps: int | None = None, tol: float | None = None,
               window: Sequence[tuple[float, float]] | None = None) -> dict[str, Any]:
    """What a file shows, as plain JSON-ready data: formula, variables, each run's method,
    parameters, start, status and steps taken, the step limit and tolerance, optcore's version.

    `steps` / `tol` are the settings the runs were made with (a Trajectory does not keep them;
    if it has `steps` / `tol` attributes those are used).
    """
    from .methods import METHODS

    runs = []
    for name, traj in trajectories.items():
        spec = METHODS.get(traj.method)
        final = np.asarray(traj.points[-1], dtype=float)
        runs.append({
            "name": str(name),
            "method": traj.method,
            "method_label": spec.label if spec else traj.method,
            "params": {k: _number(v) for k, v in traj.params.items()},
            "start": [_number(v) for v in np.asarray(traj.points[0], dtype=float)],
            "status": traj.status,
            "stopped_at": getattr(traj, "stopped_at", None),
            "message": traj.message,
            "iterations": int(traj.iterations),
            "final_point": [_number(v) for v in final],
            "final_value": _number(traj.values[-1]),
        })
    first = next(iter(trajectories.values()), None)
    if steps is None and first is not None:
        steps = getattr(first, "steps", None)
    if tol is None and first is not None:
        tol = getattr(first, "tol", None)
    return {
        "formula": obj.text,
        "variables": list(obj.variables),
        "runs": runs,
        "steps": None if steps is None else int(steps),
        "tol": None if tol is None else float(tol),
        "window": None if window is None else [[float(a), float(b)] for a, b in window],
        "optcore_version": optcore_version(),
        "created": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
    }


def _params_text(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_short(v) if isinstance(v, float) else v}" for k, v in params.items())


def _point_text(point: Sequence[float]) -> str:
    return "(" + ", ".join(_short(v) for v in point) + ")"


def _converged_text(stopped_at: str | None) -> str:
    """A converged run's outcome as the app says it: ∇f ≈ 0 at a saddle or a maximum is no success
    (an exported picture of Newton's run to Himmelblau's maximum said "converged")."""
    if stopped_at == "still moving":   # ∇f small, but x walks on toward an infimum
        return "∇f below tol after {k} steps, x still moving"
    if stopped_at in ("saddle point", "maximum"):
        return f"∇f ≈ 0 after {{k}} steps at a {'local maximum' if stopped_at == 'maximum' else stopped_at}, not a minimum"
    if stopped_at == "flat point":
        return "∇f ≈ 0 after {k} steps where ∇²f is singular (minimum or saddle: the curvature cannot tell)"
    return "converged after {k} steps"


def caption_lines(prov: Mapping[str, Any]) -> list[str]:
    """Provenance as short lines of text: the formula and settings, one line per run, the version.
    Used for CSV `#` lines, the HTML caption and the picture captions."""
    variables = ", ".join(prov["variables"])
    starts = {tuple(r["start"]) for r in prov["runs"]}
    head = f"f({variables}) = {' '.join(str(prov['formula']).split())}"
    settings = []
    if len(starts) == 1:
        settings.append(f"start {_point_text(next(iter(starts)))}")
    if prov.get("steps") is not None:
        settings.append(f"at most {prov['steps']} steps")
    if prov.get("tol") is not None:
        settings.append(f"stop at ‖∇f‖ ≤ {prov['tol']:g}")
    lines = [head + ("   " + ", ".join(settings) if settings else "")]
    for r in prov["runs"]:
        where = "" if len(starts) == 1 else f" from {_point_text(r['start'])}"
        params = _params_text(r["params"])
        outcome = {"converged": _converged_text(r.get("stopped_at")), "max_steps": "stopped at the step limit ({k} steps)",
                   "diverged": "diverged at step {k}"}.get(r["status"], r["status"] + " after {k} steps")
        lines.append(f"{r['name']}: {r['method_label']}{' (' + params + ')' if params else ''}{where}: "
                     f"{outcome.format(k=r['iterations'])}, at {_point_text(r['final_point'])}")
    lines.append(f"made with optcore {prov['optcore_version']}")
    return lines


# -- trajectories --------------------------------------------------------------------------------

def _csv_comment(lines: Sequence[str]) -> list[str]:
    return ["# " + " ".join(str(line).split()) for line in lines]


def trajectories_csv(trajectories: Mapping[str, object], provenance: Mapping[str, Any] | None = None) -> str:
    """All runs in one table: a `run` column naming the run, then each Trajectory.to_csv() row.

    With `provenance`, the table starts with `#` lines saying what it is (pandas:
    `read_csv(..., comment="#")`); without, it is the plain table spreadsheets open as is."""
    out: list[str] = _csv_comment(caption_lines(provenance)) if provenance else []
    header_written: set[str] = set()
    for name, traj in trajectories.items():
        lines = traj.to_csv().splitlines()
        if not lines:
            continue
        header = "run," + lines[0]
        if header not in header_written:
            if header_written:
                out.append("")
            out.append(header)
            header_written.add(header)
        label = '"' + str(name).replace('"', '""') + '"'
        out.extend(f"{label},{line}" for line in lines[1:])
    return "\n".join(out) + "\n"


def trajectories_json(trajectories: Mapping[str, object], provenance: Mapping[str, Any] | None = None) -> str:
    """{"provenance": {...}, "runs": {name: Trajectory.to_json() parsed}}: valid JSON (no NaN tokens).
    The full data of every step, whatever a figure thinned for drawing."""
    runs = {str(name): json.loads(traj.to_json()) for name, traj in trajectories.items()}
    payload = {"provenance": dict(provenance), "runs": runs} if provenance else {"runs": runs}
    return json.dumps(payload, allow_nan=False)


# -- figures -------------------------------------------------------------------------------------

HTML_MAX_POINTS = 400  # points per drawn path in an HTML export (the CSV/JSON keep every step)
HTML_MAX_FRAMES = 60  # animation frames kept (the slider follows)
HTML_FRAME_POINTS = 120  # points per path inside a frame: 60 frames x 4 paths stay small
_VENDOR = Path(__file__).resolve().parent / "vendor"
_BASIC_BUNDLE = _VENDOR / "plotly-basic.min.js"
_BASIC_BUNDLE_VERSION = "4.1.1"
# Trace types the 1.2 MB "basic" plotly.js bundle draws (the full one is 4.8 MB).
_BASIC_TRACES = {"scatter", "bar", "pie"}


def thin_indices(points: np.ndarray, max_points: int = HTML_MAX_POINTS) -> np.ndarray:
    """Indices of at most `max_points` points of a path to draw, first and last kept.

    Uses `optcore.figures.thinning.thin_indices` when that module exists (shape-aware thinning),
    else an even stride."""
    try:
        from .figures.thinning import thin_indices as shape_aware
    except ImportError:
        shape_aware = None
    n = len(points)
    if n <= max_points:
        return np.arange(n)
    if shape_aware is not None:
        return np.asarray(shape_aware(points, max_points=max_points), dtype=int)
    return np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(int))


def _thin_trace(trace: dict, max_points: int) -> None:
    """Thin a path (a scatter trace dict drawn with lines) in place: x, y and every per-point
    array of the same length. Marker-only traces (click grids, point clouds) are left whole."""
    x, y = trace.get("x"), trace.get("y")
    if x is None or y is None or isinstance(x, (str, dict)) or isinstance(y, (str, dict)):
        return
    if "lines" not in str(trace.get("mode", "lines")):  # a path, not a cloud or grid of points
        return
    n = len(x)
    if n <= max_points or len(y) != n:
        return
    xy = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
    keep = thin_indices(xy, max_points)

    def cut(holder: dict, key: str) -> None:
        value = holder.get(key)
        if isinstance(value, (list, tuple, np.ndarray)) and len(value) == n:
            arr = np.asarray(value, dtype=object)[keep]
            holder[key] = arr.tolist()

    for key in ("x", "y", "z", "customdata", "text", "hovertext", "ids"):
        cut(trace, key)
    marker = trace.get("marker")
    if isinstance(marker, dict):
        for key in ("color", "size", "symbol", "opacity"):
            cut(marker, key)


def _thinned_dict(fig, max_points: int, max_frames: int = HTML_MAX_FRAMES,
                  frame_points: int = HTML_FRAME_POINTS) -> dict:
    """The figure as a plain dict with every long path thinned (to `max_points` in the still data,
    `frame_points` inside frames) and at most `max_frames` frames (the slider keeps the steps
    whose frame is kept; the last frame always stays)."""
    data = fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else copy.deepcopy(fig)
    data = json.loads(json.dumps(data, cls=_PlotlyJSONEncoder()))
    for trace in data.get("data", []):
        if trace.get("type", "scatter") in ("scatter", "scattergl"):
            _thin_trace(trace, max_points)
    frames = data.get("frames") or []
    if len(frames) > max_frames:
        keep = np.unique(np.round(np.linspace(0, len(frames) - 1, max_frames)).astype(int))
        frames = [frames[i] for i in keep]
        names = {str(f.get("name")) for f in frames}
        for slider in (data.get("layout", {}).get("sliders") or []):
            slider["steps"] = [st for st in slider.get("steps", [])
                               if not (st.get("method") == "animate" and st.get("args")
                                       and isinstance(st["args"][0], list)
                                       and any(str(n) not in names for n in st["args"][0]))]
        data["frames"] = frames
    for frame in frames:
        for trace in frame.get("data", []):
            if trace.get("type", "scatter") in ("scatter", "scattergl"):
                _thin_trace(trace, frame_points)
    return data


def _PlotlyJSONEncoder():
    from plotly.utils import PlotlyJSONEncoder
    return PlotlyJSONEncoder


def _plotly_js(figure: dict) -> str:
    """The plotly.js to inline: the small basic bundle when it draws every trace and matches the
    installed plotly's version, else the full bundle."""
    from plotly.offline import get_plotlyjs, get_plotlyjs_version

    types = {t.get("type", "scatter") for t in figure.get("data", [])}
    for frame in figure.get("frames", []) or []:
        types |= {t.get("type", "scatter") for t in frame.get("data", [])}
    if types <= _BASIC_TRACES and get_plotlyjs_version() == _BASIC_BUNDLE_VERSION and _BASIC_BUNDLE.exists():
        return _BASIC_BUNDLE.read_text(encoding="utf-8")
    return get_plotlyjs()


def figure_html(fig, provenance: Mapping[str, Any] | None = None, *, title: str | None = None,
                max_points: int = HTML_MAX_POINTS) -> str:
    """A self-contained page that plays offline: plotly.js inlined, animation kept, paths thinned to
    `max_points` for drawing; the title and a caption say what it shows (from `provenance`)."""
    import plotly.io as pio

    figure = _thinned_dict(fig, max_points)
    lines = caption_lines(provenance) if provenance else []
    if title is None:
        figure_title = (figure.get("layout", {}).get("title") or {})
        figure_title = figure_title.get("text") if isinstance(figure_title, dict) else figure_title
        title = lines[0] if lines else (str(figure_title) if figure_title else "optcore figure")
    body = pio.to_html(figure, include_plotlyjs=False, full_html=False, auto_play=False,
                       config={"displaylogo": False}, validate=False)
    caption = "".join(f"<div>{_html.escape(line)}</div>" for line in lines)
    return ("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\" />\n"
            f"<title>{_html.escape(title)}</title>\n"
            "<style>body{font-family:Helvetica,Arial,sans-serif;margin:12px;color:#262730}"
            "figcaption{font-size:13px;line-height:1.5;margin:6px 4px;color:#444}</style>\n"
            f"<script type=\"text/javascript\">{_plotly_js(figure)}</script>\n</head>\n<body>\n<figure>\n"
            f"{body}\n<figcaption>{caption}</figcaption>\n</figure>\n</body>\n</html>\n")


def static_copy(fig):
    """The figure without animation controls (a still image shows the final state: full paths)."""
    still = copy.deepcopy(fig)
    still.frames = ()
    still.layout.updatemenus = ()
    still.layout.sliders = ()
    bottom = still.layout.margin.b
    if bottom is not None and bottom > 60:
        still.layout.margin.b = 60
    return still


def with_caption(fig, lines: Sequence[str], font_size: int = 12):
    """A copy of a (still) figure with `lines` of text under the plot."""
    captioned = copy.deepcopy(fig)
    bottom = captioned.layout.margin.b if captioned.layout.margin.b is not None else 50
    extra = 12 + (font_size + 6) * len(lines)
    captioned.layout.margin.b = bottom + extra
    if captioned.layout.height:
        captioned.layout.height = captioned.layout.height + extra
    captioned.add_annotation(text="<br>".join(_html.escape(line) for line in lines), xref="paper",
                             yref="paper", x=0, y=0, xanchor="left", yanchor="top", align="left",
                             yshift=-(bottom + 2), showarrow=False, font=dict(size=font_size, color="#444"))
    return captioned


# -- one Chromium per process for static images ---------------------------------------------------

RENDER_SECONDS = 30.0  # one image; a browser that takes longer is restarted
START_SECONDS = 30.0


class _Renderer:
    """One kaleido browser kept alive in its own thread and event loop (a browser start costs
    2-4 s; an image from a running one ~0.1-0.5 s). Calls are serialised, bounded by
    RENDER_SECONDS, and a failure restarts the browser once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido = None

    def _start(self) -> None:
        import kaleido

        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="optcore-kaleido", daemon=True).start()
        k = kaleido.Kaleido(n=1, timeout=RENDER_SECONDS)
        try:
            asyncio.run_coroutine_threadsafe(k.__aenter__(), loop).result(timeout=START_SECONDS)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            raise
        self._loop, self._kaleido = loop, k

    def stop(self) -> None:
        loop, k = self._loop, self._kaleido
        self._loop = self._kaleido = None
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(k.__aexit__(None, None, None), loop).result(timeout=10)
        except BaseException:  # noqa: BLE001 - a dead browser cannot be closed politely
            pass
        loop.call_soon_threadsafe(loop.stop)

    def render(self, figs: Sequence, opts: dict, on_progress: Progress = None) -> list[bytes]:
        with self._lock:
            for attempt in (0, 1):
                try:
                    if self._kaleido is None:
                        if on_progress:
                            on_progress(0.05, "starting the browser that draws the image")
                        self._start()
                    out = []
                    for i, fig in enumerate(figs):
                        future = asyncio.run_coroutine_threadsafe(self._kaleido.calc_fig(fig, opts=opts), self._loop)
                        out.append(future.result(timeout=RENDER_SECONDS))
                        if on_progress:
                            on_progress(0.1 + 0.9 * (i + 1) / len(figs), f"drew image {i + 1} of {len(figs)}")
                    return out
                except Exception:
                    self.stop()
                    if attempt:
                        raise
        return []


_renderer = _Renderer()
atexit.register(_renderer.stop)


def _to_image(fig, fmt: str, width: int | None, height: int | None, scale: float,
              on_progress: Progress = None) -> bytes:
    return _to_images([fig], fmt, width, height, scale, on_progress)[0]


def _to_images(figs, fmt: str, width: int | None, height: int | None, scale: float,
               on_progress: Progress = None) -> list[bytes]:
    """Figures rendered by the process's one kept-alive browser."""
    path = chromium_path()
    if path is None:
        raise NoBrowserError(f"{fmt.upper()} export needs Chrome or Chromium, and none was found; "
                             "download the HTML instead, or use the camera button on the chart")
    os.environ.setdefault("BROWSER_PATH", path)
    opts = {"format": fmt, "width": width, "height": height, "scale": scale}
    plain = [f.to_plotly_json() if hasattr(f, "to_plotly_json") else f for f in figs]
    return _renderer.render(plain, opts, on_progress)


IMAGE_MAX_POINTS = 600  # per path in a still image: thousands of markers made a render take ~15 s


def _still_dict(fig) -> dict:
    """The figure as a plain JSON-ready dict without frames or animation controls. Works on the
    figure's own dict: a deepcopy of a go.Figure with 100 frames took seconds."""
    if hasattr(fig, "to_plotly_json"):  # traces and layout only: to_plotly_json() copies every frame
        raw = {"data": [trace.to_plotly_json() for trace in fig.data], "layout": fig.layout.to_plotly_json()}
    else:
        raw = fig
    layout = {k: v for k, v in raw.get("layout", {}).items() if k not in ("updatemenus", "sliders")}
    still = json.loads(json.dumps({"data": raw.get("data", []), "layout": layout}, cls=_PlotlyJSONEncoder()))
    margin = still["layout"].setdefault("margin", {})
    if margin.get("b") is not None and margin["b"] > 60:  # the controls' room is not needed
        margin["b"] = 60
    return still


def _caption_dict(still: dict, lines: Sequence[str], font_size: int = 12) -> dict:
    layout = still["layout"]
    margin = layout.setdefault("margin", {})
    bottom = margin.get("b") if margin.get("b") is not None else 50
    extra = 12 + (font_size + 6) * len(lines)
    margin["b"] = bottom + extra
    if layout.get("height"):
        layout["height"] = layout["height"] + extra
    layout.setdefault("annotations", []).append(dict(
        text="<br>".join(_html.escape(line) for line in lines), xref="paper", yref="paper", x=0, y=0,
        xanchor="left", yanchor="top", align="left", yshift=-(bottom + 2), showarrow=False,
        font=dict(size=font_size, color="#444")))
    return still


def _still_with_caption(fig, caption: Sequence[str] | str | None) -> dict:
    """The still figure (captioned) as a plain dict with long paths thinned for drawing."""
    still = _still_dict(fig)
    if caption:
        still = _caption_dict(still, [caption] if isinstance(caption, str) else list(caption))
    for trace in still["data"]:
        if trace.get("type", "scatter") in ("scatter", "scattergl"):
            _thin_trace(trace, IMAGE_MAX_POINTS)
    return still


def _height(still: dict, height: int | None) -> int:
    return int(height or still.get("layout", {}).get("height") or 600)


def png_bytes(fig, caption: Sequence[str] | str | None = None, *, width: int | None = 1100,
              height: int | None = None, scale: float = 2, on_progress: Progress = None) -> bytes:
    """The figure's final state as PNG with `caption` lines under it (e.g. `caption_lines(prov)`)."""
    still = _still_with_caption(fig, caption)
    return _to_image(still, "png", width, _height(still, height), scale, on_progress)


def svg_bytes(fig, caption: Sequence[str] | str | None = None, *, width: int | None = 1100,
              height: int | None = None, on_progress: Progress = None) -> bytes:
    still = _still_with_caption(fig, caption)
    return _to_image(still, "svg", width, _height(still, height), 1, on_progress)


def figure_png(fig, width: int | None = 1100, height: int | None = None, scale: float = 2,
               caption: Sequence[str] | str | None = None) -> bytes:
    return png_bytes(fig, caption, width=width, height=height, scale=scale)


def figure_svg(fig, width: int | None = 1100, height: int | None = None,
               caption: Sequence[str] | str | None = None) -> bytes:
    return svg_bytes(fig, caption, width=width, height=height)


GIF_MAX_BYTES = 3_000_000


def gif_bytes(obj, trajectories: Mapping[str, object], window: Sequence[tuple[float, float]], *,
              minima: Sequence[Sequence[float]] = (), provenance: Mapping[str, Any] | None = None,
              on_progress: Progress = None, **options: Any) -> bytes:
    """An animated GIF of the runs on the contour of f (d = 2) or its curve (d = 1), drawn with
    Pillow (no browser): 30-90 frames, denser early, step counter, formula, legend, starts in frame
    0, a pause on the last frame; `options` go to `figures.gif.render_gif` (width, height, frames)."""
    from .figures.gif import MIN_FRAMES, render_gif

    caption = []
    if provenance:  # the formula is the GIF's title; the caption carries the settings and version
        lines = caption_lines(provenance)
        settings = lines[0].split("   ", 1)[1] if "   " in lines[0] else ""
        caption = [", ".join(part for part in (settings, lines[-1]) if part)]
    gif = render_gif(obj, trajectories, window, minima=minima, caption=caption, on_progress=on_progress, **options)
    if len(gif) > GIF_MAX_BYTES:  # paths sweeping the whole picture every frame: fewer, smaller frames
        options.update(frames=MIN_FRAMES, width=800, height=500)
        gif = render_gif(obj, trajectories, window, minima=minima, caption=caption, on_progress=on_progress, **options)
    return gif


def python_script(obj, traj, *, steps: int | None = None, tol: float | None = None) -> str:
    """A standalone NumPy script that re-runs `traj` and prints the same final point and status."""
    from .script_export import python_script as write

    return write(obj, traj, steps=steps, tol=tol, version=optcore_version())


def figure_gif(fig, max_frames: int = 30, width: int = 800, height: int | None = None,
               duration_ms: int = 150) -> bytes:
    """An animated GIF of the figure's frames (each frame rendered to PNG, assembled with Pillow).

    At most `max_frames` + 1 frames (evenly thinned, the last one always kept), all rendered in one
    browser session: a session per frame cost about 4 s each."""
    from PIL import Image

    frames = list(fig.frames)
    if not frames:
        return _to_gif([Image.open(io.BytesIO(figure_png(fig, width, height, 1)))], duration_ms)
    step = max(1, -(-len(frames) // max(1, max_frames)))
    chosen = frames[::step]
    if chosen[-1] is not frames[-1]:
        chosen.append(frames[-1])
    still = static_copy(fig)
    shots = []
    for frame in chosen:
        shot = copy.deepcopy(still)
        for index, trace in zip(frame.traces, frame.data):
            shot.data[index].update(x=trace.x, y=trace.y)
        shots.append(shot)
    pngs = _to_images(shots, "png", width, height or (still.layout.height or 600), 1)
    return _to_gif([Image.open(io.BytesIO(png)) for png in pngs], duration_ms)


def _to_gif(images, duration_ms: int) -> bytes:
    buf = io.BytesIO()
    first, *rest = [im.convert("RGB").convert("P", palette=1, colors=255) for im in images]
    first.save(buf, format="GIF", save_all=True, append_images=rest, duration=duration_ms, loop=0)
    return buf.getvalue()
