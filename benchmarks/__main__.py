"""python -m benchmarks [--quick] [--no-browser]: the engine's rows and the app's rows in one table."""
from __future__ import annotations

import argparse

from optcore import bench
from optcore.bench import Row


def browser_rows(rows: list[Row], repeats: int) -> None:
    from benchmarks.browser import measure_app

    edit_ms, play_ms = measure_app(repeats)
    rows.append(Row("browser: Enter on a new formula -> chart painted (median)", edit_ms, "ms", "<= 400 ms",
                    edit_ms <= 400))
    rows.append(Row("browser: play -> last frame, 200-step run", play_ms, "ms", "-", None))
    from benchmarks.scrub import measure
    m = measure(repeats)
    rows.append(Row("browser: in-figure η scrub -> path redrawn (median)", m["scrub"], "ms", "<= 50 ms",
                    m["scrub"] <= 50))
    if "scrub_beta" in m:
        rows.append(Row("browser: in-figure β scrub (momentum) -> path redrawn (median)", m["scrub_beta"], "ms",
                        "<= 50 ms", m["scrub_beta"] <= 50))
    if "hover" in m:
        rows.append(Row("browser: hover over the contour -> path from that start drawn (median)", m["hover"], "ms",
                        "<= 50 ms", m["hover"] <= 50))
    rows.append(Row("browser: Streamlit η widget -> Playground path redrawn", m["widget"], "ms", "<= 300 ms",
                    m["widget"] <= 300))
    rows.append(Row("browser: Compare 4 x 5000 Rosenbrock, new link -> chart (runs computed)", m["link"], "ms",
                    "<= 3000 ms", m["link"] <= 3000))
    rows.append(Row("browser: Compare 4 x 5000, link opened again -> chart (runs cached)", m["link_again"], "ms",
                    "<= 3000 ms", m["link_again"] <= 3000))
    rows.append(Row("browser: Compare 4 x 5000, η change -> chart", m["change"], "ms", "<= 1000 ms",
                    m["change"] <= 1000))
    rows.append(Row("browser: figure JSON on that Compare page", m["bytes"] / 1e6, "MB", "<= 2 MB",
                    m["bytes"] <= 2e6))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test that prints the table")
    parser.add_argument("--no-browser", action="store_true", help="skip the headless-Chromium measurements")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    sections = bench.engine_sections(rows, args.quick)
    if not args.no_browser:
        # Nine repeats per browser row: on the shared 2-core machine medians of five moved by ±60 ms
        # between runs a few minutes apart (η widget 386 ms in one run; 207 ms, median of 24, in the next).
        sections.append(("browser", lambda: browser_rows(rows, 2 if args.quick else 9)))
    return bench.report(rows, sections, args.quick)


if __name__ == "__main__":
    raise SystemExit(main())
