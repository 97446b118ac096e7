"""plotly.js loads while the server computes the page's first chart (ui/preload.py): on a fresh page
whose runs take a while (a Compare link with 4 x 5000 steps from a start no session used yet), the
browser has started loading Streamlit's Plotly chart module before the first chart element arrives,
and the in-page scripts take no room on the page."""
from __future__ import annotations

import random

from conftest import no_exception, open_app

# When the first Plotly chart element is attached to the page (before any drawing)
FIRST_CHART_JS = """() => { window.__firstChartAt = 0;
  new MutationObserver((recs, obs) => { if (document.querySelector('[data-testid="stPlotlyChart"]')) {
      window.__firstChartAt = performance.now(); obs.disconnect(); } })
    .observe(document, {subtree: true, childList: true}); }"""


def test_plotly_starts_loading_before_the_first_chart_arrives(page, server_url):
    page.add_init_script(f"({FIRST_CHART_JS})()")
    y0 = 1 + random.randint(1, 999) / 1e4   # runs no session has made: the server computes them
    open_app(page, server_url, {"view": "compare", "f": "(1-x)^2+100(y-x^2)^2", "x0": f"-1.2,{y0}",
                                "win": "-2,2;-1,3", "steps": "5000", "tol": "1e-8", "o.n_methods": "4",
                                "m.m0": "gd(lr=0.001)", "m.m1": "momentum(lr=0.001,beta=0.9)",
                                "m.m2": "adam(lr=0.02)", "m.m3": "bfgs()"}, chart="cmp_multiples")
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
