"""python -m benchmarks.memory: the Streamlit server's memory before, at the peak of and after heavy jobs.

Issue 14: a finished heavy job kept its memory (2 GB 50 s after a 6-method Newton compare, 1 GB a
quarter of an hour later). This starts its own server on 127.0.0.1, drives it with headless Chromium,
and samples the resident memory (VmRSS) of the server process, and of its worker processes apart,
every half second:

- basins: Himmelblau, 300 x 300 starts x 3 methods (gd, Newton, Newton |H|) x 2000 steps;
- sigmoids: basins of nested sigmoids, 300 x 300 starts x gradient descent x 2000 steps, where no run
  converges: every chunk of 2000 starts records a full 2000-step history;
- compare: 6 x Newton |H| with exact line search (η 1 ... 0.5) x 5000 steps (the step limit) on nested
  sigmoids, where no run converges, so every one runs all 5000 steps.

Each job prints the server's RSS before it (its page already open and warm: imports, caches and the
automatic small map are not the job's), its peak, and its RSS right after and `--after` seconds later. `--quick` runs small versions of both (a smoke test: ~1 minute). Every wait is bounded.
"""
from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from urllib.parse import quote

from benchmarks import browser as bb

JOB_BAR = "[data-testid='stProgress']"
SIGMOIDS = "sigmoid(sigmoid(sigmoid(sigmoid(x)))) + 0.001y^2"


def children_rss_mb(pid: int) -> float:
    """Resident memory of the direct children of `pid` (the sandbox's worker processes), in MB."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for kid in kids:
            try:
                total += bb.rss_mb(int(kid))
            except (OSError, ValueError):
                pass
    return total


class Sampler:
    """Samples the server's RSS every `every_s` seconds in a thread; `peak()` since the last `reset()`."""

    def __init__(self, pid: int, every_s: float = 0.5):
        self.pid, self.every_s = pid, every_s
        self._peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self._peak = max(self._peak, bb.rss_mb(self.pid))
            except OSError:
                return

    def reset(self) -> float:
        self._peak = now = bb.rss_mb(self.pid)
        return now

    def peak(self) -> float:
        return max(self._peak, bb.rss_mb(self.pid))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def job_running(page, label: str) -> bool:
    return page.locator(JOB_BAR).filter(has_text=label).count() > 0


def open_basins(page, url: str, panels: int, formula: str | None = None) -> None:
    """The basins page for the Himmelblau preset (or `formula`) with `panels` methods, its automatic
    100 x 100 map drawn: what the page costs before any heavy job (imports, caches, figures)."""
    query = "?view=basins&p=himmelblau" if formula is None else "?view=basins&f=" + quote(formula)
    page.goto(url + "/" + query)
    page.wait_for_function("() => location.search.includes('view=basins')", timeout=120_000)
    bb.wait_idle(page, timeout=300_000)
    page.locator(".st-key-basin_chart").wait_for(timeout=300_000)
    box = page.locator(".st-key-basin_panels input")
    box.fill(str(panels))
    box.press("Enter")
    bb.wait_idle(page, timeout=300_000)
    page.locator(".st-key-basin_chart").wait_for(timeout=300_000)


def run_basins(page, n_end: bool, steps: int, timeout_s: float = 900) -> None:
    """On the open basins page: `steps` per run and, with `n_end`, 300 x 300 starts and the button;
    returns once the new map is drawn."""
    if n_end:
        page.locator(".st-key-basin_n input[type=range]").focus()
        page.keyboard.press("End")                                   # 300 per axis: waits for the button
        bb.wait_idle(page, timeout=60_000)
    box = page.locator(".st-key-basin_steps input")
    box.fill(str(steps))
    box.press("Enter")                                               # 100 x 100: runs at once
    bb.wait_idle(page, timeout=timeout_s * 1000)
    if n_end:
        page.locator(".st-key-basin_go button").click()
        page.locator(JOB_BAR).filter(has_text="Basin maps").wait_for(timeout=60_000)
    # done: the map is drawn and the script has finished (before issue 14's fix the finished job's
    # progress bar stayed on the page, so the bar is not what is waited for)
    page.locator(".st-key-basin_chart").wait_for(timeout=timeout_s * 1000)
    bb.wait_idle(page, timeout=120_000)


def compare_query(methods: int, steps: int) -> str:
    lrs = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5][:methods]
    runs = "".join(f"&m.m{i}=newton_abs(lr={lr:g},line_search=exact)" for i, lr in enumerate(lrs))
    return (f"?view=compare&f={quote(SIGMOIDS)}&x0=2,1&win=-4,4;-4,4&steps={steps}&tol=1e-12"
            f"&o.n_methods={len(lrs)}{runs}")


def open_compare(page, url: str, methods: int, steps: int, timeout_s: float = 900) -> None:
    page.goto(url + "/" + compare_query(methods, steps))
    page.wait_for_function("() => location.search.includes('view=compare')", timeout=120_000)
    bb.wait_idle(page, timeout=timeout_s * 1000)
    bb.graph(page, "cmp_conv").wait_for(state="attached", timeout=120_000)


def new_page(browser, old=None):
    """A page in a new browser context (a new Streamlit session); `old`'s context is closed."""
    if old is not None:
        old.context.close()
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(60_000)
    return page


def measure(name: str, prepare, job, server_pid: int, sampler: Sampler, after_s: float) -> dict:
    """`prepare()` (the page the job runs on, warmed), then RSS around `job()`."""
    prepare()
    before = sampler.reset()
    workers_before = children_rss_mb(server_pid)
    t0 = time.time()
    job()
    took = time.time() - t0
    peak = sampler.peak()
    right_after = bb.rss_mb(server_pid)
    time.sleep(after_s)
    later = bb.rss_mb(server_pid)
    row = dict(job=name, seconds=took, before=before, peak=peak, after=right_after, later=later,
               workers_before=workers_before, workers_after=children_rss_mb(server_pid))
    print(f"{name}: {took:.0f} s; server RSS {before:.0f} MB before, peak {peak:.0f} MB, {right_after:.0f} MB "
          f"when done, {later:.0f} MB {after_s:.0f} s later (workers {workers_before:.0f} -> "
          f"{row['workers_after']:.0f} MB)", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small jobs (100 x 100 basins, 6 x 500 steps)")
    parser.add_argument("--after", type=float, default=30.0, help="seconds to wait after each job (default 30)")
    parser.add_argument("--jobs", default="basins,sigmoids,compare",
                        help="comma-separated: basins, sigmoids, compare (default: all three)")
    args = parser.parse_args(argv)
    wanted = [j.strip() for j in args.jobs.split(",") if j.strip()]

    from playwright.sync_api import sync_playwright
    proc, url = bb.start_server(log_name="streamlit-memory.log")
    sampler = Sampler(proc.pid)
    rows = []
    try:
        with sync_playwright() as p:
            browser = bb.launch_browser(p)
            page = new_page(browser)
            page.goto(url + "/")                                   # warm-up: imports, first compile
            page.wait_for_function("() => location.search.includes('view=')", timeout=120_000)
            bb.wait_idle(page, timeout=120_000)
            print(f"server RSS after warm-up: {bb.rss_mb(proc.pid):.0f} MB", flush=True)
            if "basins" in wanted:
                page = new_page(browser, page)                     # a new session for each job
                rows.append(measure("basins " + ("100x100 x 3 x 200" if args.quick else "300x300 x 3 x 2000"),
                                    lambda: open_basins(page, url, panels=3),
                                    lambda: run_basins(page, n_end=not args.quick, steps=200 if args.quick else 2000),
                                    proc.pid, sampler, args.after))
            if "sigmoids" in wanted:
                page = new_page(browser, page)
                rows.append(measure("basins of nested sigmoids " + ("100x100" if args.quick else "300x300")
                                    + " x gd x 2000 (no run converges)",
                                    lambda: open_basins(page, url, panels=1, formula=SIGMOIDS),
                                    lambda: run_basins(page, n_end=not args.quick, steps=2000),
                                    proc.pid, sampler, args.after))
            if "compare" in wanted:
                steps = 500 if args.quick else 5000
                page = new_page(browser, page)
                rows.append(measure(f"compare 6 x Newton |H| exact x {steps}",
                                    lambda: open_compare(page, url, 6, 20),
                                    lambda: open_compare(page, url, 6, steps), proc.pid, sampler, args.after))
            page.context.close()                               # the session ends: what stays is the server's
            time.sleep(args.after)
            print(f"server RSS {args.after:.0f} s after the tab left: {bb.rss_mb(proc.pid):.0f} MB", flush=True)
            browser.close()
    finally:
        sampler.stop()
        bb.stop_server(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
