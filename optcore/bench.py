"""Benchmark: one table of ratios and sizes, all measured in the same run.

    python -m optcore.bench            # the engine's rows (about a minute)
    python -m optcore.bench --quick    # smoke test for CI: small sizes, same table
    python -m benchmarks [--quick]     # the same rows plus the app in headless Chromium, one table

Shared machines are noisy, so every figure is a ratio of two timings taken back to back (or a size),
each timing the median of several repeats. Targets come from issue 5; the last column says whether
this run met them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass
from collections.abc import Callable

import numpy as np

BLOG_FUNCTION = "sin(x)^2 + sin(10 + x*y/2)*cos(x)"


@dataclass
class Row:
    measure: str
    value: float
    unit: str
    target: str
    met: bool | None

    def cells(self) -> list[str]:
        shown = f"{self.value:,.0f}" if abs(self.value) >= 100 else f"{self.value:.3g}"
        verdict = {True: "yes", False: "NO", None: "-"}[self.met]
        return [self.measure, f"{shown} {self.unit}".strip(), self.target, verdict]


def median_time(fn: Callable[[], object], repeats: int, clock: Callable[[], float] = time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


# The engine sections are single-threaded NumPy in this process, so they are timed in CPU time:
# on an idle machine it equals wall-clock time, and on a shared one (other jobs on the same two
# cores) it does not count the time the OS gave to someone else. Compile stays on the wall clock:
# its work happens in a worker process.
CPU_CLOCK = time.process_time


def fresh_compile_seconds(text: str) -> float:
    """Parse, differentiate and compile value/gradient/Hessian, bypassing the formula cache."""
    from .objective import DERIVE_SECONDS, _parse_cached

    start = time.perf_counter()
    obj = _parse_cached.__wrapped__(text, None, DERIVE_SECONDS)
    obj.value_grad_hess(np.zeros(obj.dim))
    obj.value_grad(np.zeros(obj.dim))
    return time.perf_counter() - start


def bench_compile(rows: list[Row]) -> None:
    import optcore
    from .presets import PRESETS

    # One-off costs at app start-up, not per formula: the worker process, and the first
    # lambdify in this process (it imports NumPy's printing namespace, some 100-400 ms).
    optcore.parse("x^2 + y^2").value_grad_hess(np.zeros(2))
    texts = sorted({p.formula for p in PRESETS.values()})
    times = {t: fresh_compile_seconds(t) for t in texts}
    worst_text = max(times, key=times.get)
    median = statistics.median(times.values())
    rows.append(Row(f"compile, median of {len(texts)} presets", median * 1e3, "ms", "<= 60 ms", median <= 0.060))
    rows.append(Row(f"compile, worst preset ({worst_text[:28]})", times[worst_text] * 1e3, "ms", "<= 300 ms",
                    times[worst_text] <= 0.300))
    optcore.parse(worst_text)
    cached = median_time(lambda: optcore.parse(worst_text), 20)
    rows.append(Row("compile, formula already cached", cached * 1e3, "ms", "<= 5 ms", cached <= 0.005))


def step_and_floor_seconds(obj, method: str, X0: np.ndarray, floor: Callable[[], object], repeats: int,
                           steps: int = 5) -> tuple[float, float]:
    """Median time of one batched step, and of ``floor``, measured interleaved.

    One step = (run of 1 + steps) − (run of 1 step), divided by steps. The floor is timed in the
    same rounds, right next to the runs: on a shared machine the speed of the same code drifts by
    tens of percent within seconds (other jobs' use of the shared caches), and timing the floor
    and the step minutes apart turned that drift into the ratio.
    """
    import optcore

    per_step, floors = [], []
    for _ in range(repeats):
        floors.append(median_time(floor, 1, CPU_CLOCK))
        short = median_time(lambda: optcore.run_batch(obj, method, X0, steps=1, tol=0), 1, CPU_CLOCK)
        long = median_time(lambda: optcore.run_batch(obj, method, X0, steps=1 + steps, tol=0), 1, CPU_CLOCK)
        per_step.append(max(long - short, 1e-9) / steps)
    return statistics.median(per_step), statistics.median(floors)


def extra_line_search_trials(obj, method: str, X0: np.ndarray, steps: int = 6) -> float:
    """Mean f evaluations per row and step beyond the first trial of the line search.

    The f count per step is 1 (f at x_k, read for the Armijo test) plus the trials; the first
    trial's f and gradient are what the next step needs anyway (evaluated fused and reused).
    """
    import optcore

    batch = optcore.run_batch(obj, method, X0, steps=steps, tol=0)
    f_per_step = np.diff(batch.evaluations[:, :, 0], axis=1).mean()
    return max(float(f_per_step) - 2.0, 0.0)


def bench_steps(rows: list[Row], starts: int, repeats: int) -> None:
    import optcore

    obj = optcore.parse(BLOG_FUNCTION)
    rng = np.random.default_rng(0)
    X0 = rng.uniform([-1.0, -1.0], [4.0, 3.0], size=(starts, 2))
    # BFGS with Armijo backtracking must evaluate f at every trial step. Its first trial is
    # evaluated together with the gradient (the next step's f and ∇f, so no extra cost); each
    # rejected trial costs at least one more f evaluation on that row. On this function about a
    # quarter of the rows backtrack per step (a few of them 20-40 times), so the honest floor is
    # f+grad plus that many f evaluations per row. Adam (and GD) read only the gradient, but the
    # engine records f at every iterate and needs it to detect divergence, so one f+grad
    # evaluation is their floor.
    extra = extra_line_search_trials(obj, "bfgs", X0)
    cases = (
        ("newton_abs", lambda: obj.grad_hess(X0), f"one grad+Hessian eval ({starts:,} starts)", 1.5),
        ("bfgs", lambda: (obj.value_grad(X0), obj.value(X0[: int(extra * len(X0))])),
         f"one f+grad eval + {extra:.2f} f evals (rejected trials)", 1.5),
        ("adam", lambda: obj.value_grad(X0), f"one f+grad eval ({starts:,} starts)", 1.2),
    )
    for method, floor, floor_name, limit in cases:
        step, floor_seconds = step_and_floor_seconds(obj, method, X0, floor, repeats)
        ratio = step / floor_seconds
        rows.append(Row(f"one {method} step / {floor_name}", ratio, "x", f"<= {limit}x", ratio <= limit))


def bench_scipy_loop(rows: list[Row], starts: int, batch_starts: int) -> None:
    import optcore
    from scipy.optimize import minimize

    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    rng = np.random.default_rng(1)
    X0 = rng.uniform(-2, 2, size=(starts, 2))

    def scipy_loop() -> int:
        iterations = 0
        for x0 in X0:
            res = minimize(lambda p: float(obj.value(p)), x0, jac=lambda p: obj.grad(p), method="BFGS")
            iterations += res.nit
        return iterations

    scipy_iterations = scipy_loop()
    scipy_per = median_time(scipy_loop, 3, CPU_CLOCK) / scipy_iterations
    # The batched engine's cost per start falls as the batch grows: that is the point of it.
    X0_batch = rng.uniform(-2, 2, size=(batch_starts, 2))
    batch = optcore.run_batch(obj, "bfgs", X0_batch, steps=200, tol=1e-6)
    seconds = median_time(lambda: optcore.run_batch(obj, "bfgs", X0_batch, steps=200, tol=1e-6), 3, CPU_CLOCK)
    ours_per = seconds / max(int(batch.iterations.sum()), 1)
    ratio = scipy_per / ours_per
    rows.append(Row(f"scipy BFGS loop / run_batch, per start-iteration ({starts} / {batch_starts:,} starts)", ratio, "x",
                    ">= 500x", ratio >= 500))


def bench_figure(rows: list[Row], grid: int, steps: int) -> None:
    import optcore
    from .figures.grid import value_grid
    from .figures.trajectory import contour_paths_figure, default_color, path_from_points

    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    window = ((-2.0, 2.0), (-1.0, 3.0))
    runs = {m: optcore.run(obj, m, [-1.2, 1.0], steps=steps, tol=0, **kw)
            for m, kw in (("gd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3}), ("adam", {"lr": 0.05}))}
    xs, ys, Z = value_grid(obj, window, grid)

    def build():
        paths = [path_from_points(t.points, m, default_color(i)) for i, (m, t) in enumerate(runs.items())]
        return contour_paths_figure(xs, ys, Z, paths, minima=[(1.0, 1.0)])
    seconds = median_time(build, 5, CPU_CLOCK)  # single-threaded Python: CPU time, as the engine rows
    size = len(build().to_json().encode())
    rows.append(Row(f"comparison figure JSON (3 x {steps} steps, {grid}x{grid})", size / 1e6, "MB", "<= 1.5 MB",
                    size <= 1.5e6))
    rows.append(Row("comparison figure build time", seconds * 1e3, "ms", "<= 150 ms", seconds <= 0.150))


def bench_compare_figures(rows: list[Row], steps: int) -> None:
    """Issue 9: the compare page's figures for GD, momentum, Adam and BFGS from (-1.2, 1) on
    Rosenbrock, `steps` steps each (small multiples on a 120 grid + overlay on a 200 grid): their
    JSON together, and the time to build them and serialise them as st.plotly_chart does."""
    import plotly.io as pio
    import plotly.tools

    import optcore
    from .figures.grid import value_grid
    from .figures.trajectory import contour_paths_figure, default_color, path_from_points, small_multiples_figure

    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    window = ((-2.0, 2.0), (-1.0, 3.0))
    specs = (("gd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3}), ("adam", {"lr": 0.05}), ("bfgs", {}))
    runs = [optcore.run(obj, m, [-1.2, 1.0], steps=steps, tol=0, **kw) for m, kw in specs]
    xs, ys, Z = value_grid(obj, window, 200)
    xs_s, ys_s, Z_s = value_grid(obj, window, 120)

    def build():
        paths = [path_from_points(t.points, m, default_color(i), values=t.values)
                 for i, ((m, _), t) in enumerate(zip(specs, runs))]
        return (small_multiples_figure(xs_s, ys_s, Z_s, [(p["name"], [p]) for p in paths], minima=[(1.0, 1.0)]),
                contour_paths_figure(xs, ys, Z, paths, minima=[(1.0, 1.0)]))

    def shipped(fig) -> str:  # what st.plotly_chart does with a go.Figure
        return pio.to_json(plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True), validate=False)

    size = sum(len(shipped(fig).encode()) for fig in build())
    build_s = median_time(build, 3, CPU_CLOCK)
    figures = build()
    ship_s = median_time(lambda: [shipped(fig) for fig in figures], 3, CPU_CLOCK)
    rows.append(Row(f"compare figures JSON (4 x {steps} steps, multiples + overlay)", size / 1e6, "MB", "<= 2 MB",
                    size <= 2e6))
    rows.append(Row("compare figures build time (both)", build_s * 1e3, "ms", "<= 500 ms", build_s <= 0.5))
    rows.append(Row("compare figures serialised as st.plotly_chart does (both)", ship_s * 1e3, "ms", "<= 150 ms",
                    ship_s <= 0.15))


def bench_basins(rows: list[Row], n: int, steps: int) -> None:
    import optcore
    from .analysis import basin_map

    obj = optcore.parse("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    basin_map(obj, "newton", ((-5.0, 5.0), (-5.0, 5.0)), 10, steps)  # warm the compiled Hessian
    start = time.perf_counter()
    basin_map(obj, "newton", ((-5.0, 5.0), (-5.0, 5.0)), n, steps)
    seconds = time.perf_counter() - start
    rows.append(Row(f"basin map {n}x{n} starts x {steps} Newton steps", seconds, "s", "<= 1 s", seconds <= 1.0))


def bench_sweep(rows: list[Row], n: int, steps: int) -> None:
    """An η × β grid of momentum runs on the course quadratic: one batched run of n² rows."""
    import optcore
    from .analysis import param_heatmap
    from .presets import PRESETS

    preset = PRESETS["course-quadratic"]
    obj = optcore.parse(preset.formula, variables=preset.variables)
    lrs, betas = np.geomspace(1e-3, 1.0, n), np.linspace(0.0, 0.99, n)
    sweep = lambda: param_heatmap(obj, "momentum", preset.start, lrs, betas, beta_name="beta", steps=steps)  # noqa: E731
    sweep()  # warm
    seconds = median_time(sweep, 3, CPU_CLOCK)
    rows.append(Row(f"{n} x {n} eta x beta sweep (momentum, course quadratic, {steps} steps)", seconds, "s",
                    "<= 1 s", seconds <= 1.0))


def bench_race_tuning(rows: list[Row], starts: int, steps: int) -> None:
    """Tune 4 methods (48 learning rates, x 3 momenta where a method has one) over many starts on
    Rosenbrock: one batched run per method."""
    import optcore
    from .race import Budget, race, random_starts

    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    X0 = random_starts([(-2.0, 2.0), (-1.0, 3.0)], starts, seed=0, first=[-1.2, 1.0])
    methods = [(m, {}) for m in ("gd", "momentum", "adam", "bfgs")]
    tune = lambda: race(obj, methods, X0, Budget("iterations", steps), tune=True, f_star=0.0)  # noqa: E731
    seconds = median_time(tune, 3, CPU_CLOCK)
    rows.append(Row(f"race: tune 4 methods x 48 eta x {starts} starts x {steps} steps (Rosenbrock)", seconds, "s",
                    "<= 2 s", seconds <= 2.0))


def format_table(rows: list[Row]) -> str:
    header = ["measure", "value", "target", "met"]
    body = [r.cells() for r in rows]
    widths = [max(len(line[i]) for line in [header] + body) for i in range(4)]
    fmt = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    lines = [fmt(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [fmt(cells) for cells in body]
    return "\n".join(lines)


def engine_sections(rows: list[Row], quick: bool) -> list[tuple[str, Callable[[], None]]]:
    """The engine's measurements as (name, run) pairs that append to `rows` (the browser rows,
    which start Streamlit, live outside the package: python -m benchmarks)."""
    return [
        ("compile", lambda: bench_compile(rows)),
        ("steps", lambda: bench_steps(rows, 4_000 if quick else 40_000, 3 if quick else 7)),
        ("scipy", lambda: bench_scipy_loop(rows, 10 if quick else 100, 2_000 if quick else 20_000)),
        ("figure", lambda: bench_figure(rows, 200, 200)),
        ("compare figures", lambda: bench_compare_figures(rows, 5000)),
        ("basins", lambda: bench_basins(rows, 50 if quick else 200, 50)),
        ("sweep", lambda: bench_sweep(rows, 16 if quick else 64, 200)),
        ("race", lambda: bench_race_tuning(rows, 4 if quick else 16, 100 if quick else 500)),
    ]


def report(rows: list[Row], sections: list[tuple[str, Callable[[], None]]], quick: bool) -> int:
    """Run the sections, print one table; 1 when a section failed."""
    for name, section in sections:
        try:
            section()
        except Exception as err:  # a broken section must not hide the others' numbers
            rows.append(Row(f"{name}: FAILED ({type(err).__name__}: {err})"[:100], float("nan"), "", "-", False))
    print(f"optcore benchmark{' (quick mode: smaller sizes, targets apply to the full run)' if quick else ''}, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    print(format_table(rows))
    failed_sections = [r for r in rows if "FAILED" in r.measure]
    return 1 if failed_sections else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optcore.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test that prints the table")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    return report(rows, engine_sections(rows, args.quick), args.quick)


if __name__ == "__main__":
    raise SystemExit(main())
