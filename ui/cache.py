"""The one cache of the app: every run, grid and analysis a page shows comes through here.

Keys are plain values: the formula as (text, variables), the method and its parameters, the
start, steps, tol, the window and grid size. Cheap, shareable results use `st.cache_data`
(bounded, shared by every session); the heavy studies that draw a progress bar while they run
(basin maps, sweeps, the preconditioning study) are kept per session, the last few of each kind.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import NamedTuple, TypeVar

import numpy as np
import streamlit as st

import optcore
from optcore import analysis
from optcore import window as windows
from ui import jobs

T = TypeVar("T")
Window = tuple[tuple[float, float], ...]


class Formula(NamedTuple):
    """What identifies an objective: the text and, for presets, the variables in their order."""
    text: str
    variables: tuple[str, ...] | None = None

    def parse(self):
        return optcore.parse(self.text, self.variables)


def _params_key(params: dict) -> tuple:
    return tuple(sorted((k, v) for k, v in params.items()))


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in np.ravel(values))


def _window_key(window) -> Window:
    return tuple((float(lo), float(hi)) for lo, hi in window)


# ------------------------------------------------------------------------------- peeking in
_PEEKING: ContextVar[bool] = ContextVar("ui_cache_peeking", default=False)


class _NotCached(Exception):
    """Raised by a cached function's body while `peek` asks: a miss then computes nothing (Streamlit
    does not cache exceptions)."""


def _computing() -> None:
    if _PEEKING.get():
        raise _NotCached


def peek(call: Callable[[], T]) -> T | None:
    """`call()` (a call of `run` or `ladder_paths`) when its result is already cached, by any
    session; None otherwise, with no work done. What a page prices before it decides to compute."""
    token = _PEEKING.set(True)
    try:
        return call()
    except _NotCached:
        return None
    finally:
        _PEEKING.reset(token)


# ---------------------------------------------------------------------------------- runs, grids
@st.cache_data(max_entries=256, show_spinner=False)
def _run(formula: Formula, method: str, params: tuple, x0: tuple, steps: int, tol: float):
    _computing()
    return optcore.run(formula.parse(), method, np.array(x0, dtype=float), steps=steps, tol=tol, **dict(params))


def run(formula: Formula, method: str, params: dict, x0: Sequence[float], steps: int, tol: float):
    """optcore.run, cached per (formula, method, params, start, steps, tol)."""
    return _run(Formula(*formula), method, _params_key(params), _floats(x0), int(steps), float(tol))


@st.cache_data(max_entries=64, show_spinner=False)
def _grid(formula: Formula, window: Window, n: int, base: tuple | None, axes: tuple[int, int]):
    from optcore.figures.grid import value_grid
    return value_grid(formula.parse(), window, n, base=base, axes=axes)


def grid(formula: Formula, window, n: int = 200, base: Sequence[float] | None = None,
         axes: tuple[int, int] = (0, 1)):
    """(xs, ys, Z) of f over the window (a slice through `base` for d > 2)."""
    return _grid(Formula(*formula), _window_key(window), int(n),
                 _floats(base) if base is not None else None, tuple(int(a) for a in axes))


# ------------------------------------------------------------------------------ windows, points
@st.cache_data(max_entries=64, show_spinner=False)
def auto_window(formula: Formula) -> Window | None:
    """A window around the stationary points found in [-5, 5]^d, or None when there are none."""
    try:
        obj = formula.parse()
        pts = analysis.critical_points(obj, [(-5.0, 5.0)] * obj.dim, seeds=400 if obj.dim <= 2 else 200,
                                       iterations=40, max_points=20)
    except Exception:
        return None
    if not pts:
        return None
    return windows.window_around(np.array([c.point for c in pts]))


@st.cache_data(max_entries=64, show_spinner=False)
def defined_window(formula: Formula, window: Window) -> Window:
    """`window` shrunk toward where f is defined (optcore.window.defined_window)."""
    try:
        obj = formula.parse()
    except Exception:
        return window
    return windows.defined_window(obj, window)


@st.cache_data(max_entries=64, show_spinner=False)
def minima(formula: Formula, window: Window) -> tuple[tuple[float, ...], ...]:
    """The local minima the engine's critical-point search finds in the window."""
    try:
        obj = formula.parse()
        pts = analysis.critical_points(obj, list(window), seeds=400 if obj.dim <= 2 else 200,
                                       iterations=40, max_points=20)
    except Exception:
        return ()
    return tuple(tuple(float(v) for v in c.point) for c in pts if c.kind == "min")


@st.cache_data(max_entries=32, show_spinner="Looking for stationary points…")
def stationary_points(formula: Formula, window: Window):
    return analysis.critical_points(formula.parse(), window, seeds=900 if len(window) <= 2 else 2000)


@st.cache_data(max_entries=32, show_spinner="Computing curvature…")
def curvature_maps(formula: Formula, window: Window, n: int, base: tuple | None, axes: tuple):
    """(xs, ys, f, det H, curvature class, smallest eigenvalue) on an n × n grid."""
    f = formula.parse()
    xs, ys, XY = analysis.grid(window, n, base=base, axes=axes)
    lam = analysis.hessian_eigenvalues_grid(f, XY)
    return (xs, ys, f.value(XY), analysis.hessian_det_grid(f, XY), analysis.curvature_class(lam), lam[..., 0])


@st.cache_data(max_entries=64, show_spinner=False)
def measured_contraction(formula: Formula, x0: tuple, x_star: tuple, lr: float) -> float:
    """Per-step shrink of ‖x_k − x*‖ over the last steps of a 300-step gradient-descent run."""
    t = run(formula, "gd", {"lr": float(lr)}, x0, 300, 1e-13)
    return analysis.measured_contraction(analysis.errors_to_point(t.points, np.array(x_star)))


@st.cache_data(max_entries=16, show_spinner=False)
def rotated_runs(formula: Formula, theta: float, scale: float, window: Window, methods: tuple,
                 x0: tuple, x_min: tuple | None, steps: int, tol: float):
    """The problem g(u) = f(R(θ)·diag(s, 1)·u): each method's run from the image of x0, a window
    of u holding the image of `window` and the runs (as an automatic window follows them; a path
    went off the chart there), and g on a 150 × 150 grid there.
    `methods` is ((label, method, params), ...); lr "tuned" is GD's best constant step for g."""
    from optcore.figures.grid import value_grid
    g = analysis.rotate_and_scale(formula.parse(), theta, scale)
    u0 = analysis.to_rotated_coordinates(np.array(x0), theta, scale)
    corners = np.array([[a, b] for a in window[0] for b in window[1]])
    U = np.array([analysis.to_rotated_coordinates(c, theta, scale) for c in corners])
    u_window = tuple((float(lo), float(hi)) for lo, hi in zip(U.min(axis=0), U.max(axis=0)))
    runs = {}
    for label, method, params in methods:
        params = dict(params)
        if params.get("lr") == "tuned":
            u_min = analysis.to_rotated_coordinates(np.array(x_min), theta, scale) if x_min is not None else None
            params["lr"] = analysis.tuned_gd_learning_rate(g, u_min, u0)
        runs[label] = optcore.run(g, method, u0, steps=steps, tol=tol, **params)
    u_view, _ = windows.window_with_runs(u_window, [t.points for t in runs.values()])
    return runs, value_grid(g, u_view, n=150)


# ------------------------------------------------------------- heavy studies (per session, bounded)
def _remember(kind: str, key: tuple, label: str, compute: Callable[[jobs.Progress], T] | None, keep: int,
              est: jobs.Estimate | None = None, auto: bool = True) -> T | None:
    """The last `keep` results of one kind in this session; on a miss runs `compute(report)` as this
    session's heavy job (ui.jobs: budget, server queue, progress, Cancel), unless `compute` is None
    (then None: the page asks the student first). None also when refused or cancelled."""
    store = st.session_state.setdefault(f"_cache.{kind}", {})
    if key not in store:
        if compute is None:
            jobs.show_if_cancelled(kind, key, label)
            return None
        while len(store) >= keep:
            store.pop(next(iter(store)))
        result = jobs.run(kind, key, label, compute, est=est, auto=auto)
        if result is None:
            return None
        store[key] = result
    return store[key]


def _compact_basin_map(bm):
    """A basin map as kept between reruns: small integer labels and counts, float32 end points."""
    return dataclasses.replace(bm, labels=bm.labels.astype(np.int16), iterations=bm.iterations.astype(np.int32),
                               final_points=bm.final_points.astype(np.float32))


BASIN_CHUNK = 2000  # starts per batched run: bounds the memory of one chunk's history


def basin_maps(formula: Formula, picked: Sequence[tuple[str, dict]], window, n: int, steps: int, tol: float,
               known_minima: np.ndarray, compute: bool = True, asked: bool = False) -> list | None:
    """One analysis.basin_map per (method, params); None when not computed yet and `compute` is off
    (or when refused/cancelled). `asked`: the student pressed the button (a cancelled job restarts)."""
    key = (Formula(*formula), tuple((m, _params_key(p)) for m, p in picked), _window_key(window), int(n),
           int(steps), float(tol), tuple(map(tuple, np.asarray(known_minima, dtype=float))))

    def work(report):
        obj = formula.parse()
        maps = []
        for i, (method, params) in enumerate(picked):
            maps.append(_compact_basin_map(analysis.basin_map(
                obj, method, window, n=n, steps=steps, tol=tol,
                known_minima=known_minima if len(known_minima) else None, chunk=BASIN_CHUNK,
                on_progress=lambda f, i=i: report((i + f) / len(picked), f"method {i + 1} of {len(picked)}"),
                **params)))
        return maps
    est = jobs.estimate(formula.parse(), [m for m, _ in picked], int(n) ** 2, int(steps))
    return _remember("basins", key, "Basin maps", work if compute else None, keep=1, est=est,
                     auto=not asked)  # 3 maps of 90,000 starts are big


def preconditioning_study(formula: Formula, x0, methods: dict, thetas, scales, fixed_scale: float,
                          fixed_theta: float, x_min, steps: int, tol: float):
    key = (Formula(*formula), _floats(x0), tuple((k, m, _params_key(p)) for k, (m, p) in methods.items()),
           _floats(thetas), _floats(scales), float(fixed_scale), float(fixed_theta),
           None if x_min is None else _floats(x_min), int(steps), float(tol))

    def work(report):
        return analysis.preconditioning_study(formula.parse(), np.asarray(x0, dtype=float), methods, thetas, scales,
                                              fixed_scale=fixed_scale, fixed_theta=fixed_theta, x_min=x_min,
                                              steps=steps, tol=tol, on_progress=report)
    return _remember("preconditioning", key, "Counting iterations", work, keep=2)


def learning_rate_sweeps(formula: Formula, methods: Sequence[str], x0, lrs, steps: int,
                         f_star: float | None) -> dict | None:
    """{method label: analysis.learning_rate_sweep} for each method over the same learning rates
    (None when cancelled)."""
    key = (Formula(*formula), tuple(methods), _floats(x0), _floats(lrs), int(steps), f_star)

    def work(report):
        obj = formula.parse()
        out = {}
        for i, name in enumerate(methods):
            out[optcore.METHODS[name].label] = analysis.learning_rate_sweep(
                obj, name, np.asarray(x0, dtype=float), lrs, steps=steps, tol=1e-8, f_star=f_star,
                on_progress=lambda f, i=i: report((i + f) / len(methods)))
        return out
    return _remember("sweeps", key, "Sweeping learning rates", work, keep=8)


def param_heatmap(formula: Formula, method: str, x0, lrs, second, second_name: str, steps: int,
                  f_star: float | None):
    key = (Formula(*formula), method, _floats(x0), _floats(lrs), _floats(second), second_name, int(steps), f_star)

    def work(report):
        return analysis.param_heatmap(formula.parse(), method, np.asarray(x0, dtype=float), lrs, second,
                                      beta_name=second_name, steps=steps, tol=1e-8, f_star=f_star,
                                      on_progress=report)
    return _remember("heatmap", key, "Running the grid", work, keep=8)


@st.cache_data(max_entries=32, show_spinner=False)
def curvature_curve(formula: Formula, window: Window, n: int = 600):
    """(xs, f, f'') along the window of a one-variable f."""
    f = formula.parse()
    xs, _, X = analysis.grid(window, n)
    return xs, f.value(X), f.hess(X)[:, 0, 0]


@st.cache_data(max_entries=16, show_spinner=False)
def step_fields(formula: Formula, window: Window, density: int):
    """(points, Newton steps, negative gradients) on a density × density grid of a 2-D window."""
    f = formula.parse()
    _, _, XY = analysis.grid(window, int(density))
    return XY, analysis.newton_step_field(f, XY), analysis.gradient_field(f, XY)


@st.cache_data(max_entries=32, show_spinner=False)
def taylor_grids(formula: Formula, window: Window, n: int, x_k: tuple, f_k: float, g: np.ndarray,
                 models: dict, axes: tuple[int, int] | None):
    """(xs, ys, f, {label: model}) on the window: along the line for one variable (axes None),
    else on the plane through x_k spanned by `axes`."""
    f = formula.parse()
    x_k = np.array(x_k)
    xs, ys, X = analysis.grid(window, n) if axes is None else analysis.grid(window, n, base=x_k, axes=axes)
    curves = {label: analysis.taylor_model_grid(x_k, f_k, g, M, X) for label, M in models.items()}
    return xs, ys, f.value(X), curves


def measured_rates(formula: Formula, x0, x_star, alphas) -> list[tuple[float, float]]:
    """(α, measured per-step shrink) for each α whose gradient-descent run gives a finite rate."""
    if x_star is None:
        return []
    rates = [(float(a), measured_contraction(Formula(*formula), _floats(x0), _floats(x_star), float(a)))
             for a in alphas]
    return [(a, r) for a, r in rates if np.isfinite(r)]


def race(formula: Formula, picked: Sequence[tuple[str, dict]], starts, budget, tune: bool, criterion: str,
         f_star: float | None, compute: bool = True, asked: bool = False):
    """optcore.race.race, the last few per session; None when not computed yet and `compute` is off
    (or when refused/cancelled). `asked`: the student pressed the button."""
    from optcore import race as races
    key = (Formula(*formula), tuple((m, _params_key(p)) for m, p in picked), _floats(starts), budget, bool(tune),
           criterion, f_star)

    def work(report):
        return races.race(formula.parse(), list(picked), np.asarray(starts, dtype=float), budget, tune=tune,
                          criterion=criterion, f_star=f_star, on_progress=lambda f, text: report(f, text))
    methods = [m for m, _ in picked]
    settings = max(len(races.tuning_settings(m)) for m in methods) if tune and methods else 1
    est = jobs.estimate(formula.parse(), methods, len(starts) * settings, int(budget.amount))
    return _remember("race", key, "Racing", work if compute else None, keep=4, est=est, auto=not asked)


# ---------------------------------------------------------------------------------- scrub ladders
@st.cache_data(max_entries=64, show_spinner=False)
def _ladder_paths(formula: Formula, method: str, params: tuple, x0: tuple, steps: int, tol: float,
                  param: str, values: tuple) -> tuple[np.ndarray, ...]:
    _computing()
    batch = optcore.run_batch(formula.parse(), method, np.tile(np.array(x0, dtype=float), (len(values), 1)),
                              steps=steps, tol=tol, **{**dict(params), param: np.array(values, dtype=float)})
    P = batch.points
    return tuple(P[i, :int(batch.iterations[i]) + 1] for i in range(len(values)))


def ladder_paths(formula: Formula, method: str, params: dict, x0: Sequence[float], steps: int, tol: float,
                 param: str, values) -> tuple[np.ndarray, ...]:
    """The points of one run per ladder value of `param` (the others as in `params`), all in one
    batched run: what an in-figure scrub slider swaps between."""
    rest = {k: v for k, v in params.items() if k != param}
    return _ladder_paths(Formula(*formula), method, _params_key(rest), _floats(x0), int(steps), float(tol),
                         param, _floats(values))


# ---------------------------------------------------------------------------------- hover preview
PREVIEW_ROW_STEPS = 100_000   # starts x steps of one preview run: it reruns with every η nudge
PREVIEW_MIN_GRID = 6
PREVIEW_MAX_STEPS = PREVIEW_ROW_STEPS // PREVIEW_MIN_GRID ** 2


@st.cache_data(max_entries=32, show_spinner=False)
def _hover_preview(formula: Formula, method: str, params: tuple, window: Window, steps: int, tol: float,
                   n: int) -> dict | None:
    from optcore.figures import trajectory as figs
    starts = figs.preview_starts(window, n)
    try:
        batch = optcore.run_batch(formula.parse(), method, starts, steps=steps, tol=tol, **dict(params))
    except (ValueError, TypeError, ArithmeticError):
        return None
    P = batch.points
    return figs.hover_preview(window, starts, [P[i, :int(batch.iterations[i]) + 1] for i in range(len(starts))], n)


def hover_preview(formula: Formula, method: str, params: dict, window, steps: int, tol: float,
                  n: int | None = None) -> dict | None:
    """The hover-preview payload of a 2-D contour (`trajectory.hover_preview`): the paths from an
    n x n grid of starts in one batched run (n shrinks for long runs so that n² x steps stays
    within `PREVIEW_ROW_STEPS`), or None when even a `PREVIEW_MIN_GRID` grid would be too much."""
    from optcore.figures import trajectory as figs
    steps = int(steps)
    n = min(int(n or figs.PREVIEW_GRID), int((PREVIEW_ROW_STEPS / max(steps, 1)) ** 0.5))
    if n < PREVIEW_MIN_GRID or len(window) != 2:
        return None
    return _hover_preview(Formula(*formula), method, _params_key(params), _window_key(window), steps,
                          float(tol), n)
