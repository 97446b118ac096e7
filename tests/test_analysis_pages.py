"""The five analysis pages under streamlit.testing.AppTest: each opens on its seed example and on
the user's own formulas (1, 2 and 3 variables) without an exception, and its charts carry what
they should."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow

TIMEOUT = 90


def open_page(page: str, preset: str | None = None, formula: str | None = None) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    if preset is not None:
        at.selectbox(key="preset_select").set_value(preset)
        at.run()
    if formula is not None:
        at.text_input(key="formula_input").input(formula)
        at.run()
    at.switch_page(page)
    at.run()
    # Under AppTest the first run after switch_page still sees the previous page's widget values
    # (the real app does not); a second run settles them.
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def by_view(at: AppTest, view: str) -> dict:
    found = [s for s in specs(at) if (s["layout"].get("meta") or {}).get("view") == view]
    assert found, f"no chart with view {view!r}: {[s['layout'].get('meta') for s in specs(at)]}"
    return found[0]


def names(spec: dict) -> list[str]:
    return [t.get("name") or "" for t in spec["data"]]


# ------------------------------------------------------------------------------------ curvature
def test_curvature_page_on_the_blog_example():
    at = open_page("ui/pages/curvature.py", preset="blog-sin-saddle")
    spec = by_view(at, "curvature")
    heat = spec["data"][0]
    assert heat["type"] == "heatmap" and heat["zmid"] == 0 and heat["zmin"] == -heat["zmax"]
    zero = [t for t in spec["data"] if t.get("name") == "det H = 0"]
    assert zero and zero[0]["contours"]["start"] == 0 == zero[0]["contours"]["end"]
    assert any("(3.1, 1.3)" in n for n in names(spec)) and any("(3.1, 1.8)" in n for n in names(spec))
    assert "saddle points" in names(spec) and "minima" in names(spec)
    fields = by_view(at, "vector_fields")
    arrows = [t for t in fields["data"] if t.get("marker", {}).get("symbol") == "arrow"]
    assert len(arrows) == 2 and {a["marker"]["coloraxis"] for a in arrows} == {"coloraxis", "coloraxis2"}
    assert None in arrows[0]["x"]                       # segments in one trace, None-separated
    table = at.dataframe[0].value
    assert [d.split()[0] for d in table["Newton direction"]] == ["uphill", "downhill"]   # the blog's point
    assert float(table["f after half the step"][0]) == pytest.approx(0.968, abs=1e-3)


@pytest.mark.parametrize("choice, kind", [("convex / saddle / concave", "heatmap"), ("smallest eigenvalue", "heatmap")])
def test_curvature_page_other_maps(choice, kind):
    at = open_page("ui/pages/curvature.py", preset="himmelblau")
    at.radio(key="curv_map").set_value(choice)
    at.run()
    assert not at.exception
    spec = by_view(at, "curvature")
    assert spec["data"][0]["type"] == kind
    if choice.startswith("convex"):
        assert any(n.startswith("convex") for n in names(spec))


def test_curvature_page_on_one_and_three_variables():
    at = open_page("ui/pages/curvature.py", formula="x^4 - 3x^2 + x")
    spec = by_view(at, "curvature_1d")
    assert "f''" in names(spec)
    # the stationary points' legend groups must not turn the horizontal legend into a column above the plot
    assert spec["layout"]["legend"]["orientation"] == "h" and spec["layout"]["legend"]["traceorder"] == "normal"
    assert any("two variables" in c.value for c in at.caption)
    assert not at.radio, "no map to choose with one variable"
    at = open_page("ui/pages/curvature.py", formula="x^2 + y^2 - z^2 + x*z")
    spec = by_view(at, "curvature")
    assert spec["data"][0]["type"] == "heatmap"
    assert any("plane through the start point" in c.value for c in at.caption)


# -------------------------------------------------------------------------------- Newton's model
def test_newton_model_page_steps_through_the_blog_run():
    at = open_page("ui/pages/newton_model.py", preset="blog-sin-convex-start")
    spec = by_view(at, "newton_model")
    assert sum(t["type"] == "contour" for t in spec["data"]) >= 3      # f, and f + model in the model panel
    assert "x_k" in names(spec)
    at.slider(key="nm_k").set_value(2)
    at.run()
    assert not at.exception
    assert any(m.label == "f(x_2)" for m in at.metric)


def test_newton_model_page_shows_bfgs_estimate_beside_the_true_model():
    at = open_page("ui/pages/newton_model.py", preset="rosenbrock")
    at.selectbox(key="nm.method").set_value("bfgs")
    at.run()
    at.slider(key="nm_k").set_value(3)
    at.run()
    assert not at.exception
    spec = by_view(at, "newton_model")
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert "model: true Hessian" in titles and "model: BFGS estimate" in titles


def test_newton_model_page_opens_on_newton_after_a_preset_that_starts_with_gd():
    """Himmelblau suggests gradient descent first: the shared picker "m0" made Newton's model open on
    gradient descent. The page has its own picker and takes the preset's Newton run."""
    at = open_page("ui/pages/newton_model.py", preset="himmelblau")
    assert at.session_state["m0.method"] == "gd"  # the other pages keep the preset's first run
    assert at.selectbox(key="nm.method").value == "newton"
    assert at.session_state["nm.newton.lr"] == 1.0
    at = open_page("ui/pages/newton_model.py", preset="textbook-x2")  # no second-order run suggested
    assert at.selectbox(key="nm.method").value == "newton"
    at = open_page("ui/pages/newton_model.py")
    assert at.selectbox(key="nm.method").value == "newton"


@pytest.mark.parametrize("query,expect", [({"m.nm": "newton_abs(lr=0.5)"}, ("newton_abs", 0.5)),
                                          ({"m.m0": "bfgs"}, ("bfgs", None)),  # a link from before "nm"
                                          ({"p": "himmelblau"}, ("newton", 1.0))])
def test_newton_model_share_links(query, expect):
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.query_params["view"] = "newton_model"
    at.query_params["f"] = "x^2 + 3y^2 + x*y"
    for k, v in query.items():
        at.query_params[k] = v
    at._finished_page_script_hash = ""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    method, lr = expect
    assert at.selectbox(key="nm.method").value == method
    if lr is not None:
        assert at.session_state[f"nm.{method}.lr"] == lr
    link = at.query_params.get("m.nm")
    link = link[0] if isinstance(link, list) else str(link)
    assert link.split("(")[0] == method, link  # the page's link says m.nm=...


def test_newton_model_page_in_one_dimension():
    at = open_page("ui/pages/newton_model.py", preset="textbook-cosh")
    spec = by_view(at, "newton_model")
    assert "model (true Hessian)" in names(spec)


# ------------------------------------------------------------------------------- learning rates
def lab_view(at: AppTest, label: str) -> AppTest:
    """Choose one of the learning-rate lab's views (only the chosen one is built)."""
    at.segmented_control(key="lr_tab").set_value(label)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_lr_lab_builds_only_the_chosen_view():
    at = open_page("ui/pages/lr_lab.py", preset="course-quadratic")
    assert at.segmented_control(key="lr_tab").value == "Several learning rates"
    assert by_view(at, "value_history")
    for other in ("rate_curve", "sweep", "param_heatmap", "convergence_order"):
        assert not [s for s in specs(at) if (s["layout"].get("meta") or {}).get("view") == other], other


def test_lr_lab_on_the_course_quadratic():
    at = lab_view(open_page("ui/pages/lr_lab.py", preset="course-quadratic"), "Rate r(α) on the quadratic model")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["α* = 2/(λmin+λmax)"] == "0.4"
    assert metrics["r* = (κ−1)/(κ+1)"] == "0.6"
    assert metrics["stability edge 2/λmax"] == "0.5"
    rate = by_view(at, "rate_curve")
    assert "r* = 0.6" in names(rate) and "measured from a run" in names(rate)
    sweep = by_view(lab_view(at, "Sweep η (and momentum)"), "sweep")
    assert sweep["layout"]["xaxis"]["type"] == "log"
    heat = by_view(at, "param_heatmap")
    assert heat["data"][0]["type"] == "heatmap" and heat["data"][1]["name"].startswith("stability edge")
    order = by_view(lab_view(at, "Order of convergence"), "convergence_order")
    assert "gradient descent: slope 1.00" in names(order)      # linear: a fixed fraction per step
    assert any("exactly" in c.value for c in at.caption)        # Newton solves a quadratic in one step


def test_lr_lab_rate_view_says_whose_run_the_ring_is_and_keeps_the_r_star_visible():
    """It said "learning rate of your run" at α* = 0.4 while the student's run (the method picker)
    used another η, and the run's dot at α = α* hid the r* star."""
    at = lab_view(open_page("ui/pages/lr_lab.py", preset="course-quadratic"), "Rate r(α) on the quadratic model")
    assert at.slider(key="lr_alpha").label.startswith("learning rate α of a gradient-descent run")
    rate = by_view(at, "rate_curve")
    order = names(rate)
    assert "gradient descent at α = 0.4" in order
    assert order.index("r* = 0.6") > order.index("gradient descent at α = 0.4"), "the star drawn on top"
    assert any(m.value.startswith("Gradient descent at α = 0.4:") for m in at.markdown)


def test_lr_lab_convergence_order_of_newton_on_rosenbrock():
    at = lab_view(open_page("ui/pages/lr_lab.py", preset="rosenbrock"), "Order of convergence")
    order = by_view(at, "convergence_order")
    newton = [n for n in names(order) if n.startswith("Newton: slope")]
    assert newton and abs(float(newton[0].split()[-1]) - 2) < 0.3


def test_lr_lab_traces_for_several_learning_rates_in_one_dimension():
    at = open_page("ui/pages/lr_lab.py", preset="textbook-x2-divergent")
    at.text_input(key="lrs").input("0.2, 0.05, 1.1")
    at.run()
    assert not at.exception
    spec = by_view(at, "traces_1d")
    assert {"η = 0.2", "η = 0.05", "η = 1.1"} <= set(names(spec))


def test_lr_lab_on_a_three_variable_function():
    at = open_page("ui/pages/lr_lab.py", formula="x^2 + 2y^2 + 3z^2")
    assert by_view(at, "value_history")
    assert by_view(lab_view(at, "Rate r(α) on the quadratic model"), "rate_curve")


# ------------------------------------------------------------------------------------- basins
def test_basins_page_on_himmelblau():
    at = open_page("ui/pages/basins.py", preset="himmelblau")
    at.slider(key="basin_n").set_value(40)
    at.run()
    assert not at.exception
    spec = by_view(at, "basins")
    heatmaps = [t for t in spec["data"] if t["type"] == "heatmap"]
    assert len(heatmaps) == 3                                   # the preset's three methods side by side
    minima = [n for n in names(spec) if n.startswith("minimum (")]
    assert len(minima) == 4
    assert "diverged" in names(spec) and "not converged" in names(spec)


def test_basins_page_needs_two_variables():
    at = open_page("ui/pages/basins.py", formula="x^4 - x^2")
    assert any("exactly two variables" in i.value for i in at.info)
    assert not at.get("plotly_chart")


# ---------------------------------------------------------------------------- preconditioning
def test_preconditioning_page_on_the_textbook_exercise():
    at = open_page("ui/pages/preconditioning.py", preset="textbook-badly-scaled")
    spec = by_view(at, "preconditioning")
    assert {"gradient descent", "diagonal Newton", "Newton"} <= set(names(spec))
    assert spec["layout"]["xaxis2"]["type"] == "log"
    newton = [t for t in spec["data"] if t.get("name") == "Newton"]
    assert all(v == 1 for t in newton for v in _numbers(t["y"]))     # Newton: one step, in any coordinates


def test_preconditioning_with_one_variable_draws_only_the_scale_sweep():
    """x^2: the page said "only the scale sweep is shown" above an empty "rotate by θ" panel."""
    at = open_page("ui/pages/preconditioning.py", formula="x^2")
    assert any("only the scale sweep" in i.value for i in at.info)
    spec = by_view(at, "preconditioning")
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert not any(t.startswith("rotate by") for t in titles) and any(t.startswith("stretch") for t in titles)
    assert "xaxis2" not in spec["layout"] and spec["layout"]["xaxis"]["type"] == "log"
    assert {"gradient descent", "diagonal Newton", "Newton"} <= {t["name"] for t in spec["data"] if t.get("showlegend")}
    # the rotation's knobs are not asked for either
    labels = [w.label for w in at.main.text_input] + [w.label for w in at.main.number_input]
    assert not any("while rotating" in lbl or "while stretching" in lbl for lbl in labels), labels


def test_preconditioning_lines_that_tie_stay_visible():
    """With one variable the three methods each take one iteration at every scale: three lines of the
    same width on top of each other showed only the last one drawn (Newton)."""
    at = open_page("ui/pages/preconditioning.py", formula="x^2")
    spec = by_view(at, "preconditioning")
    lines = {t["name"]: t for t in spec["data"] if t.get("showlegend") and t.get("mode") == "lines+markers"}
    ys = [tuple(_numbers(lines[m]["y"])) for m in ("gradient descent", "diagonal Newton", "Newton")]
    assert len(set(ys)) == 1, ys   # they tie here
    widths = [lines[m]["line"]["width"] for m in ("gradient descent", "diagonal Newton", "Newton")]
    sizes = [lines[m]["marker"]["size"] for m in ("gradient descent", "diagonal Newton", "Newton")]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == 3   # each drawn thinner over the last
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 3


def test_preconditioning_paths_stay_in_their_picture():
    """Himmelblau at θ = 45°: diagonal Newton's path went to u₂ = −8.75 on axes that stop at ±7.07,
    with no word about it."""
    at = open_page("ui/pages/preconditioning.py", preset="himmelblau")
    view = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"].get("images"))
    img = view["layout"]["images"][0]
    x_lo, x_hi = img["x"], img["x"] + img["sizex"]
    y_hi, y_lo = img["y"], img["y"] - img["sizey"]
    for t in view["data"]:
        if t.get("mode", "").startswith("lines") and t.get("x"):
            xs, ys = _numbers(t["x"]), _numbers(t["y"])
            inside = [x_lo <= x <= x_hi and y_lo <= y <= y_hi for x, y in zip(xs, ys)]
            said = [c.value for c in at.main.caption if "the view" in c.value]   # windows.leaving_caption
            assert all(inside) or said, t["name"]


def _numbers(y):
    if isinstance(y, dict):   # base64 typed array
        import base64

        import numpy as np
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
    return y


def test_stationary_point_table_prints_f_without_float_noise():
    """Himmelblau's minima have f = 0; the search lands at ~1e-30, which the table printed as a
    decimal cut off at the column's edge ("…00007")."""
    at = open_page("ui/pages/curvature.py", formula="(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    table = next(df.value for df in at.dataframe if "kind" in df.value.columns)
    assert list(table.loc[table["kind"] == "min", "f"]) == ["0"] * 4
    assert all(len(str(v)) <= 12 for v in table["f"]), list(table["f"])


def test_preconditioning_when_no_run_reaches_a_minimum():
    """abs(x) + abs(y): every run stops at the step limit. The crosses sat half-clipped on the top edge of
    an axis without ticks, each method's crosses hid the others', the note on the step limit sat on the
    crosses, and the paths' legend said "(max_steps)"."""
    at = open_page("ui/pages/preconditioning.py", formula="abs(x) + abs(y)")
    spec = by_view(at, "preconditioning")
    lo, hi = spec["layout"]["yaxis"]["range"]
    crosses = [t for t in spec["data"] if t.get("mode") == "markers"]
    heights = {round(v) for t in crosses for v in _numbers(t["y"])}
    assert len(crosses) == 6 and len(heights) == 3, heights   # three methods x two panels, a row each
    assert all(10 ** lo <= h <= 10 ** hi / 1.1 for h in heights) and lo <= 0   # 1 iteration to above the limit
    assert any(str(t.get("name", "")).startswith("did not reach a minimum in") for t in spec["data"])
    assert not spec["layout"].get("annotations", [])[2:], "only the two panel titles"
    view = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"].get("images"))
    names = " ".join(str(t.get("name", "")) for t in view["data"])
    assert "max_steps" not in names and "at the step limit" in names
