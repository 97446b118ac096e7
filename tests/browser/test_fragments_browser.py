"""Rerun only the view (issue 9, part 3): a knob on the Playground or Compare page reruns that page's
fragment, not the sidebar, and the share link in the address bar still follows the knob."""
from __future__ import annotations

from urllib.parse import unquote

import pytest

from conftest import click_chart, graph, no_exception, open_app, sidebar_input, wait_idle, wait_until

ELLIPSE = {"view": "playground", "f": "x^2 + 3y^2", "x0": "1.5,1.5", "win": "-2,2;-2,2", "steps": "100",
           "tol": "1e-12", "m.m0": "gd(lr=0.02)"}
SIDEBAR_LABEL = b"Example gallery"   # the sidebar's first widget: sent again by every full run


def path_xs(page, key: str = "pg_chart") -> list[float]:
    """x of the first path's points (empty while Plotly redraws)."""
    return graph(page, key).evaluate(
        "g => { const t = (g.data || []).find(t => (t.mode || '').includes('lines') && t.name !== 'f');"
        " return t ? Array.from(t.x) : []; }")


def count_sidebar_messages(page) -> list[int]:
    """A list whose one entry counts the server messages carrying the sidebar (full runs)."""
    seen = [0]

    def on_frame(payload):
        data = payload if isinstance(payload, bytes) else payload.encode()
        if SIDEBAR_LABEL in data:
            seen[0] += 1

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    return seen


def press_lr(page, key: str, arrow: str = "ArrowRight") -> None:
    # η is a box you can type into with a slider under it (key + ".slide") that sets the box
    page.locator(f".st-key-{key}-slide input[type=range]").first.press(arrow)


def address(page) -> str:
    """The address bar now (page.url only follows the browser when Playwright is called)."""
    return unquote(page.evaluate("() => location.href"))


def lr_in_url(page, picker: str = "m0") -> str:
    text = address(page)
    start = text.index(f"m.{picker}=")
    return text[start:].split("&")[0]


def test_playground_lr_change_reruns_the_view_only_and_updates_chart_and_link(page, server_url):
    seen = count_sidebar_messages(page)
    open_app(page, server_url, ELLIPSE, chart="pg_chart")
    assert seen[0] >= 1, "the first (full) run sends the sidebar"
    before_url, before_path = lr_in_url(page), path_xs(page)
    assert "lr=0.02" in before_url
    full_runs = seen[0]
    press_lr(page, "m0-gd-lr")
    wait_until(lambda: path_xs(page) not in (before_path, []), timeout_s=30, message="the path to be redrawn")
    wait_until(lambda: lr_in_url(page) != before_url, timeout_s=15, message="the link to follow the new η")
    wait_idle(page)
    assert "lr=0.02" not in lr_in_url(page) and "gd(lr=" in lr_in_url(page), lr_in_url(page)
    assert seen[0] == full_runs, "a change of η reran the sidebar (a full run), not only the Playground"
    # the other parts of the link survive a fragment rerun
    assert "x0=1.5,1.5" in address(page) and "view=playground" in address(page)
    no_exception(page)


def test_click_on_contour_still_moves_the_sidebar_start(page, server_url):
    """A click on the chart runs inside the page's fragment, but the start lives in the sidebar:
    the whole app reruns so the sidebar's inputs and the link show the new start."""
    seen = count_sidebar_messages(page)
    open_app(page, server_url, ELLIPSE, chart="pg_chart")
    full_runs = seen[0]
    x_in = sidebar_input(page, "x")
    click_chart(page, "pg_chart", 0.25, 0.3)
    wait_until(lambda: x_in.input_value() != "1.5", timeout_s=20, message="the sidebar's start to change")
    wait_idle(page)
    x = float(x_in.input_value())
    assert x == pytest.approx(-1.0, abs=0.25)
    assert seen[0] > full_runs, "the sidebar was not redrawn after the start moved"
    wait_until(lambda: "x0=1.5,1.5" not in address(page), timeout_s=15, message="the link's start to change")
    assert abs(path_xs(page)[0] - x) < 1e-3
    no_exception(page)


def test_compare_lr_change_updates_the_link(page, server_url):
    query = {**ELLIPSE, "view": "compare", "o.n_methods": "2", "m.m1": "momentum(lr=0.02,beta=0.9)"}
    seen = count_sidebar_messages(page)
    open_app(page, server_url, query, path="/compare", chart="cmp_multiples")
    full_runs = seen[0]
    before = lr_in_url(page)
    press_lr(page, "m0-gd-lr")
    wait_until(lambda: lr_in_url(page) != before, timeout_s=30,
               message=f"the link to follow the new η (was {before}, now {address(page)})")
    wait_idle(page)
    assert seen[0] == full_runs
    assert "m.m1=momentum" in address(page)
    no_exception(page)


def test_compare_scrub_redraws_method_1_in_the_page(page, server_url):
    """Compare's in-figure η slider (method 1) swaps its path on the overlay with the script idle."""
    query = {**ELLIPSE, "view": "compare", "o.n_methods": "2", "m.m1": "momentum(lr=0.02,beta=0.9)",
             "o.cmp_scrub": "true"}
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    open_app(page, server_url, query, path="/compare", chart="cmp_overlay")   # scrubbing opens the overlay tab
    g = graph(page, "cmp_overlay")
    g.wait_for()
    wait_idle(page)
    # the trace a slider step redraws: the first one named by the frame the step animates
    path_js = ("g => { const i = g._transitionData._frameHash[g.layout.sliders[0].steps[0].args[0][0]].traces[0];"
               " return [g.data[i].name, Array.from(g.data[i].x)]; }")
    name, before = g.evaluate(path_js)
    assert name.startswith("1. ")
    sent.clear()
    rail = g.locator(".slider-rail-touch-rect").first
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    page.mouse.click(box["x"] + 0.85 * box["width"], box["y"] + box["height"] / 2)
    wait_until(lambda: g.evaluate(path_js)[1] != before, timeout_s=5, message="method 1's path redrawn")
    page.wait_for_timeout(300)
    assert not sent, f"the scrub sent {len(sent)} message(s) to the server"
    assert g.evaluate("g => { const s = g.layout.sliders[0]; return +s.steps[s.active].label; }") > 0.02
    no_exception(page)
