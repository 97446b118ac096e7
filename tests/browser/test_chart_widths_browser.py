"""The page keeps each chart's width where the next run reads it (ui/chart_widths.py), without a run
of its own: a knob then mounts the new chart already at its width and visible, so plotly.js draws the
picture the student sees at once instead of a hidden drawing first and the visible one after it."""
from __future__ import annotations

from conftest import graph, no_exception, open_app, wait_idle, wait_until

BOWL = {"f": "x^2 + 3y^2", "x0": "1.5,1.5", "win": "-2,2;-2,2", "steps": "100", "tol": "1e-12",
        "m.m0": "gd(lr=0.02)"}

# Every Plotly.react call on a keyed chart: was the chart visible, and at which width?
WRAP_REACT_JS = """v => { const react = v.react;
  v.react = function (gd, ...rest) {
    const holder = gd && gd.closest && gd.closest('[class*="st-key-"]');
    const key = holder && (Array.from(holder.classList).find(c => c.startsWith('st-key-')) || '').slice(7);
    const layout = rest[0] && rest[0].layout ? rest[0].layout : rest[1];
    window.__draws.push({key, visible: gd.style.visibility !== 'hidden', width: layout && layout.width});
    return react.call(this, gd, ...rest); }; }"""
RECORD_JS = f"""() => {{ window.__draws = []; const P = window.Plotly; if (P.__recorded) return; P.__recorded = true;
  ({WRAP_REACT_JS})(P); }}"""
# The same from the page's start (plotly.js is defined once Streamlit's chart module loads)
RECORD_ON_LOAD_JS = f"""() => {{ let P; window.__draws = [];
  Object.defineProperty(window, 'Plotly', {{configurable: true, get() {{ return P; }},
    set(v) {{ P = v; ({WRAP_REACT_JS})(v); }} }}); }}"""
# Any script run from now on (Streamlit marks the app "running" while a script runs)
RUNS_JS = """() => { window.__runs = 0; const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => { if (app.getAttribute('data-test-script-state') === 'running') window.__runs++; })
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }"""


def test_a_knob_draws_the_new_chart_at_its_width_at_once_and_keeping_widths_costs_no_run(page, server_url):
    open_app(page, server_url, BOWL, chart="pg_chart")
    no_exception(page)
    page.evaluate(RUNS_JS)
    wait_until(lambda: page.evaluate("() => window.__chartWidthsReported > 0"), timeout_s=30,
               message="the page kept the charts' widths")
    page.wait_for_timeout(1000)
    assert page.evaluate("() => window.__runs") == 0   # kept without a run of its own
    column = graph(page, "pg_chart").evaluate("g => g.layout.width")
    page.evaluate(RECORD_JS)
    page.locator(".st-key-m0-gd-lr-slide input[type=range]").first.press("ArrowRight")
    wait_until(lambda: any(d["key"] == "pg_chart" for d in page.evaluate("() => window.__draws")), timeout_s=30,
               message="the new chart drawn")
    wait_idle(page)
    first = next(d for d in page.evaluate("() => window.__draws") if d["key"] == "pg_chart")
    assert first["visible"] and first["width"] == column, first
    no_exception(page)


def test_a_new_session_of_the_same_browser_draws_its_first_chart_at_once(page, server_url):
    open_app(page, server_url, BOWL, chart="pg_chart")
    wait_until(lambda: page.evaluate("() => window.__chartWidthsReported > 0"), timeout_s=30,
               message="the page kept the charts' widths")
    column = graph(page, "pg_chart").evaluate("g => g.layout.width")
    # a share link opened later in the same browser: a new session
    page.add_init_script(f"({RECORD_ON_LOAD_JS})()")
    open_app(page, server_url, {**BOWL, "x0": "1.2,1.4"}, chart="pg_chart")
    first = next(d for d in page.evaluate("() => window.__draws") if d["key"] == "pg_chart")
    assert first["visible"] and first["width"] == column, first
    no_exception(page)
