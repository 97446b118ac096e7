"""Scrubbing η and β in the learning-rate lab's chart: each in-figure slider redraws the path with
the script idle and no message to the server; a click on the path then keeps the values shown, in
the app and in the link."""
from __future__ import annotations

import re

from conftest import graph, no_exception, open_app, screenshot, wait_idle, wait_until

LAB = {"view": "lr_lab", "f": "x^2 + 5y^2 + x*y", "x0": "1.5,1.5", "win": "-2,2;-2,2", "steps": "60",
       "tol": "1e-12", "m.m0": "momentum(lr=0.02,beta=0.7)", "o.lr_scrub": "true"}
KEY = "lr_traces_chart"
PATH = "η, β on the sliders"   # the scrubbed path: its name states no value the sliders may leave
IDLE_JS = "() => document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state')"


def drawn_path(page) -> list:
    return graph(page, KEY).evaluate(
        "(g, name) => { const t = g.data.find(t => t.name === name); return [Array.from(t.x), Array.from(t.y)]; }", PATH)


def slider_value(page, s: int) -> float:
    return float(graph(page, KEY).evaluate(
        "(g, s) => { const sl = g.layout.sliders[s]; return sl.steps[sl.active].label; }", s))


def press_rail(page, s: int, frac: float) -> None:
    rail = graph(page, KEY).locator(".slider-rail-touch-rect").nth(s)
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    page.mouse.click(box["x"] + frac * box["width"], box["y"] + box["height"] / 2)


def test_lr_lab_scrubs_eta_and_beta_in_the_page_and_a_click_keeps_both(page, server_url):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    open_app(page, server_url, LAB, chart=KEY)
    no_exception(page)
    g = graph(page, KEY)
    assert g.evaluate("g => g.layout.sliders.length") == 2
    assert slider_value(page, 0) == 0.02 and slider_value(page, 1) == 0.7
    start = drawn_path(page)
    page.evaluate("""() => { const app = document.querySelector('[data-testid=stApp]'); window.__states = [];
        new MutationObserver(() => window.__states.push(app.getAttribute('data-test-script-state')))
            .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }""")
    sent.clear()
    press_rail(page, 0, 0.75)           # η up
    wait_until(lambda: drawn_path(page) != start, timeout_s=5, message="the path redrawn by the η slider")
    eta_path = drawn_path(page)
    assert slider_value(page, 0) > 0.02
    press_rail(page, 1, 0.1)            # β down (η back at its set value: each slider moves its own)
    wait_until(lambda: drawn_path(page) not in (start, eta_path), timeout_s=5, message="the β slider's path")
    page.wait_for_timeout(500)
    after = drawn_path(page)
    beta = slider_value(page, 1)
    assert beta < 0.7
    assert page.evaluate("() => window.__states") == [], "the scrub must not rerun the script"
    assert page.evaluate(IDLE_JS) == "notRunning"
    assert not sent, f"the scrub sent {len(sent)} message(s) to the server"
    shown = g.evaluate("(g, name) => g.data.find(t => t.name === name).customdata[2]", PATH)
    assert shown[1] == 0.02 and f"{shown[2]:.3g}" == f"{beta:.3g}"   # the path says the (η, β) it was run with
    # commit: click the path's third point (clear of the start marker)
    px = g.evaluate("""(g, p) => { const l = g._fullLayout, xa = l.xaxis, ya = l.yaxis, r = g.getBoundingClientRect();
        return [r.left + xa._offset + xa.l2p(p[0]), r.top + ya._offset + ya.l2p(p[1])]; }""", [after[0][2], after[1][2]])
    page.mouse.move(px[0] - 5, px[1] - 5)
    page.wait_for_timeout(100)
    page.mouse.move(px[0], px[1])
    page.wait_for_timeout(300)
    page.mouse.down()
    page.wait_for_timeout(50)
    page.mouse.up()
    kept = f"{shown[2]:.4g}"
    wait_until(lambda: re.search(r"beta%3D" + re.escape(kept) + r"|beta=" + re.escape(kept),
                                 page.evaluate("() => location.search")), timeout_s=30, message=f"beta={kept} in the link")
    wait_idle(page)
    assert "lr%3D0.02" in page.evaluate("() => location.search") or "lr=0.02" in page.evaluate("() => location.search")
    assert g.evaluate("g => { const l = g.layout.meta.scrub.ladders[1]; return l.values[l.active]; }") == float(kept)
    no_exception(page)
    screenshot(page, "lr_lab_scrub")
