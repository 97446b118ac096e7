"""Browser rows of issue 9: in-figure η scrub, the Streamlit η widget, and the 4-method x 5000-step
Compare page (link -> chart, η change -> chart, figure JSON bytes). Medians of one run in Chromium;
the server and the browser share the machine with whatever else runs (say so with the numbers)."""
from __future__ import annotations

import statistics
import time

from benchmarks.browser import graph, launch_browser, start_server, stop_server, wait_idle

SCRUB_QUERY = ("?view=playground&f=x%5E2%2B5y%5E2%2Bx*y&x0=1.5,1.5&win=-2,2;-2,2&steps=100&tol=1e-12"
               "&m.m0=gd(lr=0.02)&o.pg_scrub=true")
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
    """ms from opening the link to the end of the script run, and with `chart` to that chart drawn
    (the address already holds view=, and the page says "not running" before its first run starts)."""
    start = time.perf_counter()
    page.goto(url + "/" + query)
    page.wait_for_function("() => location.search.includes('view=')", timeout=timeout)
    if chart:
        page.wait_for_function("sel => { const g = document.querySelector(sel); return !!(g && g.data && g._fullLayout); }",
                               arg=f".st-key-{chart} .js-plotly-plot", timeout=timeout)
    wait_idle(page, timeout=timeout)
    return (time.perf_counter() - start) * 1e3


def _wait_path_change(page, key: str, before: str, timeout_ms: float = 60_000) -> None:
    page.wait_for_function("([sel, js, before]) => { const g = document.querySelector(sel);"
                           " return g && g.data && (eval(js))(g) !== before; }",
                           arg=[f".st-key-{key} .js-plotly-plot", PATH_JS, before], polling="raf",
                           timeout=timeout_ms)


def measure_scrub(page, url: str, repeats: int) -> list[float]:
    """ms from a click on the in-figure η slider to the path redrawn (no server involved)."""
    _open(page, url, SCRUB_QUERY)
    g = graph(page, "pg_chart")
    rail = g.locator(".slider-rail-touch-rect").first
    rail.scroll_into_view_if_needed()
    box = rail.bounding_box()
    # timed in the page: from the mouse press to the first animation frame after Plotly's restyle
    g.evaluate("""g => { window.__t0 = 0; window.__t1 = 0;
        document.addEventListener('mousedown', () => { window.__t0 = performance.now(); window.__t1 = 0; }, true);
        g.on('plotly_restyle', () => requestAnimationFrame(() => { window.__t1 = performance.now(); })); }""")
    times = []
    for r in range(repeats):
        frac = 0.05 + 0.9 * ((r * 7) % 11) / 10
        page.mouse.click(box["x"] + frac * box["width"], box["y"] + box["height"] / 2)
        try:
            page.wait_for_function("() => window.__t1 > window.__t0", timeout=5_000)
        except Exception:
            continue  # the click landed on the step already shown
        times.append(page.evaluate("() => window.__t1 - window.__t0"))
    return times


def measure_widget(page, url: str, repeats: int) -> list[float]:
    """ms from one step of the Streamlit η slider (arrow key) to the Playground path redrawn."""
    _open(page, url, WIDGET_QUERY)
    thumb = page.locator(".st-key-m0-gd-lr-slide input[type=range]").first
    g = graph(page, "pg_chart")
    times = []
    for r in range(repeats + 1):
        before = g.evaluate(PATH_JS)
        start = time.perf_counter()
        thumb.press("ArrowRight" if r % 2 == 0 else "ArrowLeft")
        _wait_path_change(page, "pg_chart", before)
        times.append((time.perf_counter() - start) * 1e3)
        wait_idle(page)
    return times[1:]  # the first pays the compile of a new run size


def measure_compare(page, url: str, repeats: int) -> tuple[list[float], list[float], int]:
    """(link -> chart ms, η change -> chart ms, figure JSON bytes) on the 4 x 5000 Compare page."""
    links = [_open(page, url, COMPARE_QUERY, chart="cmp_multiples") for _ in range(repeats)]
    nbytes = int(page.evaluate(BYTES_JS))
    thumb = page.locator(".st-key-m0-gd-lr-slide input[type=range]").first
    g = graph(page, "cmp_multiples")
    changes = []
    for r in range(repeats):
        before = g.evaluate(PATH_JS)
        start = time.perf_counter()
        thumb.press("ArrowRight" if r % 2 == 0 else "ArrowLeft")
        _wait_path_change(page, "cmp_multiples", before, 120_000)
        changes.append((time.perf_counter() - start) * 1e3)
        wait_idle(page, timeout=120_000)
    return links, changes, nbytes


def measure(repeats: int = 5) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    proc, url = start_server(log_name="streamlit-bench-scrub.log")
    try:
        with sync_playwright() as p:
            browser = launch_browser(p)
            try:
                page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
                page.set_default_timeout(120_000)
                scrub = measure_scrub(page, url, 3 * repeats)
                widget = measure_widget(page, url, repeats)
                links, changes, nbytes = measure_compare(page, url, max(2, repeats // 2))
            finally:
                browser.close()
    finally:
        stop_server(proc)
    return dict(scrub=statistics.median(scrub), widget=statistics.median(widget),
                link=statistics.median(links), change=statistics.median(changes), bytes=nbytes)


if __name__ == "__main__":
    print(measure(3))
