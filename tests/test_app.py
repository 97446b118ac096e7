"""The app in Streamlit's AppTest: every page runs, widgets drive the charts, bad input is an inline
error that keeps the last good chart, and the URL state restores.

AppTest (1.67) re-runs only the page script after the first run of a multipage app, skipping the
entry point (its sidebar widgets then vanish); `_run` clears the remembered page so each run goes
through app.py, and a `view` query parameter picks the page (app.py makes it the default page).
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

import pytest
from streamlit.testing.v1 import AppTest

from ui.registry import KEYS as PAGES  # the one page registry

APP = str(Path(__file__).resolve().parents[1] / "app.py")
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


@pytest.mark.parametrize("view", PAGES)
def test_every_page_runs(view):
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


def test_learning_rates_to_compare_come_back_from_a_link():
    # the box is plain text: the link's list was refused as "could not be read" until it had a converter
    at = _app(view="lr_lab", f="x^2 + 10y^2", **{"o.lrs": "0.01, 0.05,junk, 0"})
    assert at.text_input(key="lrs").value == "0.01, 0.05"  # only the rates it can use
    assert not [c.value for c in at.caption if "could not" in c.value]


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
    assert [c.key for c in charts] == ["cmp_multiples", "cmp_conv"]  # the convergence plots in one chart
    conv = _spec(at, 1)
    # each panel says above it what it shows (a y title beside the next panel's tick labels ran into them)
    assert [a["text"] for a in conv["layout"]["annotations"]] == [
        "f(x<sub>k</sub>) − f*", "‖∇f(x<sub>k</sub>)‖", "distance to minimum"]
    assert [a["x"] for a in conv["layout"]["annotations"]] == sorted(a["x"] for a in conv["layout"]["annotations"])
    multiples = _spec(at, 0)
    assert len(multiples["layout"]["images"]) == 3 and multiples.get("frames")
    assert at.dataframe, "summary table"


def test_compare_summary_shows_every_column_and_what_each_run_evaluated():
    """Every column of the summary is shown, where each run ended first; the evaluation counts sit in
    one column (three columns of them pushed "final f" out of a 1440 px screen) and match the runs."""
    from ui import views
    import optcore
    at = _app(view="compare", f="(1-x)^2 + 100(y-x^2)^2", x0="-1.2,1", steps="500", tol="1e-08",
              **{"m.m0": "gd(lr=0.001)", "m.m1": "bfgs", "m.m2": "newton", "o.n_methods": "3"})
    table = at.dataframe[0]
    shown = list(table.proto.column_order)
    assert set(shown) == set(table.value.columns), (shown, list(table.value.columns))
    assert shown.index("final f") < shown.index("iterations") and shown[-1] == views.EVALS, shown
    counts = {r["run"]: [int(v) for v in r[views.EVALS].split(" / ")] for r in table.value.to_dict("records")}
    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    for name, method in (("BFGS", "bfgs"), ("Newton", "newton")):
        traj = optcore.run(obj, method, [-1.2, 1.0], steps=500, tol=1e-8)
        expected = [int(np.asarray(traj.evaluations.get(k, [0]))[-1]) for k in ("f", "grad", "hess")]
        assert next(c for run, c in counts.items() if name in run) == expected, (name, counts)


def test_one_and_many_dimensions():
    at = _app(f="x^4 - 3x^2 + x")
    assert _spec(at)["layout"]["meta"]["click_axes"] == [0]
    at = _app(f="x1^2 + 2x2^2 + 3x3^2 + (x1 - x4)^2")
    assert not at.sidebar.error
    assert any("slice" in json.dumps(_spec(at, i).get("layout", {}).get("title", {}))
               for i in range(len(at.get("plotly_chart"))))


# -- usability fixes ---------------------------------------------------------------------------
def test_the_page_in_the_address_is_never_the_default_page():
    """Streamlit serves the default page only at "/": a link to /curvature?view=curvature (what the
    address bar shows after navigating there) used to answer "Page not found"."""
    from ui.registry import default_view
    assert default_view(PAGES, "curvature", None) == "curvature"        # "/?view=curvature"
    assert default_view(PAGES, None, None) == "playground"
    assert default_view(PAGES, "nonsense", None) == "playground"
    for asked in PAGES:
        for view in (asked, None):
            chosen = default_view(PAGES, view, asked)
            assert chosen != asked and chosen in PAGES, (asked, view, chosen)


def test_fit_window_button_works_from_its_callback():
    """Widget callbacks run before app.py draws anything: they must work from there."""
    at = _app(f="(x - 3)^2 + (y + 4)^2", x0="0,0", win="-1,1;-1,1")
    at.button(key="auto_window").click()
    _run(at)
    assert at.session_state["win.x.hi"] > 3 and at.session_state["win.y.lo"] < -4


def test_start_text_box_works_from_its_callback():
    at = _app(f="x1^2 + x2^2 + x3^2 + x4^2 + x5^2 + x6^2 + x7^2", x0="1,1,1,1,1,1,1")
    at.text_input(key="x0.all").input("1, 2, 3, 4, 5, 6, 7")
    _run(at)
    assert [at.session_state[f"x0.x{i}"] for i in range(1, 8)] == [1, 2, 3, 4, 5, 6, 7]


def test_one_variable_window_frames_the_dips():
    """x^4 - 3x^2 + x has its stationary points in [-1.3, 1.2]: a window of [-4, 4] (f up to 200)
    flattened both dips into the axis."""
    at = _app()
    at.text_input(key="formula_input").input("x^4 - 3x^2 + x")
    _run(at)
    lo, hi = at.session_state["win.x.lo"], at.session_state["win.x.hi"]
    assert -3 <= lo <= -1.5 and 1.5 <= hi <= 3, (lo, hi)


def test_new_formula_moves_the_start_to_where_f_is_defined():
    at = _app(f="x^2 + y^2", x0="0,0.5", win="-3,3;-3,3")
    at.text_input(key="formula_input").input("log(x) + y^2")
    _run(at)
    assert at.session_state["x0.x"] > 0
    assert not any("no finite value" in e.value for e in at.error)


def test_preset_learning_rates_to_compare_come_from_its_first_method():
    import optcore
    from ui.state import preset_learning_rates
    assert preset_learning_rates(optcore.PRESETS["textbook-x2-divergent"].runs) == "1.1, 0.2, 0.05"
    assert preset_learning_rates(optcore.PRESETS["himmelblau"].runs) == ""  # gd 0.01 beside Newton's 1
    at = _app(p="himmelblau", view="lr_lab")
    assert not any("diverged" in e.value for e in at.error)


@pytest.mark.parametrize("key,raw,expect", [("n_methods", "99", 6), ("curv_n", "1000", 300), ("curv_n", "155", 160)])
def test_option_values_changed_from_a_link_say_so(key, raw, expect):
    view = "compare" if key == "n_methods" else "curvature"
    at = _app(view=view, f="x^2 + 3y^2", **{f"o.{key}": raw})
    assert at.session_state[key] == expect
    assert any("link" in c.value and raw in c.value for c in at.caption), [c.value for c in at.caption]
    at = _app(view=view, f="x^2 + 3y^2", **{f"o.{key}": str(expect)})
    assert not any("link's value was changed" in c.value for c in at.caption)


def test_unknown_option_choice_from_a_link_says_so():
    at = _app(view="compare", f="x^2 + 3y^2", **{"o.xaxis": "bogus"})
    assert any("bogus" in c.value and "choices" in c.value for c in at.caption)


def test_three_variable_slice_title_says_what_is_held_fixed():
    at = _app(f="x^2 + 2y^2 + 3z^2 + x*y*z", x0="1,2,3")
    titles = [json.dumps(_spec(at, i).get("layout", {}).get("title", {})) for i in range(len(at.get("plotly_chart")))]
    slice_title = next(t for t in titles if "slice" in t)
    assert "x_0" not in slice_title and "z = 3" in slice_title and "k = " in slice_title


SADDLE = dict(f="x^2 + y^4/4 - y^2/2", x0="1,0.1", win="-2,2;-2,2", steps="20", tol="1e-08")


def test_compare_summary_says_where_runs_stopped_and_best_needs_a_minimum():
    """Newton converges to the saddle (0, 0) in 3 steps; gradient descent is still walking down to
    (0, 1) after 20 steps with a lower f. "converged" must not win the best mark at a saddle."""
    at = _app(view="compare", **SADDLE, **{"m.m0": "gd(lr=0.1)", "m.m1": "newton", "o.n_methods": "2"})
    df = at.dataframe[0].value
    assert "stopped at" in df.columns, list(df.columns)
    by_run = {r["run"]: r for r in df.to_dict("records")}
    newton = next(r for name, r in by_run.items() if "Newton" in name)
    gd = next(r for name, r in by_run.items() if "Newton" not in name)
    assert newton["status"] == "converged" and newton["stopped at"] == "saddle point", newton
    assert gd["status"] == "max_steps" and gd["stopped at"] == "", gd
    assert "best" in gd["best"] and not newton["best"], (gd, newton)
    assert any("saddle point" in w.value for w in at.warning), [w.value for w in at.warning]


def test_compare_best_goes_to_a_run_at_a_minimum_even_with_a_lower_f_elsewhere():
    from ui.views import best_run
    rows = [{"stopped at": "saddle point", "final f": -5.0, "iterations to tol": 3},
            {"stopped at": "", "final f": -9.0, "iterations to tol": None},
            {"stopped at": "minimum", "final f": -1.0, "iterations to tol": 40},
            {"stopped at": "minimum", "final f": -1.0, "iterations to tol": 12}]
    assert best_run(rows) == 3
    assert best_run(rows[:2]) == 1  # no minimum reached: the lowest f
    assert best_run([{"stopped at": "", "final f": float("nan")}, {"stopped at": "", "final f": 2.0}]) == 1
    assert best_run([]) is None


def test_playground_status_at_a_saddle_is_a_warning_not_a_success():
    at = _app(**SADDLE, **{"m.m0": "newton"})
    assert not at.success, [s.value for s in at.success]
    assert any("saddle point" in w.value and "not a minimum" in w.value for w in at.warning), \
        [w.value for w in at.warning]
    at = _app(**{**SADDLE, "x0": "0.5,0.8"}, **{"m.m0": "newton"})
    assert any("converged" in s.value for s in at.success), [s.value for s in at.success]


@pytest.mark.parametrize("raw,expect,notice", [("0", 1e-15, "clamped to 1e-15"), ("0.5", 0.5, None),
                                               ("5", 1.0, "clamped to 1"), ("3e-9", 3e-9, None)])
def test_tolerance_slider_shows_what_the_link_notice_says(raw, expect, notice):
    """tol=0 said "clamped to 1e-15" while the slider (options from 1e-14) showed 1e-14; tol=0.5
    silently became 1e-14. The slider spans the link's range, so both agree."""
    from optcore import share
    at = _app(f="x^2 + 3y^2", tol=raw)
    slider = at.select_slider(key="tol")
    assert slider.value == expect and at.session_state["tol"] == expect
    assert (float(slider.options[0]), float(slider.options[-1])) == share.TOL_RANGE
    notices = " ".join(i.value for i in at.info)
    if notice:
        assert notice in notices, notices
    else:
        assert "tol" not in notices, notices
    link = at.query_params.get("tol")
    assert float(link[0] if isinstance(link, list) else link) == expect


@pytest.mark.parametrize("query,where", [(dict(f="x^2 + 3y^2", x0="0,0"), "click the contour"),
                                         (dict(f="(x - 1)^2", x0="1", win="-2,3"), "click the curve")])
def test_start_at_a_stationary_point_says_so(query, where):
    """A one-point path (the run stops at step 0 because ∇f = 0 at the start) gets an explanation."""
    at = _app(**query)
    info = [i.value for i in at.info if "stationary point" in i.value]
    assert info and "∇f = 0" in info[0] and where in info[0], [i.value for i in at.info]
    moved = _app(**{**query, "x0": "1.5,0.5" if "y" in query["f"] else "2"})
    assert not [i.value for i in moved.info if "stationary point" in i.value]


def test_compare_convergence_plots_clip_to_the_runs_that_did_not_diverge():
    at = _app(view="compare", p="rosenbrock", **{"o.n_methods": "3", "m.m0": "bfgs", "m.m1": "gd(lr=0.001)",
                                                  "m.m2": "nesterov(lr=0.05)"})
    convs = [s for s in (_spec(at, i) for i in range(len(at.get("plotly_chart"))))
             if "f(x<sub>k</sub>) − f*" in json.dumps(s["layout"].get("annotations", []), ensure_ascii=False)]
    assert convs, "the f − f* plot"
    spec = convs[0]
    names = [t["name"] for t in spec["data"] if t.get("yaxis", "y") == "y"]   # the f − f* panel
    assert any("Nesterov" in n and n.endswith("(diverged)") for n in names), names
    assert sum(n.endswith("(diverged)") for n in names) == 1, names
    # one chart for the three quantities, one legend entry per run
    assert [t["yaxis"] for t in spec["data"]].count("y3") == 3
    assert [t["name"] for t in spec["data"] if t["showlegend"]] == names
    lo, hi = spec["layout"]["yaxis"]["range"]
    assert hi < 5, (lo, hi)  # the others start near f = 24; Nesterov's 1e23 is off the top


def _window(at: AppTest, name: str) -> tuple[float, float]:
    return at.session_state[f"win.{name}.lo"], at.session_state[f"win.{name}.hi"]


@pytest.mark.parametrize("formula", ["log(x) + y^2", "sqrt(x) + y^2"])
def test_automatic_window_shrinks_to_where_f_is_defined(formula):
    """f undefined for x < 0: the left half of the window showed nothing."""
    at = _app(f="x^2 + y^2", x0="1,1", win="-3,3;-3,3")
    at.text_input(key="formula_input").input(formula)
    _run(at)
    (xlo, xhi), (ylo, yhi) = _window(at, "x"), _window(at, "y")
    assert xhi > 1 and xlo < 0.5, (xlo, xhi)        # the boundary x = 0 stays in view
    assert -xlo < 0.2 * (xhi - xlo), (xlo, xhi)     # mostly x > 0
    assert yhi - ylo >= 4, (ylo, yhi)              # y is defined everywhere: not shrunk
    assert at.session_state["x0.x"] > 0
    assert _spec(at).get("frames")


def test_automatic_window_unchanged_where_f_is_defined_everywhere():
    from ui.cache import Formula, auto_window
    at = _app(f="log(x) + y^2", x0="1,1", win="-3,3;-3,3")  # a window from the link is kept as it is
    assert _window(at, "x") == (-3.0, 3.0)
    at.text_input(key="formula_input").input("x^2 + y^2")
    _run(at)
    expected = auto_window(Formula("x^2 + y^2"))
    assert (_window(at, "x"), _window(at, "y")) == expected == ((-2.0, 2.0), (-2.0, 2.0))


def test_gif_is_made_on_a_click_and_says_what_it_shows():
    """The GIF (drawn with Pillow, no browser) is built when asked, then offered for download."""
    at = _app(f="x^2 + 3y^2", x0="2,1", steps="40")
    keys = [b.key for b in at.get("download_button")]
    assert {"pg_export.csv", "pg_export.json", "pg_export.py", "pg_export.html"} <= set(keys)
    assert "pg_export.gif" not in keys
    at.button(key="pg_export.make.gif").click()
    _run(at)
    assert not at.exception
    assert "pg_export.gif" in [b.key for b in at.get("download_button")]
    from ui import charts  # noqa: F401 - the bytes are kept per figure in the session
    made = at.session_state["_exports"][("pg_export", "GIF")]
    assert made[:6] == b"GIF89a" and len(made) < 3_000_000


def test_gif_is_only_offered_for_flat_charts():
    at = _app(f="x^2 + y^2 + z^2", x0="1,0.5,0.7", steps="30")
    assert not at.exception
    assert not [b for b in at.get("button") if b.key == "pg_export.make.gif"]


def test_race_page_and_command_line_tune_the_same_values():
    """The Fair race page and `optcore compare --tune` pick the same learning rates for the same
    preset, budget, starts and seed."""
    import io
    import json

    from optcore.cli import main
    at = _app(view="race", p="rosenbrock", **{"o.race_budget_kind": "gradient evaluations", "o.race_budget": "200",
                                              "o.race_starts": "6", "o.race_seed": "3", "o.race_tune": "true"})
    assert not at.exception
    table = at.dataframe[0].value
    out = io.StringIO()
    assert main(["compare", "--preset", "rosenbrock", "--methods", "gd,momentum,adam,bfgs", "--starts", "6",
                 "--seed", "3", "--budget", "grad=200", "--tune", "--format", "json"], out, io.StringIO()) == 0
    cli = json.loads(out.getvalue())
    assert list(table["tuned"]) == [m["tuned"] for m in cli["methods"]]
    assert all(t.startswith("lr=") for t in table["tuned"])
    assert list(table["success rate"]) == [m["success rate"] for m in cli["methods"]]


@pytest.mark.parametrize("preset,criterion,budget,why", [
    ("himmelblau", "gap", "200", "ended farther from f* than it started"),
    ("rosenbrock", "reach", "30", "diverged or never reached")])
def test_race_sweep_crosses_say_why_and_blown_up_runs_do_not_stretch_the_axis(preset, criterion, budget, why):
    """Himmelblau: gradient descent at large η blew up to f − f* ~ 1e30 without tripping the divergence
    test. Those scores were drawn as points, so the log axis ran to 1e30 and squashed every score that
    matters, and the caption promised crosses that were not there. Now they are crosses along the top,
    the axis ends near the starts' level, and the caption says why each kind of cross is drawn."""
    at = _app(view="race", p=preset, **{"o.race_budget_kind": "gradient evaluations", "o.race_budget": budget,
                                        "o.race_starts": "4", "o.race_seed": "3", "o.race_tune": "true",
                                        "o.race_criterion": criterion})
    sweep = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                 if json.loads(c.proto.spec)["layout"]["yaxis"]["title"]["text"].startswith("median"))
    crosses = [t for t in sweep["data"] if t.get("name", "").endswith(": failed")]
    assert crosses and all(why in text for t in crosses for text in t["text"])
    caption = next(c.value for c in at.caption if "Crosses along the top" in c.value)
    assert f"Crosses along the top: {why}." in caption
    drawn = np.concatenate([_numbers(t["y"]) for t in sweep["data"]])
    assert np.nanmax(drawn) < 1e6, np.nanmax(drawn)   # the starts' gap (~150) sets the scale, not blown-up runs


def _numbers(y) -> np.ndarray:
    """A trace's coordinates, from a list or plotly's typed array ({"dtype", "bdata"})."""
    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).astype(float)
    return np.array([np.nan if v is None else v for v in y], dtype=float)


def test_learning_rate_can_be_typed_exactly():
    """η = 1.1 (the textbook's diverging rate) is not on any slider ladder: it can be typed, the run
    lands in the share link, and the slider beside follows (and sets the box)."""
    at = _app(f="x^2", x0="1")
    at.number_input(key="m0.gd.lr").set_value(1.1)
    _run(at)
    assert at.session_state["m0.gd.lr"] == 1.1
    assert at.session_state["m0.gd.lr.slide"] == 1.1
    assert "lr=1.1" in str(at.query_params.get("m.m0"))
    at.select_slider(key="m0.gd.lr.slide").set_value(0.3)
    _run(at)
    assert at.session_state["m0.gd.lr"] == 0.3


@pytest.mark.parametrize("typed,used,said", [(1000.0, 10.0, "1000 is above the largest allowed, 10"),
                                              (-1.0, 1e-4, "-1 is below the smallest allowed, 0.0001")])
def test_a_learning_rate_out_of_range_is_clamped_and_said(typed, used, said):
    """η = 1000 turned the box red, the run kept the old η unsaid, and the range showed only on hover."""
    at = _app(f="x^2", x0="1")
    at.number_input(key="m0.gd.lr").set_value(typed)
    _run(at)
    assert at.session_state["m0.gd.lr"] == used and at.number_input(key="m0.gd.lr").value == used
    assert f"lr={used:g}" in str(at.query_params.get("m.m0"))
    notes = [c.value for c in at.caption if "allowed" in c.value]
    assert len(notes) == 1 and said in notes[0] and "using" in notes[0], notes
    _run(at)
    assert not [c.value for c in at.caption if "allowed" in c.value], "said once"


def _x_range(spec: dict) -> tuple[float, float]:
    xs = spec["layout"]["xaxis"].get("range")
    assert xs, "the 1-D chart states its x-range"
    return float(xs[0]), float(xs[1])


def test_view_follows_the_runs_of_a_typed_formula():
    """x^2 typed, start moved to 10, rates 0.2, 0.05, 1.1: the chart's x-range holds the start and the
    two converging runs (the automatic window was [-2, 2]); the diverging one is said to leave."""
    at = _app(f="x^2", x0="10")
    at.text_input(key="lrs").input("0.2, 0.05, 1.1")
    _run(at)
    assert len(at.warning) + len(at.success) + len(at.error) >= 3   # three runs
    lo, hi = _x_range(_spec(at))
    assert lo <= 0 and hi >= 10, (lo, hi)
    import optcore
    obj = optcore.parse("x^2")
    for lr in (0.2, 0.05):
        pts = optcore.run(obj, "gd", [10.0], steps=int(at.session_state["steps"]), lr=lr).points[:, 0]
        assert lo <= pts.min() and pts.max() <= hi
    assert any("leave the view" in c.value for c in at.caption)


def test_fixed_window_keeps_and_warns_then_fit_to_run():
    at = _app(f="x^2 + 2y^2", x0="-5,-2")
    at.number_input(key="win.x.lo").set_value(-1.0)
    _run(at)
    assert any("outside the fixed plot window" in w.value for w in at.warning)
    at.button(key="auto_window").click()
    _run(at)
    assert not any("outside the fixed plot window" in w.value for w in at.warning)


ROSENBROCK_LINK = dict(view="compare", p="rosenbrock", f="(1-x)^2 + 100(y-x^2)^2", x0="-1.2,1", steps="500",
                      **{"m.m0": "newton(lr=1,line_search=none)", "o.n_methods": "1"})


def test_an_examples_window_stays_fixed_in_its_link():
    """An example fixes its window (runs that leave it are cut off); its link opened with a window
    that widened to follow them: another picture than the sender's. Links now say winfix=1, and a
    link from before the flag keeps the example's window fixed when it is the example's own."""
    at = _app(view="compare")
    at.selectbox(key="preset_select").set_value("rosenbrock")
    _run(at)
    assert at.session_state["_window_fixed"]
    assert at.query_params["winfix"] in ("1", ["1"])
    old = _app(**ROSENBROCK_LINK, win="-2,2;-1,3")                 # written before the flag
    assert old.session_state["_window_fixed"]
    assert any("Fixed window" in c.value for c in old.sidebar.caption)
    moved = _app(**ROSENBROCK_LINK, win="-3,3;-1,3")               # not the example's window: as before
    assert not moved.session_state["_window_fixed"]
    told = _app(**ROSENBROCK_LINK, win="-3,3;-1,3", winfix="1")
    assert told.session_state["_window_fixed"]
    own = _app(f="x^2 + 2y^2", win="-1,1;-1,1", winfix="1")        # no example: the flag alone
    assert own.session_state["_window_fixed"] and own.session_state["win.x.lo"] == -1.0
    assert not _app(f="x^2 + 2y^2", win="-1,1;-1,1").session_state["_window_fixed"]


def test_new_formula_is_a_clean_slate():
    """After the curvature page's blog example (extra start 3.1, 1.8; GD and Newton at η = 0.5),
    typing Rosenbrock on Compare keeps none of it, and the sidebar says what was reset."""
    at = _app(view="curvature")
    at.selectbox(key="preset_select").set_value("blog-sin-saddle")
    _run(at)
    assert at.session_state["extra_starts"], "the example brings extra starts"
    assert any(t.value for t in at.text_input if t.key == "extra_starts_text"), "shown and editable"
    at.text_input(key="formula_input").input("(1 - x)^2 + 100(y - x^2)^2")
    _run(at)
    assert at.session_state["extra_starts"] == []
    assert at.session_state["m0.gd.lr"] != 0.5
    assert any("reset" in i.value and "extra start" in i.value for i in at.sidebar.info)


def test_newton_direction_label_agrees_with_the_f_values():
    """The blog's start (3.1, 1.8): ∇fᵀs < 0 but f rises after the full and the half step; the label
    must not say plain "downhill" then. Checked against the objective's own values."""
    import numpy as np

    import optcore
    from optcore import analysis
    p = optcore.PRESETS["blog-sin-saddle"]
    obj = optcore.parse(p.formula, tuple(p.variables))
    for row in analysis.newton_at_starts(obj, np.array([p.start, *p.extra_starts], dtype=float)):
        f0, full, half = row["f"], row["f after the full step"], row["f after half the step"]
        if full is not None and full > f0 and half > f0:
            assert row["Newton direction"].startswith(("uphill", "downhill only at first"))
        if row["Newton direction"] == "downhill (∇fᵀs < 0)":
            assert full < f0 or half < f0


def test_numbers_without_float_noise_and_not_reached():
    import numpy as np

    import optcore
    from ui import numbers, views
    assert numbers.format_number(-1.83697e-15, scale=1.0) == "0"
    assert numbers.format_vector([7.1e-15, 0.0]) == "(0, 0)"
    assert numbers.format_vector([-0.0576461234, -0.123456789, 3.0]) == "(-0.0576461, -0.123457, 3)"
    assert numbers.format_number(1e-15, scale=1e-14) == "1e-15"     # small but not noise at its own scale
    obj = optcore.parse("x^2 + y^2")
    runs = {"short": optcore.run(obj, "gd", [2.0, 1.0], steps=2, lr=0.01),
            "long": optcore.run(obj, "gd", [2.0, 1.0], steps=200, lr=0.5)}
    rows = views.summary_rows(runs, 1e-8)
    assert rows[0]["iterations to tol"] == "not reached"
    assert rows[1]["iterations to tol"].isdigit() and rows[1]["best"]
    assert np.isfinite(rows[1]["final f"])


def test_inspector_follows_any_run():
    at = _app(f="x^2", x0="10")
    at.text_input(key="lrs").input("0.2, 1.1")
    _run(at)
    follow = at.selectbox(key="pg_inspect_k.run")
    follow.set_value(follow.options[1])
    _run(at)
    assert any("x_" in m.value and "(" in m.value for m in at.markdown)
    # the gradient and the step on lines of their own: "(…) · step = (…)" read as a dot product
    said = next(c.value for c in at.caption if c.value.startswith("∇f(x_"))
    assert "·" not in said and "\nstep x_1 − x_0 = " in said


def test_exp_100x_is_not_called_stationary():
    at = _app()
    at.text_input(key="formula_input").input("exp(100x)")
    _run(at)
    texts = " ".join(m.value for m in [*at.success, *at.info, *at.warning, *at.error])
    assert "stationary point" not in texts and "converged in 0 steps" not in texts, texts
    lo, hi = at.session_state["win.x.lo"], at.session_state["win.x.hi"]
    assert -1 < lo < hi < 1
    spec = _spec(at)
    assert spec["layout"]["template"]["layout"]["yaxis"]["exponentformat"] == "power"


@pytest.mark.parametrize("text", ["x^2 + y^2 + z^2", "2x y z w + x^2 + y^2 + z^2 + w^2"])
def test_typed_formula_of_more_variables_starts_where_the_slice_moves(text):
    """No start coordinate at an exact zero of symmetry (x^2 + y^2 + z^2 from (0, 0, 1.2) showed a
    motionless dot), and the run does not stop at step 0."""
    import optcore
    at = _app(f="x^2 + y^2", x0="0,0")
    at.text_input(key="formula_input").input(text)
    _run(at)
    obj = optcore.parse(text)
    x0 = [at.session_state[f"x0.{n}"] for n in obj.variables]
    assert all(v != 0 for v in x0), x0
    assert len(set(x0)) > 1, x0
    assert optcore.run(obj, "gd", x0, steps=5, lr=0.1).iterations > 0


def test_an_ambiguous_name_says_how_it_was_read():
    at = _app(f="gamma(x) + y^2", x0="1,1")
    assert not at.exception
    assert any("gamma" in c.value and "times" in c.value for c in at.sidebar.caption), \
        [c.value for c in at.sidebar.caption]


def test_tuned_values_to_compare_keep_the_start_and_window():
    """"Use the tuned values in Compare" switches page with st.switch_page, which drops widget values:
    the typed start (2, 1) became the default (1.8, 1.32) and the window -3..3."""
    at = _app(view="race", f="x^2 + 3y^2", x0="2,1", **{"o.race_tune": "true", "o.race_starts": "2",
                                                        "o.race_budget": "50"})
    before = [at.session_state[k] for k in ("x0.x", "x0.y", "win.x.lo", "win.x.hi", "win.y.lo", "win.y.hi")]
    assert before[:2] == [2.0, 1.0]
    at.button(key="race_to_compare").click()
    _run(at)
    after = [at.session_state[k] for k in ("x0.x", "x0.y", "win.x.lo", "win.x.hi", "win.y.lo", "win.y.hi")]
    assert after == before
    assert at.session_state["_good_formula"]["text"] == "x^2 + 3y^2"
    assert at.query_params.get("view") in ("compare", ["compare"])


def test_tuned_values_to_compare_keep_the_example_and_the_race_budget():
    """From an example's race, Compare showed "— your own formula —" in the gallery beside the example's
    "What to look for" box, and ran 100 steps after a race of 500 (Adam stopped short of the minima)."""
    at = _app(view="race", p="himmelblau", **{"o.race_tune": "true", "o.race_starts": "2", "o.race_budget": "500"})
    at.button(key="race_to_compare").click()
    _run(at)
    assert at.query_params.get("view") in ("compare", ["compare"])
    assert at.selectbox(key="preset_select").value == "himmelblau"
    assert any("What to look for" in i.value for i in at.sidebar.info)
    assert at.session_state["steps"] == 500 and at.query_params["steps"] in ("500", ["500"])


def test_a_new_formula_gets_its_own_window_and_start_unless_the_student_set_them():
    """exp(100x) (automatic window -0.08..0.08, start 0.048) then |x| + y^2 kept that start and window;
    it gets what a fresh session gives |x| + y^2. A start the student typed stays."""
    fresh = _app(f="|x| + y^2")
    expect = [fresh.session_state[k] for k in ("x0.x", "x0.y", "win.x.lo", "win.x.hi", "win.y.lo", "win.y.hi")]
    at = _app()
    at.text_input(key="formula_input").input("exp(100x)")
    _run(at)
    assert at.session_state["win.x.hi"] < 1
    at.text_input(key="formula_input").input("|x| + y^2")
    _run(at)
    got = [at.session_state[k] for k in ("x0.x", "x0.y", "win.x.lo", "win.x.hi", "win.y.lo", "win.y.hi")]
    assert got == expect
    at.number_input(key="x0.x").set_value(-1.5)
    _run(at)
    at.text_input(key="formula_input").input("|x| + 2y^2")
    _run(at)
    assert at.session_state["x0.x"] == -1.5


def test_leaving_caption_tells_runs_that_end_outside_from_paths_that_pass_outside():
    """Himmelblau's Compare said "3 run(s) leave the view (cut at its edge); last finite point: (-2.8,
    3.13)" of runs that ended inside the view at minima: only a run that ends outside is said to end
    there, with where it ended; a path that only passes outside is counted apart."""
    import numpy as np

    from optcore.window import leaving_caption
    view = ((-5.0, 5.0), (-5.0, 5.0))
    passing = np.array([[4.0, 4.0], [-6.0, 3.0], [-2.8, 3.13]])
    ending = np.array([[4.0, 4.0], [9.0, 1.0], [12.0, 2.0]])
    overflow = np.array([[4.0, 4.0], [50.0, 0.0], [np.inf, np.nan]])
    inside = np.array([[4.0, 4.0], [3.0, 2.0]])
    text = leaving_caption(view, [passing, inside])
    assert "1 path(s) pass outside" in text and "end inside" in text and "end outside" not in text
    assert "-2.8" not in text
    text = leaving_caption(view, [passing, ending, overflow])
    assert "2 run(s) leave the view and end outside it, at (12, 2); overflow after (50, 0)" in text
    assert "1 path(s) pass outside" in text
    assert leaving_caption(view, [inside]) is None


def test_playground_scrub_caption_says_which_eta_the_status_describes():
    """The in-chart slider moves the path in the browser only: the status box and the convergence plots
    stay those of the committed η, and the caption says so with that η."""
    at = _app(**{"o.pg_scrub": "true"})
    lr = at.session_state[f"m0.{at.session_state['m0.method']}.lr"]
    captions = [c.value for c in at.caption if "slider under the chart" in c.value]
    assert captions, "scrubbing is on"
    assert f"status and the plots below are for η = {lr:.4g}" in captions[0]
    assert "click on the path keeps the slider's value" in captions[0]


def test_clean_slate_note_is_a_clear_sentence():
    """Typing log(x) + y^2 over a preset said "New formula: reset extra start points (…); the methods
    and parameters of the example 'Himmelblau'." Each reset item now says what happened to it, and the
    note says the start and window were chosen for the new formula."""
    at = _app(p="blog-sin-saddle")
    preset_name = __import__("optcore").PRESETS["blog-sin-saddle"].name
    at.text_input(key="formula_input").input("log(x) + y^2")
    _run(at)
    notes = [i.value for i in at.sidebar.info if "New formula" in i.value]
    assert len(notes) == 1
    note = notes[0]
    # the example's own extra start is said with the example: the student never typed it (a student
    # pass read "the extra start points (…) were removed" on the Playground, which has no such box)
    assert "reset" in note and ") were removed" not in note
    assert (f"the example “{preset_name}” was left, so its extra start points were removed and its methods "
            "went back to each page's defaults") in note
    assert "; the methods" not in note and note.endswith(".")
    assert "start point was moved" in note and "automatic" in note


def test_clean_slate_note_lists_starts_the_student_typed():
    at = _app(f="x^2 + 3y^2", starts="1,1;-1,0.5")
    at.text_input(key="formula_input").input("x^2 + y^2")
    _run(at)
    note = next(i.value for i in at.sidebar.info if "New formula" in i.value)
    assert "the extra start points (1, 1; -1, 0.5) were removed" in note and "example" not in note


def test_line_search_example_compares_the_exact_line_search_with_fixed_steps():
    """textbook-log-exp says an exact line search lands in one step while a fixed step walks down at
    its own pace; its fixed-step η (0.1, 0.5) became "learning rates to compare" of method 1, the
    line search, so every run said "converged in 1 step"."""
    import optcore
    from ui.state import preset_learning_rates
    assert preset_learning_rates(optcore.PRESETS["textbook-log-exp"].runs) == ""
    at = _app(p="textbook-log-exp", view="compare")
    assert at.session_state["lrs"] == ""
    assert at.session_state["m0.gd.line_search"] == "exact"
    assert at.session_state["m1.gd.line_search"] != "exact" and at.session_state["m2.gd.line_search"] != "exact"
    table = at.dataframe[0].value
    iterations = [int(v) for v in table["iterations"]]
    assert iterations[0] == 1 and all(k > 1 for k in iterations[1:]), iterations


def test_race_table_reads_in_words():
    """The race table names its columns in words, says 'not reached' (never 'None') and shows f − f*
    with 3 significant digits or 'diverged'."""
    at = _app(view="race", p="rosenbrock", **{"o.race_budget_kind": "gradient evaluations", "o.race_budget": "20",
                                              "o.race_starts": "4", "o.race_seed": "1", "o.race_tune": "false"})
    assert not at.exception
    table = at.dataframe[0].value
    column = "median gradient evaluations to reach tol"
    assert column in table.columns and "median grad to tol" not in table.columns
    cells = [str(v) for c in table.columns for v in table[c]]
    assert "None" not in cells and "nan" not in cells
    assert "not reached" in list(table[column])   # 20 gradients are too few for GD on Rosenbrock
    for c in ("median f − f*", "worst f − f*"):
        for text in table[c]:
            assert text == "diverged" or text == f"{float(text):.3g}"


def test_a_method_the_student_picked_survives_a_new_formula():
    """The clean slate resets what an example set, not what the student chose after it."""
    at = _app(p="himmelblau", view="playground")
    at.selectbox(key="m0.method").set_value("momentum")
    _run(at)
    at.text_input(key="formula_input").input("x^2 + 3y^2")
    _run(at)
    assert not at.exception
    assert at.selectbox(key="m0.method").value == "momentum"


def test_learning_rate_lab_does_not_say_a_drawn_point_is_outside_the_view():
    # course-2w2 with η = 0.55 diverges to w ≈ 38; the 1-D chart draws every point (its axis follows
    # them) and only the curve of f stops at the view: "end outside it" was false on screen
    at = _app(p="course-2w2", view="lr_lab")
    captions = [c.value for c in at.caption]
    assert not any("leave the view and end outside it" in c for c in captions), captions
    said = [c for c in captions if c.startswith("The curve of f is drawn on")]
    assert said and "1 run(s) go beyond it" in said[0], captions


def test_convergence_chart_without_a_known_minimum_says_what_f_is_measured_from():
    """abs(x) + y^4 has no minimum the critical-point search finds (a kink): f − f* was measured from the
    run's own lowest f, unsaid, and its last step (0 there) drawn as a plunge to 1e-16 on the log axis."""
    at = _app(view="playground", f="abs(x) + y^4", x0="1.5,1.5", win="-2,2;-2,2", steps="100", tol="1e-12",
              **{"m.m0": "gd(lr=0.1)"})
    conv = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if any(t.get("name") == "f − lowest f" for t in json.loads(c.proto.spec)["data"]))
    texts = json.dumps(conv["layout"].get("annotations", [])) + json.dumps(conv["layout"].get("yaxis", {}))
    assert "lowest f of the run" in texts
    gap = next(t for t in conv["data"] if t.get("name") == "f − lowest f")
    ys = _numbers(gap["y"])
    assert np.nanmin(ys) > 1e-15, "no point drawn at the log axis' floor"
    assert np.isnan(ys).sum() >= 1, "the run's lowest point (0 from itself) is left out"


def test_newton_model_view_holds_the_step_it_explains():
    """log(x) + y² from (100, 100): the model's stationary point is (200, 0), but the view framed only
    the path so far (x up to ~110): the red step ran off the edge and its ✖ was never drawn."""
    at = _app(view="newton_model", f="log(x) + y^2", x0="100,100")
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart"))
    lo, hi = spec["layout"]["xaxis"]["range"]
    assert lo <= 100 and hi >= 200, (lo, hi)
    assert any("stationary point: (200, 0)" in m.value for m in at.markdown)


def test_newton_model_says_when_the_run_did_not_move_and_prints_no_negative_zero():
    """sin(x)cos(y) at (0, 0), where H is singular: the page said "The run actually moved to x_1 = (0, 0)"
    of a run that never moved, and "eigenvalues of H: -0, 0"."""
    at = _app(view="newton_model", f="sin(x)*cos(y)", x0="0,0")
    said = " ".join(c.value for c in at.caption)
    assert "did not move" in said and "moved to" not in said
    eigen = next(m.value for m in at.metric if m.label == "eigenvalues of H")
    assert "-0" not in eigen.replace("-0.", ""), eigen


def test_compare_without_a_known_minimum_says_what_its_curves_measure():
    """log(x) + y² has no minimum: BFGS's "distance to minimum" and "f − f*" fell to 1e-16 against
    "f* = -21.1 (best value reached)" while it stalled near x = 0 with ‖∇f‖ ~ 1e9, as if it had converged."""
    at = _app(view="compare", f="log(x) + y^2")
    conv = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if any("‖∇f" in str(a.get("text")) for a in json.loads(c.proto.spec)["layout"].get("annotations", [])))
    titles = [a.get("text") for a in conv["layout"]["annotations"]]
    assert "distance to minimum" not in titles and "distance to the lowest end" in titles
    said = " ".join(c.value for c in at.caption)
    assert "No minimum of f is known" in said and "need not be a minimum" in said
    # with a known minimum the words stay
    at = _app(view="compare", p="rosenbrock")
    assert any(c.value.startswith("f* = 0 (known minimum)") for c in at.caption)


def test_curvature_says_how_each_drawn_run_ended():
    """abs(x) + abs(y): H = 0 everywhere, Newton's run never moved, and the page drew it as nothing (a
    legend entry, no path, no word); the page now says how each run ended."""
    at = _app(view="curvature", f="abs(x) + abs(y)", x0="1.8,1.32")
    said = " ".join(c.value for c in at.caption)
    assert "**Newton's method from (1.8, 1.32)**: stopped after" in said and "singular" in said
    assert "**Gradient descent from (1.8, 1.32)**:" in said
