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


# -- provenance --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rosenbrock_runs():
    """The teacher's case from issue 12: Rosenbrock, four methods, 5000 steps."""
    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    settings = [("gd (lr=0.001)", "gd", {"lr": 0.001}), ("momentum", "momentum", {"lr": 0.001}),
                ("bfgs", "bfgs", {}), ("newton", "newton", {})]
    runs = {name: optcore.run(obj, method, [-1.2, 1.0], steps=5000, tol=1e-8, **params)
            for name, method, params in settings}
    window = [(-2.0, 2.0), (-1.0, 3.0)]
    return obj, runs, window, export.provenance(obj, runs, steps=5000, tol=1e-8, window=window)


def test_provenance_names_everything_needed_to_redo_the_runs(rosenbrock_runs):
    obj, runs, _, prov = rosenbrock_runs
    assert prov["formula"] == obj.text and prov["variables"] == ["x", "y"]
    assert prov["steps"] == 5000 and prov["tol"] == 1e-8
    assert prov["optcore_version"] and prov["optcore_version"] != "unknown"
    assert [r["name"] for r in prov["runs"]] == list(runs)
    for r, traj in zip(prov["runs"], runs.values()):
        assert r["method"] == traj.method and r["status"] == traj.status
        assert r["iterations"] == traj.iterations
        assert r["start"] == [-1.2, 1.0]
        assert r["params"]["lr"] == traj.params["lr"]
    json.dumps(prov, allow_nan=False)  # plain data


def test_csv_with_and_without_header_lines(rosenbrock_runs):
    _, runs, _, prov = rosenbrock_runs
    annotated = export.trajectories_csv(runs, prov)
    plain = export.trajectories_csv(runs)
    comments = [line for line in annotated.splitlines() if line.startswith("#")]
    assert comments and annotated.startswith("# f(x, y) = (1-x)^2 + 100(y-x^2)^2")
    assert any("momentum" in line and "converged" in line for line in comments)
    assert any("optcore" in line for line in comments) and any("5000 steps" in line for line in comments)
    assert not any(line.startswith("#") for line in plain.splitlines())
    # the data part is the same table, and every step is in it
    body = "\n".join(line for line in annotated.splitlines() if not line.startswith("#")) + "\n"
    assert body == plain
    rows = list(csv.DictReader(io.StringIO(plain)))
    assert len(rows) == sum(len(t.points) for t in runs.values())


def test_json_carries_provenance_and_every_step(rosenbrock_runs):
    _, runs, _, prov = rosenbrock_runs
    data = json.loads(export.trajectories_json(runs, prov))
    assert data["provenance"]["formula"] == prov["formula"]
    assert {r["method"] for r in data["provenance"]["runs"]} == {"gd", "momentum", "bfgs", "newton"}
    assert len(data["runs"]["gd (lr=0.001)"]["points"]) == 5001


def test_html_is_small_titled_captioned_and_offline(rosenbrock_runs):
    from optcore.cli import trajectory_figure
    obj, runs, window, prov = rosenbrock_runs
    fig = trajectory_figure(obj, runs, window, [(1, 1)], title=obj.text)
    page = export.figure_html(fig, prov)
    assert len(page.encode("utf-8")) <= 2_000_000
    title = page[page.index("<title>") + 7: page.index("</title>")]
    assert "(1-x)^2 + 100(y-x^2)^2" in title
    caption = page[page.index("<figcaption>"): page.index("</figcaption>")]
    for label in ("Gradient descent", "Momentum", "BFGS", "Newton", "optcore", "5000"):
        assert label in caption
    assert "Plotly.newPlot" in page and "addFrames" in page
    assert "<script src=" not in page  # nothing fetched: plays offline
    # thinned for drawing: no path trace in the page holds thousands of points
    figure = export._thinned_dict(fig, export.HTML_MAX_POINTS)
    assert max(len(t.get("x") or []) for t in figure["data"]) <= export.HTML_MAX_POINTS
    assert len(figure["frames"]) <= export.HTML_MAX_FRAMES
    kept = {f["name"] for f in figure["frames"]}
    assert all(step["args"][0][0] in kept for step in figure["layout"]["sliders"][0]["steps"])


def test_html_escapes_the_formula(runs_and_fig):
    runs, fig = runs_and_fig
    obj = optcore.parse("x^2 + 3y^2")
    prov = export.provenance(obj, runs)
    prov["formula"] = "<script>alert(1)</script>"
    page = export.figure_html(fig, prov)
    assert "<script>alert(1)</script>" not in page


def test_gif_from_the_engine_meets_the_issue(rosenbrock_runs):
    from PIL import Image
    obj, runs, window, prov = rosenbrock_runs
    seen = []
    gif = export.gif_bytes(obj, runs, window, minima=[(1, 1)], provenance=prov,
                           on_progress=lambda fraction, text: seen.append(fraction))
    assert len(gif) <= 3_000_000
    im = Image.open(io.BytesIO(gif))
    assert 30 <= im.n_frames <= 90
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    durations = []
    for i in range(im.n_frames):
        im.seek(i)
        durations.append(im.info["duration"])
    assert durations[-1] >= 2000 > durations[1]  # a pause on the result
    assert im.size[0] >= 900  # readable


@needs_chromium
@pytest.mark.slow
def test_svg_caption_says_what_it_shows(rosenbrock_runs):
    from optcore.cli import trajectory_figure
    obj, runs, window, prov = rosenbrock_runs
    fig = trajectory_figure(obj, runs, window, title=obj.text)
    progress = []
    svg = export.svg_bytes(fig, export.caption_lines(prov), on_progress=lambda f, t: progress.append(f)).decode()
    assert "Gradient descent" in svg and "optcore" in svg and "converged after 6 steps" in svg
    assert progress and progress[-1] == 1.0
    png = export.png_bytes(fig, export.caption_lines(prov), scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_python_script_from_export(rosenbrock_runs):
    obj, runs, _, _ = rosenbrock_runs
    source = export.python_script(obj, runs["newton"], steps=5000, tol=1e-8)
    assert "optcore 0.1.0 got: converged" in source or "optcore " in source
    compile(source, "rerun.py", "exec")


@needs_chromium
@pytest.mark.slow
def test_the_kept_browser_restarts_after_it_is_gone(runs_and_fig):
    _, fig = runs_and_fig
    first = export.png_bytes(fig, width=300, height=250, scale=1)
    export._renderer.stop()  # as if the browser had died
    again = export.png_bytes(fig, width=300, height=250, scale=1)
    assert first[:8] == again[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_of_other_trace_types_inlines_the_full_plotly():
    import plotly.graph_objects as go
    page = export.figure_html(go.Figure(go.Heatmap(z=[[1, 2], [3, 4]])))
    assert "plotly.js (basic" not in page[:2000] and "Plotly.newPlot" in page


def test_thinning_leaves_point_clouds_whole():
    import plotly.graph_objects as go
    fig = go.Figure([go.Scatter(x=list(range(3000)), y=list(range(3000)), mode="markers", name="grid"),
                     go.Scatter(x=list(range(3000)), y=[v * v for v in range(3000)], mode="lines", name="path")])
    figure = export._thinned_dict(fig, 400)
    grid, path = figure["data"]
    assert len(grid["x"]) == 3000
    assert len(path["x"]) <= 400 and path["x"][0] == 0 and path["x"][-1] == 2999


def test_caption_of_a_run_still_moving_toward_an_infimum_does_not_say_converged():
    # Newton on exp(100x): ∇f falls below tol while x walks on by 0.01 per step (no stationary point)
    obj = optcore.parse("exp(100x)")
    traj = optcore.run(obj, "newton", [0.1], steps=100, lr=1.0)
    prov = export.provenance(obj, {"Newton": traj}, steps=100)
    assert prov["runs"][0]["stopped_at"] == "still moving"
    text = " ".join(export.caption_lines(prov))
    assert "converged" not in text and "still moving" in text


@pytest.mark.parametrize("start,where", [((0.0, 0.0), "at a local maximum, not a minimum"),
                                         ((-0.2, 2.8), "at a saddle point, not a minimum")])
def test_caption_of_a_run_to_a_maximum_or_saddle_says_so(start, where):
    """Himmelblau, Newton's method: the app warned "at a local maximum … not a minimum", while the
    exported PNG caption, CSV header and HTML caption said "converged after 4 steps"."""
    obj = optcore.parse("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    traj = optcore.run(obj, "newton", list(start), steps=100, lr=1.0)
    assert traj.status == "converged"
    prov = export.provenance(obj, {"Newton": traj}, steps=100)
    text = " ".join(export.caption_lines(prov))
    assert where in text and "converged" not in text, text
    csv = export.trajectories_csv({"Newton": traj}, prov)
    assert where in csv.splitlines()[1]
