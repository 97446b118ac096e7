"""Methods and step rules: known minima, textbook identities, and SciPy as a referee."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

import optcore
from optcore import linesearch, rules
from optcore.methods import METHODS, resolve_params
from optcore.run import run

QUADRATIC = "(x - 1)^2 + 2(y + 0.5)^2"  # minimum (1, -0.5)
ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"  # minimum (1, 1)


def parse(text: str):
    return optcore.parse(text)


def quadratic_text(A: np.ndarray, b: np.ndarray) -> tuple[str, list[str]]:
    """Formula text for 0.5 x^T A x - b^T x in variables x1..xd."""
    d = len(b)
    names = [f"x{i + 1}" for i in range(d)]
    terms = [f"{float(0.5 * A[i, j])!r}*{names[i]}*{names[j]}" for i in range(d) for j in range(d)]
    terms += [f"{float(-b[i])!r}*{names[i]}" for i in range(d)]
    return " + ".join(terms).replace("+ -", "- "), names


def random_spd(d: int, seed: int, condition: float = 20.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return Q @ np.diag(np.geomspace(1.0, condition, d)) @ Q.T


# ------------------------------------------------------------ the table: methods x test functions


class Decaying:
    """A learning-rate schedule lr0 * rate**k with a stable name (for test ids). Sign methods
    (Lion) move every coordinate by the full lr, so they only settle as lr shrinks."""

    def __init__(self, lr0: float, rate: float) -> None:
        self.lr0, self.rate = lr0, rate

    def __call__(self, k: int) -> float:
        return self.lr0 * self.rate**k

    def __repr__(self) -> str:
        return f"{self.lr0}*{self.rate}^k"


# (method, params, steps). Slow first-order methods are only asked to solve the quadratic; on
# Rosenbrock's curved valley they need tens of thousands of steps, which says nothing new.
ON_QUADRATIC = [
    ("gd", {"lr": 0.1}, 500),
    ("gd", {"line_search": "backtracking", "lr": 1.0}, 500),
    ("gd", {"line_search": "exact"}, 500),
    ("momentum", {"lr": 0.05, "beta": 0.9}, 1000),
    ("nesterov", {"lr": 0.05, "beta": 0.9}, 1000),
    ("adagrad", {"lr": 0.4}, 2000),
    ("rmsprop", {"lr": 0.01, "gamma": 0.9}, 2000),
    ("adam", {"lr": 0.1}, 2000),
    ("adamw", {"lr": 0.1, "weight_decay": 0.0}, 2000),
    ("lion", {"lr": Decaying(0.1, 0.99)}, 2000),
    ("newton", {}, 5),
    ("newton_abs", {}, 5),
    ("newton_reg", {}, 50),
    ("diag_newton", {}, 5),
    ("diag_newton", {"use_abs": False}, 5),
    ("bfgs", {}, 50),
    ("lbfgs", {}, 50),
    ("cg", {}, 50),
    ("cg", {"beta_rule": "FR"}, 50),
]
ON_ROSENBROCK = [
    ("adam", {"lr": 0.1}, 5000),
    ("adamw", {"lr": 0.1, "weight_decay": 0.0}, 5000),
    ("lion", {"lr": Decaying(0.02, 0.999)}, 8000),
    ("newton", {}, 50),
    ("newton", {"line_search": "backtracking"}, 100),
    ("newton_abs", {"line_search": "backtracking"}, 100),
    ("newton_reg", {}, 100),
    ("bfgs", {}, 200),
    ("bfgs", {"line_search": "exact"}, 200),
    ("lbfgs", {"memory": 5}, 300),
    ("cg", {}, 300),
    ("cg", {"beta_rule": "PR"}, 300),
    # Not listed: CG with Armijo backtracking from lr = 1 crawls along the valley (still 4e-3 away
    # after 3000 steps); CG needs a line search that finds the step's scale.
]


@pytest.mark.parametrize(
    "formula, x0, minimum, method, params, steps",
    [(QUADRATIC, [-2.0, 1.5], [1.0, -0.5], *case) for case in ON_QUADRATIC]
    + [(ROSENBROCK, [-1.2, 1.0], [1.0, 1.0], *case) for case in ON_ROSENBROCK],
    ids=lambda v: str(v) if isinstance(v, (str, dict)) else None,
)
def test_method_reaches_known_minimum(formula, x0, minimum, method, params, steps):
    trajectory = run(parse(formula), method, x0, steps=steps, tol=1e-9, **params)
    assert trajectory.status != "diverged", trajectory.message
    assert np.allclose(trajectory.final_point, minimum, atol=1e-4), (trajectory.final_point, trajectory.message)


def test_every_method_has_a_table_entry():
    tested = {method for method, _, _ in ON_QUADRATIC}
    assert tested == set(METHODS)


def test_bfgs_matches_scipy_bfgs():
    for formula, x0 in [(ROSENBROCK, [-1.2, 1.0]), ("x^4 + x*y + (1 + y)^2", [0.7, -2.0])]:
        objective = parse(formula)
        ours = run(objective, "bfgs", x0, steps=500, tol=1e-10)
        theirs = scipy.optimize.minimize(
            lambda x: float(objective.value(x)), x0, jac=lambda x: objective.grad(x), method="BFGS", tol=1e-10
        )
        assert ours.status == "converged", ours.message
        assert np.allclose(ours.final_point, theirs.x, atol=1e-6), (ours.final_point, theirs.x)


def test_newton_lands_in_one_step_on_convex_quadratics():
    # The blog's "squished paraboloid" from (-3, -3): the gradient points the wrong way,
    # the Newton step lands on the minimum.
    trajectory = run(parse("x^2 - x*y/2 + (y/3)^2"), "newton", [-3.0, -3.0], steps=5)
    assert trajectory.iterations == 1 and trajectory.status == "converged"
    assert np.allclose(trajectory.points[1], [0.0, 0.0], atol=1e-12)
    # A 4-D quadratic exercises the general (eigh) path.
    A, b = random_spd(4, seed=1), np.arange(1.0, 5.0)
    text, _ = quadratic_text(A, b)
    trajectory = run(parse(text), "newton", np.zeros(4), steps=5, tol=1e-8)
    assert trajectory.iterations == 1
    assert np.allclose(trajectory.points[1], np.linalg.solve(A, b), atol=1e-9)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_bfgs_with_exact_line_search_terminates_on_quadratic(d):
    A, b = random_spd(d, seed=d), np.linspace(-1.0, 2.0, d)
    text, _ = quadratic_text(A, b)
    trajectory = run(parse(text), "bfgs", np.full(d, 3.0), steps=50, tol=1e-7, line_search="exact")
    assert trajectory.status == "converged", trajectory.message
    assert trajectory.iterations <= d + 1
    assert np.allclose(trajectory.final_point, np.linalg.solve(A, b), atol=1e-6)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_cg_with_exact_line_search_terminates_within_d_steps(d):
    A, b = random_spd(d, seed=10 + d), np.linspace(1.0, -1.0, d)
    text, _ = quadratic_text(A, b)
    trajectory = run(parse(text), "cg", np.full(d, -2.0), steps=50, tol=1e-7, line_search="exact")
    assert trajectory.status == "converged", trajectory.message
    assert trajectory.iterations <= d
    assert np.allclose(trajectory.final_point, np.linalg.solve(A, b), atol=1e-6)


def test_gd_on_diagonal_quadratic_follows_the_contraction_factors():
    # f = x^2 + 3 y^2 has Hessian eigenvalues 2 and 6: x_k = (1 - 2a)^k x_0, y_k = (1 - 6a)^k y_0.
    lr, steps, x0 = 0.1, 25, np.array([-5.0, -2.0])
    trajectory = run(parse("x^2 + 3y^2"), "gd", x0, steps=steps, tol=0, lr=lr)
    k = np.arange(steps + 1)[:, None]
    expected = x0 * (1.0 - lr * np.array([2.0, 6.0])) ** k
    assert np.allclose(trajectory.points, expected, rtol=1e-12, atol=0)


def test_adam_first_step_moves_each_coordinate_by_lr():
    lr = 0.05
    trajectory = run(parse("x^2 + 3y^2 + x*y"), "adam", [3.0, -0.2], steps=1, tol=0, lr=lr)
    move = trajectory.points[1] - trajectory.points[0]
    assert np.allclose(np.abs(move), lr, rtol=1e-6)
    assert np.all(np.sign(move) == -np.sign(trajectory.grads[0]))
    assert np.allclose(trajectory.extras["adam_m"][0], 0.1 * trajectory.grads[0])


def test_backtracking_result_satisfies_armijo():
    objective = parse(ROSENBROCK)
    X = np.array([[-1.2, 1.0], [0.0, 0.0], [2.0, 2.0], [0.5, -1.0]])
    G = objective.grad(X)
    direction = -G
    f0 = objective.value(X)
    slope = np.einsum("ij,ij->i", G, direction)

    def phi(alpha, rows):
        return objective.value(X[rows] + alpha[:, None] * direction[rows])

    c1 = 1e-4
    result = linesearch.backtracking(phi, f0, slope, 1.0, c1=c1, shrink=0.5)
    assert result.success.all()
    assert np.all(result.value <= f0 + c1 * result.alpha * slope)
    assert np.allclose(result.value, objective.value(X + result.alpha[:, None] * direction))
    # It is the *first* acceptable halving: twice the step fails Armijo (unless it was the start).
    doubled = 2 * result.alpha
    fails = objective.value(X + doubled[:, None] * direction) > f0 + c1 * doubled * slope
    assert np.all(fails | (result.alpha == 1.0))
    for row in range(len(X)):
        trials = result.trials(row)
        assert trials[-1] == pytest.approx((result.alpha[row], result.value[row]))
        assert len(trials) == result.evaluations[row]


def test_backtracking_inside_gd_run_satisfies_armijo():
    objective = parse(ROSENBROCK)
    trajectory = run(objective, "gd", [-1.2, 1.0], steps=20, tol=0, line_search="backtracking", lr=1.0)
    for k in range(trajectory.iterations):
        g = trajectory.grads[k]
        alpha = trajectory.extras["lr"][k]
        assert trajectory.values[k + 1] <= trajectory.values[k] - 1e-4 * alpha * (g @ g) + 1e-12
        assert np.allclose(trajectory.points[k + 1], trajectory.points[k] - alpha * g)
    # f evaluations = the line search's trials (plus f(x_k) once per step); one grad per step.
    trials = [len(t) for t in trajectory.extras["line_search_trials"]]
    assert list(np.diff(trajectory.evaluations["f"])) == [n + 1 for n in trials]
    assert list(trajectory.evaluations["grad"]) == list(range(trajectory.iterations + 1))


def test_exact_line_search_matches_scipy_minimize_scalar():
    # The textbook exercise function along x, and a 2-D function along several directions.
    cases = [
        ("log(exp(x) + exp(-2x - 3))", [[2.0], [-3.0], [0.5]]),
        ("x^2 + 3y^2 + x*y + exp(0.5x)", [[2.0, 1.0], [-1.0, 3.0], [0.3, -0.2]]),
    ]
    for formula, starts in cases:
        objective = parse(formula)
        X = np.array(starts)
        direction = -objective.grad(X)
        f0 = objective.value(X)

        def phi(alpha, rows):
            return objective.value(X[rows] + alpha[:, None] * direction[rows])

        result = linesearch.exact(phi, f0, 1.0)
        assert result.success.all()
        for row in range(len(X)):
            reference = scipy.optimize.minimize_scalar(
                lambda a: float(objective.value(X[row] + a * direction[row])), bracket=(0.0, 1.0), tol=1e-12
            )
            assert result.alpha[row] == pytest.approx(reference.x, rel=1e-5, abs=1e-7)
            assert result.value[row] <= reference.fun + 1e-12


def test_exact_line_search_on_non_descent_direction_stays_put():
    def phi(alpha, rows):
        return (1.0 + alpha) ** 2  # increasing for alpha >= 0

    result = linesearch.exact(phi, np.array([1.0]), 1.0)
    assert not result.success[0] and result.alpha[0] == 0.0


class FakeOracle:
    """Enough of StepOracle for rules that only read the gradient."""

    recording = False

    def __init__(self, G):
        self.grad = G

    def note(self, name, mask):
        pass

    def log(self, name, value):
        pass


def test_chain_equals_applying_links_by_hand():
    links = [rules.add_noise(0.3, seed=4), rules.scale_by_momentum(0.8), rules.scale_by_adam(0.9, 0.99, 1e-8), rules.scale_by_lr(0.1)]
    chained = rules.chain(*links)
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    chain_state = chained.init(X)
    hand_states = [link.init(X) for link in links]
    for k in range(4):
        G = np.sin(X + k)  # any gradient-like input
        chained_update, chain_state = chained.update(G, chain_state, X, k, FakeOracle(G))
        by_hand = G
        for i, link in enumerate(links):
            by_hand, hand_states[i] = link.update(by_hand, hand_states[i], X, k, FakeOracle(G))
        assert np.array_equal(chained_update, by_hand)
        X = X + chained_update


def test_newton_abs_moves_downhill_on_a_saddle_where_newton_climbs():
    objective = parse("x^2 - y^2")
    start = [0.1, 1.0]
    plain = run(objective, "newton", start, steps=1, tol=0)
    saddle_free = run(objective, "newton_abs", start, steps=1, tol=0)
    assert np.allclose(plain.points[1], [0.0, 0.0])  # pure Newton jumps to the saddle: f rises
    assert plain.values[1] > plain.values[0]
    assert saddle_free.values[1] < saddle_free.values[0]
    assert saddle_free.points[1][1] > start[1]  # pushed away from the saddle along y
    assert abs(saddle_free.points[1][0]) < abs(start[0])  # still pulled toward the valley in x
    assert np.allclose(saddle_free.extras["hess_eigenvalues"][0], [-2.0, 2.0])


def test_newton_reg_damping_grows_on_indefinite_hessian():
    trajectory = run(parse("x^2 - y^2 + y^4"), "newton_reg", [1.0, 0.1], steps=30, tol=1e-9, lambda0=1e-3)
    assert trajectory.extras["damping"][0] > 2.0  # H has eigenvalue about -2 at the start
    assert trajectory.status == "converged"
    # A minimum, not the saddle at the origin that pure Newton would head for.
    assert np.allclose(np.abs(trajectory.final_point), [0.0, np.sqrt(0.5)], atol=1e-6)
    rose = np.flatnonzero(np.diff(trajectory.values) > 0)
    for k in rose:  # after a step that raised f, the damping was increased
        if k + 1 < trajectory.iterations:
            assert trajectory.extras["damping"][k + 1] > trajectory.extras["damping"][k]


def test_singular_hessian_does_not_raise_and_is_reported():
    trajectory = run(parse("x^2 + y"), "newton", [1.0, 1.0], steps=5)
    assert "singular" in trajectory.message
    assert np.allclose(trajectory.points[1], [0.0, 1.0])  # pseudo-inverse: moves only in x
    assert np.isfinite(trajectory.points).all()


@settings(max_examples=200, deadline=None)
@given(
    # Magnitudes below 1e-100 are mapped to 0: their squares underflow, no Hessian looks like that.
    st.lists(st.floats(-1e3, 1e3).map(lambda v: 0.0 if abs(v) < 1e-100 else v), min_size=5, max_size=5),
    st.sampled_from(["pure", "abs", "reg"]),
)
def test_closed_form_2x2_newton_agrees_with_general_path(numbers, mode):
    a, b, c, g0, g1 = numbers
    H = np.array([[[a, b], [b, c]], [[a, 0.0], [0.0, a]], [[a, b], [b, b * b / a if a else 0.0]]])
    G = np.array([[g0, g1]] * 3)
    maps = {
        "pure": lambda m: rules._PseudoInverse(m),
        "abs": lambda m: (lambda lam, scale: 1.0 / np.maximum(np.abs(lam), 1e-3)),
        "reg": lambda m: (lambda lam, scale: 1.0 / (np.abs(lam) + 0.5)),
    }
    with np.errstate(all="ignore"):
        fast, fast_eigs = rules.spectral_apply(H, G, maps[mode](3))
        general, general_eigs = rules.spectral_apply_general(H, G, maps[mode](3))
    norm_H = np.abs(general_eigs).max(axis=1)
    assert np.allclose(fast_eigs, general_eigs, rtol=0, atol=1e-12 * (1 + norm_H.max()))
    # Both paths carry eigenvalue errors of a few eps * ||H||; through 1/lambda that is a relative
    # error of about eps * condition number, so the tolerance scales with it. Rows whose smallest
    # eigenvalue sits near the pseudo-inverse cut-off may be classified either way: skipped.
    smallest = np.abs(general_eigs).min(axis=1)
    near_cutoff = (smallest > 1e-14 * norm_H) & (smallest < 1e-10 * norm_H)
    condition = np.where(smallest > 0, norm_H / np.where(smallest > 0, smallest, 1.0), 1.0)
    with np.errstate(all="ignore"):
        largest_gain = np.abs(maps[mode](3)(general_eigs, norm_H[:, None])).max(axis=1)
    for row in np.flatnonzero(~near_cutoff & np.isfinite(general).all(axis=1)):
        size = largest_gain[row] * np.abs(G[row]).max()  # the scale of V h(Lambda) V^T g
        tolerance = (1e-10 + 1e-13 * condition[row]) * size
        assert np.abs(fast[row] - general[row]).max() <= tolerance, (H[row], fast[row], general[row])


def test_schedule_learning_rate_is_used():
    def decay(k: int) -> float:
        return 0.3 / (k + 1)

    trajectory = run(parse("x^2"), "gd", [10.0], steps=6, tol=0, lr=decay)
    x = 10.0
    for k in range(6):
        x -= decay(k) * 2 * x
        assert trajectory.points[k + 1, 0] == pytest.approx(x, rel=1e-14)
    assert np.allclose(trajectory.extras["lr"], [decay(k) for k in range(6)])


def test_noise_is_reproducible_per_seed():
    objective = parse(QUADRATIC)
    first = run(objective, "adam", [0.0, 0.0], steps=20, tol=0, noise=0.5, seed=3)
    again = run(objective, "adam", [0.0, 0.0], steps=20, tol=0, noise=0.5, seed=3)
    other = run(objective, "adam", [0.0, 0.0], steps=20, tol=0, noise=0.5, seed=4)
    clean = run(objective, "adam", [0.0, 0.0], steps=20, tol=0)
    assert np.array_equal(first.points, again.points)
    assert not np.allclose(first.points, other.points)
    assert not np.allclose(first.points, clean.points)


def test_unknown_parameter_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"beta.*valid parameters: lr, line_search, noise, seed"):
        resolve_params("gd", beta=0.9)
    with pytest.raises(ValueError, match="noise"):
        run(parse("x^2"), "newton", [1.0], noise=0.1)
    with pytest.raises(ValueError, match="gd, momentum"):
        resolve_params("sgd")
    with pytest.raises(ValueError, match="line_search.*'none', 'backtracking', 'exact'"):
        resolve_params("bfgs", line_search="wolfe")


def test_resolve_params_fills_defaults_and_coerces_types():
    params = resolve_params("lbfgs", memory=7.0)
    assert params == {"lr": 1.0, "memory": 7, "line_search": "backtracking"}
    assert isinstance(params["memory"], int)
    with pytest.raises(ValueError, match="integer"):
        resolve_params("lbfgs", memory=2.5)


def test_method_specs_are_complete():
    for name, spec in METHODS.items():
        assert spec.name == name and spec.summary and spec.update_latex and spec.label
        names = [p.name for p in spec.params]
        assert len(names) == len(set(names))
        assert ("noise" in names) == spec.first_order
        for p in spec.params:
            if p.choices is not None:
                assert p.default in p.choices
            elif p.low is not None and not callable(p.default):
                assert p.low <= p.default <= p.high, (name, p)
        direction_method = name in {"gd", "newton", "newton_abs", "newton_reg", "diag_newton", "bfgs", "lbfgs", "cg"}
        assert ("line_search" in names) == direction_method
        rule = spec.build(**resolve_params(name))
        assert isinstance(rule, rules.StepRule)


def test_oracle_counts_hessian_only_when_read():
    objective = parse(QUADRATIC)
    newton = run(objective, "newton", [0.0, 0.0], steps=3, tol=0)
    bfgs = run(objective, "bfgs", [0.0, 0.0], steps=3, tol=0)
    assert list(newton.evaluations["hess"]) == [0, 1, 2, 3]
    assert list(bfgs.evaluations["hess"]) == [0, 0, 0, 0]


def test_bfgs_two_dimensional_path_matches_the_general_update_bit_for_bit():
    # The d = 2 column path must give the same numbers as the any-d path (a row of a batch run
    # must reproduce the single run, whatever the batch layout), including skipped pairs.
    rng = np.random.default_rng(3)
    m = 50
    X, G, U = rng.standard_normal((3, m, 2))
    previous_x, previous_grad = rng.standard_normal((2, m, 2))
    previous_x[:5] = X[:5]  # s = 0: not moved
    previous_grad[5:10] = G[5:10] + (X[5:10] - previous_x[5:10])  # s.y < 0: skipped
    A = rng.standard_normal((m, 2, 2))
    B = A @ A.transpose(0, 2, 1) + np.eye(2)
    state = rules.BFGSState(B, previous_x, previous_grad, np.ones(m, dtype=bool))

    class Notes:
        notes: dict = {}

        def note(self, name, mask):
            self.notes[name] = np.asarray(mask)

    notes = Notes()
    B_fast, P_fast = rules._bfgs_step_2d(state, X, G, U, notes)
    s, y, sy, moved, usable = rules._curvature_pair(X, G, previous_x, previous_grad, state.has_previous)
    rho = np.where(usable, 1.0 / np.where(usable, sy, 1.0), 0.0)
    B_general = rules._bfgs_inverse_update(B, s, y, rho)
    assert np.array_equal(B_fast, B_general)
    assert np.array_equal(P_fast, rules._matvec(B_general, U))
    assert np.array_equal(notes.notes["bfgs_skipped"], moved & ~usable)
    assert (moved & ~usable)[5:10].all() and not moved[:5].any()


# ------------------------------------------------------------ AdamW and Lion against updates applied by hand


def _grad(x):
    """∇ of (x - 1)^2 + 2(y + 0.5)^2."""
    return np.array([2 * (x[0] - 1), 4 * (x[1] + 0.5)])


def test_adamw_applies_adam_plus_decoupled_weight_decay():
    lr, b1, b2, eps, wd = 0.05, 0.8, 0.95, 1e-8, 0.3
    t = run(parse(QUADRATIC), "adamw", [-2.0, 1.5], steps=6, tol=0, lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd)
    x, m, v = np.array([-2.0, 1.5]), np.zeros(2), np.zeros(2)
    for k in range(6):
        g = _grad(x)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** (k + 1)), v / (1 - b2 ** (k + 1))
        x = x - lr * (m_hat / (np.sqrt(v_hat) + eps) + wd * x)
        assert np.allclose(t.points[k + 1], x, rtol=1e-13, atol=1e-15)
    # Without decay it is Adam, bit for bit; with decay it ends nearer the origin than Adam.
    adam = run(parse(QUADRATIC), "adam", [-2.0, 1.5], steps=50, tol=0, lr=lr)
    assert np.array_equal(run(parse(QUADRATIC), "adamw", [-2.0, 1.5], steps=50, tol=0, lr=lr, weight_decay=0).points,
                          adam.points)


def test_lion_steps_by_the_sign_of_the_interpolated_momentum():
    lr, b1, b2, wd = 0.1, 0.9, 0.99, 0.2
    t = run(parse(QUADRATIC), "lion", [-2.0, 1.5], steps=8, tol=0, lr=lr, beta1=b1, beta2=b2, weight_decay=wd)
    x, m = np.array([-2.0, 1.5]), np.zeros(2)
    for k in range(8):
        g = _grad(x)
        c = b1 * m + (1 - b1) * g
        x = x - lr * (np.sign(c) + wd * x)
        m = b2 * m + (1 - b2) * g
        assert np.allclose(t.points[k + 1], x, rtol=1e-14, atol=1e-15)
    # With no decay every coordinate moves by exactly lr.
    plain = run(parse(QUADRATIC), "lion", [-2.0, 1.5], steps=5, tol=0, lr=0.125)
    assert np.array_equal(np.abs(np.diff(plain.points, axis=0)), np.full((5, 2), 0.125))


# ------------------------------------------------------------ the registry


def test_a_recipe_that_does_not_match_its_parameters_fails_at_registration():
    from optcore.methods import ParamSpec, RegistrationError, register

    lr = ParamSpec("lr", 0.1, 1e-4, 10.0, True, None, "step size", "learning rate η", 0.0, 1e6, minimum_open=True)
    with pytest.raises(RegistrationError, match="declared but not taken"):
        @register("broken", label="Broken", summary="s", update_latex="x", params=(lr,))
        def _build(learning_rate):  # misspelt: the spec says lr
            return rules.scale_by_lr(learning_rate)
    with pytest.raises(RegistrationError, match="label"):
        @register("unlabelled", label="U", summary="s", update_latex="x", params=(lr._replace(label=""),))
        def _build2(lr):
            return rules.scale_by_lr(lr)
    with pytest.raises(RegistrationError, match="outside"):
        @register("bad_default", label="B", summary="s", update_latex="x", params=(lr._replace(default=-1.0),))
        def _build3(lr):
            return rules.scale_by_lr(lr)
    assert not {"broken", "unlabelled", "bad_default"} & set(METHODS)


def test_every_parameter_has_a_label_help_and_a_default_inside_its_hard_bounds():
    for name, spec in METHODS.items():
        for p in spec.params:
            assert p.label and p.help, (name, p.name)
            if p.choices is None and not isinstance(p.default, bool):
                assert p.allows(p.default), (name, p.name)
                if p.low is not None:  # the slider range lies inside the hard bounds
                    assert p.allows(p.low) or p.low == p.minimum, (name, p.name)
                    assert p.allows(p.high), (name, p.name)
