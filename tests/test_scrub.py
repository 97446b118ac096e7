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


def drawn_by_step(fig: dict, slider: int, step: int) -> dict:
    """What a slider step draws: the path trace's update in the frame the step animates."""
    args = fig["layout"]["sliders"][slider]["steps"][step]["args"]
    frame = next(f for f in fig["frames"] if f["name"] == args[0][0])
    return frame["data"][0]


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
    for i, (step, t, lr) in enumerate(zip(slider["steps"], runs, values)):
        assert step["method"] == "animate"
        assert step["args"][1]["frame"]["redraw"] is False  # only the named scatter traces are redrawn
        frame = next(f for f in fig["frames"] if f["name"] == step["args"][0][0])
        assert frame["traces"][0] == line
        update = drawn_by_step(fig, 0, i)
        drawn = np.column_stack([update["x"], update["y"]])
        assert np.allclose(drawn[0], t.points[0]) and np.allclose(drawn[-1], t.points[-1], rtol=1e-5, atol=1e-9)
        assert all(d[1] == pytest.approx(lr, rel=1e-3) for d in update["customdata"])  # a click tells which η this is
    # different η give different paths (the slider really swaps something)
    assert drawn_by_step(fig, 0, 0)["x"] != drawn_by_step(fig, 0, len(values) - 1)["x"]


def test_frames_name_every_scatter_trace_so_the_click_grid_keeps_its_drawing():
    """plotly.js recomputes every trace in an animation but redraws only the traces a frame names;
    an unnamed scatter trace loses its drawing node and the next click on the contour throws."""
    values = scrub.ladder(0.1, size=3)
    obj = optcore.parse("x^2 + 3y^2")
    fig = _scrub_figure(values, [optcore.run(obj, "gd", [1.5, -1.0], steps=10, lr=lr).points for lr in values]).to_dict()
    scatter = {i for i, t in enumerate(fig["data"]) if t.get("type", "scatter") == "scatter"}
    assert "click grid" in [fig["data"][i].get("name") for i in scatter]
    for frame in fig["frames"]:
        assert set(frame["traces"]) == scatter and len(frame["data"]) == len(frame["traces"])


def test_eta_and_beta_sliders_each_move_their_own_parameter():
    obj = optcore.parse("x^2 + 10y^2")
    x0, lr0, beta0 = [1.5, -1.0], 0.02, 0.8
    lrs, betas = scrub.ladder(lr0, size=5), scrub.decay_ladder(beta0, size=5)
    eta_runs = [optcore.run(obj, "momentum", x0, steps=40, tol=1e-10, lr=lr, beta=beta0) for lr in lrs]
    beta_runs = [optcore.run(obj, "momentum", x0, steps=40, tol=1e-10, lr=lr0, beta=b) for b in betas]
    xs = ys = np.linspace(-2, 2, 40)
    Z = xs[None, :] ** 2 + 10 * ys[:, None] ** 2
    fig = figs.contour_paths_figure(xs, ys, Z, [figs.path_from_points(eta_runs[2].points, "m", "#d62728")],
                                    animate=False)
    ladders = [scrub.Ladder("lr", "η", lrs, [figs.path_from_points(t.points, "m", "") for t in eta_runs],
                            scrub.active_index(lrs, lr0)),
               scrub.Ladder("beta", "β", betas, [figs.path_from_points(t.points, "m", "") for t in beta_runs],
                            scrub.active_index(betas, beta0))]
    fig = scrub.add_scrub_sliders(fig, "m", ladders, committed={"lr": lr0, "beta": beta0}).to_dict()
    sliders = fig["layout"]["sliders"]
    assert len(sliders) == 2 and sliders[1]["y"] < sliders[0]["y"]  # β's row under η's
    assert sliders[0]["currentvalue"]["prefix"].startswith("η") and sliders[1]["currentvalue"]["prefix"].startswith("β")
    meta = fig["layout"]["meta"]["scrub"]
    assert meta["params"] == ["lr", "beta"] and meta["ladders"][1]["values"] == pytest.approx(betas)
    for s, (runs, shown) in enumerate([(eta_runs, [(lr, beta0) for lr in lrs]), (beta_runs, [(lr0, b) for b in betas])]):
        for i, (t, (lr, b)) in enumerate(zip(runs, shown)):
            update = drawn_by_step(fig, s, i)
            assert np.allclose([update["x"][-1], update["y"][-1]], t.points[-1], rtol=1e-5, atol=1e-9)
            assert update["customdata"][0][1:] == pytest.approx([lr, b], rel=1e-3)   # a click keeps (η, β) of this path
    # the β ladder changes the path (momentum really differs)
    assert drawn_by_step(fig, 1, 0)["x"] != drawn_by_step(fig, 1, 4)["x"]
    assert "β = %{customdata[2]" in next(t for t in fig["data"] if t.get("name") == "m")["hovertemplate"]


def test_decay_ladder_is_log_spaced_in_one_minus_beta_and_stays_in_range():
    values = scrub.decay_ladder(0.9)
    assert 0.9 in values and values.min() == 0.0 and values.max() <= scrub.DECAY_CLOSEST_TO_ONE
    assert np.all(np.diff(values) > 0)
    gaps = 1 - values[1:]   # past β = 0, the gaps 1 − β shrink by one ratio
    assert np.allclose(gaps[1:] / gaps[:-1], gaps[1] / gaps[0])
    half = scrub.decay_ladder(0.5)
    assert half[0] == 0.0 and 0.5 in half and half.max() <= 0.999
    assert scrub.decay_ladder(0.0)[0] == 0.0
    for bad in (1.0, -0.1, float("nan")):
        with pytest.raises(ValueError):
            scrub.decay_ladder(bad)


def test_only_methods_with_a_momentum_weight_get_a_beta_slider():
    from ui import scrub as ui_scrub
    def scrubbed(method, **params):
        spec = optcore.METHODS[method]
        return [s.name for s in ui_scrub.scrubbable(method, {**{p.name: p.default for p in spec.params}, **params})]
    assert scrubbed("gd") == ["lr"] and scrubbed("newton") == ["lr"] and scrubbed("rmsprop") == ["lr"]
    assert scrubbed("momentum") == ["lr", "beta"] and scrubbed("nesterov") == ["lr", "beta"]
    assert scrubbed("adam") == ["lr", "beta1"]
    assert scrubbed("momentum", beta=1.0) == ["lr"]           # no ladder through an invalid β
    assert scrubbed("gd", lr=lambda k: 0.1) == []              # a schedule cannot be scrubbed


def _spec(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_playground_scrub_figure_has_one_path_per_ladder_value_and_says_its_range():
    at = _app(f="x^2 + 3y^2", **{"m.m0": "gd(lr=0.05)", "o.pg_scrub": "true"})
    spec = _spec(at)
    meta = spec["layout"]["meta"]["scrub"]
    values = meta["values"]
    assert len(spec["layout"]["sliders"]) == 1 and len(spec["layout"]["sliders"][0]["steps"]) == len(values)
    assert min(values) < 0.05 < max(values) and values[meta["active"]] == 0.05
    assert all(f["name"].startswith("lr:") for f in spec["frames"])  # frames belong to the slider, no Play
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


def test_a_click_on_a_momentum_path_keeps_eta_and_beta(monkeypatch):
    from types import SimpleNamespace

    from ui import charts
    from ui import scrub as ui_scrub
    fake = SimpleNamespace(session_state={"pg_chart": {"selection": {"points": [{"x": 1.0, "y": 1.0,
                                                                                  "customdata": [4, 0.0312345, 0.683772]}]}}})
    monkeypatch.setattr(charts, "st", fake)
    monkeypatch.setattr(ui_scrub, "st", fake)
    keep = ui_scrub.keeper("m0", "momentum", {"lr": 0.02, "beta": 0.9, "noise": 0.0, "seed": 0})
    charts._on_chart_click("pg_chart", (0, 1), keep)
    assert fake.session_state["m0.momentum.lr"] == 0.03123 and fake.session_state["m0.momentum.beta"] == 0.6838
    keep(0.05, 1.5)   # a β outside [0, 1) is not kept; η is
    assert fake.session_state["m0.momentum.lr"] == 0.05 and fake.session_state["m0.momentum.beta"] == 0.6838


def test_playground_momentum_has_eta_and_beta_sliders_and_says_both_ranges():
    at = _app(f="x^2 + 3y^2", **{"m.m0": "momentum(lr=0.03,beta=0.8)", "o.pg_scrub": "true"})
    assert not at.exception
    spec = _spec(at)
    meta = spec["layout"]["meta"]["scrub"]
    assert meta["params"] == ["lr", "beta"] and len(spec["layout"]["sliders"]) == 2
    betas = meta["ladders"][1]["values"]
    assert betas[meta["ladders"][1]["active"]] == 0.8 and min(betas) < 0.8 < max(betas)
    captions = " ".join(c.value for c in at.caption)
    assert f"β from {min(betas):.3g} to {max(betas):.3g}" in captions
    assert "for η = 0.03, β = 0.8" in captions
    # each β step draws the momentum run with that β and the set η
    last = len(betas) - 1
    end = drawn_by_step(spec, 1, last)
    start = np.array([end["x"][0], end["y"][0]])   # the drawn path begins at the start point
    traj = optcore.run(optcore.parse("x^2 + 3y^2"), "momentum", start, steps=int(at.session_state["steps"]),
                       tol=float(at.session_state["tol"]), lr=0.03, beta=betas[last])
    assert [end["x"][-1], end["y"][-1]] == pytest.approx(traj.points[-1], rel=1e-4, abs=1e-6)


def test_a_kept_eta_and_beta_from_a_link_are_the_middle_of_the_next_ladders():
    at = _app(f="x^2 + 3y^2", **{"m.m0": "momentum(lr=0.04123,beta=0.6838)", "o.pg_scrub": "true"})
    meta = _spec(at)["layout"]["meta"]["scrub"]
    for lad, value in zip(meta["ladders"], (0.04123, 0.6838)):
        assert lad["values"][lad["active"]] == value


def test_caption_states_each_ladders_range_and_bad_ladders_are_refused():
    lrs, betas = scrub.ladder(0.02, size=5), scrub.decay_ladder(0.7, size=5)
    one = scrub.ladders_range_text([scrub.Ladder("lr", "η", lrs, [{}] * 5, 2)])
    assert f"from {lrs.min():.3g} to {lrs.max():.3g}" in one and "outside that range" in one
    two = scrub.ladders_range_text([scrub.Ladder("lr", "η", lrs, [{}] * 5, 2),
                                    scrub.Ladder("beta", "β", betas, [{}] * len(betas), 1)])
    assert f"η from {lrs.min():.3g} to {lrs.max():.3g}" in two and f"β from {betas.min():.3g} to {betas.max():.3g}" in two
    assert "Each slider moves its own parameter" in two
    obj = optcore.parse("x^2 + 3y^2")
    fig = _scrub_figure(lrs[:1], [optcore.run(obj, "gd", [1.5, -1.0], steps=5, lr=lrs[0]).points])
    with pytest.raises(ValueError):
        scrub.add_scrub_slider(fig, "gd", lrs, [{"x": [0.0], "y": [0.0]}], active=0)   # 5 values, 1 path
    with pytest.raises(ValueError):
        scrub.add_scrub_slider(fig, "no such path", lrs[:1], [{"x": [0.0], "y": [0.0]}], active=0)


def test_one_variable_scrub_draws_few_of_the_curves_invisible_markers():
    """Every slider step redraws the static traces too: the 1-D curve's 400 invisible click targets
    doubled the time of a step in Chromium; hover and click still see every point."""
    obj = optcore.parse("x^4 - 3x^2 + x")
    values = scrub.ladder(0.02, size=3)
    runs = [optcore.run(obj, "gd", [1.5], steps=30, lr=lr) for lr in values]
    xs = np.linspace(-2.5, 2.5, 400)
    fig = figs.curve_figure(xs, obj.value(xs[:, None]), [figs.path_from_points(runs[0].points, "gd", "#d62728",
                                                                                values=runs[0].values)], animate=False)
    fig = scrub.add_scrub_slider(fig, "gd", values, [figs.path_from_points(t.points, "gd", "", values=t.values)
                                                     for t in runs], active=1).to_dict()
    curve = next(t for t in fig["data"] if t.get("name") == "f")
    assert curve["marker"]["opacity"] == 0 and curve["marker"]["maxdisplayed"] == scrub.MARKERS_DRAWN
    update = drawn_by_step(fig, 0, 2)
    assert update["y"][-1] == pytest.approx(runs[2].values[-1], rel=1e-5, abs=1e-9)   # 1-D: (x_k, f(x_k))
