"""Downloads (CSV, JSON, HTML, PNG, SVG, GIF) and share links (crafted, hostile, round trip, fresh server)."""
from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from conftest import (CANARY_DIR, bb, download, new_page, no_exception, open_app, open_expander, screenshot,
                      sidebar_input, wait_chart, wait_idle, widget_text)

from ui import registry

ELLIPSE = {"f": "x^2 + 5y^2 + x*y", "x0": "1.5,1.5", "win": "-2,2;-2,2", "steps": "60", "m.m0": "gd(lr=0.05)"}


def check_file(kind: str, data: bytes, variables=("x", "y")) -> None:
    if kind == "CSV":
        lines = data.decode("utf-8").splitlines()
        comments = [line for line in lines if line.startswith("#")]
        assert comments[0].startswith("# f(") and "made with optcore" in comments[-1], comments  # provenance
        header = lines[len(comments)].split(",")
        assert header[:2] == ["run", "step"] and all(v in header for v in variables) and "f" in header, header
        assert len(lines) > 10
    elif kind == "JSON":
        doc = json.loads(data)
        assert doc["runs"], doc.keys()
        assert doc["provenance"]["formula"] and doc["provenance"]["optcore_version"], doc["provenance"]
        run = next(iter(doc["runs"].values()))
        assert run["method"] and len(run["points"]) > 1, run.keys()
    elif kind == "HTML":
        text = data.decode("utf-8")
        assert "plotly" in text.lower(), text[:200]
        assert "Plotly.addFrames" in text or '"frames"' in text, "the animation frames are missing"
        assert len(text) > 1_000_000 and 'src="https://cdn.plot.ly' not in text, "should be self-contained (works offline)"
    elif kind == "PY":
        assert b"import numpy" in data and b"def grad" in data, data[:300]
    elif kind == "PNG":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    elif kind == "SVG":
        head = data[:200].lstrip()
        assert head.startswith(b"<svg") or head.startswith(b"<?xml"), head
        assert b"</svg>" in data[-100:]
    elif kind == "GIF":
        assert data[:6] in (b"GIF89a", b"GIF87a") and len(data) > 10_000


@pytest.mark.parametrize("view,key,chart", [("playground", "pg_export", "pg_chart"),
                                            ("compare", "cmp_export", "cmp_multiples")])
def test_every_download(page, server_url, view, key, chart):
    open_app(page, server_url, {**ELLIPSE, "view": view}, chart=chart)
    open_expander(page, "Export and share")
    for kind, label in (("CSV", "CSV"), ("JSON", "JSON"), ("PY", "Python"), ("HTML", "HTML")):
        check_file(kind, download(page, f"{key}.{kind.lower()}", label))
    for kind in ("PNG", "SVG", "GIF"):  # built on a click, with a progress bar, then offered
        page.locator(f".st-key-{key}-make-{kind.lower()} button").first.click()
        wait_idle(page, timeout=120_000)
        check_file(kind, download(page, f"{key}.{kind.lower()}", kind))
    no_exception(page)
    screenshot(page, f"export_{view}")


def slider_value(page, key: str) -> str:
    return page.locator(f".st-key-{key} [data-testid=stSliderThumbValue]").inner_text()


def test_share_link_restores_widgets(page, server_url):
    query = {"f": "x^2 + 3y^2", "x0": "1.25,-0.75", "win": "-2,2;-2,2", "steps": "42", "tol": "1e-06",
             "m.m0": "momentum(lr=0.03,beta=0.8)"}
    open_app(page, server_url, query, chart="pg_chart")
    no_exception(page)
    assert page.locator("[data-testid=stAlert]").filter(has_text="safe ones").count() == 0
    assert sidebar_input(page, "f(x) =").input_value() == "x^2 + 3y^2"
    assert float(sidebar_input(page, "x").input_value()) == 1.25
    assert float(sidebar_input(page, "y").input_value()) == -0.75
    assert page.locator(".st-key-steps input").input_value() == "42"
    assert "Momentum" in widget_text(page, "m0.method"), widget_text(page, "m0.method")
    assert float(page.locator(".st-key-m0-momentum-lr input").first.input_value()) == 0.03  # the typed box
    assert float(page.locator(".st-key-m0-momentum-beta input").input_value()) == 0.8
    assert slider_value(page, "tol") == "1e-06"
    screenshot(page, "share_link_restored")

    # the address bar now holds the whole state: opening it elsewhere shows the same thing
    link = page.url
    other = new_page(page.context.browser)
    try:
        other.goto(link)
        other.wait_for_function("() => location.search.includes('view=')")
        wait_chart(other, "pg_chart")
        assert sidebar_input(other, "f(x) =").input_value() == "x^2 + 3y^2"
        # the chart can be drawn by the first run while the app's second run still fills the widgets
        expect(other.locator(".st-key-steps input")).to_have_value("42", timeout=30_000)
        assert float(other.locator(".st-key-m0-momentum-lr input").first.input_value()) == 0.03
        assert float(sidebar_input(other, "y").input_value()) == -0.75
    finally:
        other.context.close()


def test_hostile_link_is_clamped_with_a_notice(page, server_url):
    canary = CANARY_DIR / "pwned"
    query = {"f": f"__import__('os').system('touch {canary}')", "steps": str(10**9), "m.m0": "gd(lr=1e9)",
             "win": "2,-2;3,-3", "x0": "1e300,nan", "tol": "0", "m.zz": "evil(x=1)",
             "view": "../../etc/passwd"}
    open_app(page, server_url, query, chart="pg_chart", timeout=60_000)
    no_exception(page)
    notice = page.locator("[data-testid=stAlert]").filter(has_text="changed to safe ones")
    notice.wait_for()
    text = notice.inner_text()
    for expected in ("steps", "formula from the link was not used", "window", "lr"):
        assert expected in text, (expected, text)
    assert page.locator(".st-key-steps input").input_value() == "5000"
    lr = float(page.locator(".st-key-m0-gd-lr input").first.input_value())
    assert lr <= 10, lr
    assert "__import__" not in sidebar_input(page, "f(x) =").input_value()
    assert not canary.exists(), "the hostile formula ran code"
    screenshot(page, "share_link_hostile")


@pytest.mark.parametrize("path,query,header,chart,formula", [
    ("/compare", {**ELLIPSE, "m.m1": "adam(lr=0.1)", "m.m2": "bfgs()"}, "Compare methods", "cmp_multiples",
     "x^2 + 5y^2 + x*y"),
    ("/curvature", None, "Curvature", "curv_map_chart", None),
], ids=["share-link", "plain-page-url"])
def test_deep_link_on_a_fresh_server(browser, path, query, header, chart, formula):
    """The first request a new server ever gets is a page's own URL (a share link, or just the
    address of an analysis page): the page opens inside the shared frame (sidebar, navigation)."""
    proc, url = bb.start_server(log_name="streamlit-fresh.log")
    pg = new_page(browser)
    try:
        open_app(pg, url, query, path=path, chart=chart, timeout=120_000)
        no_exception(pg)
        assert pg.locator("[data-testid=stHeading]").filter(has_text=header).count() == 1
        if formula is not None:
            assert sidebar_input(pg, "f(x) =").input_value() == formula
        assert pg.locator("[data-testid=stSidebarNav] a").count() == len(registry.PAGES)
        assert pg.locator(".st-key-preset_select").count() == 1      # the shared sidebar is drawn
        screenshot(pg, f"deep_link_fresh_server_{path.strip('/')}")
    finally:
        pg.context.close()
        bb.stop_server(proc)
