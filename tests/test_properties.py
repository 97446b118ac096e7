"""Property-based tests (hypothesis): derivatives, second-order methods on quadratics, GD's closed
form, batch == single run, and JSON export that always parses.

Every test is derandomized and capped at ~60 examples with no deadline, so CI (2 cores) is fast
and reproducible. Formulas are rendered as TEXT and go through `optcore.parse`, so the parser is
exercised together with differentiation and compilation.
"""
from __future__ import annotations

import json
import warnings

import numpy as np
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import optcore

SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])


def fast(n: int = 60):
    return settings(max_examples=n, **SETTINGS)


# --------------------------------------------------------------------------------------------
# A small grammar of smooth expressions in x and y, rendered as text
# --------------------------------------------------------------------------------------------
SAFE_CONSTANTS = ("0.5", "2", "3", "1.5", "0.25", "4", "0.7")

leaves = st.sampled_from(["x", "y", "(x + y)", "(x - y)", "x y", "2x", "(y - 0.5)", "1.3", "-0.7", "(1 + x)"])


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "×"]), children).map(
        lambda t: f"({t[0]}) {t[1]} ({t[2]})")
    implicit = st.tuples(children, children).map(lambda t: f"({t[0]})({t[1]})")  # (a)(b)
    divide = st.tuples(children, st.sampled_from(SAFE_CONSTANTS)).map(lambda t: f"({t[0]}) / {t[1]}")
    scale = st.tuples(st.sampled_from(SAFE_CONSTANTS), children).map(lambda t: f"{t[0]}({t[1]})")
    power = st.tuples(children, st.sampled_from(["^2", "^3", "^4", "**2", "**3"])).map(
        lambda t: f"({t[0]}){t[1]}")
    unary = st.tuples(st.sampled_from([
        "sin({})", "cos({})", "tanh({})",
        "exp(sin({}))", "exp(cos({}))", "exp(tanh({}))", "exp(0.3*tanh({}))",
        "log(1 + ({})^2)", "sqrt(1 + ({})^2)",
    ]), children).map(lambda t: t[0].format(t[1]))
    return st.one_of(unary, binary, power, divide, scale, implicit)


expressions = st.recursive(leaves, _extend, max_leaves=6)
points = st.tuples(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5)).map(np.array)


def _parse_xy(text: str):
    """Parse in the variables (x, y); a formula that simplifies to a constant ('x - x') is refused by
    the parser with "the formula has no variable", which is not what these tests are about."""
    try:
        return optcore.parse(text, variables=("x", "y"))
    except optcore.FormulaError as err:
        assume("no variable" not in str(err))
        raise


def _fd_gradient(fn, x: np.ndarray, h: float) -> np.ndarray:
    """Five-point central differences of a scalar or vector function, one column per variable."""
    cols = []
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((-fn(x + 2 * e) + 8 * fn(x + e) - 8 * fn(x - e) + fn(x - 2 * e)) / (12 * h))
    return np.stack(cols, axis=-1)


def _agrees(exact: np.ndarray, fn, x: np.ndarray, scale: float) -> tuple[bool, str]:
    """exact ≈ FD(fn) at x. The FD error is estimated from two step sizes (Richardson), so the
    tolerance adapts to how wild the function is there, but an O(1) mistake is always caught."""
    h = 1e-3 * max(1.0, float(np.abs(x).max()))
    with np.errstate(all="ignore"):
        fd1 = _fd_gradient(fn, x, h)
        fd2 = _fd_gradient(fn, x, h / 2)
    if not (np.isfinite(fd1).all() and np.isfinite(fd2).all()):
        return True, "skip"
    err_est = np.abs(fd1 - fd2)
    tol = 1e-6 * (1 + scale) + 1e-6 * np.abs(fd2) + 50 * err_est
    ok = bool((np.abs(exact - fd2) <= tol).all())
    return ok, f"exact={exact!r}\nfd={fd2!r}\nerr_est={err_est!r}\ntol={tol!r}"


@fast(60)
@given(text=expressions, x=points)
def test_gradient_and_hessian_match_finite_differences(text, x):
    obj = _parse_xy(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f, g, H = obj.value_grad_hess(x)
    assume(np.isfinite(f) and np.isfinite(g).all() and np.isfinite(H).all())
    assume(abs(float(f)) < 1e12 and np.abs(g).max() < 1e12 and np.abs(H).max() < 1e12)
    # The separate entry points agree with the fused one.
    assert np.allclose(obj.value(x), f, rtol=1e-12, atol=1e-12)
    assert np.allclose(obj.grad(x), g, rtol=1e-12, atol=1e-12)
    assert np.allclose(obj.hess(x), H, rtol=1e-12, atol=1e-12)
    assert np.array_equal(H, H.T)
    scale = float(max(abs(f), np.abs(g).max(), np.abs(H).max()))
    ok, detail = _agrees(g, obj.value, x, scale)
    assert ok, f"gradient of {text!r} at {x}:\n{detail}"
    ok, detail = _agrees(H, obj.grad, x, scale)
    assert ok, f"Hessian of {text!r} at {x}:\n{detail}"


@fast(20)
@given(text=expressions, X=st.lists(points, min_size=2, max_size=5))
def test_batched_evaluation_equals_pointwise(text, X):
    obj = _parse_xy(text)
    X = np.array(X)
    f, g, H = obj.value_grad_hess(X)
    assert f.shape == (len(X),) and g.shape == (len(X), 2) and H.shape == (len(X), 2, 2)
    for i, x in enumerate(X):
        fi, gi, Hi = obj.value_grad_hess(x)
        np.testing.assert_allclose(f[i], fi, rtol=1e-12, atol=1e-300, equal_nan=True)
        np.testing.assert_allclose(g[i], gi, rtol=1e-12, atol=1e-300, equal_nan=True)
        np.testing.assert_allclose(H[i], Hi, rtol=1e-12, atol=1e-300, equal_nan=True)


# --------------------------------------------------------------------------------------------
# Random SPD quadratics f = ½ xᵀAx − bᵀx, rendered as a formula in x1..xd
# --------------------------------------------------------------------------------------------
@st.composite
def spd_quadratics(draw):
    d = draw(st.integers(2, 5))
    M = np.array(draw(st.lists(st.lists(st.integers(-3, 3), min_size=d, max_size=d), min_size=d, max_size=d)),
                 dtype=float)
    A = M.T @ M + np.eye(d)                       # integer, symmetric positive definite
    b = np.array(draw(st.lists(st.integers(-5, 5), min_size=d, max_size=d)), dtype=float)
    x0 = np.array(draw(st.lists(st.integers(-4, 4), min_size=d, max_size=d)), dtype=float)
    terms = []
    for i in range(d):
        terms.append(f"{A[i, i] / 2:g}*x{i + 1}^2")
        for j in range(i + 1, d):
            if A[i, j]:
                terms.append(f"{A[i, j]:g}*x{i + 1}*x{j + 1}")
        if b[i]:
            terms.append(f"{-b[i]:g}*x{i + 1}")
    text = " + ".join(terms).replace("+ -", "- ")
    return text, A, b, x0


def _parse_quadratic(text: str, d: int):
    obj = optcore.parse(text, variables=tuple(f"x{i + 1}" for i in range(d)))
    assert obj.dim == d
    return obj


@fast(40)
@given(q=spd_quadratics())
def test_rendered_quadratic_has_the_intended_derivatives(q):
    text, A, b, x0 = q
    obj = _parse_quadratic(text, len(b))
    np.testing.assert_allclose(obj.hess(x0), A, rtol=1e-12)
    np.testing.assert_allclose(obj.grad(x0), A @ x0 - b, rtol=1e-12, atol=1e-12)


@fast(40)
@given(q=spd_quadratics())
def test_newton_lands_on_the_minimum_in_one_step(q):
    text, A, b, x0 = q
    obj = _parse_quadratic(text, len(b))
    star = np.linalg.solve(A, b)
    traj = optcore.run(obj, "newton", x0, steps=5)
    assert traj.iterations >= 1 or np.allclose(x0, star)
    if traj.iterations >= 1:
        np.testing.assert_allclose(traj.points[1], star, rtol=1e-8, atol=1e-8 * (1 + np.abs(star).max()))
    assert traj.status == "converged"


@fast(40)
@given(q=spd_quadratics())
def test_bfgs_with_exact_line_search_converges_within_d_plus_1_steps(q):
    text, A, b, x0 = q
    d = len(b)
    obj = _parse_quadratic(text, d)
    star = np.linalg.solve(A, b)
    traj = optcore.run(obj, "bfgs", x0, steps=d + 1, line_search="exact")
    assert traj.status == "converged" or traj.iterations == d + 1
    err = np.linalg.norm(traj.points[-1] - star)
    assert err <= 1e-6 * (1 + np.linalg.norm(star)), (text, traj.points, star, traj.message)


@fast(40)
@given(q=spd_quadratics())
def test_cg_with_exact_line_search_converges_within_d_steps(q):
    text, A, b, x0 = q
    d = len(b)
    obj = _parse_quadratic(text, d)
    star = np.linalg.solve(A, b)
    for beta_rule in ("PR+", "PR", "FR"):
        traj = optcore.run(obj, "cg", x0, steps=d, line_search="exact", beta_rule=beta_rule)
        err = np.linalg.norm(traj.points[-1] - star)
        assert err <= 1e-6 * (1 + np.linalg.norm(star)), (beta_rule, text, traj.points, star, traj.message)


# --------------------------------------------------------------------------------------------
# GD on diagonal quadratics follows x_k = (1 − αλ)^k x_0 exactly
# --------------------------------------------------------------------------------------------
@fast(60)
@given(
    lams=st.lists(st.sampled_from([0.5, 1, 1.5, 2, 3, 4, 5, 0.25, 8]), min_size=1, max_size=4),
    alpha=st.sampled_from([0.01, 0.05, 0.1, 0.2, 0.25, 0.3]),
    data=st.data(),
)
def test_gd_on_diagonal_quadratic_follows_closed_form(lams, alpha, data):
    d = len(lams)
    x0 = np.array(data.draw(st.lists(st.floats(-10, 10, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
                                     min_size=d, max_size=d)))
    names = tuple(f"x{i + 1}" for i in range(d))
    text = " + ".join(f"{lam:g}*x{i + 1}^2/2" for i, lam in enumerate(lams))
    obj = optcore.parse(text, variables=names)
    steps = 25
    traj = optcore.run(obj, "gd", x0, steps=steps, tol=0, lr=alpha)
    assert traj.iterations == steps
    k = np.arange(steps + 1)[:, None]
    expected = (1 - alpha * np.array(lams, dtype=float)) ** k * x0
    np.testing.assert_allclose(traj.points, expected, rtol=1e-9, atol=1e-12 * np.abs(x0).max())


# --------------------------------------------------------------------------------------------
# run_batch row i == run from X0[i]
# --------------------------------------------------------------------------------------------
BATCH_FORMULAS = ("(x - 1)^2 + 2(y + 0.5)^2 + 0.3x^2*y^2", "x^2 + 3y^2", "sin(x) + cos(y) + 0.1(x^2 + y^2)",
                  "(1 - x)^2 + 10(y - x^2)^2", "x^4 - 2x^2 + y^2")


@fast(60)
@given(
    formula=st.sampled_from(BATCH_FORMULAS),
    method=st.sampled_from(sorted(optcore.METHODS)),
    X0=st.lists(st.tuples(st.floats(-2, 2), st.floats(-2, 2)), min_size=1, max_size=4),
    steps=st.integers(0, 25),
)
def test_run_batch_rows_equal_single_runs(formula, method, X0, steps):
    obj = optcore.parse(formula)
    X0 = np.array(X0, dtype=float)
    batch = optcore.run_batch(obj, method, X0, steps=steps)
    assert batch.points.shape == (len(X0), steps + 1, 2)
    for i, x0 in enumerate(X0):
        single = optcore.run(obj, method, x0, steps=steps)
        row = batch.row(i)
        assert row.status == single.status == batch.status[i]
        assert row.iterations == single.iterations == batch.iterations[i]
        assert row.message == single.message
        np.testing.assert_allclose(row.points, single.points, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(row.values, single.values, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(batch.final_points[i], single.points[-1], rtol=1e-12, atol=1e-12)
        for kind in ("f", "grad", "hess"):
            np.testing.assert_array_equal(row.evaluations[kind], single.evaluations[kind])


# --------------------------------------------------------------------------------------------
# to_json always parses (no NaN / Infinity tokens), even for diverging runs
# --------------------------------------------------------------------------------------------
JSON_FORMULAS = ("x^2 + y^2", "exp(x^2) + y^2", "-(x^2) - y^2", "x^3 + y", "log(x) + y^2", "1/x + y^2",
                 "sqrt(x) + y^2", "x^2 - y^2")


def _no_bad_tokens(text: str) -> None:
    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")
    json.loads(text, parse_constant=refuse)


@fast(60)
@given(
    formula=st.sampled_from(JSON_FORMULAS),
    method=st.sampled_from(sorted(optcore.METHODS)),
    x0=st.tuples(st.floats(-5, 5), st.floats(-5, 5)),
    lr=st.sampled_from([None, 0.5, 1.5, 5.0]),
)
def test_to_json_always_parses(formula, method, x0, lr):
    obj = optcore.parse(formula, variables=("x", "y"))
    params = {} if lr is None else {"lr": lr}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = optcore.run(obj, method, np.array(x0), steps=40, **params)
        text = traj.to_json()
    assert traj.status in {"converged", "max_steps", "diverged"}
    event(traj.status)
    _no_bad_tokens(text)
    payload = json.loads(text)
    assert payload["status"] == traj.status and payload["message"] == traj.message
    assert len(payload["points"]) == traj.iterations + 1
