"""Figures whose size does not depend on the number of steps (issue 9 part 4): thinned paths,
at most ~100 frames that restate a bounded number of points, and the 4-method x 5000-step
Rosenbrock compare (small multiples + overlay) in <= 2 MB of JSON."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import optcore
from optcore.figures import trajectory as figs
from optcore.figures.grid import value_grid

ROSENBROCK = "(1-x)^2 + 100(y-x^2)^2"
WINDOW = ((-2.0, 2.0), (-1.0, 3.0))
METHODS = (("gd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3}), ("adam", {"lr": 0.05}), ("bfgs", {}))


def _paths(obj, steps: int, methods=METHODS) -> tuple[list, list[dict]]:
    runs = [optcore.run(obj, m, [-1.2, 1.0], steps=steps, tol=0, **kw) for m, kw in methods]
    paths = [figs.path_from_points(t.points, m, figs.default_color(i), values=t.values)
             for i, ((m, _), t) in enumerate(zip(methods, runs))]
    return runs, paths


@pytest.fixture(scope="module")
def compare():
    obj = optcore.parse(ROSENBROCK)
    runs, paths = _paths(obj, 5000)
    xs, ys, Z = value_grid(obj, WINDOW, 200)
    xs_s, ys_s, Z_s = value_grid(obj, WINDOW, 120)
    multiples = figs.small_multiples_figure(xs_s, ys_s, Z_s, [(p["name"], [p]) for p in paths], minima=[(1.0, 1.0)])
    overlay = figs.contour_paths_figure(xs, ys, Z, paths, minima=[(1.0, 1.0)])
    return obj, runs, paths, multiples, overlay


def _path_indices(fig) -> list[int]:
    """Line traces of the paths: the first moving trace of each (line, head) pair in the frames."""
    frame = fig.frames[0]
    moving = [i for i, t in zip(frame.traces, frame.data) if t.x is not None]
    return moving[::2]


def test_compare_4_methods_5000_steps_holds_at_most_2_mb(compare):
    *_, multiples, overlay = compare
    sizes = [len(fig.to_json().encode()) for fig in (multiples, overlay)]
    assert sum(sizes) <= 2_000_000, sizes
    assert len(multiples.frames) <= 100 and len(overlay.frames) <= 100


def test_every_drawn_path_has_at_most_400_points_with_its_ends(compare):
    _, runs, paths, multiples, overlay = compare
    for fig in (multiples, overlay):
        lines = _path_indices(fig)
        assert len(lines) == len(runs)
        for i, run in zip(lines, runs):
            trace = fig.data[i]
            assert 2 <= len(trace.x) <= figs.MAX_PATH_POINTS
            assert trace.x[0] == pytest.approx(-1.2) and trace.y[0] == pytest.approx(1.0)
            end = run.points[-1]
            if np.isfinite(end).all():
                assert trace.x[-1] == pytest.approx(end[0], rel=1e-4, abs=1e-5)
                assert trace.y[-1] == pytest.approx(end[1], rel=1e-4, abs=1e-5)
            steps = np.asarray(trace.customdata)
            assert steps[0] == 0 and steps[-1] == len(run.points) - 1 and np.all(np.diff(steps) > 0)
            assert trace.mode == "lines"   # thinned: dots would not be iterates any more


def test_frames_restate_a_bounded_number_of_points(compare):
    *_, multiples, overlay = compare
    for fig in (multiples, overlay):
        frames = json.loads(fig.to_json())["frames"]
        restated = sum(len(t.get("x", [])) for f in frames for t in f["data"])
        assert restated <= figs.FRAME_POINT_BUDGET * 1.1, restated


def test_each_frame_draws_the_path_so_far_up_to_the_exact_iterate(compare):
    _, runs, _, _, overlay = compare
    lines = _path_indices(overlay)
    for frame in overlay.frames[:: 7]:
        k = int(frame.name)
        by_trace = dict(zip(frame.traces, frame.data))
        for i, run in zip(lines, runs):
            line, head = by_trace[i], by_trace[i + 1]
            steps = np.asarray(line.customdata)
            assert steps[0] == 0 and np.all(np.diff(steps) > 0) and steps[-1] == min(k, len(run.points) - 1)
            exact = run.points[steps[-1]]
            assert head.x[0] == pytest.approx(exact[0], rel=1e-4, abs=1e-5)
            assert head.y[0] == pytest.approx(exact[1], rel=1e-4, abs=1e-5)
            assert (head.x[0], head.y[0]) == (line.x[-1], line.y[-1])


def test_last_frame_is_the_drawn_path(compare):
    *_, multiples, overlay = compare
    for fig in (multiples, overlay):
        last = dict(zip(fig.frames[-1].traces, fig.frames[-1].data))
        for i in _path_indices(fig):
            assert list(last[i].x) == list(fig.data[i].x) and list(last[i].y) == list(fig.data[i].y)


def test_size_does_not_grow_with_the_number_of_steps():
    obj = optcore.parse(ROSENBROCK)
    xs, ys, Z = value_grid(obj, WINDOW, 100)
    sizes = {}
    for steps in (1000, 8000):
        _, paths = _paths(obj, steps, METHODS[:2])
        sizes[steps] = len(figs.contour_paths_figure(xs, ys, Z, paths).to_json())
    assert sizes[8000] <= 1.15 * sizes[1000], sizes


def test_play_is_quick_and_frames_are_few(compare):
    *_, multiples, overlay = compare
    for fig in (multiples, overlay):
        play = fig.layout.updatemenus[0].buttons[0]
        assert "Play" in play.label and play.args[1]["frame"]["duration"] <= 40
        assert len(fig.layout.sliders[0].steps) == len(fig.frames) <= 100


def test_short_runs_are_drawn_whole_with_their_dots():
    obj = optcore.parse("x^2 + 3y^2")
    traj = optcore.run(obj, "gd", [1.5, 1.5], steps=80, tol=0, lr=0.05)
    xs, ys, Z = value_grid(obj, ((-2.0, 2.0), (-2.0, 2.0)), 60)
    fig = figs.contour_paths_figure(xs, ys, Z, [figs.path_from_points(traj.points, "gd", "#f00")])
    line = fig.data[_path_indices(fig)[0]]
    assert len(line.x) == 81 and line.mode == "lines+markers"
    assert list(line.customdata) == list(range(81))
    lengths = [len(f.data[0].x) for f in fig.frames]
    assert lengths == list(range(1, 82)), "one more point per frame: the whole path, step by step"


def test_convergence_curves_are_thinned_on_the_log_scale(compare):
    _, runs, *_ = compare
    series = [dict(name=t.method, x=np.arange(len(t.values)), y=t.values, color="#000") for t in runs]
    fig = figs.convergence_figure(series, y_title="f − f*")
    for trace, run in zip(fig.data, runs):
        x = np.asarray(trace.x)
        assert 2 <= len(x) <= figs.MAX_SERIES_POINTS
        assert x[0] == 0 and x[-1] == len(run.values) - 1 and np.all(np.diff(x) > 0)
        y_full = np.maximum(np.abs(run.values), 1e-16)
        ok = np.isfinite(y_full) & np.isfinite(np.asarray(trace.y, dtype=float)).all()
        if ok.all():
            drawn = np.interp(np.arange(len(y_full)), x, np.log10(np.asarray(trace.y, dtype=float)))
            assert np.max(np.abs(drawn - np.log10(y_full))) < 0.25   # within a quarter decade
    short = figs.convergence_figure([dict(name="a", x=np.arange(50), y=np.geomspace(1, 1e-8, 50))], y_title="f")
    assert len(short.data[0].x) == 50


def test_surface_and_curve_paths_are_thinned(compare):
    obj, runs, paths, *_ = compare
    xs, ys, Z = value_grid(obj, WINDOW, 60)
    surface = figs.surface_figure(xs, ys, Z, paths)
    lifted = [t for t in surface.data if t.type == "scatter3d" and t.name != "start"]
    assert len(lifted) == len(paths)
    for t in lifted:
        assert 2 <= len(t.x) <= figs.MAX_PATH_POINTS and len(t.z) == len(t.x)
        assert t.customdata[0][0] == 0 and t.customdata[-1][0] == 5000   # [k, f] per point
    one = optcore.parse("x^4 - 3x^2 + x")
    traj = optcore.run(one, "momentum", [2.0], steps=3000, tol=0, lr=1e-3)
    xline = np.linspace(-2.5, 2.5, 200)
    curve = figs.curve_figure(xline, one.value(xline[:, None]),
                              [figs.path_from_points(traj.points, "m", "#f00", values=traj.values)])
    line = curve.data[1]
    assert line.name == "m" and 2 <= len(line.x) <= figs.MAX_PATH_POINTS
    assert len(curve.frames) <= 100
    assert len(curve.frames[-1].data[0].x) == len(line.x)


def test_plain_frames_serialise_copy_and_read_like_plotly_frames(compare):
    *_, overlay = compare
    spec = overlay.to_dict()
    assert len(spec["frames"]) == len(overlay.frames)
    assert spec["frames"][3]["traces"] == list(overlay.frames[3].traces)
    clone = copy.deepcopy(overlay)
    assert len(clone.frames) == len(overlay.frames)
    assert list(clone.frames[-1].data[0].x) == list(overlay.frames[-1].data[0].x)
    clone.frames = ()
    assert overlay.frames and not clone.frames


def test_analysis_figures_draw_thinned_paths(compare):
    """The analysis views draw the same long runs: curvature-map paths, 1-D traces and value
    histories are thinned too, and their hover still names the true step."""
    from optcore.figures import analysis as afigs

    _, runs, *_ = compare
    traces = afigs.path_traces({t.method: t.points for t in runs})
    lines = [t for t in traces if t.name in {r.method for r in runs}]
    assert len(lines) == len(runs)
    for line, run in zip(lines, runs):
        assert 2 <= len(line.x) <= 400 and line.customdata[-1] == len(run.points) - 1
        k = int(line.customdata[len(line.x) // 2])
        assert (line.x[len(line.x) // 2], line.y[len(line.x) // 2]) == tuple(run.points[k])
    history = afigs.value_history_figure({t.method: t.values for t in runs}, f_star=0.0)
    assert all(2 <= len(t.x) <= 400 and t.x[-1] == 5000 for t in history.data)
    one = optcore.parse("x^4 - 3x^2 + x")
    traj = optcore.run(one, "gd", [2.0], steps=3000, tol=0, lr=1e-3)
    xline = np.linspace(-2.5, 2.5, 100)
    fig = afigs.traces_1d_figure(xline, one.value(xline[:, None]), {"gd": (traj.points[:, 0], traj.values)})
    assert 2 <= len(fig.data[1].x) <= 400 and fig.data[1].customdata[-1] == 3000
    short = afigs.traces_1d_figure(xline, one.value(xline[:, None]), {"gd": (traj.points[:30, 0], traj.values[:30])})
    assert len(short.data[1].x) == 30 and short.data[1].mode == "lines+markers"
