"""Every preset is usable as shipped: it parses, its numbers are right, its suggested runs run.

The known minima are checked three ways: ∇f vanishes there and ∇²f is positive semidefinite (exact
derivatives), SciPy's minimizer started nearby lands on them, and nothing in the window is lower than
the lowest of them.
"""
from __future__ import annotations

import dataclasses

import re

import numpy as np
import pytest
from scipy.optimize import minimize

import optcore
from optcore.presets import PAGES, PRESETS, SOURCES, Preset

KEYS = list(PRESETS)

# The minimum of Ackley is the tip of a cone: f is continuous there, but ∇f is 0/0. It is checked
# by comparing values around it instead of by derivatives.
NONSMOOTH_MINIMA = {"ackley"}


@pytest.fixture(scope="module")
def objectives() -> dict[str, optcore.Objective]:
    return {key: optcore.parse(p.formula) for key, p in PRESETS.items()}


def _window_points(preset: Preset, count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lo = np.array([w[0] for w in preset.window])
    hi = np.array([w[1] for w in preset.window])
    return lo + rng.random((count, len(lo))) * (hi - lo)


def _inside(point, window) -> bool:
    return all(lo <= x <= hi for x, (lo, hi) in zip(point, window))


# ------------------------------------------------------------------------------- metadata
def test_gallery_is_not_empty_and_keys_are_url_safe():
    assert len(PRESETS) >= 25
    for key, preset in PRESETS.items():
        assert preset.key == key
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key), key


@pytest.mark.parametrize("key", KEYS)
def test_metadata_is_complete(key):
    p = PRESETS[key]
    assert p.name.strip() and p.formula.strip()
    assert p.source in SOURCES
    assert p.page in PAGES
    assert p.look_for.strip() and "\n" not in p.look_for
    assert len(p.look_for) <= 200, "look_for is meant to be one line"
    assert p.steps >= 1 and p.runs
    for method, params in p.runs:
        assert isinstance(method, str) and isinstance(params, dict)


def test_preset_is_frozen():
    p = PRESETS["rosenbrock"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.start = (0.0, 0.0)  # type: ignore[misc]


def test_bad_preset_is_refused_at_construction():
    good = PRESETS["booth"]
    fields = {f: getattr(good, f) for f in good.__dataclass_fields__}
    with pytest.raises(ValueError, match="coordinates"):
        Preset(**{**fields, "start": (1.0,)})
    with pytest.raises(ValueError, match="page"):
        Preset(**{**fields, "page": "nowhere"})


def test_view_settings_default_to_the_pages_and_unknown_ones_are_refused():
    from optcore.presets import VIEW_DEFAULTS
    booth, rotated = PRESETS["booth"], PRESETS["rotated-quadratic"]
    assert {name: booth.view_setting(name) for name in VIEW_DEFAULTS} == VIEW_DEFAULTS
    assert rotated.view_setting("angle") == 0 and rotated.view_setting("steps_cap") == VIEW_DEFAULTS["steps_cap"]
    for p in PRESETS.values():
        assert set(p.view) <= set(VIEW_DEFAULTS), p.key
    fields = {f: getattr(booth, f) for f in booth.__dataclass_fields__}
    with pytest.raises(ValueError, match="view"):
        Preset(**{**fields, "view": {"zoom": 2}})


def test_every_seed_function_and_classic_is_present():
    """The issue's §6 list: each of these formulas (or its classic name) has a preset."""
    formulas = {p.formula.replace(" ", "") for p in PRESETS.values()}
    for text in ["x^2", "xcos(0.15pix)", "cosh(0.5x)", "x1^2+2x2^2", "log(exp(x)+exp(-2x-3))",
                 "x0^2+x1^2", "x0^2-x0*x1/2+(x1/3)^2", "sin(x0)^2+sin(10+x1*x0/2)*cos(x0)",
                 "2w^2", "0.5(w1^2+4w2^2)"]:
        assert text in formulas, text
    for key in ["rosenbrock", "himmelblau", "beale", "booth", "matyas", "three-hump-camel",
                "six-hump-camel", "rastrigin", "ackley", "goldstein-price", "rotated-quadratic"]:
        assert key in PRESETS and PRESETS[key].source == "classic"
    starts = {PRESETS["blog-sin-saddle"].start, *PRESETS["blog-sin-saddle"].extra_starts}
    assert starts == {(3.1, 1.3), (3.1, 1.8)}


def test_seed_runs_are_the_seeds_runs():
    """The textbook's learning rates and starts, the blog's starts, as the seeds give them."""
    assert {r[1]["lr"] for k in ("textbook-x2", "textbook-x2-small-lr", "textbook-x2-divergent")
            for r in PRESETS[k].runs} == {0.2, 0.05, 1.1}
    assert PRESETS["textbook-xcos"].runs[0] == ("gd", {"lr": 2.0})
    assert PRESETS["textbook-2d"].start == (-5.0, -2.0)
    assert PRESETS["textbook-2d"].runs[0] == ("gd", {"lr": 0.1})
    assert PRESETS["textbook-2d"].steps == 20
    assert [r for r in PRESETS["textbook-xcos-newton"].runs if r[0] == "newton"] == [
        ("newton", {"lr": 1.0}), ("newton", {"lr": 0.5})]
    assert PRESETS["blog-squished"].start == (-3.0, -3.0)


# ------------------------------------------------------------------------------- parsing
@pytest.mark.parametrize("key", KEYS)
def test_formula_parses_with_the_declared_variables(key, objectives):
    obj = objectives[key]
    assert obj.variables == PRESETS[key].variables
    assert obj.dim == len(PRESETS[key].window)


@pytest.mark.parametrize("key", KEYS)
def test_start_minima_and_extra_starts_lie_in_the_window(key):
    p = PRESETS[key]
    assert _inside(p.start, p.window)
    for point in (*p.extra_starts, *p.minima):
        assert _inside(point, p.window), point


@pytest.mark.parametrize("key", KEYS)
def test_values_are_finite_over_the_window(key, objectives):
    values = objectives[key].value(_window_points(PRESETS[key], 500))
    assert np.isfinite(values).all()


# ------------------------------------------------------------------------------- minima
SMOOTH_MINIMA = [(key, i) for key, p in PRESETS.items() if key not in NONSMOOTH_MINIMA
                 for i in range(len(p.minima))]


@pytest.mark.parametrize("key,index", SMOOTH_MINIMA)
def test_minimum_is_stationary_with_psd_hessian(key, index, objectives):
    obj, x = objectives[key], np.array(PRESETS[key].minima[index])
    g = obj.grad(x)
    assert np.linalg.norm(g) < 1e-4, f"‖∇f({x})‖ = {np.linalg.norm(g):.3g}"
    eigenvalues = np.linalg.eigvalsh(obj.hess(x))
    assert eigenvalues.min() >= -1e-8 * max(1.0, abs(eigenvalues).max()), eigenvalues


@pytest.mark.parametrize("key,index", SMOOTH_MINIMA)
def test_minimum_agrees_with_scipy(key, index, objectives):
    obj, x_star = objectives[key], np.array(PRESETS[key].minima[index])
    span = np.array([hi - lo for lo, hi in PRESETS[key].window])
    x0 = x_star + 2e-3 * span * np.array([1.0, -0.7][: len(x_star)])
    result = minimize(lambda v: float(obj.value(v)), x0, jac=lambda v: obj.grad(v), method="BFGS",
                      options={"gtol": 1e-10})
    assert np.allclose(result.x, x_star, atol=1e-5), (result.x, x_star)


def test_nonsmooth_minimum_of_ackley(objectives):
    obj, p = objectives["ackley"], PRESETS["ackley"]
    x_star = np.array(p.minima[0])
    assert abs(float(obj.value(x_star))) < 1e-12  # f(0, 0) = 0 exactly, up to rounding of e + 20 − e − 20
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    for radius in (1e-6, 1e-3, 1e-1):
        ring = x_star + radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
        assert (obj.value(ring) > obj.value(x_star)).all()
    result = minimize(lambda v: float(obj.value(v)), x_star + 0.05, method="Nelder-Mead",
                      options={"xatol": 1e-10, "fatol": 1e-14})
    assert np.allclose(result.x, x_star, atol=1e-6)


@pytest.mark.parametrize("key", [k for k, p in PRESETS.items() if p.minima])
def test_lowest_minimum_is_lowest_in_the_window(key, objectives):
    obj, p = objectives[key], PRESETS[key]
    best = min(float(obj.value(np.array(m))) for m in p.minima)
    values = obj.value(_window_points(p, 4000, seed=1))
    assert best <= values.min() + 1e-12


# ------------------------------------------------------------------------------- runs
RUNS = [(key, i) for key, p in PRESETS.items() for i in range(len(p.runs))]


@pytest.mark.parametrize("key,index", RUNS)
def test_suggested_run_runs(key, index, objectives):
    p = PRESETS[key]
    method, params = p.runs[index]
    assert method in optcore.METHODS
    optcore.resolve_params(method, **params)  # names and types are ones the method takes
    traj = optcore.run(objectives[key], method, np.array(p.start), steps=p.steps, **params)
    assert traj.status in {"converged", "max_steps", "diverged"}
    assert traj.points.shape[1] == len(p.variables)
    assert np.allclose(traj.points[0], p.start)


def test_seed_presets_reach_what_they_promise(objectives):
    """Spot checks that the "what to look for" lines describe what actually happens."""
    def final(key, index=0):
        p = PRESETS[key]
        method, params = p.runs[index]
        return optcore.run(objectives[key], method, np.array(p.start), steps=p.steps, tol=0, **params)

    assert abs(final("textbook-x2").points[-1, 0]) < 0.07
    assert final("textbook-x2-divergent").points[-1, 0] > 60
    assert abs(final("textbook-xcos").points[-1, 0] + 1.8) < 0.4            # rattling near −1.83
    assert abs(final("textbook-xcos-newton", 0).points[-1, 0] - 26.83) < 0.01  # the maximum
    assert abs(final("textbook-xcos-newton", 1).points[-1, 0] - 7.27) < 0.01   # the minimum
    assert np.allclose(final("blog-paraboloid").points[1], 0.0)
    assert np.allclose(final("blog-squished").points[1], 0.0, atol=1e-12)
    assert np.allclose(final("rotated-quadratic", 2).points[1], 0.0, atol=1e-12)
