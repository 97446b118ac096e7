"""The learning-rate lab's in-figure scrub (issue 9, part 2): η (and β for momentum) sliders under
the traces chart, each step the single run with that value, the ladders' ranges in the caption,
the listed learning rates kept as they are, and the settled values committed to state and link."""
from __future__ import annotations

import json

import numpy as np
import pytest

import optcore
from tests.test_app import _app
from tests.test_scrub import drawn_by_step

LAB = {"view": "lr_lab", "f": "x^2 + 3y^2", "x0": "1.5,1", "win": "-2,2;-2,2", "steps": "30", "tol": "1e-12"}


def _traces_spec(at) -> dict:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    found = [s for s in specs if "scrub" in ((s.get("layout") or {}).get("meta") or {})]
    assert len(found) == 1, f"{len(found)} scrub figures"
    return found[0]


def test_scrub_is_off_by_default_and_the_traces_chart_is_animated():
    at = _app(**LAB, **{"m.m0": "gd(lr=0.1)"})
    assert not at.exception
    assert at.toggle(key="lr_scrub").value is False
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert not any("scrub" in ((s.get("layout") or {}).get("meta") or {}) for s in specs)
    assert any(s.get("frames") for s in specs)   # the contour with paths still plays


def test_lr_lab_eta_slider_draws_single_runs_and_keeps_the_listed_rates():
    at = _app(**LAB, **{"m.m0": "gd(lr=0.1)", "o.lr_scrub": "true"})
    at.text_input(key="lrs").input("0.05, 0.3")
    at.run()
    assert not at.exception
    spec = _traces_spec(at)
    meta = spec["layout"]["meta"]["scrub"]
    values = meta["values"]
    assert meta["params"] == ["lr"] and len(spec["layout"]["sliders"]) == 1   # gd has no β
    assert values[meta["active"]] == 0.1 and min(values) < 0.1 < max(values)
    names = [t.get("name") for t in spec["data"]]
    assert {"η on the slider", "η = 0.05", "η = 0.3"} <= set(names)   # the listed rates stay beside the scrubbed one
    assert "η = 0.1" not in names   # the scrubbed path's legend must not state a value the slider has left
    frame = next(f for f in spec["frames"] if f["name"] == spec["layout"]["sliders"][0]["steps"][0]["args"][0][0])
    assert names[frame["traces"][0]] == "η on the slider"        # the slider moves the method's own η
    obj = optcore.parse(LAB["f"])
    for i in (0, len(values) - 1):
        t = optcore.run(obj, "gd", np.array([1.5, 1.0]), steps=30, tol=1e-12, lr=values[i])
        drawn = drawn_by_step(spec, 0, i)
        assert [drawn["x"][-1], drawn["y"][-1]] == pytest.approx(t.points[-1], rel=1e-5, abs=1e-9)
    captions = " ".join(c.value for c in at.caption)
    assert f"from {min(values):.3g} to {max(values):.3g}" in captions and "for η = 0.1" in captions


def test_lr_lab_momentum_gets_a_beta_slider_too():
    at = _app(**LAB, **{"m.m0": "momentum(lr=0.02,beta=0.7)", "o.lr_scrub": "true"})
    assert not at.exception
    spec = _traces_spec(at)
    ladders = spec["layout"]["meta"]["scrub"]["ladders"]
    assert [lad["param"] for lad in ladders] == ["lr", "beta"] and len(spec["layout"]["sliders"]) == 2
    betas = ladders[1]["values"]
    assert betas[ladders[1]["active"]] == 0.7 and betas[0] == 0.0 and max(betas) < 1
    t = optcore.run(optcore.parse(LAB["f"]), "momentum", np.array([1.5, 1.0]), steps=30, tol=1e-12, lr=0.02,
                    beta=betas[0])
    drawn = drawn_by_step(spec, 1, 0)
    assert [drawn["x"][-1], drawn["y"][-1]] == pytest.approx(t.points[-1], rel=1e-5, abs=1e-9)
    assert drawn["customdata"][0][1:] == pytest.approx([0.02, 0.0])
    assert "β from 0 to" in " ".join(c.value for c in at.caption)


def test_lr_lab_one_variable_scrub():
    at = _app(view="lr_lab", f="x^2", x0="2", win="-3,3", steps="20", tol="1e-12",
              **{"m.m0": "gd(lr=0.2)", "o.lr_scrub": "true"})
    assert not at.exception
    spec = _traces_spec(at)
    assert spec["layout"]["meta"]["view"] == "traces_1d"
    drawn = drawn_by_step(spec, 0, spec["layout"]["meta"]["scrub"]["active"])
    t = optcore.run(optcore.parse("x^2"), "gd", np.array([2.0]), steps=20, tol=1e-12, lr=0.2)
    assert drawn["x"][-1] == pytest.approx(t.points[-1, 0], rel=1e-5, abs=1e-9)
    assert drawn["y"][-1] == pytest.approx(t.values[-1], rel=1e-5, abs=1e-9)   # 1-D paths are (x_k, f(x_k))


def test_a_kept_eta_and_beta_reach_the_link_and_centre_the_next_ladders():
    at = _app(**LAB, **{"m.m0": "momentum(lr=0.02,beta=0.7)", "o.lr_scrub": "true"})
    at.session_state["m0.momentum.lr"] = 0.03162   # what a click on a scrubbed path point sets
    at.session_state["m0.momentum.beta"] = 0.8419
    at.run()
    assert not at.exception
    link = str(at.query_params.get("m.m0"))
    assert "lr=0.03162" in link and "beta=0.8419" in link
    ladders = _traces_spec(at)["layout"]["meta"]["scrub"]["ladders"]
    assert [lad["values"][lad["active"]] for lad in ladders] == [0.03162, 0.8419]


def test_scrub_not_offered_for_three_variables():
    at = _app(view="lr_lab", f="x^2 + 2y^2 + 3z^2", x0="1,1,1", win="-2,2;-2,2;-2,2",
              **{"m.m0": "gd(lr=0.1)", "o.lr_scrub": "true"})
    assert not at.exception
    assert not at.get("toggle") or all(t.key != "lr_scrub" for t in at.get("toggle"))
