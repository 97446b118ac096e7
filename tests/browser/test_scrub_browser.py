"""Scrubbing η in the browser: the in-figure slider redraws the path with the script idle and no
message to the server; a click on the path then keeps the η shown, in the app and in the link."""
from __future__ import annotations

import re

from conftest import graph, no_exception, open_app, screenshot, wait_idle, wait_until

SCRUB = {"f": "x^2 + 5y^2 + x*y", "x0": "1.5,1.5", "win": "-2,2;-2,2", "steps": "60", "tol": "1e-12",
         "m.m0": "gd(lr=0.02)", "o.pg_scrub": "true"}
IDLE_JS = "() => document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state')"


def drawn_path(page) -> list:
    return graph(page, "pg_chart").evaluate(
        "g => { const i = g.data.findIndex(t => t.name === 'Gradient descent'); return [Array.from(g.data[i].x), Array.from(g.data[i].y)]; }")


def slider_value(page) -> float:
    return float(graph(page, "pg_chart").evaluate(
        "g => { const s = g.layout.sliders[0]; return s.steps[s.active].label; }"))


def test_scrub_redraws_in_the_page_and_a_click_keeps_the_eta(page, server_url):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    open_app(page, server_url, SCRUB, chart="pg_chart")
    no_exception(page)
    g = graph(page, "pg_chart")
    g.wait_for()
    assert slider_value(page) == 0.02
    before = drawn_path(page)
    # watch the script state: any rerun flips it to "running"
    page.evaluate("""() => { const app = document.querySelector('[data-testid=stApp]'); window.__states = [];
        new MutationObserver(() => window.__states.push(app.getAttribute('data-test-script-state')))
            .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }""")
    sent.clear()
    rail = g.locator(".slider-rail-touch-rect").first
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + box["height"] / 2)
    wait_until(lambda: drawn_path(page) != before, timeout_s=5, message="the path redrawn by the slider")
    page.wait_for_timeout(500)
    after = drawn_path(page)
    scrubbed = slider_value(page)
    assert scrubbed > 0.02 and after != before
    assert page.evaluate("() => window.__states") == [], "the scrub must not rerun the script"
    assert page.evaluate(IDLE_JS) == "notRunning"
    assert not sent, f"the scrub sent {len(sent)} message(s) to the server"
    # commit: click a point of the drawn path (its second point: clear of the start marker)
    x, y = after[0][2], after[1][2]
    px = g.evaluate("""(g, p) => { const l = g._fullLayout, xa = l.xaxis, ya = l.yaxis, r = g.getBoundingClientRect();
        return [r.left + xa._offset + xa.l2p(p[0]), r.top + ya._offset + ya.l2p(p[1])]; }""", [x, y])
    page.mouse.move(px[0] - 5, px[1] - 5)
    page.wait_for_timeout(100)
    page.mouse.move(px[0], px[1])
    page.wait_for_timeout(300)
    # read before the click: the click's run may already be mounting a new chart element when read after
    eta = g.evaluate("g => g.data[g.data.findIndex(t => t.name === 'Gradient descent')].customdata[2][1]")
    assert f"{eta:.3g}" == f"{scrubbed:.3g}"  # the path's points say the η the slider shows
    page.mouse.down()
    page.wait_for_timeout(50)
    page.mouse.up()
    kept = f"{eta:.4g}"
    wait_until(lambda: re.search(r"lr%3D" + re.escape(kept) + r"|lr=" + re.escape(kept),
                                     page.evaluate("() => location.search")),
               timeout_s=30, message=f"lr={kept} in the link")
    wait_idle(page)
    assert slider_value(page) == float(f"{float(kept):.3g}")  # the next ladder is centred on it
    assert g.evaluate("g => g.layout.meta.scrub.values[g.layout.meta.scrub.active]") == float(kept)
    no_exception(page)
    screenshot(page, "playground_scrub")
