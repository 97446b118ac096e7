"""Browser rows of issue 9: in-figure η and β scrub (and the scrub figure's JSON bytes), the hover
preview of the start, the Streamlit η widget, and the 4-method x 5000-step Compare page (new link and
link opened again -> chart, η change -> chart, figure JSON bytes). Medians of one run in Chromium; the
server and the browser share the machine with whatever else runs (the command line prints the load
average before and after: say so with the numbers).

    python -m benchmarks.scrub --only-scrub --repeats 5
"""
from __future__ import annotations

import statistics
import time

from benchmarks.browser import (SHOWN_JS, graph, launch_browser, measure_hover, start_server, stop_server, time_change,
                                wait_idle)

SCRUB_QUERY = ("?view=playground&f=x%5E2%2B5y%5E2%2Bx*y&x0=1.5,1.5&win=-2,2;-2,2&steps=100&tol=1e-12"
               "&m.m0=gd(lr=0.02)&o.pg_scrub=true")
SCRUB_BETA_QUERY = ("?view=playground&f=x%5E2%2B5y%5E2%2Bx*y&x0=1.5,1.5&win=-2,2;-2,2&steps=100&tol=1e-12"
                    "&m.m0=momentum(lr=0.02,beta=0.7)&o.pg_scrub=true")
WIDGET_QUERY = "?view=playground&f=x%5E2%2B3y%5E2&x0=1.5,1.5&win=-2,2;-2,2&steps=100&tol=1e-12&m.m0=gd(lr=0.02)"
COMPARE_QUERY = ("?view=compare&f=(1-x)%5E2%2B100(y-x%5E2)%5E2&x0=-1.2,1&win=-2,2;-1,3&steps=5000&tol=1e-8"
                 "&o.n_methods=4&m.m0=gd(lr=0.001)&m.m1=momentum(lr=0.001,beta=0.9)&m.m2=adam(lr=0.02)"
                 "&m.m3=bfgs()")
PATH_JS = ("g => { const t = g.data.find(t => (t.mode || '').includes('lines') && t.name !== 'f' && t.type !== 'contour');"
           " return t ? String(Array.from(t.x).slice(0, 40)) + '|' + t.x.length : ''; }")
BYTES_JS = """() => { let n = 0; for (const g of document.querySelectorAll('.js-plotly-plot')) {
  const frames = g._transitionData ? g._transitionData._frames : [];
  n += JSON.stringify({data: g.data, layout: g.layout, frames: frames}, (k, v) =>
       ArrayBuffer.isView(v) ? Array.from(v) : v).length; } return n; }"""


def _open(page, url: str, query: str, timeout: float = 180_000, chart: str | None = None) -> float:
    """Open the link and wait until the page is idle. Returns ms from the start of the navigation to
    the first animation frame with `chart` drawn (the page's own clock: `performance.now()` counts
    from the navigation's start), or without `chart` to the end of the script run (the address
    already holds view=, and the page says "not running" before its first run starts)."""
    start = time.perf_counter()
    page.goto(url + "/" + query)
    page.wait_for_function("() => location.search.includes('view=')", timeout=timeout)
    drawn = None
    if chart:
        drawn = page.wait_for_function(
            "([sel, shownJs]) => { const g = document.querySelector(sel); return eval(shownJs)(g) ? performance.now() : 0; }",
            arg=[f".st-key-{chart} .js-plotly-plot", SHOWN_JS], timeout=timeout, polling="raf").json_value()
    wait_idle(page, timeout=timeout)
    return float(drawn) if drawn else (time.perf_counter() - start) * 1e3


# Timed in the page, from the mouse press on a scrub slider: "painted" ends at the first animation
# frame after the path's SVG changed (what the student sees), "done" at the first animation frame after
# Plotly's own end event of the slider's command (plotly_animated, or plotly_restyle for the old figures).
SCRUB_TIMER_JS = """g => { window.__scrub = {t0: 0, painted: 0, done: 0};
    const later = key => { const s = window.__scrub; if (s.t0 && !s[key] && !s['_' + key]) { s['_' + key] = 1;
        requestAnimationFrame(() => { s[key] = performance.now(); }); } };
    new MutationObserver(recs => { if (recs.some(m => m.target.closest && m.target.closest('.scatterlayer'))) later('painted'); })
        .observe(g, {subtree: true, attributes: true, childList: true});
    for (const ev of ['plotly_animated', 'plotly_restyle']) g.on(ev, () => later('done'));
    document.addEventListener('mousedown', () => { window.__scrub = {t0: performance.now(), painted: 0, done: 0}; }, true); }"""
FIGURE_BYTES_JS = """g => JSON.stringify({data: g.data, layout: g.layout, frames: g._transitionData ? g._transitionData._frames : []},
    (k, v) => ArrayBuffer.isView(v) ? Array.from(v) : v).length"""


def measure_scrub(page, url: str, repeats: int, query: str = SCRUB_QUERY, slider: int = 0) -> dict:
    """ms from a click on one in-figure scrub slider to the path redrawn (no server involved):
    {"painted": [...], "done": [...], "bytes": figure JSON bytes in the page}."""
    _open(page, url, query, chart="pg_chart")  # the script run can end before the chart is drawn
    g = graph(page, "pg_chart")
    if g.evaluate("g => (g.layout.sliders || []).length") <= slider:
        return dict(painted=[], done=[], bytes=int(g.evaluate(FIGURE_BYTES_JS)))  # no such slider (no β)
    g.locator(".slider-rail-touch-rect").nth(slider).wait_for()
    rail = g.locator(".slider-rail-touch-rect").nth(slider)
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    g.evaluate(SCRUB_TIMER_JS)
    painted, done = [], []
    for r in range(repeats):
        frac = 0.05 + 0.9 * ((r * 7) % 11) / 10
        page.mouse.click(box["x"] + frac * box["width"], box["y"] + box["height"] / 2)
        try:
            page.wait_for_function("() => window.__scrub.painted && window.__scrub.done", timeout=5_000)
        except Exception:
            continue  # the click landed on the step already shown
        t = page.evaluate("() => window.__scrub")
        painted.append(t["painted"] - t["t0"])
        done.append(t["done"] - t["t0"])
        page.wait_for_timeout(100)
    return dict(painted=painted, done=done, bytes=int(g.evaluate(FIGURE_BYTES_JS)))


def measure_widget(page, url: str, repeats: int) -> list[float]:
    """ms from one step of the Streamlit η slider (arrow key) to the frame that paints the Playground's
    new path (timed in the page: `time_change`)."""
    _open(page, url, WIDGET_QUERY)
    thumb = page.locator(".st-key-m0-gd-lr-slide input[type=range]").first
    g = graph(page, "pg_chart")
    g.wait_for()
    times = []
    for r in range(repeats + 1):
        key = "ArrowRight" if r % 2 == 0 else "ArrowLeft"
        times.append(time_change(page, "pg_chart", lambda key=key: thumb.press(key), signature_js=PATH_JS))
        wait_idle(page)
    return times[1:]  # the first pays the compile of a new run size


def compare_link(moved: int = 0) -> str:
    """The 4 x 5000 Compare link; `moved` > 0 moves its start by that many thousandths in y, so its
    runs are new to the server (the formula itself is not)."""
    return COMPARE_QUERY.replace("x0=-1.2,1", f"x0=-1.2,{1 + 0.001 * moved:.3f}") if moved else COMPARE_QUERY


def measure_compare(page, url: str, repeats: int) -> tuple[list[float], list[float], list[float], int]:
    """(new link -> chart ms, same link opened again -> chart ms, η change -> chart ms, figure JSON
    bytes) on the 4 x 5000 Compare page. New links differ in their start, so their runs are computed."""
    new = [_open(page, url, compare_link(r + 1), chart="cmp_multiples") for r in range(repeats)]
    links = [_open(page, url, compare_link(repeats), chart="cmp_multiples") for _ in range(repeats)]
    nbytes = int(page.evaluate(BYTES_JS))
    thumb = page.locator(".st-key-m0-gd-lr-slide input[type=range]").first
    g = graph(page, "cmp_multiples")
    changes = []
    g.wait_for()
    for r in range(repeats):
        key = "ArrowRight" if r % 2 == 0 else "ArrowLeft"
        changes.append(time_change(page, "cmp_multiples", lambda key=key: thumb.press(key), signature_js=PATH_JS,
                                   timeout_s=120))
        wait_idle(page, timeout=120_000)
    return new, links, changes, nbytes


def measure(repeats: int = 5, only_scrub: bool = False) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    proc, url = start_server(log_name="streamlit-bench-scrub.log")
    out: dict[str, float] = {}
    try:
        with sync_playwright() as p:
            browser = launch_browser(p)
            try:
                page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
                page.set_default_timeout(120_000)
                eta = measure_scrub(page, url, 3 * repeats)
                if not eta["painted"]:
                    raise RuntimeError("the η scrub slider never redrew the path")
                out.update(scrub=statistics.median(eta["painted"]), scrub_done=statistics.median(eta["done"]),
                           scrub_bytes=eta["bytes"])
                beta = measure_scrub(page, url, 3 * repeats, SCRUB_BETA_QUERY, slider=1)
                if beta["painted"]:
                    out.update(scrub_beta=statistics.median(beta["painted"]), scrub_beta_bytes=beta["bytes"])
                hover, hover_bytes = measure_hover(page, url, 3 * repeats)
                if hover:
                    out.update(hover=statistics.median(hover), hover_bytes=hover_bytes)
                if not only_scrub:
                    out["widget"] = statistics.median(measure_widget(page, url, repeats))
                    new, links, changes, nbytes = measure_compare(page, url, max(3, repeats // 2 + 1))
                    # new links compute their runs; the same link opened again (another student) finds them cached
                    out.update(link=statistics.median(new), link_again=statistics.median(links), links_new=new,
                               change=statistics.median(changes), bytes=nbytes)
            finally:
                browser.close()
    finally:
        stop_server(proc)
    return out


if __name__ == "__main__":
    import argparse
    import os
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only-scrub", action="store_true", help="only the in-figure scrub rows")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    print(measure(args.repeats, only_scrub=args.only_scrub))
    print(f"load average after: {os.getloadavg()}")
