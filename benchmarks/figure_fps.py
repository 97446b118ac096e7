"""How smoothly an animated figure plays in Chromium: frames shown per second after "Play".

    python benchmarks/figure_fps.py                 # the 4-method x 5000-step Rosenbrock compare
    python benchmarks/figure_fps.py --shots DIR     # also save screenshots mid-play and at the end
    python benchmarks/figure_fps.py --figure playground   # the Playground's contour (200 steps)

The figure is written as a self-contained HTML page (plotly.js inline), opened in Debian's
headless Chromium (Playwright), and its own "Play" button is clicked. plotly.js emits
`plotly_animatingframe` once per frame it shows and `plotly_animated` at the end: frames shown /
(end − first frame) is the animation's frame rate. The page's requestAnimationFrame callbacks in
the same interval say whether the main thread kept up with the display, and Chromium's own
count of main-thread busy time (DevTools `Performance.getMetrics`, TaskDuration) divided by the
frames shown is the work per frame: unlike the frame rate it hardly depends on other jobs on a
shared machine (a frame costing under ~16 ms can run at 30 fps). "late" is the share of frames
shown more than two 60 Hz ticks (~37 ms) after the one before.

    python benchmarks/figure_fps.py --figure playground --load 1   # with one busy process beside it
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

if __name__ == "__main__":  # run as a script: import this checkout's optcore
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright's own browser download does not work here
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

LISTEN = """() => {
  const gd = document.querySelector('.plotly-graph-div');
  window.__fps = {frames: [], done: null, raf: 0, rafOn: false};
  gd.on('plotly_animatingframe', () => {
    const s = window.__fps;
    s.frames.push(performance.now());
    if (!s.rafOn) { s.rafOn = true; const tick = () => { if (s.done === null) { s.raf++; requestAnimationFrame(tick); } };
                    requestAnimationFrame(tick); }
  });
  gd.on('plotly_animated', () => { window.__fps.done = performance.now(); });
}"""


LATE_MS = 37.0  # a frame shown later than two 60 Hz ticks after the one before missed the 30 fps beat


@contextlib.contextmanager
def busy_processes(n: int, seconds: float = 300.0):
    """`n` processes spinning on a core while the block runs ("under some load"); stopped after it."""
    spin = f"import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass"
    procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(n)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def write_html(fig, path: Path) -> Path:
    fig.write_html(str(path), include_plotlyjs=True, full_html=True, auto_play=False)
    return path


def measure_play_fps(fig, *, button: str = "Play", repeats: int = 3, timeout_s: float = 60.0,
                     width: int = 1400, height: int | None = None, shots: Path | None = None,
                     chromium: str | None = None) -> dict:
    """Play `fig` in headless Chromium `repeats` times; the median frames per second and more.

    Returns {"fps", "fps_all", "frames", "seconds", "raf_fps", "busy_ms_per_frame", "cpu_ms_per_frame",
    "late", "html_bytes"}; `cpu_ms_per_frame` is the main thread's CPU time per frame shown (DevTools
    ThreadTime), the least load-dependent of them; `late` the share of frame intervals over `LATE_MS`. With `shots`, saves
    `<shots>/play-mid.png` (half-way through the first play) and `<shots>/play-end.png`.
    """
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        page_path = write_html(fig, Path(tmp) / "figure.html")
        html_bytes = page_path.stat().st_size
        runs = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium or CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": width, "height": height or int(fig.layout.height or 700) + 40})
            page.goto(page_path.as_uri())
            page.wait_for_selector(".plotly-graph-div .main-svg", timeout=timeout_s * 1e3)
            page.evaluate(LISTEN)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")

            def metric(name: str) -> float:
                metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                return float(metrics.get(name, float("nan")))

            def busy_seconds() -> float:
                return metric("TaskDuration")
            for r in range(repeats):
                busy_before, cpu_before = busy_seconds(), metric("ThreadTime")
                page.evaluate("() => { const s = window.__fps; s.frames = []; s.done = null; s.raf = 0; s.rafOn = false; }")
                page.locator("g.updatemenu-button").filter(has_text=button).first.click()
                if shots is not None and r == 0:
                    n = len(fig.frames)
                    page.wait_for_function(f"() => window.__fps.frames.length >= {max(1, n // 2)}",
                                           timeout=timeout_s * 1e3)
                    shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shots / "play-mid.png"))
                page.wait_for_function("() => window.__fps.done !== null", timeout=timeout_s * 1e3)
                state = page.evaluate("() => window.__fps")
                busy, cpu = busy_seconds() - busy_before, metric("ThreadTime") - cpu_before
                if shots is not None and r == 0:
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(shots / "play-end.png"))
                times = state["frames"]
                seconds = (state["done"] - times[0]) / 1e3 if times else float("nan")
                gaps = [b - a for a, b in zip(times, times[1:])]
                runs.append(dict(frames=len(times), seconds=seconds,
                                 late=sum(g > LATE_MS for g in gaps) / max(len(gaps), 1),
                                 fps=(len(times) - 1) / seconds if len(times) > 1 and seconds > 0 else float("nan"),
                                 raf_fps=state["raf"] / seconds if seconds > 0 else float("nan"),
                                 busy_ms_per_frame=busy * 1e3 / max(len(times), 1),
                                 cpu_ms_per_frame=cpu * 1e3 / max(len(times), 1)))
            browser.close()
    fps = [r["fps"] for r in runs]
    best = sorted(runs, key=lambda r: r["fps"])[len(runs) // 2]
    return dict(fps=statistics.median(fps), fps_all=fps, frames=best["frames"], seconds=best["seconds"],
                raf_fps=best["raf_fps"], html_bytes=html_bytes,
                late=statistics.median(r["late"] for r in runs),
                busy_ms_per_frame=statistics.median(r["busy_ms_per_frame"] for r in runs),
                cpu_ms_per_frame=statistics.median(r["cpu_ms_per_frame"] for r in runs))


def compare_figures(steps: int = 5000):
    """The issue's case: GD, momentum, Adam and BFGS from (-1.2, 1) on Rosenbrock, `steps` steps
    each, drawn as the compare page draws them (small multiples and the overlay)."""
    import optcore
    from optcore.figures import trajectory as figs
    from optcore.figures.grid import value_grid

    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    window = ((-2.0, 2.0), (-1.0, 3.0))
    specs = (("gd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3}), ("adam", {"lr": 0.05}), ("bfgs", {}))
    runs = [optcore.run(obj, m, [-1.2, 1.0], steps=steps, tol=0, **kw) for m, kw in specs]
    paths = [figs.path_from_points(t.points, m, figs.default_color(i), values=t.values)
             for i, ((m, _), t) in enumerate(zip(specs, runs))]
    xs, ys, Z = value_grid(obj, window, 200)
    xs_s, ys_s, Z_s = value_grid(obj, window, 120)
    multiples = figs.small_multiples_figure(xs_s, ys_s, Z_s, [(p["name"], [p]) for p in paths], minima=[(1.0, 1.0)])
    overlay = figs.contour_paths_figure(xs, ys, Z, paths, minima=[(1.0, 1.0)])
    return multiples, overlay


def playground_figure(steps: int = 200):
    """The Playground's animated contour as the page builds it (click grid, frames):
    GD with a small η on an elongated bowl, `steps` steps (100 frames)."""
    import optcore
    from optcore.figures import trajectory as figs
    from optcore.figures.grid import value_grid

    obj = optcore.parse("x^2 + 10y^2")
    window = ((-3.0, 3.0), (-2.0, 2.0))
    t = optcore.run(obj, "gd", [2.5, 1.5], steps=steps, tol=1e-15, lr=0.001)
    xs, ys, Z = value_grid(obj, window, 200)
    path = figs.path_from_points(t.points, "gd", figs.default_color(0), values=t.values)
    return figs.contour_paths_figure(xs, ys, Z, [path], minima=[(0.0, 0.0)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shots", type=Path, default=None, help="folder for mid-play and end screenshots")
    parser.add_argument("--figure", choices=("compare", "playground"), default="compare",
                        help="compare: the 4-method Rosenbrock figures; playground: the Playground contour")
    parser.add_argument("--load", type=int, default=0, help="busy processes running beside the browser")
    args = parser.parse_args(argv)
    if args.figure == "playground":
        figures = (("playground", playground_figure(min(args.steps, 200))),)
    else:
        figures = tuple(zip(("small multiples", "overlay"), compare_figures(args.steps)))
    for name, fig in figures:
        shots = args.shots / name.replace(" ", "-") if args.shots else None
        with busy_processes(args.load):
            r = measure_play_fps(fig, repeats=args.repeats, shots=shots)
        print(f"{name}: {r['fps']:.1f} frames/s (runs {', '.join(f'{v:.1f}' for v in r['fps_all'])}), "
              f"{r['frames']} frames in {r['seconds']:.2f} s, late {100 * r['late']:.0f} %, rAF {r['raf_fps']:.0f}/s, "
              f"main thread busy {r['busy_ms_per_frame']:.1f} ms/frame (CPU {r['cpu_ms_per_frame']:.1f} ms), "
              f"HTML {r['html_bytes'] / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
