"""Scrubbing η in the browser: the ladder figure carries one path per ladder value (each equal to a
single run with that η, thinned), a slider that restyles the path, the ladder's range in words, and
a click on the path commits the η shown to the app's state and the share link."""
from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import optcore
from optcore.figures import scrub
from optcore.figures import trajectory as figs

from tests.test_app import _app


def test_ladder_is_log_spaced_around_the_value_and_inside_the_bounds():
    values = scrub.ladder(0.1)
    assert len(values) == scrub.LADDER_SIZE and values[len(values) // 2] == 0.1
    ratios = values[1:] / values[:-1]
    assert np.allclose(ratios, ratios[0]) and ratios[0] > 1
    assert values[0] == pytest.approx(0.01) and values[-1] == pytest.approx(1.0)
    clipped = scrub.ladder(5.0, high=10.0)
    assert clipped.max() <= 10.0 and 5.0 in clipped
    assert scrub.active_index(clipped, 5.0) == list(clipped).index(5.0)
    with pytest.raises(ValueError):
        scrub.ladder(0.0)


def _scrub_figure(values, paths_points):
    xs = ys = np.linspace(-2, 2, 40)
    Z = xs[None, :] ** 2 + 3 * ys[:, None] ** 2
    first = figs.path_from_points(paths_points[0], "gd", "#d62728")
    fig = figs.contour_paths_figure(xs, ys, Z, [first], animate=False)
    return scrub.add_scrub_slider(fig, "gd", values, [figs.path_from_points(P, "gd", "") for P in paths_points],
                                  active=0)


def test_each_slider_step_draws_the_single_run_with_that_eta():
    obj = optcore.parse("x^2 + 3y^2")
    values = scrub.ladder(0.1, size=5)
    runs = [optcore.run(obj, "gd", [1.5, -1.0], steps=30, tol=1e-8, lr=lr) for lr in values]
    fig = _scrub_figure(values, [t.points for t in runs]).to_dict()
    slider = fig["layout"]["sliders"][0]
    assert [float(s["label"]) for s in slider["steps"]] == pytest.approx(values, rel=1e-2)
    assert fig["layout"]["meta"]["scrub"]["values"] == pytest.approx(values)
    line = next(i for i, t in enumerate(fig["data"]) if t.get("name") == "gd")
    for step, t, lr in zip(slider["steps"], runs, values):
        update, targets = step["args"]
        assert step["method"] == "restyle" and targets[0] == line
        drawn = np.column_stack([update["x"][0], update["y"][0]])
        assert np.allclose(drawn[0], t.points[0]) and np.allclose(drawn[-1], t.points[-1], rtol=1e-5, atol=1e-9)
        assert all(d[1] == lr for d in update["customdata"][0])  # a click tells which η this is
    # different η give different paths (the slider really swaps something)
    assert slider["steps"][0]["args"][0]["x"][0] != slider["steps"][-1]["args"][0]["x"][0]


def test_ladder_paths_are_thinned():
    values = scrub.ladder(0.001, size=3)
    obj = optcore.parse("x^2 + 3y^2")
    runs = [optcore.run(obj, "gd", [1.5, -1.0], steps=3000, tol=0, lr=lr) for lr in values]
    fig = _scrub_figure(values, [t.points for t in runs]).to_dict()
    for step in fig["layout"]["sliders"][0]["steps"]:
        assert len(step["args"][0]["x"][0]) <= scrub.SCRUB_POINTS


def _spec(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_playground_scrub_figure_has_one_path_per_ladder_value_and_says_its_range():
    at = _app(f="x^2 + 3y^2", **{"m.m0": "gd(lr=0.05)", "o.pg_scrub": "true"})
    spec = _spec(at)
    meta = spec["layout"]["meta"]["scrub"]
    values = meta["values"]
    assert len(spec["layout"]["sliders"]) == 1 and len(spec["layout"]["sliders"][0]["steps"]) == len(values)
    assert min(values) < 0.05 < max(values) and values[meta["active"]] == 0.05
    assert not spec.get("frames")  # the scrub figure is static: the slider owns the path
    captions = " ".join(c.value for c in at.caption)
    assert f"{min(values):.3g}" in captions and f"{max(values):.3g}" in captions


def test_playground_one_variable_scrub():
    at = _app(f="x^4 - 3x^2 + x", **{"m.m0": "gd(lr=0.02)", "o.pg_scrub": "true"})
    spec = _spec(at)
    assert len(spec["layout"]["sliders"][0]["steps"]) == len(spec["layout"]["meta"]["scrub"]["values"])


def test_a_click_on_a_scrubbed_path_point_keeps_its_eta_not_the_start(monkeypatch):
    from types import SimpleNamespace

    from ui import charts
    kept, starts = [], []
    point = {"x": 1.0, "y": 1.0, "customdata": [3, 0.123456]}
    fake = SimpleNamespace(session_state={"pg_chart": {"selection": {"points": [point]}}})
    monkeypatch.setattr(charts, "st", fake)
    monkeypatch.setattr(charts.state, "set_start", lambda *a: starts.append(a))
    charts._on_chart_click("pg_chart", (0, 1), kept.append)
    assert kept == [0.1235] and not starts
    fake.session_state["pg_chart"]["selection"]["points"] = [{"x": 1.0, "y": 1.0, "customdata": 7}]
    monkeypatch.setattr(charts.state, "current_objective", lambda: optcore.parse("x^2 + 3y^2"))
    charts._on_chart_click("pg_chart", (0, 1), kept.append)  # not a scrub path: the click moves the start
    assert kept == [0.1235] and starts == [([1.0, 1.0], ["x", "y"])]


def test_a_kept_eta_from_a_link_is_the_middle_of_the_next_ladder():
    at = _app(f="x^2 + 3y^2", **{"m.m0": "gd(lr=0.1235)", "o.pg_scrub": "true"})
    meta = _spec(at)["layout"]["meta"]["scrub"]
    assert meta["values"][meta["active"]] == 0.1235
    assert "lr=0.1235" in str(at.query_params.get("m.m0")) and at.query_params.get("o.pg_scrub") in ("true", ["true"])


def test_links_made_before_the_scrub_toggle_open_unchanged():
    at = _app(f="x^2 + 3y^2", x0="1.5,-0.5", **{"m.m0": "momentum(lr=0.03,beta=0.8)"})
    spec = _spec(at)
    assert spec.get("frames") and "scrub" not in (spec["layout"].get("meta") or {})
    assert at.session_state["m0.momentum.lr"] == 0.03
