"""Exact derivatives, compiled and batched: what every view and method stands on."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import rosen, rosen_der, rosen_hess

import optcore

FORMULAS = [
    "x^2 + 3y^2",
    "(1-x)^2 + 100(y-x^2)^2",
    "sin(x)^2 + sin(10 + x*y/2)*cos(x)",
    "log(exp(x) + exp(-2x - 3))",
    "x1^2 + 2 x2^2 + x1 x2 x3 + cosh(0.5 x3)",
    "sqrt(x^2 + y^2 + 1) + atan(x - y)",
]


def finite_difference_grad(f, X, h=1e-6):
    d = X.shape[-1]
    cols = []
    for i in range(d):
        e = np.zeros(d)
        e[i] = h
        cols.append((f(X + e) - f(X - e)) / (2 * h))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("text", FORMULAS)
def test_gradient_and_hessian_match_finite_differences(text):
    obj = optcore.parse(text)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.5, 1.5, size=(25, obj.dim))
    np.testing.assert_allclose(obj.grad(X), finite_difference_grad(obj.value, X), rtol=1e-5, atol=1e-5)
    hessian_fd = np.stack([finite_difference_grad(lambda Z: obj.grad(Z)[..., i], X) for i in range(obj.dim)],
                          axis=-2)
    np.testing.assert_allclose(obj.hess(X), hessian_fd, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(obj.hess(X), np.swapaxes(obj.hess(X), -1, -2))


def test_rosenbrock_derivatives_agree_with_scipy():
    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    rng = np.random.default_rng(1)
    for point in rng.uniform(-2, 2, size=(10, 2)):
        assert obj.value(point) == pytest.approx(rosen(point))
        np.testing.assert_allclose(obj.grad(point), rosen_der(point), rtol=1e-12)
        np.testing.assert_allclose(obj.hess(point), rosen_hess(point), rtol=1e-12)


@pytest.mark.parametrize("batch", [(), (7,), (4, 5), (2, 3, 4)])
def test_every_output_broadcasts_over_the_batch_shape(batch):
    # The Hessian of x^2 + y is constant: lambdify alone would return Python scalars here.
    obj = optcore.parse("x^2 + y")
    X = np.ones(batch + (2,))
    f, g, H = obj.value_grad_hess(X)
    assert f.shape == batch and g.shape == batch + (2,) and H.shape == batch + (2, 2)
    np.testing.assert_array_equal(H[..., 0, 0], 2.0)
    np.testing.assert_array_equal(g[..., 1], 1.0)
    assert obj.value(X).shape == batch and obj.grad(X).shape == batch + (2,)


def test_fused_evaluation_equals_separate_ones():
    obj = optcore.parse("sin(x)^2 + sin(10 + x*y/2)*cos(x)")
    X = np.random.default_rng(2).normal(size=(100, 2))
    f, g, H = obj.value_grad_hess(X)
    np.testing.assert_allclose(f, obj.value(X))
    np.testing.assert_allclose(g, obj.grad(X))
    np.testing.assert_allclose(H, obj.hess(X))


def test_undefined_points_give_non_finite_values_without_warnings():
    obj = optcore.parse("log(x) + 1/y")
    with np.errstate(all="raise"):
        f = obj.value(np.array([[-1.0, 1.0], [1.0, 0.0], [1.0, 1.0]]))
    assert np.isnan(f[0]) and np.isinf(f[1]) and f[2] == pytest.approx(1.0)


def test_variables_argument_sets_order_and_adds_unused_variables():
    obj = optcore.parse("x^2 + 3y^2", variables=["y", "x", "z"])
    assert obj.variables == ("y", "x", "z")
    np.testing.assert_allclose(obj.grad([1.0, 2.0, 5.0]), [6.0, 4.0, 0.0])
    assert obj.hess([1.0, 2.0, 5.0]).shape == (3, 3)


def test_variables_argument_must_cover_the_formula():
    with pytest.raises(optcore.FormulaError, match="y"):
        optcore.parse("x^2 + y^2", variables=["x"])
    with pytest.raises(optcore.FormulaError):
        optcore.parse("x^2", variables=["x", "x"])


def test_wrong_point_dimension_is_a_clear_error():
    obj = optcore.parse("x^2 + y^2")
    with pytest.raises(ValueError, match="length 2"):
        obj.value([1.0, 2.0, 3.0])


def test_symbolic_derivatives_and_latex_are_available():
    obj = optcore.parse("x^2 + 3y^2")
    x, y = obj.symbols
    assert obj.gradient_exprs == (2 * x, 6 * y)
    assert obj.hessian_exprs == sp.Matrix([[2, 0], [0, 6]])
    assert "x^{2}" in obj.latex and "6 y" in obj.gradient_latex and "6" in obj.hessian_latex
    assert obj.is_quadratic and not optcore.parse("x^4 + y^2").is_quadratic


def test_piecewise_functions_compile_and_broadcast():
    obj = optcore.parse("max(x, y) + abs(x)")
    f, g, H = obj.value_grad_hess(np.array([[2.0, 1.0], [-1.0, 3.0]]))
    np.testing.assert_allclose(f, [4.0, 4.0])
    np.testing.assert_allclose(g, [[2.0, 0.0], [-1.0, 1.0]])
    np.testing.assert_allclose(H, 0.0)


def test_parsing_is_cached_per_formula():
    first = optcore.parse("x^2 + 7y^2")
    assert optcore.parse("x^2 + 7y^2") is first
    assert optcore.parse("  x^2 + 7y^2 ") is first


def test_worker_built_objectives_compute_the_same_bits_as_in_process_ones():
    """parse() brings its cse program and LaTeX from the worker, unpickled without evaluation: the
    numbers must be exactly those of the same formula built in this process."""
    from optcore.formula import parse_formula
    from optcore.objective import objective_from_expr
    from optcore.presets import PRESETS

    rng = np.random.default_rng(3)
    for preset in PRESETS.values():
        worker = optcore.parse(preset.formula, preset.variables)
        expr, _ = parse_formula(preset.formula)
        local = objective_from_expr(expr, preset.variables, text=preset.formula)
        X = rng.uniform(-2, 2, size=(20, worker.dim))
        for a, b in zip(worker.value_grad_hess(X), local.value_grad_hess(X)):
            np.testing.assert_array_equal(a, b)
        assert (worker.latex, worker.gradient_latex, worker.hessian_latex) == \
            (local.latex, local.gradient_latex, local.hessian_latex)


def test_latex_is_capped_with_a_marker_not_refused():
    from optcore.objective import MAX_LATEX_ENTRIES
    side = int(MAX_LATEX_ENTRIES**0.5) + 1
    obj = optcore.parse(" + ".join(f"x{i}^2" for i in range(1, side + 1)))
    assert obj.hessian_latex == rf"\text{{(too large to display: {side} × {side} matrix)}}"
    assert "x_{1}^{2}" in obj.latex
    np.testing.assert_array_equal(obj.hess(np.zeros(side)), 2 * np.eye(side))


def test_every_compiled_kind_is_the_code_lambdify_prints_by_itself():
    """The objective prints each common subexpression once for all its kinds (f, fg, gh, ...):
    the code is what lambdify's own printer gives each kind alone, overrides included."""
    import inspect

    import sympy as sp

    from optcore.objective import _NUMPY_OVERRIDES, needed_assignments
    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2 + max(x, y) + erf(x) + sin(x*y)")
    replacements, reduced = obj._program()
    d = obj.dim
    for kind in ("gh", "fg", "f", "h", "g", "fgh"):
        wanted = ([0] if "f" in kind else []) + (list(range(1, 1 + d)) if "g" in kind else []) + \
                 (list(range(1 + d, len(reduced))) if "h" in kind else [])
        outputs = [reduced[i] for i in wanted]
        needed = needed_assignments(replacements, outputs)
        alone = sp.lambdify(obj.symbols, outputs, modules=[_NUMPY_OVERRIDES, "numpy"],
                            cse=lambda _exprs, needed=needed, outputs=outputs: (needed, outputs))
        assert inspect.getsource(obj._function(kind)) == inspect.getsource(alone), kind
