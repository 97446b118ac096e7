"""Every preset keeps its promise: its "what to look for" line agrees with what the preset opens.

For each gallery entry this file runs what a student sees after picking it — the preset's runs from
its start with its steps (at the app's default tolerance), the basin maps of the Basins page, or the
iteration study and the "three paths" panel of the Preconditioning page — and checks the claim of
`look_for` against the numbers. Each claim also lists the words and numbers of `look_for` it checks,
so rewording the text without re-checking it fails here too.

The page settings mirrored below (grid size, tolerances, the θ and scale sweeps) are those of
pages/basins.py and pages/preconditioning.py; the settings a preset fixes come from `Preset.view`.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import optcore
from optcore import analysis
from optcore.presets import PRESETS

RUN_TOL = 1e-8                  # the shared "tolerance on ‖∇f‖" default (ui/frame.steps_and_tol)
BASIN_N, BASIN_TOL = 100, 1e-6  # Basins page defaults
PC_TOL = 1e-6                   # Preconditioning page default
PC_THETAS_DEG = np.arange(0, 91, 5)
PC_SCALES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
PC_METHODS = {"gradient descent": ("gd", {"lr": "tuned"}),
              "diagonal Newton": ("diag_newton", {"lr": 1.0}),
              "Newton": ("newton", {"lr": 1.0})}


# ------------------------------------------------------------------------------- what a preset opens
@functools.cache
def objective(key: str) -> optcore.Objective:
    return optcore.parse(PRESETS[key].formula)


@functools.cache
def opened(key: str, start: tuple[float, ...] | None = None, tol: float = RUN_TOL) -> list[optcore.Trajectory]:
    """The preset's runs from its start (or one of its extra starts) with its steps."""
    p = PRESETS[key]
    x0 = np.array(p.start if start is None else start, dtype=float)
    return [optcore.run(objective(key), m, x0, steps=p.steps, tol=tol, **params) for m, params in p.runs]


@functools.cache
def basin_maps(key: str) -> list[analysis.BasinMap]:
    """The Basins page for this preset: one map per panel, the preset's first runs as methods."""
    p = PRESETS[key]
    return [analysis.basin_map(objective(key), m, p.window, n=BASIN_N, steps=p.view_setting("basin_steps"),
                               tol=BASIN_TOL, known_minima=p.minima, **params)
            for m, params in p.runs[: p.view_setting("basin_panels")]]


def share_at(bm: analysis.BasinMap, point, radius: float = 1e-3) -> float:
    """Share of the grid whose runs ended at the attractor at `point` (0 when none did)."""
    hits = [i for i, a in enumerate(bm.attractors) if np.linalg.norm(a - np.asarray(point)) < radius]
    return float(np.isin(bm.labels, hits).mean())


def not_converged_share(bm: analysis.BasinMap) -> float:
    return float((bm.labels == analysis.NOT_CONVERGED).mean())


def _nearest_minimum(key: str) -> np.ndarray:
    p = PRESETS[key]
    minima = np.array(p.minima, dtype=float)
    return minima[np.argmin(np.linalg.norm(minima - np.array(p.start), axis=1))]


@functools.cache
def pc_study(key: str) -> analysis.PreconditioningStudy:
    """The iteration chart of the Preconditioning page (scale 1 while rotating, θ = 0 while stretching)."""
    p = PRESETS[key]
    return analysis.preconditioning_study(objective(key), np.array(p.start), PC_METHODS, np.radians(PC_THETAS_DEG),
                                          np.array(PC_SCALES, dtype=float), x_min=_nearest_minimum(key),
                                          steps=p.view_setting("steps_cap"), tol=PC_TOL)


@functools.cache
def pc_paths(key: str) -> dict[str, optcore.Trajectory]:
    """The "three paths" panel as the preset opens it: at its angle, scale 1, its step limit."""
    p = PRESETS[key]
    theta = math.radians(p.view_setting("angle"))
    g = analysis.rotate_and_scale(objective(key), theta, 1.0)
    u0 = analysis.to_rotated_coordinates(p.start, theta, 1.0)
    u_min = analysis.to_rotated_coordinates(_nearest_minimum(key), theta, 1.0)
    runs = {}
    for label, (method, params) in PC_METHODS.items():
        params = dict(params)
        if params["lr"] == "tuned":
            params["lr"] = analysis.tuned_gd_learning_rate(g, u_min, u0)
        runs[label] = optcore.run(g, method, u0, steps=p.view_setting("steps_cap"), tol=PC_TOL, **params)
    return runs


def by_theta(key: str, label: str, degrees: float) -> float:
    return float(pc_study(key).by_theta[label][list(PC_THETAS_DEG).index(degrees)])


def ratios(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[1:] / values[:-1]


def hessian_eigenvalues(key: str, point) -> np.ndarray:
    return np.linalg.eigvalsh(objective(key).hess(np.asarray(point, dtype=float)))


def f_second(key: str, x: float) -> float:
    return float(objective(key).hess(np.array([x]))[0, 0])


# ------------------------------------------------------------------------------- the claims
def textbook_x2():
    (gd,) = opened("textbook-x2")
    assert np.allclose(ratios(gd.points[:, 0]), 0.6)
    assert round(gd.final_point[0], 2) == 0.06 and gd.iterations == 10


def textbook_x2_small_lr():
    (gd,) = opened("textbook-x2-small-lr")
    assert np.allclose(ratios(gd.points[:, 0]), 0.9)
    assert round(gd.final_point[0], 1) == 3.5 and gd.iterations == 10


def textbook_x2_divergent():
    big, good, small = opened("textbook-x2-divergent")
    assert np.allclose(ratios(big.points[:, 0]), -1.2)           # across the minimum, growing
    assert round(abs(big.final_point[0])) == 62
    assert abs(good.final_point[0]) < 0.1 and abs(small.final_point[0]) < 4


def textbook_xcos():
    huge, _ = opened("textbook-xcos")
    x = huge.points[:, 0]
    deep, shallow = 7.269388146311475, -1.8256845786723395
    assert x[0] > deep > x[1]                                   # the first step jumps over the deep minimum
    f = objective("textbook-xcos").value
    assert f(np.array([deep])) < f(np.array([shallow]))
    tail = x[-6:]
    assert np.all(np.abs(tail - shallow) < 0.7)                 # ends around the shallow one ...
    assert np.all(np.diff(np.sign(tail - shallow)) != 0)        # ... jumping from side to side
    assert round(shallow, 1) == -1.8 and round(deep, 1) == 7.3


def textbook_cosh():
    newton, _ = opened("textbook-cosh", tol=0.0)
    x = newton.points[:, 0]
    assert np.all(np.abs(np.diff(x[:4]) + 2) < 0.1)             # about 2 per step far out
    near = np.flatnonzero((np.abs(x[:-1]) < 1) & (x[:-1] != 0))
    assert near.size >= 3 and np.all(np.abs(x[near + 1]) <= x[near] ** 2)
    assert x[9] == 0.0 and x[8] != 0.0                          # exactly 0 at step 9
    stopped, _ = opened("textbook-cosh")                        # at the app's tolerance: step 8
    assert stopped.status == "converged" and stopped.iterations == 8
    assert [float(f"{v:.2g}") for v in stopped.points[5:9, 0]] == [0.53, 0.012, 1.4e-7, 1.9e-22]


def textbook_xcos_newton():
    full, half, _ = opened("textbook-xcos-newton")
    x = full.points[:, 0]
    assert round(x[1]) == 5 and round(x[2]) == 25 and f_second("textbook-xcos-newton", x[2]) < 0
    assert full.stopped_at == "maximum" and round(full.final_point[0], 1) == 26.8
    assert round(half.final_point[0], 2) == 7.27 and f_second("textbook-xcos-newton", half.final_point[0]) > 0


def textbook_log_exp():
    exact, slow, fast = opened("textbook-log-exp")
    x_star = math.log(2) / 3 - 1
    assert exact.iterations == 1 and abs(exact.final_point[0] - x_star) < 1e-6
    for t in (slow, fast):                                      # fixed steps walk down, one step at a time
        assert t.iterations > 1 and np.all(np.diff(t.values) <= 1e-15)
    assert slow.status == "max_steps"


def textbook_2d():
    gd, newton = opened("textbook-2d")
    assert np.allclose(ratios(gd.points[:, 0]), 0.8) and np.allclose(ratios(gd.points[:, 1]), 0.6)
    end = gd.final_point
    assert np.linalg.norm(end) < 0.1 and abs(end[1]) < 0.01 * abs(end[0])   # creeping along x1
    assert newton.iterations == 1


def textbook_badly_scaled():
    lam = hessian_eigenvalues("textbook-badly-scaled", (0, 0))
    assert round(lam.max() / lam.min()) == 100
    assert math.isclose(analysis.tuned_gd_learning_rate(objective("textbook-badly-scaled"), (0, 0), (-5, -2)),
                        2 / 202)
    gd = pc_study("textbook-badly-scaled").by_theta["gradient descent"]
    assert np.all(gd == 991)                                     # at every angle
    assert by_theta("textbook-badly-scaled", "diagonal Newton", 0) == 1
    assert by_theta("textbook-badly-scaled", "diagonal Newton", 45) == 991
    paths = pc_paths("textbook-badly-scaled")                    # the panel the preset opens
    assert paths["diagonal Newton"].status == "converged" and paths["diagonal Newton"].iterations == 1
    assert paths["gradient descent"].status == "converged" and paths["gradient descent"].iterations == 991


def blog_paraboloid():
    newton, gd, _ = opened("blog-paraboloid")
    assert np.allclose(newton.points[1] - newton.points[0], (3, 3)) and np.allclose(newton.points[1], 0)
    assert np.allclose(gd.points[0::2], (-3, -3)) and np.allclose(gd.points[1::2], (3, 3))


def blog_squished():
    newton, _ = opened("blog-squished")
    obj, x0 = objective("blog-squished"), np.array(PRESETS["blog-squished"].start)
    downhill = -obj.grad(x0)
    assert np.allclose(np.round(downhill, 2), (4.5, -0.83))
    step = newton.points[1] - newton.points[0]
    assert np.allclose(step, (3, 3)) and np.allclose(newton.points[1], 0, atol=1e-12)
    cos = downhill @ step / np.linalg.norm(downhill) / np.linalg.norm(step)
    assert cos < math.cos(math.radians(10))                     # the downhill direction misses the origin


def blog_sin_saddle():
    gd, newton, _ = opened("blog-sin-saddle")
    obj, x0 = objective("blog-sin-saddle"), np.array(PRESETS["blog-sin-saddle"].start)
    assert np.linalg.det(obj.hess(x0)) < 0
    assert np.allclose(np.round(newton.points[1] - x0, 2), (-0.11, -0.44))
    assert round(newton.values[1], 2) == 0.97 and newton.values[1] > newton.values[0]   # it climbs
    saddle = np.array([math.pi, 9 - 20 / math.pi - 2])
    assert np.allclose(np.round(saddle, 2), (3.14, 0.63))
    assert np.linalg.norm(newton.final_point - saddle) < 1e-4
    lam = hessian_eigenvalues("blog-sin-saddle", saddle)
    assert lam.min() < 0 < lam.max()
    valley = np.array([math.pi, 9 - 20 / math.pi])
    assert gd.values[-1] < gd.values[0]
    steps = np.diff(gd.points[-6:], axis=0)
    assert np.all(np.sum(steps[1:] * steps[:-1], axis=1) < 0)   # rattling: every step turns back
    assert np.linalg.norm(gd.points[-6:].mean(axis=0) - valley) < 0.25   # ... across the valley's minimum
    assert np.all(gd.values[-6:] < gd.values[0])


def blog_sin_convex_start():
    full, _, backtracking = opened("blog-sin-convex-start")
    obj, x0 = objective("blog-sin-convex-start"), np.array(PRESETS["blog-sin-convex-start"].start)
    H, g = obj.hess(x0), obj.grad(x0)
    assert np.linalg.eigvalsh(H).min() > 0
    d = -np.linalg.solve(H, g)
    assert g @ d < 0                                              # downhill ...
    f0 = float(obj.value(x0))
    assert obj.value(x0 + d) > f0 and obj.value(x0 + 0.5 * d) > f0   # ... yet f rises after both steps
    assert full.stopped_at == "minimum"
    assert np.allclose(np.round(full.final_point, 2), (3.14, 6.63))
    nearest = np.array([math.pi, 9 - 20 / math.pi])               # the valley it skipped
    assert np.linalg.norm(backtracking.final_point - nearest) < 1e-6


def course_2w2():
    exact, creep, zigzag, blowup = (t.points[:, 0] for t in opened("course-2w2"))
    assert exact[1] == 0.0
    assert np.all(np.diff(creep) < 0) and np.all(creep > 0)
    assert np.all(zigzag[1:] * zigzag[:-1] < 0) and abs(zigzag[-1]) < abs(zigzag[0])
    assert np.all(blowup[1:] * blowup[:-1] < 0) and abs(blowup[-1]) > 10 * abs(blowup[0])


def course_quadratic():
    best, _, flip = opened("course-quadratic")
    lam = hessian_eigenvalues("course-quadratic", (0, 0))
    assert np.allclose(lam, (1, 4)) and math.isclose(analysis.optimal_learning_rate(lam), 2 / 5)
    assert np.allclose(ratios(best.points[:8, 0]), 3 / 5) and np.allclose(ratios(best.points[:8, 1]), -3 / 5)
    assert np.allclose(flip.points[:, 1], [(-1) ** k for k in range(len(flip.points))])


def rosenbrock():
    gd, momentum, bfgs, newton = opened("rosenbrock")
    valley = np.abs(gd.points[:, 1] - gd.points[:, 0] ** 2) < 0.1
    assert int(np.argmax(valley)) == 2                             # in the valley after 2 steps
    assert gd.status == momentum.status == "max_steps"
    assert round(float(np.linalg.norm(gd.final_point - 1)), 1) == 1.7
    assert round(float(np.linalg.norm(momentum.final_point - 1)), 2) == 0.09
    assert (bfgs.status, bfgs.iterations) == ("converged", 35)
    assert (newton.status, newton.iterations) == ("converged", 6)


def himmelblau():
    gd_map, newton_map, _ = basin_maps("himmelblau")
    p = PRESETS["himmelblau"]
    assert np.allclose(objective("himmelblau").value(np.array(p.minima)), 0, atol=1e-12)   # four equal minima
    assert all(share_at(gd_map, m) > 0.15 for m in p.minima)
    reached = {tuple(np.round(opened("himmelblau", s)[0].final_point, 3)) for s in (p.start, *p.extra_starts)}
    assert len(reached) == 4                                       # the start decides which one
    maxima = [a for a, kind in zip(newton_map.attractors, newton_map.attractor_kinds) if kind == "max"]
    assert len(maxima) == 1 and np.allclose(np.round(maxima[0], 2), (-0.27, -0.92))
    assert share_at(newton_map, maxima[0]) > 0.01
    assert opened("himmelblau")[1].stopped_at == "maximum"


def beale():
    crawl, explode, adam, bfgs = opened("beale")
    assert crawl.status == "max_steps" and crawl.final_value > 1e-3
    assert explode.status == "diverged" and explode.iterations <= 3
    assert 10 * adam.final_value < crawl.final_value
    assert (bfgs.status, bfgs.iterations) == ("converged", 25) and np.allclose(bfgs.final_point, (3, 0.5))


def booth():
    stable, unstable, newton = opened("booth")
    lam = hessian_eigenvalues("booth", (1, 3))
    assert np.allclose(lam, (2, 18)) and math.isclose(analysis.stability_edge(lam), 1 / 9)
    assert 0.1 < 1 / 9 < 0.12
    assert np.linalg.norm(stable.final_point - (1, 3)) < 1e-6
    assert np.linalg.norm(unstable.final_point - (1, 3)) > 1e3 * np.linalg.norm(unstable.points[0] - (1, 3))
    assert newton.iterations == 1


def matyas():
    lam = hessian_eigenvalues("matyas", (0, 0))
    assert np.allclose(lam, (0.04, 1))
    study = pc_study("matyas")
    assert np.all(np.abs(study.by_theta["gradient descent"] - 200) <= 20)   # ~200 at any angle
    assert by_theta("matyas", "diagonal Newton", 45) == 1
    assert np.all(study.by_theta["Newton"] == 1)
    assert pc_paths("matyas")["diagonal Newton"].iterations == 1           # the panel opens at 45°


def three_hump_camel():
    maps = basin_maps("three-hump-camel")
    side = [m for m in PRESETS["three-hump-camel"].minima if any(m)]
    f = objective("three-hump-camel").value
    assert np.allclose(np.round(f(np.array(side)), 2), 0.30) and float(f(np.zeros(2))) == 0.0
    assert round(share_at(maps[0], (0, 0)) * 100) == 56
    assert all(share_at(maps[0], m) > 0.1 for m in side)
    for corner in ((-2.0, 2.0), (2.0, -2.0)):
        gd, newton, _ = opened("three-hump-camel", corner)
        for t in (gd, newton):
            assert t.stopped_at == "minimum" and round(t.final_value, 2) == 0.30


def six_hump_camel():
    gd_map, newton_abs_map, _ = basin_maps("six-hump-camel")
    p = PRESETS["six-hump-camel"]
    values = objective("six-hump-camel").value(np.array(p.minima))
    best = np.flatnonzero(np.round(values, 4) == -1.0316)
    assert len(best) == 2 and len(p.minima) - len(best) == 4
    share = lambda bm: sum(share_at(bm, p.minima[i]) for i in best)
    assert round(share(gd_map) * 100) == 59 and round(share(newton_abs_map) * 100) == 41


def rastrigin():
    maps = basin_maps("rastrigin")
    assert len(maps[0].attractors) == 121 and set(maps[0].attractor_kinds) == {"min"}
    for bm in maps:
        assert round(share_at(bm, (0, 0)) * 100) == 1               # about 1 % of the window
    for t in opened("rastrigin"):
        assert t.status == "converged" and np.allclose(np.round(t.final_point, 2), (2.98, 2.98))
        assert round(t.final_value, 1) == 17.9


def ackley():
    obj, start = objective("ackley"), np.array(PRESETS["ackley"].start)
    for t in opened("ackley"):
        assert np.allclose(np.round(t.final_point, 2), (2.98, 2.98)) and round(t.final_value) == 9
        assert np.linalg.norm(t.final_point - start) < 0.5          # the nearest ripple
    assert not np.isfinite(obj.grad(np.zeros(2))).any()
    left, right = obj.grad(np.array([-1e-9, 0.0])), obj.grad(np.array([1e-9, 0.0]))
    assert left[0] < -1 and right[0] > 1                              # a tip, not a smooth bottom


def goldstein_price():
    p = PRESETS["goldstein-price"]
    obj = objective("goldstein-price")
    values = obj.value(analysis.grid(p.window, 201)[2].reshape(-1, 2))
    assert values.min() >= 3 - 1e-9 and round(math.log10(values.max())) == 6
    bfgs, gd, newton_abs = opened("goldstein-price")
    assert gd.params["lr"] < 2 / hessian_eigenvalues("goldstein-price", p.start).max()   # safe at the start
    assert abs(gd.final_value - 750) < 0.05 * 750 and gd.iterations == 300
    assert np.allclose(bfgs.final_point, (0, -1), atol=1e-6) and round(bfgs.final_value, 6) == 3
    assert np.allclose(newton_abs.final_point, (-0.6, -0.4)) and round(newton_abs.final_value, 6) == 30


def rotated_quadratic():
    obj = objective("rotated-quadratic")
    assert np.allclose(np.diag(obj.hess(np.zeros(2))), (11, 11))
    lam = hessian_eigenvalues("rotated-quadratic", (0, 0))
    assert np.allclose(lam, (2, 20)) and math.isclose(analysis.optimal_learning_rate(lam), 1 / 11)
    diag_at_0 = by_theta("rotated-quadratic", "diagonal Newton", 0)
    assert diag_at_0 == by_theta("rotated-quadratic", "gradient descent", 0) == 86
    assert by_theta("rotated-quadratic", "diagonal Newton", 45) == 1
    assert np.all(pc_study("rotated-quadratic").by_theta["Newton"] == 1)
    paths = pc_paths("rotated-quadratic")                             # the panel opens where the text is
    assert np.allclose(paths["diagonal Newton"].points, paths["gradient descent"].points)
    assert paths["diagonal Newton"].iterations == 86 and paths["Newton"].iterations == 1


# key -> (what look_for says, in the words and numbers checked; the check)
CLAIMS = {
    "textbook-x2": (("0.6", "0.06"), textbook_x2),
    "textbook-x2-small-lr": (("0.9", "3.5"), textbook_x2_small_lr),
    "textbook-x2-divergent": (("−1.2", "62"), textbook_x2_divergent),
    "textbook-xcos": (("7.3", "−1.8", "rattling"), textbook_xcos),
    "textbook-cosh": (("about 2 per step", "squares", "step 8", "step 9", "1.9e-22"), textbook_cosh),
    "textbook-xcos-newton": (("10 → 5 → 25", "26.8", "7.27"), textbook_xcos_newton),
    "textbook-log-exp": (("one step",), textbook_log_exp),
    "textbook-2d": (("0.6", "0.8", "along x1"), textbook_2d),
    "textbook-badly-scaled": (("κ = 100", "2/202", "991", "needs 1", "45°"), textbook_badly_scaled),
    "blog-paraboloid": (("(3, 3)", "(−3, −3)"), blog_paraboloid),
    "blog-squished": (("(4.5, −0.83)", "(3, 3)"), blog_squished),
    "blog-sin-saddle": (("det H < 0", "(−0.11, −0.44)", "0.97", "(π, 0.63)", "rattles"), blog_sin_saddle),
    "blog-sin-convex-start": (("positive definite", "downhill", "(π, 6.63)"), blog_sin_convex_start),
    "course-2w2": (("0.25", "0.5"), course_2w2),
    "course-quadratic": (("2/5", "3/5", "flipping sign"), course_quadratic),
    "rosenbrock": (("2 steps", "1.7", "0.09", "35", "Newton 6"), rosenbrock),
    "himmelblau": (("Four equal minima", "(−0.27, −0.92)"), himmelblau),
    "beale": (("0.01", "0.05", "10×", "(3, 0.5)", "25"), beale),
    "booth": (("2 and 18", "1/9", "0.12"), booth),
    "matyas": (("1 and 0.04", "~200", "45°", "one step"), matyas),
    "three-hump-camel": (("0.30", "(−2, 2)", "56 %"), three_hump_camel),
    "six-hump-camel": (("−1.0316", "59 %", "41 %"), six_hump_camel),
    "rastrigin": (("121", "(2.98, 2.98)", "17.9", "1 %"), rastrigin),
    "ackley": (("(2.98, 2.98)", "f ≈ 9", "undefined"), ackley),
    "goldstein-price": (("10⁶", "10⁻⁶", "750", "f = 3", "f = 30"), goldstein_price),
    "rotated-quadratic": (("(11, 11)", "1/11", "86", "κ = 10", "45°"), rotated_quadratic),
}


def test_every_preset_has_a_checked_promise():
    assert set(CLAIMS) == set(PRESETS)


@pytest.mark.parametrize("key", list(CLAIMS))
def test_preset_keeps_its_promise(key):
    words, check = CLAIMS[key]
    for word in words:
        assert word in PRESETS[key].look_for, f"{key}: the text no longer says {word!r}"
    check()


# ------------------------------------------------------------------------------- pictures, in general
BASIN_PRESETS = [k for k, p in PRESETS.items() if p.page == "basins"]
PC_PRESETS = [k for k, p in PRESETS.items() if p.page == "preconditioning"]


@pytest.mark.parametrize("key", BASIN_PRESETS)
def test_basin_panels_are_not_grey(key):
    """Every panel a basins preset opens shows where runs end: almost no "not converged" starts."""
    for (method, _), bm in zip(PRESETS[key].runs, basin_maps(key)):
        assert not_converged_share(bm) < 0.01, f"{key}: {method} leaves {not_converged_share(bm):.0%} grey"


@pytest.mark.parametrize("key", PC_PRESETS)
def test_preconditioning_panel_agrees_with_the_chart(key):
    """The paths panel runs as long as the chart, so at the same angle both count the same steps."""
    degrees = PRESETS[key].view_setting("angle")
    for label, t in pc_paths(key).items():
        expected = by_theta(key, label, degrees)
        assert t.status == "converged" and t.iterations == expected, (label, t.iterations, expected)
