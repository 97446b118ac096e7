"""Showing figures: a chart whose clicks move the start point, and the download buttons
(trajectories as CSV/JSON, the figure as HTML, PNG, SVG, GIF), built only when clicked."""
from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from ui import state

CHART_CONFIG = {"displaylogo": False, "scrollZoom": False,
                "toImageButtonOptions": {"format": "png", "scale": 2, "filename": "optimization-explorer"}}
GIF_MAX_FRAMES = 12   # one browser session renders them in about 5 s
GIF_WIDTH = 640
THREE_D_TRACES = ("surface", "scatter3d", "mesh3d", "cone", "streamtube", "isosurface", "volume")
FILE_STEM = "optimization-explorer"


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
    if keep_value is not None and isinstance(data, list) and len(data) == 2:
        # a point of a scrubbed path: [k, the parameter value the in-figure slider shows]
        try:
            value = float(data[1])
        except (TypeError, ValueError):
            return
        if value > 0 and value == value and value != float("inf"):
            keep_value(float(f"{value:.4g}"))
        return
    obj = state.current_objective()
    coords = [point.get("x"), point.get("y")][:len(axes)]
    names = [obj.variables[i] for i in axes if i < obj.dim]
    if any(c is None or not isinstance(c, (int, float)) for c in coords):
        return
    state.set_start([round(float(c), 4) for c in coords], names)


def chart(fig, key: str, clickable: bool = True, keep_value: Callable[[float], None] | None = None):
    """Show a Plotly figure; with `clickable`, a click on a point (or on the faint grid laid over a
    contour) moves the start point. The figure says which variables its axes are through
    `layout.meta["click_axes"]` (default: the first two). With `keep_value`, a click on a path
    whose points carry [k, value] (a scrub figure, `optcore.figures.scrub`) calls it with the value."""
    from optcore.figures.base import keep_unselected_visible
    if not clickable:
        return st.plotly_chart(fig, key=key, config=CHART_CONFIG, width="stretch")
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    axes = tuple(meta.get("click_axes", (0, 1)))
    keep_unselected_visible(fig)
    return st.plotly_chart(fig, key=key, config=CHART_CONFIG, width="stretch", on_select=functools.partial(
        _on_chart_click, key, axes, keep_value), selection_mode="points")


def gif_data(fig) -> Callable[[], bytes] | None:
    """What the GIF button downloads: a callable building the GIF (at most GIF_MAX_FRAMES + 1 frames),
    or None when the figure is not an animated 2-D or 1-D chart."""
    if fig is None or not fig.frames or any(getattr(t, "type", None) in THREE_D_TRACES for t in fig.data):
        return None
    from optcore import export
    return lambda: export.figure_gif(fig, max_frames=GIF_MAX_FRAMES, width=GIF_WIDTH)


def export_buttons(fig, trajectories: dict | None, key: str) -> None:
    """Download buttons: trajectories as CSV and JSON, the figure as HTML (animated), PNG, SVG and,
    for an animated 2-D/1-D chart, GIF. Files are built only when a button is clicked."""
    from optcore import export
    cols = st.columns(6)
    common = dict(icon=":material/download:", on_click="ignore")
    if trajectories:
        cols[0].download_button("CSV", data=lambda: export.trajectories_csv(trajectories), key=f"{key}.csv",
                                file_name=f"{FILE_STEM}-trajectories.csv", mime="text/csv", **common)
        cols[1].download_button("JSON", data=lambda: export.trajectories_json(trajectories), key=f"{key}.json",
                                file_name=f"{FILE_STEM}-trajectories.json", mime="application/json", **common)
    if fig is None:
        return
    cols[2].download_button("HTML", data=lambda: export.figure_html(fig), key=f"{key}.html",
                            file_name=f"{FILE_STEM}.html", mime="text/html",
                            help="self-contained page with the animation; works offline", **common)
    if export.chromium_path() is None:
        cols[3].caption("PNG/SVG/GIF need Chromium, which was not found: use HTML, or the camera "
                        "button on the chart.")
        return
    cols[3].download_button("PNG", data=lambda: export.figure_png(fig), key=f"{key}.png",
                            file_name=f"{FILE_STEM}.png", mime="image/png", **common)
    cols[4].download_button("SVG", data=lambda: export.figure_svg(fig), key=f"{key}.svg",
                            file_name=f"{FILE_STEM}.svg", mime="image/svg+xml", **common)
    gif = gif_data(fig)
    if gif is None:
        cols[5].caption("GIF: only for animated 2-D and 1-D charts.")
        return
    cols[5].download_button("GIF", data=gif, key=f"{key}.gif", file_name=f"{FILE_STEM}.gif", mime="image/gif",
                            help=f"the animation in {GIF_MAX_FRAMES} frames; takes a few seconds", **common)
