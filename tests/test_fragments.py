"""Playground and Compare as fragments (issue 9, part 3) and the η scrub in Compare (part 2).

AppTest always runs the whole script, so what a fragment rerun does in the browser is tested in
tests/browser/test_fragments.py; here: the pages still work as full runs, and Compare's scrub figure.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import optcore
from optcore.figures import scrub
from tests.test_app import _app
from tests.test_scrub import drawn_by_step

COMPARE = {"view": "compare", "f": "x^2 + 3y^2", "x0": "1.5,1.5", "win": "-2,2;-2,2", "steps": "60",
           "tol": "1e-12", "o.n_methods": "2", "m.m0": "gd(lr=0.05)", "m.m1": "momentum(lr=0.02,beta=0.9)"}


def _scrub_spec(at) -> dict:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    found = [s for s in specs if "scrub" in ((s.get("layout") or {}).get("meta") or {})]
    assert len(found) == 1, f"{len(found)} scrub figures"
    return found[0]


def test_compare_scrub_is_off_by_default_and_old_links_open_unchanged():
    at = _app(**COMPARE)
    assert not at.exception
    assert at.toggle(key="cmp_scrub").value is False
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert not any("scrub" in ((s.get("layout") or {}).get("meta") or {}) for s in specs)
    assert at.session_state["m0.gd.lr"] == 0.05


@pytest.mark.parametrize("formula", ["x^2 + 3y^2", "x^4 - 3x^2 + x"])
def test_compare_scrub_ships_method_1_paths_for_a_ladder_around_its_eta(formula):
    query = {**COMPARE, "f": formula, "o.cmp_scrub": "true"}
    if formula.count("y") == 0:
        query.update(x0="1.5", win="-2,2")
    at = _app(**query)
    assert not at.exception
    spec = _scrub_spec(at)
    meta = spec["layout"]["meta"]["scrub"]
    values = meta["values"]
    assert values[meta["active"]] == 0.05 and min(values) < 0.05 < max(values)
    steps = spec["layout"]["sliders"][0]["steps"]
    assert len(steps) == len(values)
    assert all(f["name"].startswith("lr:") for f in spec["frames"])  # the slider's frames only: no Play
    # each slider step draws method 1's run with that η (the other method's path is left alone)
    obj = optcore.parse(formula)
    x0 = np.array([1.5] * obj.dim)
    for i in (0, meta["active"], len(values) - 1):
        traj = optcore.run(obj, "gd", x0, steps=60, tol=1e-12, lr=values[i])
        xs = drawn_by_step(spec, 0, i)["x"]
        assert xs[0] == pytest.approx(traj.points[0, 0], abs=1e-5)
        assert xs[-1] == pytest.approx(traj.points[-1, 0], rel=1e-5, abs=1e-6)
    names = [t.get("name") for t in spec["data"]]
    frame = next(f for f in spec["frames"] if f["name"] == steps[0]["args"][0][0])
    target = frame["traces"][0]
    assert names[target].startswith("1. ") and "Momentum" not in names[target]
    captions = " ".join(c.value for c in at.caption)
    assert f"{min(values):.3g}" in captions and "method 1" in captions
    assert at.query_params.get("o.cmp_scrub") in ("true", ["true"])


def test_compare_scrub_not_offered_without_a_contour_or_curve():
    at = _app(**{**COMPARE, "f": "x^2 + y^2 + z^2", "x0": "1,1,1", "win": "-2,2;-2,2;-2,2", "o.cmp_scrub": "true"})
    assert not at.exception
    assert not at.get("toggle") or all(t.key != "cmp_scrub" for t in at.get("toggle"))
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert not any("scrub" in ((s.get("layout") or {}).get("meta") or {}) for s in specs)


def test_ladder_is_the_same_as_the_playgrounds():
    at = _app(**{**COMPARE, "o.cmp_scrub": "true"})
    spec = _scrub_spec(at)
    lr = next(p for p in optcore.METHODS["gd"].params if p.name == "lr")
    assert spec["layout"]["meta"]["scrub"]["values"] == pytest.approx(
        scrub.ladder(0.05, low=lr.low, high=lr.high).tolist())


def test_compare_method_1_with_momentum_gets_a_beta_slider_too():
    at = _app(**{**COMPARE, "m.m0": "momentum(lr=0.02,beta=0.8)", "m.m1": "gd(lr=0.05)", "o.cmp_scrub": "true"})
    assert not at.exception
    spec = _scrub_spec(at)
    ladders = spec["layout"]["meta"]["scrub"]["ladders"]
    assert [lad["param"] for lad in ladders] == ["lr", "beta"] and len(spec["layout"]["sliders"]) == 2
    betas = ladders[1]["values"]
    obj = optcore.parse(COMPARE["f"])
    traj = optcore.run(obj, "momentum", np.array([1.5, 1.5]), steps=60, tol=1e-12, lr=0.02, beta=betas[-1])
    drawn = drawn_by_step(spec, 1, len(betas) - 1)
    assert [drawn["x"][-1], drawn["y"][-1]] == pytest.approx(traj.points[-1], rel=1e-5, abs=1e-6)


def test_compare_scrubbed_path_is_named_by_its_sliders_not_by_the_committed_values():
    """The legend is not redrawn while a slider moves: a name stating η=0.02 went on saying it
    after the student dragged η elsewhere. The other method keeps its own name and value."""
    at = _app(**{**COMPARE, "m.m0": "momentum(lr=0.02,beta=0.8)", "m.m1": "gd(lr=0.05)", "o.cmp_scrub": "true"})
    names = [t.get("name") or "" for t in _scrub_spec(at)["data"] if t.get("showlegend", True)]   # in the legend
    assert "1. Momentum (heavy ball) (η, β on the sliders)" in names, names
    assert not any("η=0.02" in n for n in names), names
    assert "2. Gradient descent η=0.05" in names, names
