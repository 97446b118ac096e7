"""What the student sees is true, in a real browser: the view holds the runs, a new formula is a
clean slate, exp(100x) is not called stationary, and a phone reaches the formula and start."""
from __future__ import annotations

import pytest

import optcore
from conftest import (SIDEBAR, apply_formula, css_key, graph, new_page, no_exception, open_app, screenshot,
                      type_into, wait_chart, wait_idle, wait_until)

ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"


def test_view_holds_the_start_and_every_converging_run(page, server_url):
    """x^2 from x0 = 10 with η = 0.2, 0.05, 1.1 (the automatic window is [-2, 2]): the chart's
    x-range holds the start and both converging runs; the diverging one is said to leave the view."""
    open_app(page, server_url, {"f": "x^2", "x0": "10", "steps": "100"}, chart="pg_chart")
    type_into(page, page.locator(f".st-key-{css_key('lrs')} input"), "0.2, 0.05, 1.1")
    wait_until(lambda: graph(page, "pg_chart").evaluate(
        "g => g.data.filter(t => (t.name || '').includes('η=')).length") >= 3, message="three runs drawn")
    lo, hi = graph(page, "pg_chart").evaluate("g => g._fullLayout.xaxis.range")
    assert lo <= 0 and hi >= 10, (lo, hi)
    obj = optcore.parse("x^2")
    for lr in (0.2, 0.05):
        xs = optcore.run(obj, "gd", [10.0], steps=100, lr=lr).points[:, 0]
        assert lo <= xs.min() and xs.max() <= hi, (lr, lo, hi)
    assert page.get_by_text("leave the view").count() >= 1
    no_exception(page)
    screenshot(page, "honest_view_three_rates")


def test_new_formula_is_a_clean_slate(page, server_url):
    """The blog example on the curvature page, then Rosenbrock typed on Compare: no extra start
    (3.1, 1.8) and no η = 0.5 left over, and the sidebar says what was reset."""
    open_app(page, server_url, {"p": "blog-sin-saddle"}, path="/curvature")
    extra = page.locator(f".st-key-{css_key('extra_starts_text')} input")
    wait_until(lambda: extra.input_value().strip(), timeout_s=30,
               message="the example's extra starts are shown on the curvature page")
    page.goto(page.url.replace("/curvature", "/compare"))
    wait_idle(page, timeout=90_000)
    box = page.locator(f"{SIDEBAR} .st-key-formula_input input")
    type_into(page, box, ROSENBROCK)
    wait_until(lambda: page.locator(f"{SIDEBAR} [data-testid=stAlertContentInfo]").filter(
        has_text="reset").count() >= 1, message="the reset notice")
    assert page.locator(f".st-key-{css_key('extra_starts_text')} input").input_value().strip() == ""
    lr = page.locator(f".st-key-{css_key('m0.gd.lr')} input")
    if lr.count():
        assert float(lr.input_value()) != 0.5
    assert page.get_by_text("η=0.5").count() == 0, "no run keeps the example's η = 0.5"
    no_exception(page)
    screenshot(page, "honest_clean_slate")


def test_exp_100x_is_not_called_stationary(page, server_url):
    open_app(page, server_url, chart="pg_chart")
    apply_formula(page, "exp(100x)")
    wait_chart(page, "pg_chart")
    body = page.locator("[data-testid=stMain]").inner_text()
    assert "stationary point" not in body and "converged in 0 steps" not in body, body[:500]
    ticks = graph(page, "pg_chart").evaluate(
        "g => Array.from(g.querySelectorAll('.ytick text, .xtick text')).map(t => t.textContent)")
    assert ticks and not any(t.rstrip().endswith(("p", "f", "a", "n", "µ")) for t in ticks), ticks
    no_exception(page)
    screenshot(page, "honest_exp_100x")


BAR_WATCH = """
window.__barPainted = 0; window.__barFrames = 0;
(function tick() {
  const el = document.querySelector('.st-key-compact_bar');
  if (el) {
    window.__barFrames++;
    if (el.getBoundingClientRect().height > 2 && getComputedStyle(el).visibility !== 'hidden') window.__barPainted++;
  }
  requestAnimationFrame(tick);
})();
"""


def test_phone_bar_never_flashes_on_a_desktop(browser, warm_app):
    """1440 × 900, first load: the phone's formula-and-start bar is in the page but never painted
    (it showed for ~0.7 s while Streamlit loaded the element carrying the media query)."""
    page = new_page(browser, width=1440, height=900)
    try:
        page.context.add_init_script(BAR_WATCH)
        open_app(page, warm_app, chart="pg_chart")
        frames, painted = page.evaluate("[window.__barFrames, window.__barPainted]")
        assert frames > 0, "the bar was in the page during the load"
        assert painted == 0, f"the bar was painted in {painted} of {frames} frames"
        # nor do the hidden bar and the in-page scripts leave empty rows above the page's title
        gap = page.evaluate("""() => { const main = document.querySelector('[data-testid=stMainBlockContainer]');
            const title = [...main.querySelectorAll('h2')].find(h => h.textContent.includes('Playground'));
            return title.getBoundingClientRect().top - main.getBoundingClientRect().top
                   - parseFloat(getComputedStyle(main).paddingTop); }""")
        assert gap < 8, f"{gap:.0f} px of empty rows above the title"
        screenshot(page, "honest_desktop_no_bar", full_page=False)
    finally:
        page.context.close()


def test_phone_reaches_formula_and_start(browser, warm_app):
    """390 × 844: the formula and start are in the main area, no need to open the sidebar."""
    page = new_page(browser, width=390, height=844)
    try:
        open_app(page, warm_app, chart="pg_chart")
        bar = page.locator(".st-key-compact_bar")
        assert bar.is_visible()
        wait_until(lambda: bar.bounding_box()["height"] > 40, message="the bar opened on a narrow screen")
        box, heading = bar.bounding_box(), page.locator("[data-testid=stMain] h2").filter(has_text="Playground").first.bounding_box()
        assert box["y"] + box["height"] <= heading["y"] + 1, (box, heading)   # the page flows below it
        type_into(page, bar.locator("input").first, "x^2 + 3y^2 + x*y")
        wait_until(lambda: "3y" in page.locator(".st-key-formula_input input").input_value(), message="applied")
        # what the new formula reset is said here too, not only in the collapsed sidebar
        wait_until(lambda: "New formula" in bar.inner_text(), message="the bar to say what was reset")
        type_into(page, bar.locator("input").first, "x^^2")   # a typo: said here, and what is still shown
        wait_until(lambda: "Still showing: x^2 + 3y^2 + x*y" in bar.inner_text().replace("`", ""),
                   message="the bar to say the typo and what is still shown")
        type_into(page, bar.locator("input").first, "x^2 + 3y^2 + x*y")
        type_into(page, bar.locator("input").nth(1), "1.5, -0.5")
        wait_until(lambda: "x0=1.5" in page.url.replace("%2C", ","), message="start moved")
        screenshot(page, "honest_phone")
    finally:
        page.context.close()


def test_start_on_the_window_edge_is_drawn_whole(page, server_url):
    """x^2 + 3y^2 from (2, 1) in the window [-2, 2]^2: the start sat on the right edge, its marker
    cut in half. The drawn view keeps a margin around it; the sidebar's start and window and the
    link keep what the link said (an earlier widening reset a link's start in the browser)."""
    open_app(page, server_url, {"f": "x^2 + 3y^2", "x0": "2,1", "win": "-2,2;-2,2"}, chart="pg_chart")
    wait_idle(page)
    g = graph(page, "pg_chart")
    start = g.evaluate("""g => {
        const i = g.data.findIndex(t => t.name === 'start');
        const t = g._fullData[i], L = g._fullLayout;
        return {x: t.x[0], y: t.y[0], size: g._fullData[i].marker.size, line: g._fullData[i].marker.line.width,
                xr: L.xaxis.range, yr: L.yaxis.range, w: L.xaxis._length, h: L.yaxis._length};
    }""")
    assert (start["x"], start["y"]) == (2, 1), start
    radius = start["size"] / 2 + start["line"]
    (x_lo, x_hi), (y_lo, y_hi) = start["xr"], start["yr"]
    right_px = (x_hi - start["x"]) / (x_hi - x_lo) * start["w"]
    left_px = (start["x"] - x_lo) / (x_hi - x_lo) * start["w"]
    top_px = (y_hi - start["y"]) / (y_hi - y_lo) * start["h"]
    assert min(right_px, left_px, top_px) >= radius, (start, radius)   # the whole marker in the plot area
    # the sidebar and the link still hold the linked start and window
    assert float(page.locator(f'{SIDEBAR} input[aria-label="x"]').input_value()) == 2.0
    assert float(page.locator(f'{SIDEBAR} input[aria-label="y"]').input_value()) == 1.0
    url = page.url.replace("%2C", ",").replace("%3B", ";")
    assert "x0=2,1" in url and "win=-2,2;-2,2" in url, url
    no_exception(page)
    screenshot(page, "honest_start_on_the_edge")


def test_newton_on_exp_100x_is_not_called_converged(page, server_url):
    """Newton with η = 1 on exp(100x) steps by -1/100 for ever while ∇f shrinks geometrically:
    ∇f passes the tolerance, but the page says x is still moving toward an infimum, as a warning."""
    open_app(page, server_url, {"f": "exp(100x)", "x0": "0.1", "m.m0": "newton(lr=1)", "steps": "100"},
             chart="pg_chart")
    wait_idle(page)
    warning = page.locator("[data-testid=stMain] [data-testid=stAlertContentWarning]").filter(has_text="infimum")
    wait_until(lambda: warning.count() >= 1, message="the still-moving warning")
    text = warning.first.inner_text()
    assert "still moving" in text and "not a stationary point" in text, text
    assert page.locator("[data-testid=stMain] [data-testid=stAlertContentSuccess]").count() == 0
    assert "converged in" not in page.locator("[data-testid=stMain]").inner_text()
    no_exception(page)
    screenshot(page, "honest_newton_exp_100x")


RACE_CLIPPED_JS = """() => {
  const box = e => e.getBoundingClientRect();
  const main = box(document.querySelector('[data-testid=stMainBlockContainer]'));
  const cut = [];
  const tags = document.querySelector('.st-key-race_methods [data-testid=stMultiSelectTagsContainer]');
  for (const tag of tags.querySelectorAll('span[role=group] > *'))
    if (box(tag).right > box(tags).right + 1 || tag.scrollWidth > tag.clientWidth + 1) cut.push('tag ' + tag.textContent);
  for (const b of document.querySelectorAll('.st-key-race_criterion button'))
    if (box(b).right > main.right + 1) cut.push('score ' + b.textContent);
  for (const p of document.querySelectorAll('.st-key-race_tune label p, .st-key-race_criterion button p'))
    if (p.scrollWidth > p.clientWidth + 1) cut.push('label ' + p.textContent);
  return cut;
}"""


@pytest.mark.parametrize("width", [1440, 1024])
def test_race_controls_are_not_cut_off(browser, warm_app, width):
    """In six columns the race's chosen methods were cut to "Adar…" (BFGS hidden) and the tuning
    score read "median budget spent to reach f − f* ≤ toleranc"."""
    page = new_page(browser, width=width, height=900)
    try:
        open_app(page, warm_app, {"view": "race", "p": "himmelblau"}, timeout=120_000)
        tags = ".st-key-race_methods [data-testid=stMultiSelectTagsContainer] span[role=group] > *"
        assert page.locator(tags).count() == 4
        assert page.evaluate(RACE_CLIPPED_JS) == []
        screenshot(page, f"race_controls_{width}", full_page=False)
    finally:
        page.context.close()


def test_curvature_start_table_fits_the_page(page, server_url):
    """1440 px, the blog's example: the "Newton direction" column (uphill / downhill, the table's
    point) was the last one and was cut off at the chart column's edge behind a sideways scroll."""
    open_app(page, server_url, {"view": "curvature", "p": "blog-sin-saddle"}, timeout=120_000)
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.scroll_into_view_if_needed()
    wait_until(lambda: grid.locator(".dvn-scroller").count() > 0, message="the table drawn")
    wide, shown = grid.locator(".dvn-scroller").first.evaluate("s => [s.scrollWidth, s.clientWidth]")
    assert wide <= shown + 1, f"{wide} px of columns in {shown} px"
    screenshot(page, "curvature_start_table", full_page=False)


def test_compare_summary_shows_every_run_with_its_star(page, server_url):
    """Himmelblau's example, 3 methods from 4 starts: 12 rows in a table that showed 10, so the ★ of the
    best run could sit below the scroll."""
    open_app(page, server_url, {"view": "compare", "p": "himmelblau"}, timeout=120_000)
    grid = page.locator("[data-testid=stDataFrame]").first   # the page's one table: the summary
    grid.scroll_into_view_if_needed()
    wait_until(lambda: grid.locator(".dvn-scroller").count() > 0, message="the table drawn")
    tall, shown = grid.locator(".dvn-scroller").first.evaluate("s => [s.scrollHeight, s.clientHeight]")
    assert tall <= shown + 1, f"{tall} px of rows in {shown} px"
    screenshot(page, "compare_summary_all_rows", full_page=False)
