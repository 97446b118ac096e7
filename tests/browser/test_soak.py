"""Memory over a long session (issue 14): many edits with many different formulas, and a heavy basin job,
leave the server's resident memory bounded (growth after warm-up, and a finished job's memory returned)."""
from __future__ import annotations

from conftest import bb, new_page, rss_mb
from test_fair_share import job_running, open_playground, start_heavy_basins

EDITS = 40
GROWTH_LIMIT_MB = 150        # after warm-up, over EDITS formulas (the caches are bounded by entries)
JOB_LEFTOVER_MB = 250        # what a finished 90,000-start basin job may still hold


def formula(i: int) -> str:
    shapes = ["x^2 + {a}y^2 + 0.{b}x*y", "sin(x) + cos({a}y) + 0.{b}x^2 + 0.1y^2", "(x - {a})^4 + (y + 0.{b})^2",
              "log(1 + x^2 + {a}y^2) + 0.{b}x", "exp(0.{b}x) + {a}y^2 + x^2", "tanh(x*y) + 0.{b}x^2 + {a}y^2"]
    return shapes[i % len(shapes)].format(a=i // len(shapes) + 2, b=i % 9 + 1)


def edit(page, text: str) -> None:
    before = bb.chart_signature(page)
    bb.set_formula(page, text)
    bb.wait_for_change(page, "pg_chart", before, timeout_s=120)
    bb.wait_idle(page, settle_ms=100)


def test_memory_stays_bounded_over_many_formulas_and_after_a_heavy_job(server, browser):
    page = new_page(browser)
    try:
        open_playground(page, server.url)
        for i in range(8):                                  # warm-up: imports, first compiles, caches
            edit(page, formula(100 + i))
        warm = rss_mb(server.pid)
        for i in range(EDITS):
            edit(page, formula(i))
        after_edits = rss_mb(server.pid)
        print(f"server RSS: {warm:.0f} MB after warm-up, {after_edits:.0f} MB after {EDITS} more formulas")
        assert after_edits - warm < GROWTH_LIMIT_MB, (warm, after_edits)
    finally:
        page.context.close()

    heavy = new_page(browser)
    try:
        before_job = rss_mb(server.pid)
        start_heavy_basins(heavy, server.url, steps_per_run=100)
        peak = before_job
        while job_running(heavy):
            peak = max(peak, rss_mb(server.pid))
            heavy.wait_for_timeout(1000)
        bb.wait_idle(heavy, timeout=600_000)
        heavy.locator(".st-key-basin_chart").wait_for(timeout=60_000)
        after_job = rss_mb(server.pid)
        print(f"basin job: {before_job:.0f} MB before, peak {peak:.0f} MB, {after_job:.0f} MB after")
        assert after_job - before_job < JOB_LEFTOVER_MB, (before_job, peak, after_job)
    finally:
        heavy.context.close()
