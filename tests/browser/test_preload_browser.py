"""plotly.js loads while the server computes the page's first chart (ui/preload.py): on a fresh page
whose runs take a while (a Compare link with 4 x 5000 steps from a start no session used yet), the
browser has started loading Streamlit's Plotly chart module before the first chart element arrives,
and the in-page scripts take no room on the page."""
from __future__ import annotations

import random

from benchmarks.scrub import compare_link
from conftest import no_exception, open_app

# When the first Plotly chart element is attached to the page (before any drawing)
FIRST_CHART_JS = """() => { window.__firstChartAt = 0;
  new MutationObserver((recs, obs) => { if (document.querySelector('[data-testid="stPlotlyChart"]')) {
      window.__firstChartAt = performance.now(); obs.disconnect(); } })
    .observe(document, {subtree: true, childList: true}); }"""


def test_plotly_starts_loading_before_the_first_chart_arrives(page, server_url):
    page.add_init_script(f"({FIRST_CHART_JS})()")
    moved = random.randint(100, 999)   # a start no session has used: the server computes the runs
    open_app(page, server_url, compare_link(moved), chart="cmp_multiples")
    no_exception(page)
    assert page.evaluate("() => window.__plotlyPreloaded") is True
    loaded = page.evaluate("""() => performance.getEntriesByType('resource')
        .filter(e => /PlotlyChart\\.[^/]*\\.js$/.test(e.name)).map(e => e.startTime)""")
    first_chart = page.evaluate("() => window.__firstChartAt")
    assert loaded and first_chart > 0
    assert min(loaded) < first_chart, (loaded, first_chart)
    # the scripts' container takes no room
    box = page.locator(".st-key-compact_bar_css").bounding_box()
    assert box is None or box["height"] == 0, box
