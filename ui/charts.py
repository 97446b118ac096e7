"""Showing figures: a chart whose clicks move the start point, and the download buttons
(trajectories as CSV/JSON, the figure as HTML, PNG, SVG, GIF), built only when clicked; the
pictures are heavy jobs and wait their turn in the server's queue (`ui.jobs`)."""
from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable

import streamlit as st

from ui import chart_widths, jobs, state

CHART_CONFIG = {"displaylogo": False, "scrollZoom": False,
                "toImageButtonOptions": {"format": "png", "scale": 2, "filename": "optimization-explorer"}}
THREE_D_TRACES = ("surface", "scatter3d", "mesh3d", "cone", "streamtube", "isosurface", "volume")
FILE_STEM = "optimization-explorer"
EXPORT_JOB = "export"
# Charts are drawn with the figures' own template (optcore.figures.base.TEMPLATE: the look of the
# exports too), not Streamlit's theme: that theme turns on axis automargin and title standoff, so
# plotly.js measured every tick label's box (a forced page layout each) on every drawing, and
# Streamlit drew each new chart once more to apply it. A/B in one run each: formula edit -> chart
# 456/474 -> 359/430 ms, η widget -> path 278/255 -> 232/242 ms (medians).
THEME = None


def _as_drawn(fig, key: str, selectable: bool):
    """A plain figure as Streamlit will draw it, so that plotly.js draws it once: at the width the
    page last kept for this chart (`ui.chart_widths`), and for a selectable chart with the click,
    hover and drag modes Streamlit gives it after mounting (clickmode "event+select", hovermode
    "closest", dragmode "pan" where unset or False): either change made plotly.js draw the whole
    figure a second time. A copy: the figure itself (exports) keeps its own layout. A validated
    figure is copied as the dict `st.plotly_chart` would have read from it anyway."""
    from optcore.figures.base import PlainFigure, narrow_chart, plain_spec
    spec = plain_spec(fig)
    if spec is None:
        spec = fig.to_dict()
    layout = dict(spec["layout"])
    width = chart_widths.width_of(key)
    if width is not None:
        layout["width"] = width
    laid_out = chart_widths.layout_width(key)
    if narrow_chart(laid_out) and isinstance(layout.get("title"), dict) and layout["title"].get("text"):
        layout["title"] = _phone_title(layout["title"], laid_out, layout.get("height"))
    if selectable:
        layout.update(clickmode=layout.get("clickmode") or "event+select",
                      hovermode=layout.get("hovermode") or "closest", dragmode=layout.get("dragmode") or "pan")
    return PlainFigure(dict(data=spec["data"], layout=layout, frames=spec.get("frames") or []))


# On a phone the toolbar is always shown (no hover), ~220 px wide in the band the title shares with it on
# a desktop: it covered the titles. Narrow charts go without it (their PNG is under "Export"), and a
# title too long for the width wraps to a second line in that band, in a smaller font.
PHONE_TITLE_FONT = 14
PHONE_TITLE_CHAR_PX = 7.5   # a 14 px title's average character width
PHONE_TITLE_LINE_PX = 17    # and its line height


def _phone_title(title: dict, width: int, height: float | None) -> dict:
    """`title` for a narrow chart: a smaller font, and wrapped at a space into two lines when it would run
    past the chart's right edge (plotly.js does not wrap titles; "det H (H the Hessian of f) under the
    contour lines of f" was cut at "…lines o" on a phone). plotly.js stacks a title's extra lines above
    its first: a title placed from the figure's top moves down by one line."""
    text = str(title["text"])
    out = {**title, "font": {**(title.get("font") or {}), "size": PHONE_TITLE_FONT}}
    fits = int((width - 24) / PHONE_TITLE_CHAR_PX)
    cut = text.rfind(" ", 0, fits + 1) if len(text) > fits and "<br>" not in text else -1
    if cut > 0:
        out["text"] = text[:cut] + "<br>" + text[cut + 1:]
        if title.get("yref") == "container" and title.get("y") is not None and height:
            out["y"] = float(title["y"]) - PHONE_TITLE_LINE_PX / float(height)
    return out


def _config(key: str) -> dict:
    from optcore.figures.base import narrow_chart
    return {**CHART_CONFIG, "displayModeBar": False} if narrow_chart(chart_widths.layout_width(key)) else CHART_CONFIG


def _on_chart_click(key: str, axes: tuple[int, ...], keep_value: Callable[[float], None] | None = None) -> None:
    chosen = st.session_state.get(key)
    try:
        points = chosen["selection"]["points"]
    except (KeyError, TypeError):
        return
    if not points:
        return
    point = points[-1]
    data = point.get("customdata")
    if keep_value is not None and isinstance(data, list) and len(data) >= 2:
        # a point of a scrubbed path: [k, the value of each parameter the in-figure sliders show]
        try:
            values = [float(v) for v in data[1:]]
        except (TypeError, ValueError):
            return
        if all(v == v and abs(v) != float("inf") for v in values) and values[0] > 0:
            keep_value(*(float(f"{v:.4g}") for v in values))
        return
    obj = state.current_objective()
    coords = [point.get("x"), point.get("y")][:len(axes)]
    names = [obj.variables[i] for i in axes if i < obj.dim]
    if any(c is None or not isinstance(c, (int, float)) for c in coords):
        return
    state.set_start([round(float(c), 4) for c in coords], names)


# The browser renders the deltas that arrive together in one task: the page's main chart was painted
# only after the convergence charts and the inspector below it had been drawn too. A short pause after
# the main chart lets it be painted on its own first (formula edit -> chart 707 -> 573 ms, η widget ->
# path 493 -> 339 ms, medians of one A/B run on the shared 2-core machine); the rest follows.
PAINT_FIRST_SECONDS = 0.04


def chart(fig, key: str, clickable: bool = True, keep_value: Callable[[float], None] | None = None,
          paint_first: bool = False):
    """Show a Plotly figure; with `clickable`, a click on a point (or on the faint grid laid over a
    contour) moves the start point. The figure says which variables its axes are through
    `layout.meta["click_axes"]` (default: the first two). With `keep_value`, a click on a path
    whose points carry [k, value, ...] (a scrub figure, `optcore.figures.scrub`) calls it with the values.
    `paint_first`: the page's main chart, painted before what follows it (`PAINT_FIRST_SECONDS`)."""
    from optcore.figures.base import keep_unselected_visible, layout_meta
    if not clickable:
        shown = st.plotly_chart(_as_drawn(fig, key, False), key=key, config=_config(key), width="stretch", theme=THEME)
    else:
        axes = tuple(layout_meta(fig).get("click_axes", (0, 1)))
        keep_unselected_visible(fig)
        shown = st.plotly_chart(_as_drawn(fig, key, True), key=key, config=_config(key), width="stretch", theme=THEME,
                                on_select=functools.partial(_on_chart_click, key, axes, keep_value),
                                selection_mode="points")
    if paint_first:
        time.sleep(PAINT_FIRST_SECONDS)
    return shown


@contextlib.contextmanager
def while_painting():
    """Right after the page's main chart: the block's work (it must show nothing) runs while the browser
    paints the chart, and what the page shows after the block follows `PAINT_FIRST_SECONDS` after the
    chart at the earliest, as with `chart(..., paint_first=True)`."""
    started = time.perf_counter()
    yield
    time.sleep(max(0.0, PAINT_FIRST_SECONDS - (time.perf_counter() - started)))


@functools.cache
def _hover_preview_component():
    """The page script of the hover preview (registered once per process: re-registering warns)."""
    from ui.hover_preview import JS
    return st.components.v2.component("optimization_explorer.hover_preview", js=JS)


def hover_preview(chart_key: str, preview: dict) -> None:
    """Let the contour chart with key `chart_key` draw the path from the start under the pointer, in the
    browser (ui/hover_preview.py), from `preview` (`cache.hover_preview`); a click still commits the
    start. The payload travels beside the chart, not in its figure: the chart is sent, and painted,
    without waiting for the 144 preview runs, and its message is ~30 kB lighter."""
    _hover_preview_component()(key=f"{chart_key}_hover", data={"chart": chart_key, "preview": preview})


def _prepared(key: str, kind: str, build: Callable[[Callable[..., None]], bytes] | None) -> bytes | None:
    """Bytes built on a click, kept for this figure until it changes. The build is a heavy job
    (a browser renders the picture, a GIF renders every frame): it goes through the server's job
    queue (`ui.jobs.run`) with progress and Cancel; None when cancelled."""
    store = st.session_state.setdefault("_exports", {})
    cache_key = (key, kind)
    if build is None or cache_key in store:
        return store.get(cache_key)
    data = jobs.run(EXPORT_JOB, cache_key, f"Making the {kind}", build)
    if data is not None:
        store[cache_key] = data
    return data


def _trajectory_of(trajectories: dict):
    """The runs a file can hold (analysis pages may pass other objects, e.g. basin maps)."""
    return {k: t for k, t in (trajectories or {}).items() if hasattr(t, "points") and hasattr(t, "method")}


def export_buttons(fig, trajectories: dict | None, key: str) -> None:
    """Download buttons: trajectories as CSV, JSON and a re-runnable Python script; the figure as HTML
    (animated), and PNG, SVG and GIF built on a click with a progress bar. Every file says what it
    shows: formula, variables, methods with their parameters, starts, steps, tolerance, optcore version."""
    from optcore import export
    from optcore.figures.base import plain_spec
    ss = st.session_state
    obj, window = state.current_objective(), state.current_window()
    runs = _trajectory_of(trajectories)
    steps, tol = ss.get("steps"), ss.get("tol")
    prov = export.provenance(obj, runs, steps=steps, tol=tol, window=window)
    identity = (key, obj.text, tuple(map(tuple, window)),
                tuple((name, t.method, t.iterations, tuple(t.points[-1])) for name, t in runs.items()))
    if ss.get(f"_exports_for.{key}") != identity:  # the figure changed: files built for the old one go
        ss[f"_exports_for.{key}"] = identity
        ss["_exports"] = {k: v for k, v in ss.get("_exports", {}).items() if k[0] != key}
    common = dict(icon=":material/download:", on_click="ignore")
    row1 = st.columns(4)
    if runs:
        row1[0].download_button("CSV", data=lambda: export.trajectories_csv(runs, prov), key=f"{key}.csv",
                                file_name=f"{FILE_STEM}-trajectories.csv", mime="text/csv",
                                help="every step of every run; # lines at the top say what was run", **common)
        row1[1].download_button("JSON", data=lambda: export.trajectories_json(runs, prov), key=f"{key}.json",
                                file_name=f"{FILE_STEM}-trajectories.json", mime="application/json", **common)
        first_name, first = next(iter(runs.items()))
        row1[2].download_button(
            "Python", data=lambda: export.python_script(obj, first, steps=steps, tol=tol), key=f"{key}.py",
            file_name=f"{FILE_STEM}-{first.method}.py", mime="text/x-python", **common,
            help=f"a standalone NumPy script that re-runs {first_name!r} and prints the same final point"
                 + (" (the first run shown)" if len(runs) > 1 else ""))
    if fig is None:
        return
    row1[3].download_button("HTML", data=lambda: export.figure_html(fig, prov), key=f"{key}.html",
                            file_name=f"{FILE_STEM}.html", mime="text/html",
                            help="self-contained page with the animation; works offline", **common)
    images = {"PNG": ("png", "image/png", lambda report: export.png_bytes(fig, export.caption_lines(prov),
                                                                           on_progress=report)),
              "SVG": ("svg", "image/svg+xml", lambda report: export.svg_bytes(fig, export.caption_lines(prov),
                                                                               on_progress=report))}
    spec = plain_spec(fig)  # read a plain figure's dicts: validating it here cost ~60 ms per rerun
    types = [t.get("type", "scatter") for t in spec["data"]] if spec is not None else [t.type for t in fig.data]
    animated = runs and obj.dim <= 2 and not any(t in THREE_D_TRACES for t in types)
    if animated:
        images["GIF"] = ("gif", "image/gif", lambda report: export.gif_bytes(
            obj, runs, window, minima=[tuple(m) for m in _minima()], provenance=prov, on_progress=report))
    row2 = st.columns(len(images))
    for col, (label, (ext, mime, build)) in zip(row2, images.items()):
        if label != "GIF" and export.chromium_path() is None:
            col.caption(f"{label} needs Chromium, which was not found: use HTML, or the chart's camera button.")
            continue
        data = _prepared(key, label, None)
        slot = col.empty()   # the download takes the Make button's place (both showed after a Make)
        if data is None:
            if slot.button(f"Make {label}", key=f"{key}.make.{ext}", icon=":material/image:",
                           help="builds the file (a few seconds), then offers it for download"):
                try:
                    data = _prepared(key, label, build)
                except Exception as err:  # noqa: BLE001 - a failed export is a message, never a traceback
                    col.error(f"Could not make the {label}: {err}")
        if data is not None:
            slot.download_button(f"{label} ({len(data) / 1e6:.1f} MB)" if len(data) > 1e5 else label, data=data,
                                key=f"{key}.{ext}", file_name=f"{FILE_STEM}.{ext}", mime=mime, **common)


def _minima():
    from ui import views
    return views.known_minima()
