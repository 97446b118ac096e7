"""The app in headless Chromium: shared server/browser helpers and the browser rows of the benchmark.

    from benchmarks.browser import measure_app
    edit_ms, play_ms = measure_app(repeats=5)

`measure_app` starts `streamlit run app.py` on a free port, opens the playground in Debian's
Chromium (Playwright drives it; Playwright's own browser download is not used) and measures

* formula edit: from pressing Enter on a new formula in the sidebar to the first frame that paints the
  playground chart holding the new function (its title/colour-bar/contour picture changed), timed in
  the page (`time_change`), median ms;
* playback: from clicking "Play" on a 200-step run to the frame slider at its last step and the
  path holding all 201 points, median ms.

The browser tests (tests/browser/conftest.py) reuse `start_server`, `stop_server`, `launch_browser`,
`wait_idle` and the selectors below.
"""
from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
FORMULA = 'section[data-testid="stSidebar"] input[aria-label="f(x) ="]'


# ---------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------
def chromium_path() -> str | None:
    for candidate in (os.environ.get("BROWSER_PATH"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(url: str, timeout: float = 2.0) -> str | None:
    """The body of `/_stcore/health` ("ok" when the server is up), or None."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as r:
            return r.read().decode().strip()
    except OSError:
        return None


def start_server(port: int | None = None, log_name: str | None = None,
                 timeout: float = 60.0) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` headless on a free port; returns (process, base url) once healthy."""
    port = port or free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           "--server.runOnSave", "false"]
    log = open(ARTIFACTS / (log_name or f"streamlit-{port}.log"), "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}; see {log.name}")
        if health(url) == "ok":
            return proc, url
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not become healthy within {timeout:.0f} s; see {log.name}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def launch_browser(playwright, path: str | None = None):
    path = path or chromium_path()
    if path is None:
        raise RuntimeError("Debian's chromium is required: apt-get install -y chromium (bash dev.sh test does this)")
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)


# ---------------------------------------------------------------------------------------------
# Page helpers (sync Playwright API)
# ---------------------------------------------------------------------------------------------
def wait_idle(page, timeout: float = 30_000, settle_ms: int = 300) -> None:
    """Wait until Streamlit has finished the current script run (and let the DOM settle)."""
    page.wait_for_selector(IDLE, timeout=timeout)
    if settle_ms:
        page.wait_for_timeout(settle_ms)
        page.wait_for_selector(IDLE, timeout=timeout)


def graph(page, key: str):
    """The plotly graph div of the chart with widget key `key`."""
    return page.locator(f".st-key-{key} .js-plotly-plot").first


def set_formula(page, text: str) -> None:
    box = page.locator(FORMULA)
    box.fill(text)
    box.press("Enter")


# Reads the part of the chart that identifies the function drawn: the contour picture's data URL
# (2-D), the curve (1-D) and the title. Short enough to compare, specific enough to change.
SIGNATURE_JS = """g => {
  const img = (g.layout.images || []).map(i => String(i.source).slice(-200)).join('|');
  const curve = (g.data || []).filter(t => t.type !== 'contour').slice(0, 3)
      .map(t => t.y ? Array.from(t.y).slice(0, 5).join(',') : '').join('|');
  const title = g.layout.title && (g.layout.title.text || g.layout.title);
  return [img, curve, String(title), (g.data || []).length].join('#');
}"""


def chart_signature(page, key: str = "pg_chart") -> str | None:
    loc = graph(page, key)
    try:
        if loc.count() == 0:
            return None
        return loc.evaluate(SIGNATURE_JS, timeout=5_000)
    except Exception:
        return None


def wait_for_change(page, key: str, before: str | None, timeout_s: float = 30.0, poll_ms: int = 20) -> str:
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        now = chart_signature(page, key)
        if now is not None and now != before:
            return now
        page.wait_for_timeout(poll_ms)
    raise TimeoutError(f"chart {key} did not change within {timeout_s} s")


PATH_STATE_JS = """(g, i) => ({n: g.data[i] && g.data[i].x ? g.data[i].x.length : -1,
  images: (g.layout.images || []).length,
  slider: g.layout.sliders && g.layout.sliders[0] ? g.layout.sliders[0].active : null,
  steps: g.layout.sliders && g.layout.sliders[0] ? g.layout.sliders[0].steps.length : 0,
  frames: g._transitionData && g._transitionData._frames ? g._transitionData._frames.length : 0,
  current: g._fullLayout && g._fullLayout._currentFrame !== undefined ? g._fullLayout._currentFrame : null})"""


def path_trace_index(page, key: str = "pg_chart") -> int:
    """Index of the first path line trace (mode lines+markers) of the chart."""
    return graph(page, key).evaluate(
        "g => g.data.findIndex(t => (t.mode || '').includes('lines') && t.name !== 'f')")


def path_state(page, key: str = "pg_chart", index: int | None = None) -> dict:
    i = path_trace_index(page, key) if index is None else index
    return graph(page, key).evaluate(PATH_STATE_JS, i)


def click_play(page, key: str = "pg_chart", label: str = "Play") -> None:
    page.locator(f".st-key-{key} g.updatemenu-button").filter(has_text=label).first.click()


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------
EDIT_FORMULAS = ["x^2 + {a}y^2 + x*y", "(x - {a})^2 + 3(y + 1)^2", "x^4/4 + y^2 + {a}x*y",
                 "sin(x) + cos(y) + 0.{a}x^2 + 0.1y^2", "exp(0.1x) + {a}y^2 + x^2"]


def _open_playground(page, url: str, query: str = "") -> None:
    page.goto(f"{url}/{query}")
    # "notRunning" shows before the first run starts; app.py writes `view=` into the URL at its end
    page.wait_for_function("() => location.search.includes('view=')", timeout=90_000)
    wait_idle(page, timeout=90_000)
    graph(page, "pg_chart").wait_for(state="attached", timeout=60_000)


# Timed in the page, like the in-figure scrub: from the key press (keydown, capture phase) to the
# first animation frame at which the chart's signature differs from the one before, i.e. the frame
# that paints the new picture. Polling from Python instead waited for the page's later work (the
# convergence charts below, the inspector) to let an evaluate through: 200-400 ms after the chart
# itself had been drawn.
# Streamlit draws a new chart twice: hidden (visibility: hidden, no width yet), then at the width of
# its column. The student sees it once the second drawing has been laid out at that width.
SHOWN_JS = """g => !!(g && g.layout && g._fullLayout && g.style.visibility !== 'hidden'
  && g.layout.width !== undefined && g._fullLayout.width === g.layout.width)"""
CHANGE_TIMER_JS = """([sel, signature, shownJs]) => {
  const sig = eval(signature), shown = eval(shownJs);
  const now = () => { const g = document.querySelector(sel);   // null while a new chart is being mounted
    try { return g && shown(g) ? sig(g) : null; } catch (e) { return null; } };
  const s = window.__change = {t0: 0, t1: 0, before: now()};
  if (!window.__changeKey) { window.__changeKey = true;
    document.addEventListener('keydown', () => { const c = window.__change; if (c && !c.t0) c.t0 = performance.now(); }, true); }
  const tick = () => { if (window.__change !== s || s.t1) return;
    if (s.t0) { const n = now(); if (n !== null && n !== s.before) { s.t1 = performance.now(); return; } }
    requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""


def time_change(page, key: str, act, signature_js: str | None = None, timeout_s: float = 60.0) -> float:
    """ms from the key press that `act()` makes to the chart `key` painted changed (in-page timing)."""
    page.evaluate(CHANGE_TIMER_JS, [f".st-key-{key} .js-plotly-plot", signature_js or SIGNATURE_JS, SHOWN_JS])
    act()
    page.wait_for_function("() => window.__change && window.__change.t1 > 0", timeout=timeout_s * 1e3, polling=50)
    return float(page.evaluate("() => window.__change.t1 - window.__change.t0"))


def measure_edit(page, repeats: int, first: int = 0) -> list[float]:
    """Edit times (ms) of `repeats` formulas; `first` numbers them so no formula repeats the last one."""
    times = []
    for r in range(first, first + repeats):
        text = EDIT_FORMULAS[r % len(EDIT_FORMULAS)].format(a=r + 2)
        box = page.locator(FORMULA)
        box.fill(text)
        times.append(time_change(page, "pg_chart", lambda box=box: box.press("Enter")))
        wait_idle(page, settle_ms=200)
    return times


def measure_play(page, repeats: int, steps: int = 200) -> list[float]:
    """Play a `steps`-step run (GD with a small rate on an elongated bowl: it never converges early)
    and time until the last frame is on screen."""
    times = []
    for _ in range(repeats):
        # Re-render so every repeat starts from a fresh figure (slider at its end, no current frame).
        page.reload()
        page.wait_for_function("() => location.search.includes('view=')", timeout=90_000)
        wait_idle(page, timeout=90_000)
        graph(page, "pg_chart").wait_for(state="attached", timeout=60_000)
        idx = path_trace_index(page)
        state = path_state(page, index=idx)
        if state["n"] != steps + 1:
            raise RuntimeError(f"expected a {steps}-step path ({steps + 1} points), the chart has {state['n']}")
        last = state["steps"] - 1
        start = time.perf_counter()
        click_play(page)
        # first the animation rewinds to frame 0; then wait for the last frame
        page.wait_for_function(
            """([sel, i, n, last]) => { const g = document.querySelector(sel);
                 if (!g || !g.data[i]) return false;
                 window.__seenShort = window.__seenShort || g.data[i].x.length < n;
                 return window.__seenShort && g.data[i].x.length === n
                        && g.layout.sliders[0].active === last; }""",
            arg=[".st-key-pg_chart .js-plotly-plot", idx, steps + 1, last], timeout=120_000, polling=10)
        times.append((time.perf_counter() - start) * 1e3)
        page.evaluate("() => { window.__seenShort = false; }")
    return times


PLAY_QUERY = ("?view=playground&f=x%5E2%2B10y%5E2&x0=2.5,1.5&win=-3,3;-2,2&steps=200&tol=1e-15"
              "&m.m0=gd(lr=0.001)")


HOVER_QUERY = "?view=playground&f=x%5E2%2B5y%5E2%2Bx*y&x0=1.5,1.5&win=-2,2;-2,2&steps=100&tol=1e-12&m.m0=gd(lr=0.05)"


def measure_hover(page, url: str, repeats: int = 10) -> tuple[list[float], int]:
    """Hover preview of the start (2-D Playground): ms from a pointer move onto another grid cell to
    the preview path painted (timed in the page: mousemove -> the first task after the frame that
    shows it), and the bytes of the preview payload sent beside the chart."""
    _open_playground(page, url, HOVER_QUERY)
    g = graph(page, "pg_chart")
    g.wait_for()
    page.wait_for_function("() => window.__oePreviews && window.__oePreviews.pg_chart")
    nbytes = int(page.evaluate("() => JSON.stringify(window.__oePreviews.pg_chart).length"))
    g.evaluate("""g => { window.__h = {t0: 0, t1: 0};
        document.addEventListener('mousemove', () => { if (!window.__h.t0) window.__h.t0 = performance.now(); }, true);
        // the first task after the frame that shows the preview (its rendering and paint included)
        const done = () => requestAnimationFrame(() => setTimeout(() => { window.__h.t1 = performance.now(); }, 0));
        g.on('oe_preview', done); }""")
    area = g.locator(".nsewdrag").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    times = []
    # The first moves compile the page's and plotly.js's hover code: three warm-up moves, not timed.
    for r in range(-3, repeats):
        fx, fy = 0.1 + 0.8 * ((r * 7) % 10) / 9, 0.1 + 0.8 * ((r * 3) % 10) / 9
        page.evaluate("() => { window.__h.t0 = 0; window.__h.t1 = 0; }")
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        try:
            page.wait_for_function("() => window.__h.t1 > window.__h.t0 && window.__h.t0 > 0", timeout=5_000)
        except Exception:
            continue  # the same grid cell as before: nothing to redraw
        if r >= 0:
            times.append(page.evaluate("() => window.__h.t1 - window.__h.t0"))
    return times, nbytes


def measure_app(repeats: int = 5) -> tuple[float, float]:
    """(median ms from Enter on a new formula to the chart updated,
        median ms from Play to the last frame of a 200-step run)."""
    from playwright.sync_api import sync_playwright

    proc, url = start_server(log_name="streamlit-bench.log")
    try:
        with sync_playwright() as p:
            browser = launch_browser(p)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                page.set_default_timeout(60_000)
                _open_playground(page, url)
                measure_edit(page, 1)                     # warm-up: first compile, first render
                edit = measure_edit(page, repeats, first=1)
                _open_playground(page, url, PLAY_QUERY)
                play = measure_play(page, max(1, min(repeats, 3)))
                context.close()
            finally:
                browser.close()
    finally:
        stop_server(proc)
    return statistics.median(edit), statistics.median(play)


if __name__ == "__main__":
    e, p = measure_app(3)
    print(f"edit -> chart: {e:.0f} ms (median); play -> last frame: {p:.0f} ms (median)")


async def launch_browser_async(playwright, path: str | None = None):
    """`launch_browser` for the async Playwright API."""
    path = path or chromium_path()
    if path is None:
        raise RuntimeError("Debian's chromium is required: apt-get install -y chromium (bash dev.sh test does this)")
    return await playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
