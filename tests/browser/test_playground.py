"""Playground in a real browser: load, type a formula, bad input, play, click to start, 1-D and 3-D."""
from __future__ import annotations

import pytest

from conftest import (apply_formula, choose_view, chart_signature, click_chart, graph, no_exception, open_app, path_state,
                      path_trace_index, screenshot, sidebar_input, type_into, wait_idle, wait_until)

ELLIPSE = {"f": "x^2 + 5y^2 + x*y", "x0": "1.5,1.5", "win": "-2,2;-2,2", "steps": "100", "tol": "1e-12",
           "m.m0": "gd(lr=0.01)"}


def path_points(page, key: str = "pg_chart", index: int | None = None) -> list[list[float]]:
    i = path_trace_index(page, key) if index is None else index
    return graph(page, key).evaluate("(g, i) => [Array.from(g.data[i].x), Array.from(g.data[i].y)]", i)


def contour_drawn(page, key: str = "pg_chart") -> bool:
    """The filled contour is a picture under the axes: in the layout and in the DOM."""
    g = graph(page, key)
    return (g.evaluate("g => (g.layout.images || []).length") >= 1
            and g.locator(".layer-below image, .imagelayer image").count() >= 1)


def test_loads_with_chart_and_no_exception(page, server_url):
    open_app(page, server_url, chart="pg_chart")
    no_exception(page)
    g = graph(page, "pg_chart")
    g.wait_for()
    assert contour_drawn(page)
    names = g.evaluate("g => g.data.map(t => t.name)")
    assert "start" in names and any(n and n.endswith(" now") for n in names), names
    assert path_state(page)["n"] > 1, "the default run should take steps"
    assert page.locator(".st-key-pg_conv .js-plotly-plot").count() == 1
    assert page.js_errors == [], page.js_errors
    screenshot(page, "playground_load")


def test_own_formula_updates_chart(page, server_url):
    open_app(page, server_url, chart="pg_chart")
    before = chart_signature(page)
    apply_formula(page, "x^2 + 5y^2 + x*y", timeout_s=10)
    after = chart_signature(page)
    assert after != before
    assert sidebar_input(page, "f(x) =").input_value() == "x^2 + 5y^2 + x*y"
    assert "x%5E2" in page.url or "x^2" in page.url, "the share link should carry the new formula"
    no_exception(page)
    screenshot(page, "playground_own_formula")


def test_bad_formula_shows_column_and_keeps_chart(page, server_url):
    open_app(page, server_url, ELLIPSE, chart="pg_chart")
    good = chart_signature(page)
    type_into(page, sidebar_input(page, "f(x) ="), "x + (")
    alert = page.locator("section[data-testid='stSidebar'] [data-testid='stAlert']").filter(has_text="column")
    alert.wait_for()
    text = alert.inner_text()
    assert "column 5" in text, text
    assert "Still showing" in text and "x^2 + 5y^2 + x*y" in text, text
    assert chart_signature(page) == good, "the last good chart must stay"
    no_exception(page)
    screenshot(page, "playground_bad_formula")


def test_play_animates_path_over_the_contour(page, server_url):
    open_app(page, server_url, ELLIPSE, chart="pg_chart")
    idx = path_trace_index(page)
    assert path_state(page, index=idx)["n"] == 101
    page.locator(".st-key-pg_chart g.updatemenu-button").filter(has_text="Play").first.click()
    lengths = []
    for _ in range(6):
        page.wait_for_timeout(350)
        lengths.append(path_state(page, index=idx)["n"])
    assert lengths == sorted(lengths) and lengths[-1] > lengths[0] + 3, lengths
    assert contour_drawn(page), "the contour picture vanished when playback started"
    screenshot(page, "playground_playing")
    wait_until(lambda: path_state(page, index=idx)["n"] == 101, timeout_s=30, message="the last frame")
    state = path_state(page, index=idx)
    assert state["slider"] == state["steps"] - 1
    assert contour_drawn(page)


def test_click_on_contour_moves_start(page, server_url):
    """Regression: widget callbacks run before app.py draws anything (a click once did nothing)."""
    open_app(page, server_url, ELLIPSE, chart="pg_chart")
    x_in, y_in = sidebar_input(page, "x"), sidebar_input(page, "y")
    # under load the chart can be drawn before the app's second run has filled the start inputs
    wait_until(lambda: (x_in.input_value(), y_in.input_value()) == ("1.5", "1.5"), timeout_s=30,
               message="the link's start in the inputs")
    click_chart(page, "pg_chart", 0.25, 0.3)
    wait_until(lambda: x_in.input_value() != "1.5", timeout_s=15, message="the start inputs to change")
    wait_idle(page)
    x, y = float(x_in.input_value()), float(y_in.input_value())
    # 25 % across [-2, 2] is about -1; 30 % down [2, -2] is about 0.8 (the nearest point of the click grid)
    assert x == pytest.approx(-1.0, abs=0.25) and y == pytest.approx(0.8, abs=0.25), (x, y)
    wait_until(lambda: abs(path_points(page)[0][0] - x) < 1e-3, timeout_s=15, message="the path to restart")
    px, py = path_points(page)
    assert (px[0], py[0]) == (pytest.approx(x, abs=1e-3), pytest.approx(y, abs=1e-3))
    assert "x0=" in page.url and f"{x:g}" in page.url.replace("%2C", ",")
    no_exception(page)
    screenshot(page, "playground_click_start")


def test_fit_window_button(page, server_url):
    open_app(page, server_url, {"f": "(x - 3)^2 + (y + 4)^2", "x0": "0,0", "win": "-1,1;-1,1"})
    page.locator("[data-testid=stExpander] summary").filter(has_text="Plot window").first.click()
    x_hi = page.locator(".st-key-win-x-hi input").first
    wait_until(lambda: float(x_hi.input_value()) == 1, timeout_s=15, message="the link's window")
    page.locator(".st-key-auto_window button").first.click()
    wait_idle(page)
    wait_until(lambda: float(x_hi.input_value()) > 3, timeout_s=10, message="the window to include x = 3")


def test_one_variable_shows_curve_and_several_learning_rates(page, server_url):
    open_app(page, server_url, {"f": "x^4 - 3x^2 + x", "x0": "2", "win": "-2.5,2.5", "m.m0": "gd(lr=0.02)",
                                "steps": "60"}, chart="pg_chart")
    g = graph(page, "pg_chart")
    curve = g.evaluate("g => { const t = g._fullData[0]; return [t.name, Array.from(t.x).length, g.layout.xaxis.title.text]; }")
    assert curve[0] == "f" and curve[1] >= 100 and curve[2] == "x", curve
    assert g.evaluate("g => (g.layout.images || []).length") == 0, "a 1-D view has no contour"
    lrs = page.locator(".st-key-lrs input")
    type_into(page, lrs, "0.01, 0.05")
    wait_until(lambda: len([n for n in g.evaluate("g => g.data.map(t => t.name)")
                            if n and "η=" in n and not n.endswith(" now")]) == 2, message="two learning-rate paths")
    no_exception(page)
    screenshot(page, "playground_1d")


def test_three_variables_show_convergence_and_slice(page, server_url):
    open_app(page, server_url, {"f": "x^2 + 2y^2 + 3z^2 + x*z", "x0": "1,1,1", "m.m0": "gd(lr=0.05)", "steps": "80"}, chart="pg_conv")
    no_exception(page)
    conv = graph(page, "pg_conv")
    conv.wait_for()
    for panel, axis in enumerate(("yaxis", "yaxis2")):   # f − f* and ‖∇f‖ side by side
        ys = conv.evaluate(f"g => Array.from(g._fullData[{panel}].y)")
        assert len(ys) > 5 and ys[-1] < ys[0], (axis, ys[:3], ys[-3:])
        assert conv.evaluate(f"g => g.layout.{axis}.type") == "log"
    title = graph(page, "pg_chart").evaluate("g => String(g.layout.title && g.layout.title.text)")
    assert "slice" in title, title
    assert page.locator(".st-key-slice_x").count() == 1 and page.locator(".st-key-slice_y").count() == 1
    screenshot(page, "playground_3d")


def test_surface_tab_draws_the_same_run_in_3d(page, server_url):
    """The 3-D view is built only when it is chosen, and shows the surface with the path on it; the
    contour is then not built."""
    open_app(page, server_url, ELLIPSE, chart="pg_chart")
    assert page.locator(".st-key-pg_surface .js-plotly-plot").count() == 0, "built before it was asked for"
    choose_view(page, "pg_tab", "3-D surface")
    surface = graph(page, "pg_surface")
    surface.wait_for()
    types = surface.evaluate("g => g.data.map(t => t.type)")
    assert "surface" in types and "scatter3d" in types, types
    # _fullData holds the decoded arrays (data keeps NumPy's typed-array encoding as sent).
    path_x = surface.evaluate("g => Array.from(g._fullData.find(t => t.type === 'scatter3d').x)")
    assert abs(path_x[0] - 1.5) < 1e-6 and len(path_x) > 2, path_x
    no_exception(page)
    screenshot(page, "playground_surface")


@pytest.mark.parametrize("stop", ["last frame", "pause"])
def test_click_on_contour_after_play_moves_start(page, server_url, stop):
    """Regression: after Play (to the end, or paused midway) a click on the contour did nothing.
    plotly.animate recomputes every trace's calcdata but redraws only the traces a frame names; the
    click grid and markers were left without their drawing node and plotly.js threw inside its
    click-to-select handler, before Streamlit heard `plotly_selected`."""
    open_app(page, server_url, {**ELLIPSE, "steps": "40"}, chart="pg_chart")
    x_in, y_in = sidebar_input(page, "x"), sidebar_input(page, "y")
    assert (x_in.input_value(), y_in.input_value()) == ("1.5", "1.5")
    idx = path_trace_index(page)
    page.locator(".st-key-pg_chart g.updatemenu-button").filter(has_text="Play").first.click()
    if stop == "last frame":
        wait_until(lambda: path_state(page, index=idx)["n"] == 41, timeout_s=30, message="the last frame")
        page.wait_for_timeout(300)
    else:
        wait_until(lambda: 5 < path_state(page, index=idx)["n"] < 41, timeout_s=30, message="playback to start")
        page.locator(".st-key-pg_chart g.updatemenu-button").filter(has_text="Pause").first.click()
        page.wait_for_timeout(300)
        n = path_state(page, index=idx)["n"]
        assert n < 41, "Pause should stop before the end"
    click_chart(page, "pg_chart", 0.25, 0.3)
    wait_until(lambda: x_in.input_value() != "1.5", timeout_s=15, message="the start inputs to change")
    wait_idle(page)
    x, y = float(x_in.input_value()), float(y_in.input_value())
    assert x == pytest.approx(-1.0, abs=0.25) and y == pytest.approx(0.8, abs=0.25), (x, y)
    assert not [e for e in page.js_errors if "selectAll" in e], page.js_errors
    wait_until(lambda: abs(path_points(page)[0][0] - x) < 1e-3, timeout_s=15, message="the path to restart")
    no_exception(page)
    screenshot(page, f"playground_click_after_play_{stop.replace(' ', '_')}", full_page=False)


CONTROL_BOXES_JS = """g => {
  const box = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  return {buttons: [...g.querySelectorAll('g.updatemenu-button')].map(box),
          slider: [...g.querySelectorAll('g.slider-container .slider-rail-rect, g.slider-container .slider-grip-rect,'
                                         + ' g.slider-container .slider-label, g.slider-container .slider-currentvalue')].map(box),
          plot: box(g.querySelector('.nsewdrag'))};
}"""


def control_overlaps(page, key: str) -> list:
    """Pairs (button, slider part) whose boxes intersect, and parts outside the figure's plot width."""
    boxes = graph(page, key).evaluate(CONTROL_BOXES_JS)
    assert len(boxes["buttons"]) == 4 and boxes["slider"], boxes
    hits = [(b, s) for b in boxes["buttons"] for s in boxes["slider"]
            if b[0] < s[2] - 1 and s[0] < b[2] - 1 and b[1] < s[3] - 1 and s[1] < b[3] - 1]
    below_plot = all(s[1] > boxes["plot"][3] for s in boxes["slider"])
    return hits + ([] if below_plot else ["slider above the bottom of the plot"])


@pytest.mark.parametrize("width", [1400, 1000])
def test_play_buttons_and_frame_slider_do_not_overlap(browser, warm_app, width):
    """At 1400 px the slider started at 36 % of a ~520 px wide plot and ran under "■ Pause"."""
    from conftest import new_page
    page = new_page(browser, width=width)
    try:
        open_app(page, warm_app, ELLIPSE, chart="pg_chart")
        assert control_overlaps(page, "pg_chart") == []
        graph(page, "pg_chart").scroll_into_view_if_needed()
        screenshot(page, f"playground_controls_{width}", full_page=False)
    finally:
        page.context.close()


def test_formula_and_start_are_in_view_on_a_laptop_screen(browser, warm_app):
    """At 1440 x 900 the formula box and the start inputs are on screen without scrolling the sidebar,
    also under an example's "What to look for" box, which used to sit above them and push them down."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        open_app(page, warm_app, {"view": "compare", "p": "rosenbrock"})
        for box in (sidebar_input(page, "f(x) ="), sidebar_input(page, "x"), sidebar_input(page, "y")):
            b = box.bounding_box()
            assert b and 0 <= b["y"] and b["y"] + b["height"] <= 900, b
        assert page.locator("section[data-testid=stSidebar]").get_by_text("What to look for").count() == 1
    finally:
        context.close()


SELECTS_CUT_JS = """root => {   // Streamlit 1.67's selectbox: a combo box whose value is an <input>
  const boxes = [...root.querySelectorAll('[data-testid=stSelectbox] input')];
  return {boxes: boxes.length, cut: boxes.filter(i => i.scrollWidth > i.clientWidth + 1).map(i => i.value)};
}"""


@pytest.mark.parametrize("view,controls,chart", [("playground", "controls_playground", "pg_chart"),
                                                 ("compare", "controls_compare", "cmp_multiples"),
                                                 ("newton_model", "controls_newton", "nm_chart")])
def test_method_names_are_whole_beside_the_chart_on_a_small_laptop(browser, warm_app, view, controls, chart):
    """At 1024 x 768 the controls beside the chart were ~125 px wide: "Gradient des…" in the Playground,
    "Gradie" and "Newtor" in Compare's method boxes. Narrower page margins and a minimum width for the
    controls keep the names whole, and the chart stays beside them, not under."""
    from conftest import new_page
    page = new_page(browser, width=1024, height=768)
    try:
        open_app(page, warm_app, {"view": view, "p": "himmelblau"}, chart=chart)
        box = page.locator(f".st-key-{controls}")
        selects = box.evaluate(SELECTS_CUT_JS)
        assert selects["boxes"] >= 1 and selects["cut"] == [], selects
        side, drawn = box.bounding_box(), graph(page, chart).bounding_box()
        assert drawn["x"] >= side["x"] + side["width"] and drawn["y"] < side["y"] + side["height"], (side, drawn)
        screenshot(page, f"small_laptop_{view}", full_page=False)
    finally:
        page.context.close()
