"""Hover preview of the start (2-D contour): the paths from a grid of starts travel beside the chart
(the hover component's data), small, and decode to the runs the engine makes from those starts."""
from __future__ import annotations

import json

import numpy as np
import plotly.io as pio
import pytest

import optcore
from optcore.figures import trajectory as figs
from optcore.figures.grid import value_grid

WINDOW = ((-2.0, 2.0), (-1.0, 3.0))


def _payload(formula: str, method: str, steps: int, **params):
    obj = optcore.parse(formula)
    starts = figs.preview_starts(WINDOW)
    batch = optcore.run_batch(obj, method, starts, steps=steps, tol=1e-12, **params)
    paths = [batch.points[i, :int(batch.iterations[i]) + 1] for i in range(len(starts))]
    return obj, starts, figs.hover_preview(WINDOW, starts, paths)


def test_starts_are_cell_centres_x_fastest():
    starts = figs.preview_starts(WINDOW, n=4)
    assert starts.shape == (16, 2)
    assert starts[1, 0] > starts[0, 0] and starts[1, 1] == starts[0, 1]   # x varies first
    assert starts[0].tolist() == [-1.5, -0.5] and starts[-1].tolist() == [1.5, 2.5]


@pytest.mark.parametrize("method, params", [("gd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3, "beta": 0.9}),
                                            ("newton", {})])
def test_decoded_paths_follow_the_engine_runs_from_the_grid_starts(method, params):
    obj, starts, preview = _payload("(1-x)^2 + 100(y-x^2)^2", method, 300, **params)
    paths = figs.decode_preview(preview)
    assert len(paths) == len(starts) == preview["n"] ** 2
    quantum = np.array(preview["q"])
    for k in (0, 17, 77, len(starts) - 1):
        run = optcore.run(obj, method, starts[k], steps=300, tol=1e-12, **params).points
        P = paths[k]
        assert 2 <= len(P) <= figs.PREVIEW_POINTS + 1
        assert np.all(np.abs(P[0] - starts[k]) <= quantum), "each preview begins at its grid start"
        # every drawn point is one of the run's iterates (to the uint16 quantum); nan rows are gaps
        drawn = P[np.isfinite(P[:, 0])]
        gaps = np.min(np.max(np.abs(drawn[:, None, :] - run[None, :, :]) / quantum, axis=2), axis=1)
        assert np.all(gaps <= 1.0), (k, gaps.max())
        if np.all(np.isfinite(run[-1])) and np.all(np.abs(run[-1]) < 5):
            assert np.all(np.abs(P[-1] - run[-1]) <= quantum), "and ends where the run ends"


def test_payload_is_bounded_whatever_the_number_of_steps():
    _, _, short = _payload("x^2 + 3y^2", "gd", 20, lr=0.01)
    _, _, long = _payload("(1-x)^2 + 100(y-x^2)^2", "gd", 2000, lr=1e-3)
    for preview in (short, long):
        assert len(json.dumps(preview)) <= 50_000, len(json.dumps(preview))
    assert max(long["len"]) <= figs.PREVIEW_POINTS + 1


def test_diverging_paths_stop_where_they_leave_the_box():
    obj, starts, preview = _payload("x^2 + 3y^2", "gd", 200, lr=0.5)   # η > 2/6: y blows up
    lo, span = np.array(preview["lo"]), np.array(preview["q"]) * 65534
    for P in figs.decode_preview(preview):
        assert len(P) >= 1 and np.all(np.isfinite(P[-1]))
        P = P[np.isfinite(P[:, 0])]
        assert np.all((P >= lo - 1e-9) & (P <= lo + span + 1e-9))
    assert min(preview["len"]) < 10, "a diverging run is cut, not drawn clipped to the box edge"


def test_a_path_that_leaves_the_box_and_returns_has_a_gap_there():
    """Newton on Rosenbrock from the lower left jumps far out of the window and comes back to (1, 1):
    the preview breaks the line where it was outside, and still ends at the minimum."""
    obj, starts, preview = _payload("(1-x)^2 + 100(y-x^2)^2", "newton", 50)
    P = figs.decode_preview(preview)[0]
    run = optcore.run(obj, "newton", starts[0], steps=50, tol=1e-12).points
    assert np.any(np.abs(run[:, 1]) > 5), "the run does leave the box (else this test proves nothing)"
    assert np.isnan(P[:, 0]).sum() >= 1 and np.isfinite(P[-1]).all()
    assert np.allclose(P[-1], [1.0, 1.0], atol=1e-3)


def test_the_payload_says_how_the_page_draws_it():
    obj, starts, preview = _payload("x^2 + 3y^2", "gd", 50, lr=0.05)
    assert set(preview["style"]) >= {"color", "width", "dash", "marker", "outline"}
    json.dumps(preview)   # travels as the hover component's JSON data


def test_the_app_cache_skips_runs_too_long_to_precompute():
    from ui import cache
    formula = cache.Formula("x^2 + 3y^2")
    assert cache.hover_preview(formula, "gd", {"lr": 0.05}, WINDOW, cache.PREVIEW_MAX_STEPS + 1, 1e-8) is None
    preview = cache.hover_preview(formula, "gd", {"lr": 0.05}, WINDOW, 100, 1e-8)
    assert preview is not None and len(preview["len"]) == figs.PREVIEW_GRID ** 2
    long = cache.hover_preview(formula, "gd", {"lr": 0.05}, WINDOW, 2000, 1e-8)   # a coarser grid
    assert long is not None and len(long["len"]) == long["n"] ** 2
    assert cache.PREVIEW_MIN_GRID <= long["n"] < figs.PREVIEW_GRID
    assert long["n"] ** 2 * 2000 <= cache.PREVIEW_ROW_STEPS


def test_play_lands_on_every_second_display_tick():
    """Play's frame duration sits between the first and second 60 Hz tick (30 fps), frames are not
    redrawn, and the frame slider's grip does not tween on each frame."""
    obj = optcore.parse("x^2 + 3y^2")
    xs, ys, Z = value_grid(obj, WINDOW, 40)
    t = optcore.run(obj, "gd", [1.5, 1.5], steps=150, tol=0, lr=0.01)
    spec = json.loads(pio.to_json(figs.contour_paths_figure(xs, ys, Z, [figs.path_from_points(t.points, "gd", "#f00")])))
    play = spec["layout"]["updatemenus"][0]["buttons"][0]
    opts = play["args"][1]
    assert 1000 / 60 < opts["frame"]["duration"] < 2000 / 60
    assert opts["frame"]["redraw"] is False and opts["transition"]["duration"] == 0
    assert spec["layout"]["sliders"][0]["transition"]["duration"] == 0


def test_playground_sends_the_preview_beside_the_chart_and_scrub_mode_does_not():
    """The page's hover script gets the payload as its component's data, after the chart; the chart's
    figure does not carry it (its message stays light)."""
    from streamlit.testing.v1 import AppTest
    from pathlib import Path
    app = str(Path(__file__).resolve().parents[1] / "app.py")

    def shown(**extra):
        at = AppTest.from_file(app, default_timeout=120)
        for k, v in {"view": "playground", "f": "x^2 + 3y^2", "x0": "1.5,1.5", "win": "-2,2;-2,2", "steps": "80",
                     "tol": "1e-12", "m.m0": "gd(lr=0.05)", **extra}.items():
            at.query_params[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        previews = [json.loads(c.proto.json)["preview"] for c in at.get("bidi_component")
                    if "preview" in json.loads(c.proto.json or "{}")]
        return json.loads(at.get("plotly_chart")[0].proto.spec), previews

    spec, previews = shown()
    assert "preview" not in spec["layout"]["meta"] and len(previews) == 1
    preview = previews[0]
    paths = figs.decode_preview(preview)
    obj = optcore.parse("x^2 + 3y^2")
    k = 5 * preview["n"] + 7
    run = optcore.run(obj, "gd", figs.preview_starts(((-2, 2), (-2, 2)))[k], steps=80, tol=1e-12, lr=0.05).points
    assert np.allclose(paths[k][-1], run[-1], atol=2 * max(preview["q"])), "the page's η and steps, from grid start k"
    _, scrubbed = shown(**{"o.pg_scrub": "true"})
    assert scrubbed == []
