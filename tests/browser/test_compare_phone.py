"""Compare on a phone (390 x 844, a phone's user agent): the side-by-side panels stack one per row with
titles that fit, instead of three 100-pixel-wide strips whose titles ran into each other (issue 10)."""
from __future__ import annotations

import time

from conftest import no_exception, open_app, screenshot

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/15.0 Mobile/15E148 Safari/604.1")


def test_compare_panels_stack_one_per_row_on_a_phone(browser, warm_app):
    context = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=IPHONE, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        open_app(page, warm_app, {"view": "compare", "p": "rosenbrock", "o.n_methods": "3"}, chart="cmp_multiples")
        no_exception(page)
        views = page.locator(".st-key-cmp_tab").get_by_role("radio")
        assert views.count() == 2
        for i in range(2):   # both view buttons whole on the screen (the second was cut at its edge)
            b = views.nth(i).bounding_box()
            assert b["x"] >= 0 and b["x"] + b["width"] <= 390, (i, b)
        g = page.locator(".st-key-cmp_multiples .js-plotly-plot").first
        g.scroll_into_view_if_needed()
        layout = g.evaluate("""g => ({
            domains: Object.keys(g._fullLayout).filter(k => /^xaxis\\d*$/.test(k)).map(k => g._fullLayout[k].domain),
            width: g._fullLayout.width,
            titles: Array.from(g.querySelectorAll('.annotation-text')).map(t => t.getBoundingClientRect())
                         .map(r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom}))})""")
        assert len(layout["domains"]) == 3
        assert all(d == layout["domains"][0] for d in layout["domains"]), layout["domains"]   # one column
        box = g.bounding_box()
        titles = layout["titles"]
        assert len(titles) == 3
        for t in titles:   # each title inside the chart's width
            assert box["x"] - 1 <= t["left"] and t["right"] <= box["x"] + box["width"] + 1, (t, box)
        for a, b in zip(titles, titles[1:]):   # and none on top of another
            assert a["bottom"] <= b["top"] or b["bottom"] <= a["top"], titles
        screenshot(page, "compare_phone_panels", full_page=False)
    finally:
        context.close()


def test_phone_charts_have_no_toolbar_over_the_title_and_play_clear_of_the_axis_title(browser, warm_app):
    """On a phone Plotly's toolbar (always shown on a touch screen) covered the charts' titles, a long title
    ran past the chart's edge, and the Play buttons covered the x axis title of a narrow plot."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=IPHONE, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    box = """g => { const r = e => { if (!e) return null; const a = e.getBoundingClientRect(), b = g.getBoundingClientRect();
        return {left: a.left - b.left, right: a.right - b.left, top: a.top - b.top, bottom: a.bottom - b.top}; };
        return {width: g._fullLayout.width, toolbar: !!g.querySelector('.modebar'), title: r(g.querySelector('.gtitle')),
                xtitle: r(g.querySelector('.g-xtitle')), buttons: r(g.querySelector('.updatemenu-container'))}; }"""
    try:
        open_app(page, warm_app, {"view": "curvature", "p": "blog-sin-saddle"}, chart="curv_map_chart")
        no_exception(page)
        curv = page.locator(".st-key-curv_map_chart .js-plotly-plot").first.evaluate(box)
        assert not curv["toolbar"]
        assert curv["title"] and 0 <= curv["title"]["left"] and curv["title"]["right"] <= curv["width"], curv
        open_app(page, warm_app, {"view": "playground"}, chart="pg_chart")
        play = page.locator(".st-key-pg_chart .js-plotly-plot").first.evaluate(box)
        assert not play["toolbar"]
        assert play["buttons"]["top"] >= play["xtitle"]["bottom"], play   # the x title stays readable
        screenshot(page, "phone_playground_controls", full_page=False)
    finally:
        context.close()


def test_a_narrow_window_without_a_phone_user_agent_gets_stacked_panels(browser, warm_app):
    """A 390 px window whose browser does not say it is a phone: the first run cannot know the width,
    and the three Compare panels stayed squeezed side by side (titles on top of each other) until the
    student touched something. The page now asks for one run when a chart's width crosses the line."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        open_app(page, warm_app, {"view": "compare", "p": "rosenbrock", "o.n_methods": "3"}, chart="cmp_multiples")
        g = page.locator(".st-key-cmp_multiples .js-plotly-plot").first
        one_column = """g => { if (!g._fullLayout) return false; const d = Object.keys(g._fullLayout).filter(k => /^xaxis\\d*$/.test(k))
                                     .map(k => String(g._fullLayout[k].domain)); return d.length === 3 && new Set(d).size === 1; }"""
        deadline = time.time() + 30
        while not g.evaluate(one_column) and time.time() < deadline:
            time.sleep(0.3)
            g = page.locator(".st-key-cmp_multiples .js-plotly-plot").first
        assert g.evaluate(one_column), "the panels stacked one per row without any click"
        assert page.evaluate("window.__chartWidthsRelaidOut") == 1
        no_exception(page)
    finally:
        context.close()
