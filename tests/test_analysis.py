"""optcore.analysis against closed forms, the seeds' printed numbers and SciPy."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from optcore import analysis as A
from optcore.objective import objective_from_expr

x, y = sp.symbols("x y", real=True)
x0, x1 = sp.symbols("x0 x1", real=True)
w1, w2 = sp.symbols("w1 w2", real=True)


def make(expr, names):
    return objective_from_expr(expr, names)


@pytest.fixture(scope="module")
def course_quadratic():
    return make(sp.Rational(1, 2) * (w1**2 + 4 * w2**2), ["w1", "w2"])


@pytest.fixture(scope="module")
def blog_sin():
    return make(sp.sin(x0) ** 2 + sp.sin(10 + x1 * x0 / 2) * sp.cos(x0), ["x0", "x1"])


@pytest.fixture(scope="module")
def himmelblau():
    return make((x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2, ["x", "y"])


# ------------------------------------------------------------------------------------- grids
def test_grid_orientation_matches_plotly_heatmap():
    xs, ys, XY = A.grid([(-1, 1), (0, 4)], 5)
    assert XY.shape == (5, 5, 2)
    assert np.allclose(XY[2, 3], [xs[3], ys[2]])
    assert xs[0] == -1 and xs[-1] == 1 and ys[0] == 0 and ys[-1] == 4


def test_grid_slices_higher_dimensions_through_base_point():
    xs, ys, XY = A.grid([(-1, 1), (-2, 2), (-3, 3)], 4, base=[0.5, 0.25, 7.0], axes=(0, 2))
    assert XY.shape == (4, 4, 3)
    assert np.all(XY[..., 1] == 0.25)
    assert np.allclose(XY[1, 2], [xs[2], 0.25, ys[1]])


def test_grid_in_one_dimension_is_a_line():
    xs, ys, X = A.grid([(-2, 2)], 9)
    assert X.shape == (9, 1) and ys.size == 0


# --------------------------------------------------------------------------------- curvature
def test_eigenvalues_of_course_quadratic_are_1_and_4(course_quadratic):
    _, _, XY = A.grid([(-3, 3), (-3, 3)], 7)
    lam = A.hessian_eigenvalues_grid(course_quadratic, XY)
    assert np.allclose(lam[..., 0], 1.0) and np.allclose(lam[..., 1], 4.0)
    assert np.all(A.curvature_class_grid(course_quadratic, XY) == 1)
    assert np.allclose(A.min_eigenvalue_grid(course_quadratic, XY), 1.0)


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3), st.floats(-1e3, 1e3))
def test_closed_form_2x2_eigenvalues_agree_with_numpy(a, b, c):
    H = np.array([[a, b], [b, c]])
    assert np.allclose(A.symmetric_eigenvalues(H), np.linalg.eigvalsh(H), atol=1e-9 * (1 + abs(H).max()))


def test_det_of_squished_paraboloid_is_constant():
    obj = make(x0**2 - x0 * x1 / 2 + (x1 / 3) ** 2, ["x0", "x1"])
    _, _, XY = A.grid([(-4, 4), (-4, 4)], 11)
    det = A.hessian_det_grid(obj, XY)
    # [[2, −1/2], [−1/2, 2/9]]: det = 4/9 − 1/4 = 7/36
    assert det.shape == (11, 11)
    assert np.allclose(det, 7 / 36)


def test_blog_hessian_at_3p1_1p3_is_the_printed_matrix_with_negative_det(blog_sin):
    f0, g, H = A.taylor_model(blog_sin, [3.1, 1.3])
    # the blog prints [[1.20250029, -1.007762], [-1.007762, -1.2574737]]
    assert np.allclose(H, [[1.20250029, -1.007762], [-1.007762, -1.2574737]], atol=5e-8)
    det = A.hessian_det_grid(blog_sin, np.array([[3.1, 1.3], [3.1, 1.8]]))
    assert det[0] < 0 < det[1]
    assert A.curvature_class(A.symmetric_eigenvalues(H)) == 0
    assert A.curvature_class_grid(blog_sin, np.array([3.1, 1.8])) == 1


def test_blog_newton_step_from_3p1_1p3_climbs_to_0p97(blog_sin):
    # The blog's "Hessian ideal step" uses its learning rate 0.5: (−0.11, −0.44), after which f = 0.97.
    f0, g, H = A.taylor_model(blog_sin, [3.1, 1.3])
    step = A.newton_landing_point(g, H)
    half = 0.5 * step
    assert np.allclose(half, [-0.11, -0.44], atol=0.005)
    assert round(float(blog_sin.value(np.array([3.1, 1.3]) + half)), 2) == 0.97
    assert blog_sin.value(np.array([3.1, 1.3]) + half) > f0           # uphill
    assert A.quadratic_model_kind(H) == "saddle"
    field = A.newton_step_field(blog_sin, np.array([[3.1, 1.3]]))
    assert np.allclose(field[0], step)


def test_curvature_class_codes_and_undefined():
    lam = np.array([[1.0, 2.0], [-1.0, 2.0], [-3.0, -1.0], [np.nan, 1.0], [0.0, 0.0]])
    out = A.curvature_class(lam)
    assert out[:3].tolist() == [1, 0, -1]
    assert np.isnan(out[3]) and out[4] == 1


def test_undefined_hessian_gives_nan_not_warnings():
    obj = make(sp.sqrt(x) + y**2, ["x", "y"])   # undefined for x < 0
    _, _, XY = A.grid([(-1, 1), (-1, 1)], 5)
    det = A.hessian_det_grid(obj, XY)
    assert np.isnan(det[:, 0]).all()
    assert np.isfinite(det[:, -1]).all()
    assert np.isnan(A.curvature_class_grid(obj, XY)[:, 0]).all()


def test_one_and_three_dimensional_curvature():
    one = make(x**3, ["x"])
    assert A.hessian_eigenvalues_grid(one, np.array([[-1.0], [2.0]]))[:, 0].tolist() == [-6.0, 12.0]
    three = make(x**2 + 2 * y**2 - 3 * w1**2, ["x", "y", "w1"])
    lam = A.hessian_eigenvalues_grid(three, np.zeros((4, 3)))
    assert np.allclose(lam, [-6, 2, 4])
    assert np.allclose(A.hessian_det_grid(three, np.zeros(3)), -48)


# --------------------------------------------------------------------------- critical points
def test_himmelblau_four_minima_and_their_saddles(himmelblau):
    cps = A.critical_points(himmelblau, [(-5, 5), (-5, 5)])
    minima = np.array([c.point for c in cps if c.kind == "min"])
    expected = np.array([(3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848127)])
    assert len(minima) == 4
    for e in expected:
        assert np.min(np.linalg.norm(minima - e, axis=1)) < 1e-6
    kinds = [c.kind for c in cps]
    assert kinds.count("saddle") == 4 and kinds.count("max") == 1
    # Cross-check: SciPy's BFGS from near each minimum, and a root of ∇f near each saddle.
    for c in cps:
        if c.kind == "min":
            res = scipy.optimize.minimize(lambda p: float(himmelblau.value(p)), c.point + 0.3,
                                          jac=lambda p: himmelblau.grad(p), method="BFGS", tol=1e-12)
            assert np.linalg.norm(res.x - c.point) < 1e-5
            assert abs(res.fun - c.value) < 1e-9
        else:
            root = scipy.optimize.root(lambda p: himmelblau.grad(p), c.point + 0.05,
                                       jac=lambda p: himmelblau.hess(p))
            assert root.success and np.linalg.norm(root.x - c.point) < 1e-6


def test_saddle_of_x2_minus_y2():
    cps = A.critical_points(make(x**2 - y**2, ["x", "y"]), [(-2, 2), (-2, 2)])
    assert len(cps) == 1
    assert cps[0].kind == "saddle" and np.allclose(cps[0].point, 0, atol=1e-12)
    assert np.allclose(cps[0].eigenvalues, [-2, 2])


def test_critical_points_classification_and_degenerate():
    assert A.critical_points(make(-(x**2) - y**2, ["x", "y"]), [(-1, 1), (-1, 1)])[0].kind == "max"
    quartic = A.critical_points(make(x**4 + y**4, ["x", "y"]), [(-1, 1), (-1, 1)])
    assert len(quartic) == 1 and quartic[0].kind == "degenerate"


def test_critical_points_in_one_and_three_dimensions():
    c = 0.15 * sp.pi
    xcos = make(x * sp.cos(c * x), ["x"])
    cps = A.critical_points(xcos, [(-15, 15)], seeds=300)
    minima = sorted(float(p.point[0]) for p in cps if p.kind == "min")
    assert np.allclose(minima, [-13.660371004955635, -1.8256845786723395, 7.269388146311475], atol=1e-8)
    three = make((x - 1) ** 2 + (y + 2) ** 2 + w1**2 * (w1 - 1) ** 2, ["x", "y", "w1"])
    cps3 = A.critical_points(three, [(-3, 3)] * 3, seeds=500)
    assert sorted(c.kind for c in cps3) == ["min", "min", "saddle"]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 8), st.floats(0.01, 0.5))
def test_merging_keeps_the_lowest_point_of_each_cluster(seed, max_points, radius):
    """The stationary points that survive merging are, in order of f, each point farther than the
    merge radius from every point kept before it (the definition, written as the plain loop)."""
    from optcore.analysis.critical_points import _merge_lowest_first
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-1, 1, (5, 2))
    X = centres[rng.integers(0, 5, 200)] + rng.normal(0, radius / 3, (200, 2))   # sorted by f by construction
    kept = []
    for x in X:
        if all(np.linalg.norm(x - k) > radius for k in kept):
            kept.append(x)
    merged = _merge_lowest_first(X, radius, max_points)
    assert np.array_equal(merged, np.array(kept[:max_points]).reshape(-1, 2))


# ----------------------------------------------------------------------------- Taylor model
def test_taylor_model_is_exact_for_a_quadratic_and_newton_lands_on_minimum():
    obj = make(x0**2 - x0 * x1 / 2 + (x1 / 3) ** 2, ["x0", "x1"])
    f0, g, H = A.taylor_model(obj, [-3.0, -3.0])
    assert np.allclose(g, [-4.5, 0.8333333333])                       # the blog's gradient
    assert np.allclose(np.linalg.inv(H), [[1.14285714, 2.57142857], [2.57142857, 10.28571429]])
    _, _, XY = A.grid([(-4, 4), (-4, 4)], 9)
    assert np.allclose(A.taylor_model_grid([-3.0, -3.0], f0, g, H, XY), obj.value(XY))
    assert np.allclose(A.newton_landing_point(g, H), [3.0, 3.0])        # the blog's optimal step
    assert np.allclose(A.newton_landing_point(g, H, [-3.0, -3.0]), [0.0, 0.0], atol=1e-12)


def test_newton_landing_point_none_when_singular():
    assert A.newton_landing_point(np.array([1.0, 0.0]), np.array([[1.0, 0.0], [0.0, 0.0]])) is None
    field = A.newton_step_field(make(x**2 + y, ["x", "y"]), np.zeros((3, 2)))
    assert np.isnan(field).all()


def test_gradient_field_points_downhill(course_quadratic):
    V = A.gradient_field(course_quadratic, np.array([[1.0, 1.0]]))
    assert np.allclose(V, [[-1.0, -4.0]])
    N = A.newton_step_field(course_quadratic, np.array([[1.0, 1.0]]))
    assert np.allclose(N, [[-1.0, -1.0]])


# ------------------------------------------------------------------------------------ rates
def test_course_notes_numbers():
    lam = [1.0, 4.0]
    assert A.optimal_learning_rate(lam) == pytest.approx(0.4)
    assert A.optimal_rate(lam) == pytest.approx(3 / 5)
    assert A.stability_edge(lam) == pytest.approx(0.5)
    assert A.condition_number(lam) == pytest.approx(4.0)
    assert A.contraction_factor(0.4, lam) == pytest.approx(0.6)
    assert A.contraction_factor(A.optimal_learning_rate(lam), lam) == pytest.approx(A.optimal_rate(lam))


def test_r_of_alpha_for_2w2_is_abs_1_minus_4alpha():
    alphas = np.linspace(0, 0.7, 29)
    assert np.allclose(A.contraction_factor(alphas, [4.0]), np.abs(1 - 4 * alphas))
    assert A.contraction_factor(0.25, [4.0]) == 0.0


def test_rates_undefined_without_positive_curvature():
    assert math.isnan(A.optimal_learning_rate([-1.0, 2.0]))
    assert math.isnan(A.optimal_rate([0.0, 2.0]))
    assert A.stability_edge([-1.0, -2.0]) == math.inf


def gd_errors(obj, start, lr, steps, x_star):
    p = np.array(start, dtype=float)
    path = [p.copy()]
    for _ in range(steps):
        p = p - lr * obj.grad(p)
        path.append(p.copy())
    return A.errors_to_point(np.array(path), x_star)


def newton_errors(obj, start, steps, x_star):
    p = np.array(start, dtype=float)
    path = [p.copy()]
    for _ in range(steps):
        g, H = obj.grad_hess(p)
        p = p - np.linalg.solve(H, g)
        path.append(p.copy())
    return A.errors_to_point(np.array(path), x_star)


def test_measured_contraction_matches_theory(course_quadratic):
    for lr in (0.1, 0.2, 0.4, 0.45):
        e = gd_errors(course_quadratic, [1.0, 1.0], lr, 60, [0, 0])
        assert A.measured_contraction(e) == pytest.approx(A.contraction_factor(lr, [1, 4]), rel=1e-6)
    ratios = A.step_ratios(gd_errors(course_quadratic, [1.0, 1.0], 0.4, 30, [0, 0]))
    assert np.allclose(ratios, 0.6)


def test_convergence_order_one_for_gd_two_for_newton():
    smooth = make(sp.exp(x) - x + (y - 1) ** 2 + sp.cosh(y - 1) - 1, ["x", "y"])   # minimum (0, 1)
    e_gd = gd_errors(smooth, [1.0, 2.0], 0.3, 80, [0.0, 1.0])
    assert A.convergence_order(e_gd) == pytest.approx(1.0, abs=0.05)
    e_newton = newton_errors(smooth, [1.0, 2.0], 8, [0.0, 1.0])
    assert A.convergence_order(e_newton) == pytest.approx(2.0, abs=0.25)
    cosh = make(sp.cosh(x / 2), ["x"])
    assert A.convergence_order(newton_errors(cosh, [3.0], 10, [0.0])) == pytest.approx(3.0, abs=0.3)


def test_convergence_order_nan_when_too_short():
    assert math.isnan(A.convergence_order([1.0, 0.5]))
    assert math.isnan(A.measured_contraction([1.0]))


# ----------------------------------------------------------------------------- preconditioning
def test_rotate_and_scale_is_the_same_landscape_in_new_coordinates():
    obj = make(x**2 + 2 * y**2, ["x", "y"])
    theta, scale = math.radians(45), 10.0
    g = A.rotate_and_scale(obj, theta, scale)
    assert g.variables == obj.variables
    pts = np.array([[0.3, -1.2], [2.0, 0.5]])
    for p in pts:
        u = A.to_rotated_coordinates(p, theta, scale)
        assert g.value(u) == pytest.approx(obj.value(p))
    M = A.rotation_scale_matrix(2, theta, scale)
    assert np.allclose(g.hess(np.zeros(2)), M.T @ obj.hess(np.zeros(2)) @ M)
    lam = A.symmetric_eigenvalues(g.hess(np.zeros(2)))
    assert A.condition_number(lam) > 100          # scaling ruins the conditioning ...
    plain = A.rotate_and_scale(obj, theta, 1.0)   # ... a rotation alone does not
    assert np.allclose(A.symmetric_eigenvalues(plain.hess(np.zeros(2))), [2, 4])


def test_rotate_and_scale_in_one_dimension_only_scales():
    g = A.rotate_and_scale(make(x**2, ["x"]), 1.0, 3.0)
    assert np.allclose(g.hess(np.zeros(1)), [[18.0]])


# ------------------------------------------------------------------------- runs: sweeps, basins
def test_learning_rate_sweep_matches_quadratic_theory(course_quadratic):
    lrs = np.array([0.1, 0.2, 0.4, 0.45, 0.55])
    seen = []
    sweep = A.learning_rate_sweep(course_quadratic, "gd", [1.0, 1.0], lrs, steps=400, tol=1e-8, f_star=0.0,
                                  on_progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)  # one batched run: progress reported as it ends
    assert list(sweep.status[:4]) == ["converged"] * 4
    assert sweep.status[4] == "diverged" and sweep.gap[4] == np.inf   # above the edge 2/λmax = 0.5
    # α* = 0.4 is the fastest: fewest iterations among the stable rates
    assert np.nanargmin(sweep.iterations) == 2


def test_param_heatmap_shape_and_momentum_edge(course_quadratic):
    lrs = np.array([0.05, 0.3, 0.9])
    betas = np.array([0.0, 0.5])
    hm = A.param_heatmap(course_quadratic, "momentum", [1.0, 1.0], lrs, betas, beta_name="beta", steps=300)
    assert hm.gap.shape == (2, 3)
    # heavy ball is stable iff lr < 2(1 + β)/λmax: 0.5 for β = 0, 0.75 for β = 0.5
    assert np.allclose(A.momentum_stability_edge([1, 4], betas), [0.5, 0.75])
    assert hm.status[0, 2] == "diverged" and hm.status[1, 2] == "diverged"
    assert hm.status[0, 1] == "converged" and hm.status[1, 1] == "converged"


def test_basin_map_of_himmelblau_finds_the_four_minima(himmelblau):
    minima = [(3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848127)]
    seen = []
    bm = A.basin_map(himmelblau, "gd", [(-5, 5), (-5, 5)], n=40, steps=400, tol=1e-6, lr=0.01,
                     on_progress=seen.append, chunk=500)
    assert seen[-1] == 1.0 and len(seen) == 4
    assert bm.labels.shape == (40, 40) and bm.iterations.shape == (40, 40)
    mins = [a for a, k in zip(bm.attractors, bm.attractor_kinds) if k == "min"]
    assert len(mins) == 4
    for m in minima:
        assert min(np.linalg.norm(np.array(m) - a) for a in mins) < 1e-3
    # a start right next to (3, 2) ends there
    i, j = np.argmin(np.abs(bm.ys - 2.0)), np.argmin(np.abs(bm.xs - 3.0))
    assert np.linalg.norm(bm.attractors[bm.labels[i, j]] - [3, 2]) < 1e-3
    fractions = bm.fractions()
    assert abs(sum(fractions.values()) - 1) < 1e-12


def test_basin_outcomes_print_without_float_noise():
    """Rastrigin's minima near the axes ended at y ~ 1e-25 and printed "min (-0.995, -4.96e-25)"."""
    import optcore
    preset = optcore.PRESETS["rastrigin"]
    obj = optcore.parse(preset.formula, variables=tuple(preset.variables))
    bm = A.basin_map(obj, "gd", [(-1.5, 1.5), (-1.5, 1.5)], n=24, steps=300, tol=1e-8, lr=0.002)
    names = list(bm.fractions())
    near_axis = [a for a in bm.attractors if np.min(np.abs(a)) < 1e-9]
    assert near_axis, "some end lies on an axis"
    assert not any("e-" in name for name in names), names
    assert any(", 0)" in name or "(0, " in name for name in names), names
    assert A.coordinates_text([-0.995, -4.96e-25]) == "(-0.995, 0)"
    assert A.coordinates_text([2e-10, 3e-10]) == "(0, 0)"
    assert A.coordinates_text([1e-6, 2.0]) == "(1e-06, 2)"   # small but not noise at this scale


def test_basin_map_labels_diverged_and_known_minima(himmelblau):
    known = [(3, 2), (-2.805118086952745, 3.131312518250573), (-3.779310253377747, -3.2831859912861696),
             (3.5844283403304917, -1.8481265269644036)]
    bm = A.basin_map(himmelblau, "gd", [(-5, 5), (-5, 5)], n=20, steps=100, tol=1e-6, lr=0.05, known_minima=known)
    assert (bm.labels == A.DIVERGED).any()           # η = 0.05 is far too large on the steep walls
    for a in bm.attractors:
        assert min(np.linalg.norm(np.array(k) - a) for k in known) < 1e-12   # snapped to the exact minima
    newton = A.basin_map(himmelblau, "newton", [(-5, 5), (-5, 5)], n=20, steps=60, tol=1e-8)
    assert "saddle" in newton.attractor_kinds            # Newton also stops at saddles
    attractors, kinds, labels = A.align_basin_labels([bm, newton])
    assert len(labels) == 2 and labels[0].shape == (20, 20)
    assert len(attractors) >= len(newton.attractors)


def test_basin_map_rejects_wrong_sizes(himmelblau):
    with pytest.raises(ValueError):
        A.basin_map(himmelblau, "gd", [(-5, 5), (-5, 5)], n=A.MAX_GRID + 1)
    with pytest.raises(ValueError):
        A.basin_map(make(x**2, ["x"]), "gd", [(-1, 1)], n=10)


def test_preconditioning_study_shows_each_methods_invariance():
    obj = make(x**2 + 10 * y**2, ["x", "y"])
    methods = {"gd": ("gd", {"lr": "tuned"}), "diag": ("diag_newton", {"lr": 1.0}), "newton": ("newton", {"lr": 1.0})}
    seen = []
    study = A.preconditioning_study(obj, [-4.0, 2.0], methods, thetas=np.radians([0, 30, 45]),
                                    scales=np.array([1.0, 10.0, 100.0]), x_min=[0, 0], steps=3000, tol=1e-6,
                                    on_progress=seen.append)
    assert seen[-1] == 1.0
    assert np.all(study.by_theta["newton"] == 1) and np.all(study.by_scale["newton"] == 1)
    assert np.all(study.by_scale["diag"] == 1)                       # diagonal Newton undoes any stretch ...
    assert study.by_theta["diag"][2] > study.by_theta["diag"][0]     # ... but not a rotation
    gd_theta = study.by_theta["gd"]
    assert np.ptp(gd_theta) <= 2                                      # GD does not mind rotation ...
    stretched = study.by_scale["gd"][2]                               # ... but stretching (κ 10 -> 1000)
    assert math.isnan(stretched) or stretched > 10 * study.by_scale["gd"][0]   # slows it down or stalls it


def test_iterations_to_tol_nan_when_not_converged(course_quadratic):
    assert math.isnan(A.iterations_to_tol(course_quadratic, "gd", [1.0, 1.0], steps=5, tol=1e-12, lr=0.1))
    assert A.iterations_to_tol(course_quadratic, "newton", [1.0, 1.0], steps=5, tol=1e-12) == 1


def test_convergence_order_from_engine_runs():
    import optcore
    obj = optcore.parse("exp(x) - x + (y - 1)^2 + cosh(y - 1)")
    star = [0.0, 1.0]
    gd = optcore.run(obj, "gd", [1.0, 2.0], steps=200, tol=1e-14, lr=0.3)
    newton = optcore.run(obj, "newton", [1.0, 2.0], steps=20, tol=1e-14)
    assert A.convergence_order(A.errors_to_point(gd.points, star)) == pytest.approx(1.0, abs=0.05)
    assert A.convergence_order(A.errors_to_point(newton.points, star)) == pytest.approx(2.0, abs=0.25)


def test_order_of_convergence_measures_each_run_against_the_point_it_heads_for():
    """Himmelblau from (0, 0): Newton converges to the local maximum, gradient descent to the minimum
    (3, 2). Each is measured against its own limit (one x* for both measured gradient descent's errors
    to the maximum): gradient descent is linear (order ~1), Newton quadratic (~2)."""
    import optcore
    from optcore.analysis import convergence_orders, order_target
    obj = optcore.parse("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    runs = {"gradient descent": optcore.run(obj, "gd", [0.0, 0.0], steps=500, tol=1e-14, lr=0.01),
            "Newton": optcore.run(obj, "newton", [0.0, 0.0], steps=100, tol=1e-14)}
    minima = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]])
    targets = order_target(runs, minima)
    assert np.allclose(targets["gradient descent"], [3.0, 2.0])
    assert np.allclose(targets["Newton"], runs["Newton"].points[-1])
    assert np.all(np.linalg.eigvalsh(obj.hess(targets["Newton"])) < 0), "Newton's limit from (0, 0) is the maximum"
    errors, slopes = convergence_orders(runs, targets)
    assert 0.8 < slopes["gradient descent"] < 1.2 and slopes["Newton"] > 1.7, slopes
    # no known minima: Newton's maximum is the only exact point, and gradient descent, which walked
    # away from it, gets no x* rather than that one
    lone = order_target(runs, np.zeros((0, 2)))
    assert "gradient descent" not in lone and np.allclose(lone["Newton"], runs["Newton"].points[-1])


def test_a_run_that_stops_at_a_maximum_does_not_count_as_reaching_the_minimum():
    """Preconditioning counts iterations to a minimum: Newton from Himmelblau's (0, 0) reaches ‖∇f‖ ≈ 0
    in a few steps, at the local maximum, and was shown as the fastest method."""
    import optcore
    obj = optcore.parse("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    t = optcore.run(obj, "newton", [0.0, 0.0], steps=100, tol=1e-6)
    assert t.status == "converged" and t.stopped_at == "maximum"
    assert math.isnan(A.iterations_to_tol(obj, "newton", [0.0, 0.0], steps=100, tol=1e-6))
    assert A.iterations_to_tol(obj, "newton", [2.5, 2.5], steps=100, tol=1e-6) <= 10   # near (3, 2): a minimum


def test_beyond_the_momentum_edge_a_run_need_not_diverge_and_the_caption_does_not_say_it_must():
    """The dashed edge 2(1 + β)/λmax is where momentum can no longer settle at the minimum; off a
    quadratic a run beyond it can wander to another point and stay finite (Himmelblau, as the
    learning-rate lab's sweep shows), so the caption may not promise divergence."""
    import optcore
    from ui.rates import HEATMAP_CAPTION
    obj = optcore.parse("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    beta = 0.42
    edge = A.momentum_stability_edge(np.linalg.eigvalsh(obj.hess(np.array([3.0, 2.0]))), beta)
    finite_beyond = [lr for lr in edge * np.array([1.05, 1.1, 1.2, 1.3])
                     if optcore.run(obj, "momentum", [1.0, 1.0], steps=300, tol=1e-10, lr=lr, beta=beta).status
                     != "diverged"]
    assert finite_beyond, "some run beyond the edge stays finite"
    assert "must diverge" not in HEATMAP_CAPTION and "cannot settle" in HEATMAP_CAPTION


def test_newton_table_prints_no_negative_zero_and_says_why_there_is_no_direction():
    """The curvature page's start table read "Newton step −H⁻¹∇f: 0, -0", and "—" as the direction
    where H is singular (abs(x) + abs(y): H = 0 everywhere), with no word why."""
    from optcore import parse
    row = A.newton_at_starts(parse("x^2 + y^2"), [np.array([1.0, 0.0])])[0]
    assert row["Newton step −H⁻¹∇f"] == "-1, 0"
    flat = A.newton_at_starts(parse("abs(x) + abs(y)"), [np.array([1.8, 1.32])])[0]
    assert flat["Newton direction"] == "none: H is singular" and flat["eigenvalues of H"] == "0, 0"
