"""Files a student or teacher takes away: trajectories (CSV, JSON) and figures (HTML, PNG, SVG, GIF).

HTML needs nothing but plotly (self-contained, animated, offline). PNG/SVG/GIF go through kaleido,
which drives a system Chrome/Chromium: `chromium_path()` says whether one is there; callers should
offer HTML and the chart's own camera button when it is not.
"""
from __future__ import annotations

import copy
import io
import json
import os
import shutil
import threading
from collections.abc import Mapping

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
                       "/usr/bin/google-chrome-stable")

_kaleido_lock = threading.Lock()  # one export at a time: each holds a browser tab


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


# -- trajectories --------------------------------------------------------------------------------

def trajectories_csv(trajectories: Mapping[str, object]) -> str:
    """All runs in one table: a `run` column naming the run, then each Trajectory.to_csv() row."""
    out: list[str] = []
    header_written: set[str] = set()
    for name, traj in trajectories.items():
        lines = traj.to_csv().splitlines()
        if not lines:
            continue
        header = "run," + lines[0]
        if header not in header_written:
            if out:
                out.append("")
            out.append(header)
            header_written.add(header)
        label = '"' + str(name).replace('"', '""') + '"'
        out.extend(f"{label},{line}" for line in lines[1:])
    return "\n".join(out) + "\n"


def trajectories_json(trajectories: Mapping[str, object]) -> str:
    """{"runs": {name: Trajectory.to_json() parsed}} — valid JSON (no NaN tokens)."""
    runs = {str(name): json.loads(traj.to_json()) for name, traj in trajectories.items()}
    return json.dumps({"runs": runs}, allow_nan=False)


# -- figures -------------------------------------------------------------------------------------

def figure_html(fig) -> str:
    """A self-contained page: plotly.js inlined, animation frames and play buttons kept."""
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False,
                       config={"displaylogo": False})


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


def _to_image(fig, fmt: str, width: int | None, height: int | None, scale: float) -> bytes:
    path = chromium_path()
    if path is None:
        raise NoBrowserError("PNG/SVG export needs Chrome or Chromium, and none was found; "
                             "download the HTML instead, or use the camera button on the chart")
    os.environ.setdefault("BROWSER_PATH", path)
    import plotly.io as pio
    with _kaleido_lock:
        return pio.to_image(fig, format=fmt, width=width, height=height, scale=scale)


def figure_png(fig, width: int | None = 1100, height: int | None = None, scale: float = 2) -> bytes:
    still = static_copy(fig)
    return _to_image(still, "png", width, height or (still.layout.height or 600), scale)


def figure_svg(fig, width: int | None = 1100, height: int | None = None) -> bytes:
    still = static_copy(fig)
    return _to_image(still, "svg", width, height or (still.layout.height or 600), 1)


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


def _to_images(figs, fmt: str, width: int | None, height: int | None, scale: float) -> list[bytes]:
    """Several figures rendered in one kaleido browser session (in its own thread and event loop,
    so a caller's running loop is no obstacle)."""
    path = chromium_path()
    if path is None:
        raise NoBrowserError("GIF export needs Chrome or Chromium, and none was found; "
                             "download the HTML instead")
    os.environ.setdefault("BROWSER_PATH", path)
    import asyncio

    import kaleido

    opts = {"format": fmt, "width": width, "height": height, "scale": scale}

    async def render():
        async with kaleido.Kaleido(n=1) as k:
            return [await k.calc_fig(f, opts=opts) for f in figs]

    result: list = []

    def worker():
        try:
            result.append(asyncio.run(render()))
        except BaseException as err:  # handed to the caller's thread
            result.append(err)

    with _kaleido_lock:
        thread = threading.Thread(target=worker, daemon=True)
        thread.start()
        thread.join()
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def _to_gif(images, duration_ms: int) -> bytes:
    buf = io.BytesIO()
    first, *rest = [im.convert("RGB").convert("P", palette=1, colors=255) for im in images]
    first.save(buf, format="GIF", save_all=True, append_images=rest, duration=duration_ms, loop=0)
    return buf.getvalue()
