"""Compare view in a real browser: three methods side by side on one timeline, the overlay, the summary."""
from __future__ import annotations

import csv
import io

from conftest import (choose_view, dataframe_csv, graph, no_exception, open_app, screenshot, select_option, type_into,
                      wait_chart, wait_idle, wait_until, widget_text)


def path_names(g) -> list[str]:
    return [n for n in g.evaluate("g => g.data.map(t => t.name || '')")
            if n[:1].isdigit() and not n.endswith((" now", " end"))]


def test_three_methods_side_by_side_overlay_and_summary(page, server_url):
    open_app(page, server_url, {"view": "compare", "p": "rosenbrock"}, chart="cmp_multiples")
    no_exception(page)
    n = page.locator(".st-key-n_methods input")
    type_into(page, n, 3)
    select_option(page, "m2.method", "Nesterov momentum")
    assert "Nesterov" in widget_text(page, "m2.method")
    wait_until(lambda: "Nesterov" in " ".join(path_names(graph(page, "cmp_multiples"))), message="Nesterov panel")
    g = wait_chart(page, "cmp_multiples")

    # three panels, one shared timeline (one slider, one set of play buttons)
    layout = g.evaluate("""g => ({axes: Object.keys(g._fullLayout).filter(k => /^xaxis\\d*$/.test(k)).length,
                                 titles: (g.layout.annotations || []).map(a => a.text),
                                 sliders: (g.layout.sliders || []).length,
                                 menus: (g.layout.updatemenus || []).length,
                                 images: (g.layout.images || []).length})""")
    assert layout["axes"] == 3, layout
    assert len(layout["titles"]) == 3 and "Nesterov" in layout["titles"][2], layout
    assert layout["sliders"] == 1 and layout["menus"] == 1, layout
    assert layout["images"] == 3, "each panel needs its contour"
    names = path_names(g)
    assert len(names) == 3 and [s[:2] for s in names] == ["1.", "2.", "3."], names

    # one Play moves every panel
    first = g.evaluate("g => g.data.map((t, i) => [i, t.name || '']).filter(p => /^\\d\\./.test(p[1]) "
                       "&& !/ (now|end)$/.test(p[1])).map(p => p[0])")
    before = g.evaluate("(g, idx) => idx.map(i => g.data[i].x.length)", first)
    page.locator(".st-key-cmp_multiples g.updatemenu-button").filter(has_text="Play").first.click()
    page.wait_for_timeout(1200)
    during = g.evaluate("(g, idx) => idx.map(i => g.data[i].x.length)", first)
    assert all(d <= b for d, b in zip(during, before)) and sum(d < b for d, b in zip(during, before)) >= 2, \
        (before, during)
    screenshot(page, "compare_small_multiples", full_page=False)
    page.locator(".st-key-cmp_multiples g.updatemenu-button").filter(has_text="Pause").first.click()

    # overlay: the three paths on one contour
    choose_view(page, "cmp_tab", "Overlay on one contour")
    overlay = wait_chart(page, "cmp_overlay")
    assert overlay.is_visible()
    assert len(path_names(overlay)) == 3
    assert overlay.evaluate("g => (g.layout.images || []).length") == 1

    # summary: one row per run, exactly one marked best, and it is a converged one
    rows = list(csv.DictReader(io.StringIO(dataframe_csv(page, page.locator("[data-testid=stDataFrame]").last))))
    assert len(rows) == 3, rows
    best = [r for r in rows if "best" in r["best"]]
    assert len(best) == 1, rows
    assert best[0]["status"] == "converged" or all(r["status"] != "converged" for r in rows), rows
    wait_idle(page)
    no_exception(page)
    screenshot(page, "compare_overlay_summary")


def test_small_multiples_controls_do_not_overlap(page, server_url):
    from test_playground import control_overlaps
    open_app(page, server_url, {"view": "compare", "p": "rosenbrock"}, chart="cmp_multiples")
    assert control_overlaps(page, "cmp_multiples") == []
    choose_view(page, "cmp_tab", "Overlay on one contour")
    wait_chart(page, "cmp_overlay")
    assert control_overlaps(page, "cmp_overlay") == []
