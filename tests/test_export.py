"""Exports: trajectories as CSV/JSON, figures as animated HTML, PNG and SVG (kaleido + Chromium)."""
from __future__ import annotations

import csv
import io
import json

import pytest

import optcore
from optcore import export
from optcore.figures import trajectory as figs
from optcore.figures.grid import value_grid


@pytest.fixture(scope="module")
def runs_and_fig():
    obj = optcore.parse("x^2 + 3y^2")
    runs = {"gd η=0.1": optcore.run(obj, "gd", [2.0, 1.0], steps=30, lr=0.1),
            "newton": optcore.run(obj, "newton", [2.0, 1.0], steps=30)}
    xs, ys, Z = value_grid(obj, [(-3, 3), (-3, 3)], 60)
    paths = [figs.path_from_points(t.points, name, figs.default_color(i)) for i, (name, t) in enumerate(runs.items())]
    return runs, figs.contour_paths_figure(xs, ys, Z, paths)


def test_csv_has_every_run(runs_and_fig):
    runs, _ = runs_and_fig
    rows = list(csv.DictReader(io.StringIO(export.trajectories_csv(runs))))
    assert {r["run"] for r in rows} == set(runs)
    assert len(rows) == sum(len(t.points) for t in runs.values())
    assert {"step", "x", "y", "f", "grad_norm"} <= set(rows[0])


def test_json_is_valid_and_complete(runs_and_fig):
    runs, _ = runs_and_fig
    data = json.loads(export.trajectories_json(runs))
    assert set(data["runs"]) == set(runs)
    assert data["runs"]["newton"]["status"] == "converged"


def test_html_is_self_contained_and_animated(runs_and_fig):
    _, fig = runs_and_fig
    html = export.figure_html(fig)
    assert "plotly" in html.lower() and "Plotly.newPlot" in html
    assert '"frames"' in html or "addFrames" in html
    assert "<script src=\"https://cdn" not in html  # works offline
    assert len(html) > 1_000_000  # plotly.js inlined


def test_static_copy_drops_animation(runs_and_fig):
    _, fig = runs_and_fig
    still = export.static_copy(fig)
    assert not still.frames and not still.layout.updatemenus and not still.layout.sliders
    assert fig.frames  # the original is untouched


needs_chromium = pytest.mark.skipif(export.chromium_path() is None, reason="no Chrome/Chromium for kaleido")


@needs_chromium
@pytest.mark.slow
def test_png_and_svg(runs_and_fig):
    _, fig = runs_and_fig
    png = export.figure_png(fig, width=500, height=400, scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    svg = export.figure_svg(fig, width=500, height=400)
    assert svg.lstrip()[:4] in (b"<svg", b"<?xm")


@needs_chromium
@pytest.mark.slow
def test_gif(runs_and_fig):
    _, fig = runs_and_fig
    gif = export.figure_gif(fig, max_frames=3, width=300, height=250)
    assert gif[:6] in (b"GIF89a", b"GIF87a")


def test_missing_browser_is_reported(monkeypatch, runs_and_fig):
    _, fig = runs_and_fig
    monkeypatch.setattr(export, "chromium_path", lambda: None)
    with pytest.raises(export.NoBrowserError, match="HTML"):
        export.figure_png(fig)
