"""The analysis pages in a real browser: each loads without an exception and draws its charts; its
"open the example" button loads the seed's example (formula, start, methods) and the example's page."""
from __future__ import annotations

import pytest

import optcore
from conftest import no_exception, open_app, screenshot, sidebar_input, wait_idle, wait_until
from ui import registry

# page path, example button text (a unique part of it), preset it loads
EXAMPLES = [("curvature", "Open the blog post's example", "blog-sin-saddle"),
            ("newton_model", "Blog example: Newton from (3.1, 1.8)", "blog-sin-convex-start"),
            ("lr_lab", "Textbook: x² with η = 0.2, 0.05, 1.1", "textbook-x2-divergent"),
            ("basins", "Open the classic example: Himmelblau", "himmelblau"),
            ("preconditioning", "Textbook exercise: x² + 100y²", "textbook-badly-scaled")]
PAGES = [(path, registry.BY_KEY[path].title, button, preset) for path, button, preset in EXAMPLES]
TITLES = {p.key: p.title for p in registry.PAGES}   # each page's header starts with its title


def drawn_charts(page) -> int:
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')]
                               .filter(g => g.data && g.data.length && g._fullLayout).length""")


@pytest.mark.parametrize("path,header,button,preset", PAGES, ids=[p[0] for p in PAGES])
def test_analysis_page_and_its_example(page, server_url, path, header, button, preset):
    # start from a small formula of our own, so the example visibly replaces it
    open_app(page, server_url, {"view": path, "f": "x^2 + 2y^2 + 0.5x*y", "x0": "1,1", "win": "-2,2;-2,2"},
             timeout=120_000)
    no_exception(page)
    assert page.locator("[data-testid=stHeading]").filter(has_text=header).count() >= 1
    wait_until(lambda: drawn_charts(page) >= 1, timeout_s=60, message=f"a chart on {path}")
    screenshot(page, f"analysis_{path}")

    page.get_by_role("button", name=button).click()
    wait_idle(page, timeout=120_000)
    example = optcore.PRESETS[preset]
    wait_until(lambda: sidebar_input(page, "f(x) =").input_value() == example.formula, timeout_s=60,
               message="the example's formula")
    wait_idle(page, timeout=120_000)
    wait_until(lambda: f"p={preset}" in page.url, timeout_s=90, message="the example in the share link")
    target = TITLES[example.page]
    assert page.locator("[data-testid=stHeading]").filter(has_text=target).count() >= 1, target
    start = [float(sidebar_input(page, v).input_value()) for v in example.variables]
    assert start == pytest.approx(list(example.start), abs=1e-6)
    wait_until(lambda: drawn_charts(page) >= 1, timeout_s=60, message="a chart after loading the example")
    no_exception(page)
    screenshot(page, f"analysis_{path}_example")
