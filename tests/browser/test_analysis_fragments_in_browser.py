"""The analysis pages run as fragments (issue 9, part 3): a knob on Curvature, Newton's model, Basins or
Preconditioning reruns that page, not the sidebar; the link follows the knob; and the link, opened
again, restores the page's widgets and the start (a fragment must not start a chain of full runs
that resets what the link set)."""
from __future__ import annotations

from urllib.parse import unquote

import pytest

from conftest import new_page, no_exception, open_app, screenshot, sidebar_input, wait_idle, wait_until

SIDEBAR_LABEL = b"Example gallery"   # the sidebar's first widget: sent again by every full run
BASE = {"f": "x^3 - 3x + y^2 + 0.5x*y", "x0": "1.25,-0.75", "win": "-2,2;-2,2"}

# page, its chart, extra link parameters, {widget key: value the link sets}, (knob key, new value, link key)
CASES = [
    ("curvature", "curv_map_chart", {"o.curv_n": "100", "o.curv_map": "smallest eigenvalue", "m.m0": "gd(lr=0.05)"},
     {"curv_n": "100", "curv_map": "smallest eigenvalue"}, ("m0.gd.lr", "0.07", "m.m0")),
    ("newton_model", "nm_chart", {"m.nm": "newton(lr=0.5)", "steps": "15"},
     {"nm.newton.lr": "0.5", "steps": "15"}, ("nm.newton.lr", "0.7", "m.nm")),
    ("basins", "basin_chart", {"o.basin_n": "20", "o.basin_panels": "1", "o.basin_tol": "3e-07",
                               "m.m0": "gd(lr=0.05)"},
     {"basin_tol": "3e-07", "basin_panels": "1"}, ("basin_tol", "2e-08", "o.basin_tol")),
    ("preconditioning", "pc_chart", {"o.pc_tol": "3e-07", "o.pc_view_scale": "12.5", "o.pc_steps": "300"},
     {"pc_tol": "3e-07", "pc_view_scale": "12.5", "pc_steps": "300"}, ("pc_view_scale", "3.3", "o.pc_view_scale")),
]


def count_sidebar_messages(page) -> list[int]:
    """A list whose one entry counts the server messages carrying the sidebar (full runs)."""
    seen = [0]

    def on_frame(payload):
        if SIDEBAR_LABEL in (payload if isinstance(payload, bytes) else payload.encode()):
            seen[0] += 1

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    return seen


def address(page) -> str:
    return unquote(page.evaluate("() => location.href"))


def link_value(page, key: str) -> str | None:
    text = address(page)
    marker = f"{key}="
    return text[text.index(marker) + len(marker):].split("&")[0] if marker in text else None


def shown(page, key: str) -> str:
    """What a widget shows: a number box's text, a slider's thumb, a radio's checked option."""
    box = page.locator(f".st-key-{key.replace('.', '-')}").first
    if box.locator("[data-testid=stSliderThumbValue]").count():
        return box.locator("[data-testid=stSliderThumbValue]").first.inner_text()
    if box.locator("input[type=radio]").count():
        return box.locator("label:has(input:checked)").first.inner_text().strip()
    return box.locator("input").first.input_value()


def same(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b


@pytest.mark.parametrize("view,chart,extra,restored,knob", CASES, ids=[c[0] for c in CASES])
def test_knob_reruns_the_page_only_and_the_link_restores_it(page, server_url, view, chart, extra, restored, knob):
    seen = count_sidebar_messages(page)
    open_app(page, server_url, {**BASE, "view": view, **extra}, path=f"/{view}", chart=chart, timeout=120_000)
    no_exception(page)
    for key, value in restored.items():
        assert same(shown(page, key), value), (key, shown(page, key), value)
    full_runs = seen[0]
    assert full_runs >= 1

    key, value, in_link = knob
    before = link_value(page, in_link)
    box = page.locator(f".st-key-{key.replace('.', '-')} input").first
    box.fill(value)
    box.press("Enter")
    wait_until(lambda: link_value(page, in_link) != before, timeout_s=60, message=f"the link to follow {key}")
    wait_idle(page, timeout=120_000)
    no_exception(page)
    assert seen[0] == full_runs, f"a change of {key} reran the sidebar (a full run), not only the page"
    assert value in link_value(page, in_link), (value, link_value(page, in_link))
    assert "x0=1.25,-0.75" in address(page) and f"view={view}" in address(page)
    assert float(sidebar_input(page, "x").input_value()) == 1.25
    screenshot(page, f"fragment_{view}")

    link = page.url   # opened elsewhere, the link shows the same page, knob and start
    other = new_page(page.context.browser)
    try:
        other.goto(link)
        other.wait_for_function("() => location.search.includes('view=')", timeout=120_000)
        wait_idle(other, timeout=120_000)
        wait_until(lambda: other.locator(f".st-key-{key.replace('.', '-')} input").count() > 0, timeout_s=60,
                   message=f"{key} on the reopened link")
        assert same(shown(other, key), value), (key, shown(other, key))
        for k, v in restored.items():
            if k != key:
                assert same(shown(other, k), v), (k, shown(other, k), v)
        assert float(sidebar_input(other, "x").input_value()) == 1.25
        assert float(sidebar_input(other, "y").input_value()) == -0.75
        no_exception(other)
    finally:
        other.context.close()
