"""The app in Streamlit's AppTest: every page runs, widgets drive the charts, bad input is an inline
error that keeps the last good chart, and the URL state restores.

AppTest (1.67) re-runs only the page script after the first run of a multipage app, skipping the
entry point (its sidebar widgets then vanish); `_run` clears the remembered page so each run goes
through app.py, and a `view` query parameter picks the page (app.py makes it the default page).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["playground", "compare", "curvature", "newton_model", "lr_lab", "basins", "preconditioning"]
TIMEOUT = 120


def _run(at: AppTest) -> AppTest:
    at._finished_page_script_hash = ""  # see module docstring
    at.run(timeout=TIMEOUT)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in query.items():
        at.query_params[k] = v
    return _run(at)


def _spec(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def _available(view: str) -> bool:
    return (Path(APP).parent / "pages" / f"{view}.py").exists()


@pytest.mark.parametrize("view", PAGES)
def test_every_page_runs(view):
    if not _available(view):
        pytest.skip(f"pages/{view}.py not written yet")
    at = _app(view=view)
    assert not at.sidebar.error, [e.value for e in at.sidebar.error]  # (a diverged run may show st.error)
    assert at.query_params.get("view") in (view, [view])


def test_playground_shows_animated_contour():
    at = _app()
    spec = _spec(at)
    assert spec.get("frames"), "the trajectory is animated"
    assert len(spec["layout"]["images"]) == 1  # the contour, once
    assert at.success or at.warning  # the run's status is shown


def test_typing_a_formula_updates_the_chart():
    at = _app()
    before = _spec(at)
    at.text_input(key="formula_input").input("x^2 + 3y^2")
    _run(at)
    after = _spec(at)
    assert after["layout"]["images"][0]["source"] != before["layout"]["images"][0]["source"]
    assert not at.sidebar.error
    assert at.query_params["f"] in ("x^2 + 3y^2", ["x^2 + 3y^2"])


def test_bad_formula_shows_error_and_keeps_last_good_chart():
    at = _app()
    at.text_input(key="formula_input").input("x^2 + 3y^2")
    _run(at)
    good = _spec(at)
    at.text_input(key="formula_input").input("x^^2 + (")
    _run(at)
    assert at.sidebar.error, "an inline error"
    assert "x^2 + 3y^2" in at.sidebar.error[0].value  # says what is still shown
    assert _spec(at)["layout"]["images"] == good["layout"]["images"]


def test_start_point_inputs_drive_the_run():
    at = _app()
    at.number_input(key="x0.x").set_value(-2.5)
    at.number_input(key="x0.y").set_value(2.5)
    _run(at)
    first_frame = _spec(at)["frames"][0]["data"][0]  # the path at k = 0 is the start
    assert first_frame["x"] == [-2.5] and first_frame["y"] == [2.5]
    assert at.query_params["x0"] in ("-2.5,2.5", ["-2.5,2.5"])


def test_preset_gallery_loads_formula_and_methods():
    at = _app()
    at.selectbox(key="preset_select").set_value("textbook-x2")
    _run(at)
    assert at.text_input(key="formula_input").value == "x^2"
    assert at.session_state["m0.gd.lr"] == 0.2


def test_query_params_restore_state():
    at = _app(f="x^2 + 3y^2", x0="1.5,-0.5", win="-4,4;-2,2", steps="40", tol="1e-06",
              **{"m.m0": "momentum(lr=0.03,beta=0.8)"})
    assert at.session_state["x0.x"] == 1.5 and at.session_state["x0.y"] == -0.5
    assert at.session_state["win.x.lo"] == -4 and at.session_state["win.y.hi"] == 2
    assert at.session_state["m0.method"] == "momentum"
    assert at.session_state["m0.momentum.lr"] == 0.03 and at.session_state["m0.momentum.beta"] == 0.8
    assert at.session_state["steps"] == 40
    assert at.text_input(key="formula_input").value == "x^2 + 3y^2"
    assert not at.info  # nothing had to be clamped


def test_hostile_query_params_are_clamped_with_a_notice():
    at = _app(f="x^2 + y^2", steps="10000000", **{"m.m0": "gd(lr=1e9)"})
    assert at.session_state["steps"] == 5000
    assert at.session_state["m0.gd.lr"] == 10.0
    assert at.info and "clamped" in at.info[0].value


def test_bad_formula_in_link_falls_back():
    at = _app(f="__import__('os')")
    assert at.info and "formula" in at.info[0].value
    assert at.get("plotly_chart")


def test_compare_page_summary_and_charts():
    at = _app(view="compare", f="x^2 + 3y^2", x0="2,1")
    charts = at.get("plotly_chart")
    assert len(charts) >= 4  # small multiples (+ overlay) and three convergence plots
    multiples = _spec(at, 0)
    assert len(multiples["layout"]["images"]) == 3 and multiples.get("frames")
    assert at.dataframe, "summary table"


def test_one_and_many_dimensions():
    at = _app(f="x^4 - 3x^2 + x")
    assert _spec(at)["layout"]["meta"]["click_axes"] == [0]
    at = _app(f="x1^2 + 2x2^2 + 3x3^2 + (x1 - x4)^2")
    assert not at.sidebar.error
    assert any("slice" in json.dumps(_spec(at, i).get("layout", {}).get("title", {}))
               for i in range(len(at.get("plotly_chart"))))
