"""Browser tests: a real Streamlit server and Debian's headless Chromium driven by Playwright.

Every test here is marked `browser`. Screenshots go to artifacts/screenshots/ so a person (and CI)
can look at what the user saw. Server and browser start-up live in `benchmarks.browser` (the
benchmark uses the same code).

Selectors (Streamlit 1.67): a widget key `a.b` shows up as the CSS class `st-key-a-b` on its
element container; wait for `[data-testid=stApp][data-test-script-state=notRunning]` after each
interaction (`wait_idle`).
"""
from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from benchmarks import browser as bb
from benchmarks.browser import (CHROMIUM_ARGS, FORMULA, chart_signature, chromium_path, free_port,  # noqa: F401
                                   graph, health, path_state, path_trace_index, rss_mb, set_formula,
                                   wait_for_change)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SIDEBAR = "section[data-testid='stSidebar']"
EXCEPTION = "[data-testid='stException']"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def start_server(port: int):
    """Kept for callers of the old helper: the process of a healthy server on `port`."""
    proc, _ = bb.start_server(port)
    return proc


class Server:
    def __init__(self, proc, url):
        self.proc, self.url = proc, url

    @property
    def pid(self) -> int:
        return self.proc.pid


@pytest.fixture(scope="session")
def server():
    proc, url = bb.start_server(log_name="streamlit-tests.log")
    yield Server(proc, url)
    bb.stop_server(proc)


@pytest.fixture(scope="session")
def server_url(server):
    return server.url


@pytest.fixture(scope="session")
def browser():
    if chromium_path() is None:
        pytest.fail("Debian's chromium is required for browser tests: apt-get install -y chromium "
                    "(bash dev.sh test does this)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = bb.launch_browser(p)
        yield b
        b.close()


def new_page(browser, width: int = 1400, height: int = 1000):
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    # Streamlit's dataframe "Download as CSV" uses the File System Access picker when present;
    # without it, it falls back to an ordinary download that Playwright can catch.
    context.add_init_script("delete window.showSaveFilePicker;")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.js_errors = []
    pg.on("pageerror", lambda err: pg.js_errors.append(str(err)))
    return pg


@pytest.fixture(scope="session")
def warm_app(browser, server_url):
    """Open "/" once before any test: pays the first compile (SymPy, Plotly) so that the tests'
    own timeouts measure the app, not the server's start-up."""
    pg = new_page(browser)
    pg.goto(server_url + "/")
    wait_idle(pg, timeout=120_000)
    pg.context.close()
    return server_url


@pytest.fixture
def page(browser, warm_app):
    pg = new_page(browser)
    yield pg
    pg.context.close()


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished the current script run."""
    bb.wait_idle(page, timeout=timeout)


def screenshot(page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# Times (performance.now()) at which a script run started, kept by the page from its first load on.
RUN_STARTS_JS = """if (!window.__runStarts) {
  window.__runStarts = [];
  new MutationObserver((records) => {
    for (const r of records)
      if (r.target.getAttribute('data-test-script-state') === 'running' && r.oldValue !== 'running')
        window.__runStarts.push(performance.now());
  }).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                        attributeFilter: ['data-test-script-state']});
}"""


def open_app(page, url: str, query: dict | str | None = None, path: str = "/", timeout: float = 90_000,
             frame: bool = True, chart: str | None = None) -> None:
    """Open the app (optionally with share-link parameters) and wait for the first run to finish.

    The page shows "notRunning" before its first run has even started, so with `frame` this also
    waits for the end of a run of app.py: it writes the state into the URL (`view=`). With `chart`,
    it also waits for the chart to be drawn and laid out for its width (`wait_relaid_out`)."""
    if isinstance(query, dict):
        query = "?" + urlencode(query)
    if not getattr(page, "_run_starts_watched", False):
        page.add_init_script(RUN_STARTS_JS)
        page._run_starts_watched = True
    page.goto(url + path + (query or ""))
    if frame:
        page.wait_for_function("() => location.search.includes('view=')", timeout=timeout)
    wait_idle(page, timeout=timeout)
    if chart:
        wait_chart(page, chart, timeout=timeout)
        wait_relaid_out(page, chart, timeout=timeout)


def wait_relaid_out(page, key: str, timeout: float = 60_000) -> None:
    """A window whose charts are narrower (or wider) than the first run assumed gets one more run that
    lays them out for their width (ui/chart_widths.py), after a quiet second. Let the width keeper look
    at the drawn chart (it looks every 250 ms), and if it asked for that run, wait for it and its chart."""
    page.wait_for_function("sel => { const g = document.querySelector(sel);"
                           " return !!(g && g.layout && g.layout.width > 0 && g.style.visibility !== 'hidden'); }",
                           arg=f".st-key-{css_key(key)} .js-plotly-plot", timeout=timeout)
    seen = page.evaluate("window.__chartWidthsMeasured || 0")
    page.wait_for_function(f"() => window.__chartWidthsChannel === false || (window.__chartWidthsMeasured || 0) > {seen}",
                           timeout=timeout)
    # it asks only after a quiet second (no run, no input) since it first saw the chart crossed
    page.wait_for_function("() => !window.__chartWidthsPending", timeout=timeout)
    asked_at = page.evaluate("window.__chartWidthsRelaidAt")
    if asked_at is None:
        return
    page.wait_for_function(f"() => (window.__runStarts || []).some((t) => t >= {asked_at})", timeout=timeout)
    wait_idle(page, timeout=timeout)
    wait_chart(page, key, timeout=timeout)


def wait_chart(page, key: str, timeout: float = 60_000):
    """The plotly graph div of chart `key`, once Plotly has drawn it (data and layout present)."""
    page.wait_for_function(
        "sel => { const g = document.querySelector(sel); return !!(g && g.data && g._fullLayout); }",
        arg=f".st-key-{css_key(key)} .js-plotly-plot", timeout=timeout)
    return graph(page, css_key(key))


def no_exception(page) -> None:
    boxes = page.locator(EXCEPTION)
    assert boxes.count() == 0, "exception box on the page: " + " | ".join(boxes.all_inner_texts())[:2000]


def sidebar_input(page, label: str):
    return page.locator(f'{SIDEBAR} input[aria-label="{label}"]')


def type_into(page, locator, value, wait: bool = True) -> None:
    locator.fill(str(value))
    locator.press("Enter")
    if wait:
        wait_idle(page)


def apply_formula(page, text: str, timeout_s: float = 30.0, key: str = "pg_chart") -> str:
    """Type a formula and press Enter; return the chart's new signature once it changed."""
    before = chart_signature(page, key)
    set_formula(page, text)
    after = wait_for_change(page, key, before, timeout_s=timeout_s)
    wait_idle(page)
    return after


def select_option(page, key: str, option_text: str) -> None:
    """Pick `option_text` in the selectbox with widget key `key` (dots as in the key)."""
    page.locator(f".st-key-{css_key(key)} input").click()
    page.keyboard.type(option_text)
    page.locator("[role=option]").filter(has_text=option_text).first.wait_for()
    page.keyboard.press("Enter")
    wait_idle(page)


def choose_view(page, key: str, label: str) -> None:
    """Press `label` in the view switch with widget key `key` (views.view_switch: a row of buttons)."""
    page.locator(f".st-key-{css_key(key)}").get_by_role("radio", name=label).click()
    wait_idle(page)


def widget_text(page, key: str) -> str:
    """Everything a widget shows: its text plus the values of its inputs (a selectbox's choice)."""
    return page.locator(f".st-key-{css_key(key)}").first.evaluate(
        "e => e.innerText + ' | ' + [...e.querySelectorAll('input')].map(i => i.value).join(' | ')")


def css_key(key: str) -> str:
    return key.replace(".", "-")


def open_expander(page, title: str) -> None:
    page.locator("[data-testid=stExpander] summary").filter(has_text=title).first.click()
    wait_idle(page)


def download(page, key: str, label: str, timeout: float = 90_000) -> bytes:
    """Click the download button with widget key `key` and return the file's bytes."""
    button = page.locator(f".st-key-{css_key(key)} button").filter(has_text=label).first
    with page.expect_download(timeout=timeout) as info:
        button.click()
    return Path(info.value.path()).read_bytes()


def dataframe_csv(page, frame) -> str:
    """The rows of a st.dataframe (a canvas grid) through its toolbar's "Download as CSV"."""
    frame.scroll_into_view_if_needed()
    frame.hover()
    with page.expect_download(timeout=20_000) as info:
        page.get_by_role("button", name="Download as CSV").first.click()
    return Path(info.value.path()).read_text(encoding="utf-8-sig")


def click_chart(page, key: str, fx: float, fy: float) -> None:
    """Click the plot area of a chart at fractions (fx, fy) of its width/height from the top left.
    Plotly needs a hover on the nearest point before a click selects it."""
    area = graph(page, key).locator(".nsewdrag").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
    page.mouse.move(x - 6, y - 6)
    page.wait_for_timeout(100)
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.down()
    page.wait_for_timeout(50)
    page.mouse.up()


def wait_until(predicate, timeout_s: float = 20.0, poll_s: float = 0.2, message: str = "condition"):
    deadline = time.time() + timeout_s
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {message} (last: {last!r})")


CANARY_DIR = ROOT / "artifacts" / "canary"
CANARY_DIR.mkdir(parents=True, exist_ok=True)
