"""Hover preview of the start on the 2-D Playground contour: moving the pointer over the chart draws
the path from the nearest precomputed grid start, in the page (no message to the server, script
idle); a click then commits the start and the real run is drawn from there."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import (click_chart, graph, no_exception, open_app, path_state, path_trace_index, screenshot,
                      sidebar_input, wait_idle, wait_until)

BOWL = {"f": "x^2 + 5y^2 + x*y", "x0": "1.5,1.5", "win": "-2,2;-2,2", "steps": "100", "tol": "1e-12",
        "m.m0": "gd(lr=0.05)"}


def preview_points(page) -> list[list[float]]:
    """The preview line as drawn on the page (its SVG), back in the axes' coordinates."""
    return graph(page, "pg_chart").evaluate("""g => {
        const line = g.querySelector('.oe-preview path.line'), d = line ? line.getAttribute('d') : '';
        const xa = g._fullLayout.xaxis, ya = g._fullLayout.yaxis, xs = [], ys = [];
        for (const [, px, py] of d.matchAll(/[ML]([-\\d.]+),([-\\d.]+)/g)) { xs.push(xa.p2c(+px)); ys.push(ya.p2c(+py)); }
        return [xs, ys]; }""")


def hover(page, fx: float, fy: float) -> None:
    area = graph(page, "pg_chart").locator(".nsewdrag").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
    page.mouse.move(x - 4, y - 4)
    page.mouse.move(x, y, steps=3)


def test_hover_draws_the_path_in_the_page_and_a_click_commits_the_start(page, server_url):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    open_app(page, server_url, BOWL, chart="pg_chart")
    no_exception(page)
    assert preview_points(page) == [[], []], "nothing previewed before the pointer is on the chart"
    meta = page.evaluate("() => window.__oePreviews && window.__oePreviews.pg_chart")
    assert meta["n"] >= 8 and len(meta["len"]) == meta["n"] ** 2
    page.evaluate("""() => { const app = document.querySelector('[data-testid=stApp]'); window.__states = [];
        new MutationObserver(() => window.__states.push(app.getAttribute('data-test-script-state')))
            .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }""")
    sent.clear()
    seen = []
    for fx, fy in ((0.2, 0.25), (0.75, 0.7)):   # upper left, then lower right of the window
        hover(page, fx, fy)
        wait_until(lambda: (p := preview_points(page)) and len(p[0]) > 1 and p not in seen, timeout_s=5,
                   message="the preview path drawn")
        seen.append(preview_points(page))
    (xa, ya), (xb, yb) = seen
    # each preview starts near the pointer (the nearest of the grid starts: within one grid cell)
    cell = 4.0 / meta["n"]
    assert abs(xa[0] - (-2 + 0.2 * 4)) <= cell and abs(ya[0] - (2 - 0.25 * 4)) <= cell, (xa[0], ya[0])
    assert abs(xb[0] - (-2 + 0.75 * 4)) <= cell and abs(yb[0] - (2 - 0.7 * 4)) <= cell, (xb[0], yb[0])
    # and runs downhill towards the minimum at the origin
    assert np.hypot(xa[-1], ya[-1]) < np.hypot(xa[0], ya[0]) / 2
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__states") == [], "hovering must not rerun the script"
    assert not sent, f"hovering sent {len(sent)} message(s) to the server"
    screenshot(page, "playground_hover_preview", full_page=False)
    # Play still runs the animation to its last frame after a preview (both drive Plotly.animate)
    idx = path_trace_index(page)
    page.locator(".st-key-pg_chart g.updatemenu-button").filter(has_text="Play").first.click()
    wait_until(lambda: 1 < path_state(page, index=idx)["n"] < 101, timeout_s=20, message="playback to start")
    wait_until(lambda: path_state(page, index=idx)["n"] == 101, timeout_s=30, message="the last frame")
    # a click commits the start under the pointer: the sidebar, the link and the real path follow
    x_in, y_in = sidebar_input(page, "x"), sidebar_input(page, "y")
    click_chart(page, "pg_chart", 0.75, 0.7)
    wait_until(lambda: x_in.input_value() != "1.5", timeout_s=15, message="the start inputs to change")
    wait_idle(page)
    x, y = float(x_in.input_value()), float(y_in.input_value())
    assert x == pytest.approx(-2 + 0.75 * 4, abs=0.2) and y == pytest.approx(2 - 0.7 * 4, abs=0.2), (x, y)
    gd_path = graph(page, "pg_chart").evaluate(
        "g => { const t = g.data.find(t => t.name === 'Gradient descent'); return [t.x[0], t.y[0]]; }")
    assert gd_path == [pytest.approx(x, abs=1e-3), pytest.approx(y, abs=1e-3)]
    assert abs(gd_path[0] - xb[0]) <= cell and abs(gd_path[1] - yb[0]) <= cell  # what the preview showed
    no_exception(page)
    assert not page.js_errors, page.js_errors
