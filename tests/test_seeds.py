"""The numbers the source material prints, reproduced through the public API.

Seeds live in ../shared/seeds (see its README). Each test names the seed file and the passage it
checks; printed numbers are compared at the precision they are printed with. Where a seed only
prints code (the textbook prints `epoch 10, x: {x:f}`), the expected number is what that code prints:
we re-derive it with the seed's own recurrence written out in plain Python, so the test checks the
engine against the seed, not against itself.

Seed files:
  000 = textbook chapter tail (Markdown), 001 = textbook chapter (reST), 002 = blog post on the
  Hessian-optimal step, 003 = course notes on convergence rate, 004 = notes on second-order methods.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import optcore
from optcore import analysis

C_XCOS = 0.15 * math.pi


def fmt6(value: float) -> str:
    """The textbook's `f'{x:f}'`: fixed point with 6 decimals."""
    return f"{value:f}"


def gd_points(formula: str, x0, lr: float, steps: int, **params) -> np.ndarray:
    return optcore.run(optcore.parse(formula), "gd", x0, steps=steps, tol=0, lr=lr, **params).points


def newton_points(formula: str, x0, lr: float, steps: int) -> np.ndarray:
    return optcore.run(optcore.parse(formula), "newton", x0, steps=steps, tol=0, lr=lr).points


def seed_recurrence(update, x: float, steps: int) -> list[float]:
    """The textbook's loop `for i in range(steps): x -= update(x)`, every iterate kept."""
    out = [x]
    for _ in range(steps):
        x -= update(x)
        out.append(x)
    return out


# ============================================================================ 001 textbook, 1-D GD
@pytest.mark.parametrize("eta,printed", [(0.2, "0.060466"), (0.05, "3.486784"), (1.1, "61.917364")])
def test_textbook_gd_on_x_squared(eta, printed):
    """001, "One-Dimensional Gradient Descent" and "Learning Rate": gd(eta, f_grad) on f(x) = x² from
    x = 10 for 10 steps prints `epoch 10, x: {x:f}` for η = 0.2, then η = 0.05 (too small), then
    η = 1.1 (overshoots and diverges)."""
    points = gd_points("x^2", [10.0], eta, 10)
    assert len(points) == 11
    assert fmt6(points[-1, 0]) == printed
    expected = seed_recurrence(lambda x: eta * 2 * x, 10.0, 10)
    assert np.allclose(points[:, 0], expected, rtol=1e-12, atol=0)


def test_textbook_x_squared_iterates_follow_the_factor():
    """001, "Learning Rate": every GD step on x² multiplies x by 1 − 2η (0.6, 0.9 and −1.2 for the
    three rates): the 1.1 run flips sign each step and grows."""
    for eta in (0.2, 0.05, 1.1):
        x = gd_points("x^2", [10.0], eta, 10)[:, 0]
        assert np.allclose(x[1:] / x[:-1], 1 - 2 * eta)
    x = gd_points("x^2", [10.0], 1.1, 10)[:, 0]
    assert (np.sign(x[1:]) != np.sign(x[:-1])).all() and (np.abs(np.diff(np.abs(x))) > 0).all()


def test_textbook_local_minima_with_large_step():
    """001, "Local Minima": f(x) = x·cos(cx), c = 0.15π, gd(2, f_grad) from x = 10, 10 steps; the
    printed `epoch 10, x:` is -1.528166. The run ends near the poor local minimum at x ≈ −1.83
    instead of the deeper one near 7.27."""
    points = gd_points("x cos(0.15 pi x)", [10.0], 2.0, 10)
    assert fmt6(points[-1, 0]) == "-1.528166"
    expected = seed_recurrence(lambda x: 2 * (math.cos(C_XCOS * x) - C_XCOS * x * math.sin(C_XCOS * x)),
                               10.0, 10)
    assert np.allclose(points[:, 0], expected, rtol=1e-10, atol=1e-12)
    obj = optcore.parse("x cos(0.15 pi x)")
    assert float(obj.value([-1.8256845786723395])) > float(obj.value([7.269388146311475]))


# ============================================================================ 001 textbook, 2-D GD
def test_textbook_2d_gradient_descent():
    """001, "Multivariate Gradient Descent": f(x) = x1² + 2·x2², train_2d(gd_2d) from (−5, −2) with
    η = 0.1 for 20 steps prints `epoch 20, x1: -0.057646, x2: -0.000073`."""
    points = gd_points("x1^2 + 2x2^2", [-5.0, -2.0], 0.1, 20)
    assert len(points) == 21
    assert (fmt6(points[-1, 0]), fmt6(points[-1, 1])) == ("-0.057646", "-0.000073")


def test_textbook_2d_gradient_is_2x1_4x2():
    """001, "Multivariate Gradient Descent": the gradient of x1² + 2x2² is [2x1, 4x2]."""
    obj = optcore.parse("x1^2 + 2x2^2")
    X = np.array([[-5.0, -2.0], [0.3, 1.7]])
    assert np.allclose(obj.grad(X), np.stack([2 * X[:, 0], 4 * X[:, 1]], axis=-1))


# ============================================================================ 001 textbook, Newton
def test_newton_one_step_on_half_x_squared():
    """001, "Newton's Method": for f(x) = ½x², ∇f = x and H = 1, so ε = −x and a single step lands on
    the minimum."""
    for x0 in (-7.0, 0.5, 10.0):
        points = newton_points("x^2/2", [x0], 1.0, 1)
        assert points[1, 0] == 0.0


def test_newton_on_cosh():
    """001, "Newton's Method": f(x) = cosh(cx), c = 0.5, newton() from x = 10 for 10 steps; the
    printed `epoch 10, x:` is 0 (the book prints `tensor(0.)`): the global minimum at 0 is reached
    after a few iterations."""
    points = newton_points("cosh(0.5x)", [10.0], 1.0, 10)
    c = 0.5
    expected = seed_recurrence(lambda x: c * math.sinh(c * x) / (c * c * math.cosh(c * x)), 10.0, 10)
    assert points[-1, 0] == pytest.approx(0.0, abs=1e-12)
    assert f"{points[-1, 0]:.4f}" in ("0.0000", "-0.0000")
    assert np.allclose(points[:, 0], expected, rtol=1e-9, atol=1e-15)
    # "after a few iterations": the error is below 1e-6 by step 7 and squares from then on
    assert abs(points[7, 0]) < 1e-6


def test_newton_on_x_cos_cx_goes_wrong():
    """001, "Newton's Method": f(x) = x·cos(cx), c = 0.15π, newton() with η = 1 from x = 10 — "This
    went spectacularly wrong". The printed `epoch 10, x:` is 26.8341 (`tensor(26.8341)`): a local
    maximum, where f'' < 0."""
    obj = optcore.parse("x cos(0.15 pi x)")
    points = newton_points("x cos(0.15 pi x)", [10.0], 1.0, 10)
    assert f"{points[-1, 0]:.4f}" == "26.8341"
    assert float(obj.hess(points[-1])[0, 0]) < 0  # a maximum, not a minimum
    assert abs(float(obj.grad(points[-1])[0])) < 1e-9


def test_damped_newton_on_x_cos_cx():
    """001, "Newton's Method": the same function with newton(0.5) — "quite an efficient algorithm".
    The printed `epoch 10, x:` is 7.2699 (`tensor(7.2699)`), on the way to the minimum near 7.2694."""
    obj = optcore.parse("x cos(0.15 pi x)")
    points = newton_points("x cos(0.15 pi x)", [10.0], 0.5, 10)
    assert f"{points[-1, 0]:.4f}" == "7.2699"
    assert float(obj.hess(points[-1])[0, 0]) > 0
    assert (np.diff(obj.value(points)) < 0).all()  # every damped step goes downhill


def test_newton_recurrences_match_the_seed_code():
    """001, "Newton's Method": the seed's own f_hess for x·cos(cx) is −2c·sin(cx) − x·c²·cos(cx);
    our iterates agree with that hand-written recurrence for η = 1 and η = 0.5."""
    c = C_XCOS

    def grad(x):
        return math.cos(c * x) - c * x * math.sin(c * x)

    def hess(x):
        return -2 * c * math.sin(c * x) - x * c * c * math.cos(c * x)

    for eta in (1.0, 0.5):
        expected = seed_recurrence(lambda x: eta * grad(x) / hess(x), 10.0, 10)
        points = newton_points("x cos(0.15 pi x)", [10.0], eta, 10)
        assert np.allclose(points[:, 0], expected, rtol=1e-9)


# ============================================================================ 000/001 exercises
def test_line_search_exercise():
    """000 and 001, "Exercises" 2.3: minimise log(exp(x) + exp(−2x − 3)) with a line search. Its
    minimum is where eˣ = 2e^(−2x−3), x* = ln(2)/3 − 1 ≈ −0.768951; GD with the exact line search
    reaches it."""
    obj = optcore.parse("log(exp(x) + exp(-2x - 3))")
    x_star = math.log(2) / 3 - 1
    assert abs(float(obj.grad([x_star])[0])) < 1e-12
    traj = optcore.run(obj, "gd", [2.5], steps=50, tol=1e-10, line_search="exact")
    assert traj.status == "converged"
    assert f"{traj.points[-1, 0]:.6f}" == f"{x_star:.6f}" == "-0.768951"


def test_diagonal_preconditioning_exercises():
    """000 and 001, "Preconditioning" and "Exercises" 3–5: on a badly scaled quadratic, dividing by
    diag(H) removes the scale mismatch (one step), while gradient descent is slow; rotating the
    coordinates by 45° makes diag(H) useless."""
    scaled = optcore.parse("x^2 + 100y^2")
    one = optcore.run(scaled, "diag_newton", [-5.0, -2.0], steps=1, tol=0, lr=1.0)
    assert np.allclose(one.points[1], 0.0, atol=1e-12)
    slow = optcore.run(scaled, "gd", [-5.0, -2.0], steps=100, tol=1e-6, lr=0.009)
    assert slow.status == "max_steps"  # x still creeps by 0.982 per step
    # 45° rotation of diag(2, 20): diag H = (11, 11), so the preconditioner is a plain η = 1/11 ...
    rotated = optcore.parse("5.5x^2 - 9xy + 5.5y^2")
    diag = optcore.run(rotated, "diag_newton", [-4.0, -2.0], steps=30, tol=0, lr=1.0, use_abs=False)
    plain = optcore.run(rotated, "gd", [-4.0, -2.0], steps=30, tol=0, lr=1 / 11)
    assert np.allclose(diag.points, plain.points, rtol=1e-10, atol=1e-12)
    # ... while Newton is unaffected by the rotation
    newton = optcore.run(rotated, "newton", [-4.0, -2.0], steps=1, tol=0)
    assert np.allclose(newton.points[1], 0.0, atol=1e-12)


# ============================================================================ 002 blog post
def _blog_step(formula: str, point):
    obj = optcore.parse(formula)
    g = obj.grad(np.array(point, dtype=float))
    H = obj.hess(np.array(point, dtype=float))
    return obj, g, H, np.linalg.inv(H), -np.linalg.solve(H, g)


def test_blog_example1_paraboloid():
    """002, "Example 1": f = x0² + x1² at (−3, −3) prints gradient [-6. -6.], Hessian
    [[2. 0.] [0. 2.]], inverse Hessian [[0.5 0.] [0. 0.5]], optimal vector change [3 3]: the Hessian
    step nails the minimum in one step."""
    obj, g, H, H_inv, step = _blog_step("x0^2 + x1^2", [-3, -3])
    assert np.array_equal(np.round(g, 8), [-6.0, -6.0])
    assert np.array_equal(np.round(H, 8), [[2.0, 0.0], [0.0, 2.0]])
    assert np.array_equal(np.round(H_inv, 8), [[0.5, 0.0], [0.0, 0.5]])
    assert np.array_equal(np.round(step, 8), [3.0, 3.0])
    traj = optcore.run(obj, "newton", [-3.0, -3.0], steps=1, tol=0)
    assert np.allclose(traj.points[1], [0.0, 0.0], atol=1e-15)


def test_blog_example1_gradient_step_oscillates():
    """002, "Example 1": the negative gradient (6, 6) overshoots and would oscillate between
    (−3, −3) and (3, 3) forever (that is η = 1); any learning rate below 0.5·2 = 1 converges (the
    post says "anything less than 0.5", which is safe as well)."""
    points = gd_points("x0^2 + x1^2", [-3.0, -3.0], 1.0, 6)
    assert np.allclose(points[1::2], [3.0, 3.0]) and np.allclose(points[0::2], [-3.0, -3.0])
    for eta in (0.1, 0.25, 0.49, 0.9):
        assert np.linalg.norm(gd_points("x0^2 + x1^2", [-3.0, -3.0], eta, 200)[-1]) < 1e-6
    assert analysis.stability_edge([2.0, 2.0]) == 1.0


def test_blog_example2_squished_paraboloid():
    """002, "Example 2": f = x0² − x0·x1/2 + (x1/3)² at (−3, −3) prints gradient
    [-4.5 0.83333333], Hessian [[ 2. -0.5 ] [-0.5 0.22222222]], inverse Hessian
    [[ 1.14285714 2.57142857] [ 2.57142857 10.28571429]] and optimal change [3.0 3.0]; the negative
    gradient (4.5, −0.83) does not point at the minimum, the Hessian step lands on it."""
    obj, g, H, H_inv, step = _blog_step("x0^2 - x0*x1/2 + (x1/3)^2", [-3, -3])
    assert np.array_equal(np.round(g, 8), [-4.5, 0.83333333])
    assert np.array_equal(np.round(H, 8), [[2.0, -0.5], [-0.5, 0.22222222]])
    assert np.array_equal(np.round(H_inv, 8), [[1.14285714, 2.57142857], [2.57142857, 10.28571429]])
    assert np.array_equal(np.round(step, 8), [3.0, 3.0])
    assert np.array_equal(np.round(-g, 2), [4.5, -0.83])
    # the gradient and the ideal step are not in the same direction
    cosine = float(-g @ step) / (np.linalg.norm(g) * np.linalg.norm(step))
    assert cosine < 0.9
    traj = optcore.run(obj, "newton", [-3.0, -3.0], steps=1, tol=0)
    assert np.allclose(traj.points[1], [0.0, 0.0], atol=1e-12)


SIN_SADDLE = "sin(x0)^2 + sin(10 + x1*x0/2)*cos(x0)"


def test_blog_example3_hessian_at_saddle_start():
    """002, "Example 3": at (3.1, 1.3) the Hessian of sin(x0)² + sin(10 + x1·x0/2)·cos(x0) prints as
    [[ 1.20250029 -1.007762 ] [-1.007762 -1.2574737 ]], with a negative determinant (one positive,
    one negative eigenvalue)."""
    obj = optcore.parse(SIN_SADDLE)
    H = obj.hess(np.array([3.1, 1.3]))
    assert np.array_equal(np.round(H, 8), [[1.20250029, -1.00776200], [-1.00776200, -1.25747370]])
    assert np.linalg.det(H) < 0
    eigenvalues = np.linalg.eigvalsh(H)
    assert eigenvalues[0] < 0 < eigenvalues[1]
    assert float(analysis.hessian_det_grid(obj, np.array([[3.1, 1.3]]))[0]) < 0


def test_blog_example3_newton_step_climbs():
    """002, "Example 3": from (3.1, 1.3) the "Hessian ideal step" is (−0.11, −0.44) and it raises f
    to 0.97. Those two printed numbers are the Newton step scaled by the post's learning rate 0.5
    (the full step is (−0.22, −0.87), which would give f ≈ 0.96): newton with lr = 0.5 reproduces both."""
    obj = optcore.parse(SIN_SADDLE)
    start = np.array([3.1, 1.3])
    traj = optcore.run(obj, "newton", start, steps=1, tol=0, lr=0.5)
    step = traj.points[1] - start
    assert np.array_equal(np.round(step, 2), [-0.11, -0.44])
    assert round(float(traj.values[1]), 2) == 0.97
    assert traj.values[1] > traj.values[0]  # it climbs: f(start) ≈ 0.525
    full = optcore.run(obj, "newton", start, steps=1, tol=0, lr=1.0)
    assert np.array_equal(np.round(full.points[1] - start, 2), [-0.22, -0.87])


def test_blog_example3_nearby_saddle():
    """002, "Example 3": the start (3.1, 1.3) is "quite close to a saddle point extremum at about
    (3, 1)"; the critical point is exactly (π, 7 − 20/π) ≈ (3.1416, 0.6338), a saddle with f = 1, and the
    central minimum (π, 9 − 20/π) ≈ (3.1416, 2.6338) has f = −1. Undamped Newton from the start
    converges to that saddle."""
    obj = optcore.parse(SIN_SADDLE)
    found = analysis.critical_points(obj, ((2.0, 4.5), (-0.5, 3.5)))
    saddles = [c for c in found if c.kind == "saddle" and np.linalg.norm(c.point - [3.0, 1.0]) < 0.5]
    assert saddles
    assert np.allclose(saddles[0].point, [math.pi, 7 - 20 / math.pi], atol=1e-6)
    minima = [c for c in found if c.kind == "min"]
    assert any(np.allclose(c.point, [math.pi, 9 - 20 / math.pi], atol=1e-6) and abs(c.value + 1) < 1e-9
               for c in minima)
    traj = optcore.run(obj, "newton", [3.1, 1.3], steps=20, tol=1e-10)
    assert np.allclose(traj.points[-1], [math.pi, 7 - 20 / math.pi], atol=1e-6)


def test_blog_example3_gradient_descent_bounces_in_the_well():
    """002, "Example 3": GD with learning rate 0.5 from (3.1, 1.3) gets into the well but keeps
    bouncing around (the rate is too high): every iterate is below the start, none settles."""
    traj = optcore.run(optcore.parse(SIN_SADDLE), "gd", [3.1, 1.3], steps=20, tol=1e-8, lr=0.5)
    assert (traj.values[1:] < traj.values[0]).all()
    assert traj.status == "max_steps"
    assert np.ptp(traj.values[-6:]) > 0.3  # still jumping between the valley walls


def test_blog_example4_start_in_positive_region():
    """002, "Example 4": (3.1, 1.8) lies where det H > 0 (both eigenvalues positive), so the Newton
    direction points downhill. Note: the post says the Hessian step "pretty much converged by the
    third iteration"; with its own formula the full step overshoots (f: −0.220 → −0.081) and the run
    converges in about six steps to the next minimum up the valley, (π, 13 − 20/π), f = −1."""
    obj = optcore.parse(SIN_SADDLE)
    start = np.array([3.1, 1.8])
    g, H = obj.grad(start), obj.hess(start)
    assert np.linalg.det(H) > 0 and (np.linalg.eigvalsh(H) > 0).all()
    assert float(g @ -np.linalg.solve(H, g)) < 0
    traj = optcore.run(obj, "newton", start, steps=20, tol=1e-10)
    assert traj.status == "converged" and traj.iterations <= 8
    assert np.allclose(traj.points[-1], [math.pi, 13 - 20 / math.pi], atol=1e-6)
    assert float(traj.values[-1]) == pytest.approx(-1.0, abs=1e-12)


# ============================================================================ 003 course notes
def test_course_1d_rate():
    """003, "Convergence Analysis in 1D": for f(w) = 2w², w_k = (1 − 4α)^k w_0, the rate is
    r(α) = |1 − 4α|, convergence needs 0 < α < 1/2, and α = 1/4 converges in one step."""
    obj = optcore.parse("2w^2")
    H = obj.hess(np.array([0.3]))
    assert H[0, 0] == 4.0
    for alpha in (0.05, 0.25, 0.4, 0.6):
        w = gd_points("2w^2", [1.0], alpha, 8)[:, 0]
        assert np.allclose(w, (1 - 4 * alpha) ** np.arange(9), atol=1e-14)
        assert analysis.contraction_factor(alpha, [4.0]) == pytest.approx(abs(1 - 4 * alpha))
    assert analysis.stability_edge([4.0]) == 0.5
    assert analysis.optimal_learning_rate([4.0]) == 0.25
    assert gd_points("2w^2", [1.0], 0.25, 1)[1, 0] == 0.0


def test_course_2d_decoupled_updates():
    """003, "Convergence Analysis in 2D": for f = ½(w1² + 4w2²) the Hessian is diag(1, 4), and
    w1_k = w1_0(1 − α)^k, w2_k = w2_0(1 − 4α)^k; the overall rate is max{|1 − α|, |1 − 4α|}."""
    obj = optcore.parse("0.5(w1^2 + 4w2^2)")
    assert np.allclose(obj.hess(np.zeros(2)), np.diag([1.0, 4.0]))
    k = np.arange(11)
    for alpha in (0.1, 0.3, 0.45):
        points = gd_points("0.5(w1^2 + 4w2^2)", [1.0, 1.0], alpha, 10)
        assert np.allclose(points[:, 0], (1 - alpha) ** k, atol=1e-14)
        assert np.allclose(points[:, 1], (1 - 4 * alpha) ** k, atol=1e-14)
        assert analysis.contraction_factor(alpha, [1.0, 4.0]) == pytest.approx(
            max(abs(1 - alpha), abs(1 - 4 * alpha)))


def test_course_optimal_learning_rate_and_rate():
    """003, "Finding the Optimal Learning Rate": with λmin = 1 and λmax = 4, α* = 2/(1 + 4) = 2/5 = 0.4
    and r(α*) = (4 − 1)/(4 + 1) = 3/5; a run with α* contracts both coordinates by exactly 3/5."""
    obj = optcore.parse("0.5(w1^2 + 4w2^2)")
    eigenvalues = np.linalg.eigvalsh(obj.hess(np.zeros(2)))
    assert np.allclose(eigenvalues, [1.0, 4.0])
    alpha = analysis.optimal_learning_rate(eigenvalues)
    assert alpha == pytest.approx(0.4, abs=1e-15)
    assert analysis.optimal_rate(eigenvalues) == pytest.approx(3 / 5, abs=1e-15)
    assert analysis.condition_number(eigenvalues) == pytest.approx(4.0)
    assert analysis.contraction_factor(alpha, eigenvalues) == pytest.approx(0.6)
    points = gd_points("0.5(w1^2 + 4w2^2)", [1.0, 1.0], alpha, 12)
    assert np.allclose(np.abs(points[1:] / points[:-1]), 0.6, rtol=1e-12)
    errors = analysis.errors_to_point(points, [0.0, 0.0])
    assert analysis.measured_contraction(errors) == pytest.approx(0.6, rel=1e-9)


def test_course_rate_is_worse_away_from_optimum():
    """003, "Finding the Optimal Learning Rate": α* minimises r(α) = max|1 − αλᵢ|; too small leaves
    the λ = 1 direction slow, too large (α > 1/2) makes the λ = 4 direction oscillate and diverge."""
    alphas = np.linspace(0.01, 0.6, 300)
    r = analysis.contraction_factor(alphas, [1.0, 4.0])
    assert alphas[np.argmin(r)] == pytest.approx(0.4, abs=0.003)
    assert analysis.stability_edge([1.0, 4.0]) == 0.5
    diverging = gd_points("0.5(w1^2 + 4w2^2)", [1.0, 1.0], 0.55, 10)
    assert abs(diverging[-1, 1]) > 1


# ============================================================================ 004 second-order notes
def test_newton_step_minimises_the_quadratic_model():
    """004, "Second-order descent as solving a quadratic approximation": the Newton step θ' solves
    ∇L + ∇²L θ' = 0, i.e. it lands on the stationary point of the second-order Taylor model."""
    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    x0 = np.array([-1.2, 1.0])
    f0, g, H = analysis.taylor_model(obj, x0)
    landing = analysis.newton_landing_point(g, H, x0)
    traj = optcore.run(obj, "newton", x0, steps=1, tol=0)
    assert np.allclose(traj.points[1], landing, rtol=1e-12, atol=1e-12)
    model_grad = g + H @ (traj.points[1] - x0)
    assert np.linalg.norm(model_grad) < 1e-9


def test_positive_definite_preconditioner_keeps_descent():
    """004, "Second-order descent as knowing how far to step": a positive definite inverse Hessian
    never flips the direction: −H⁻¹∇f is a descent direction wherever H is positive definite, and
    where it is not (the blog's (3.1, 1.3)) it can point uphill."""
    obj = optcore.parse(SIN_SADDLE)
    for point, descends in (([3.1, 1.8], True), ([3.1, 1.3], False)):
        g, H = obj.grad(np.array(point)), obj.hess(np.array(point))
        slope = float(g @ -np.linalg.solve(H, g))
        assert (slope < 0) is descends
