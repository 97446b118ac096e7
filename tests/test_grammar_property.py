"""Every function the parser accepts, on compound and nested arguments, gives an Objective whose value,
gradient and Hessian evaluate on a batch: finite or nan/inf where undefined, never an exception, never a
complex number silently cut to its real part. A formula that cannot meet this is refused with a message."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optcore
from optcore.formula import _FUNCTIONS, NAMED_FUNCTIONS, FormulaError

# Points where many functions are undefined or at a kink: 0, negatives, |x| > 1, large values.
POINTS = np.array([[0.0, 0.0], [0.3, -0.7], [-1.5, 2.0], [1.0, 1.0], [-1.0, 0.0], [40.0, -40.0], [1e-9, 3.0]])

COMPOUND = ["x^2 + y", "x y - 1", "(x - 2y)/3", "sin(x) + y^2"]


def _call(name: str, argument: str, second: str = "y + 1") -> str:
    spec = _FUNCTIONS[name]
    args = [argument] + [second] * (spec.min_args - 1)
    return f"{name}({', '.join(args)})"


def _evaluates(text: str) -> bool:
    """True when `text` parses and evaluates cleanly; False when refused with a message."""
    try:
        obj = optcore.parse(text, ("x", "y"), seconds=None)
    except FormulaError as err:
        assert err.message.strip()
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning (imaginary part dropped) fails the test
        f, g, H = obj.value_grad_hess(POINTS)
        assert f.shape == (len(POINTS),) and g.shape == (len(POINTS), 2) and H.shape == (len(POINTS), 2, 2)
        for array in (f, g, H):
            assert array.dtype == float
        # Each entry point agrees with the combined one (they share one program).
        np.testing.assert_array_equal(obj.value(POINTS), f)
        np.testing.assert_array_equal(obj.grad(POINTS), g)
        np.testing.assert_array_equal(obj.hess(POINTS), H)
        obj.value_grad(POINTS[0])
    return True


@pytest.mark.parametrize("name", NAMED_FUNCTIONS)
@pytest.mark.parametrize("argument", COMPOUND)
def test_every_function_of_a_compound_argument_evaluates(name: str, argument: str) -> None:
    _evaluates(_call(name, argument))


@pytest.mark.parametrize("outer", NAMED_FUNCTIONS)
def test_every_function_nested_in_every_other_evaluates(outer: str) -> None:
    for inner in NAMED_FUNCTIONS:
        _evaluates(_call(outer, _call(inner, "x y + x")))


def test_the_step_functions_and_negative_bases_from_the_issue() -> None:
    assert _evaluates("ceil(x^2)") and _evaluates("floor(x + y)")
    g = optcore.parse("ceil(x^2) + y^2", seconds=None).grad(POINTS)
    np.testing.assert_array_equal(g[:, 0], 0.0)  # piecewise constant: zero slope almost everywhere
    np.testing.assert_allclose(g[:, 1], 2 * POINTS[:, 1])
    for text in ["(-1)^x", "(-2)^x", "(-1)^(2x)", "(x - x - 1)^y", "log(x, -2)"]:
        with pytest.raises(FormulaError, match="negative number to a variable power|complex"):
            optcore.parse(text, seconds=None)


_leaf = st.sampled_from(["x", "y", "2", "0.5", "pi", "x y", "-x"])


def _grow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", " "]), children).map(
        lambda t: f"({t[0]}){t[1]}({t[2]})")
    power = st.tuples(children, st.sampled_from(["2", "3", "-1", "0.5", "y"])).map(lambda t: f"({t[0]})^{t[1]}")
    call = st.tuples(st.sampled_from(NAMED_FUNCTIONS), children, children).map(
        lambda t: _call(t[0], t[1], t[2]))
    return st.one_of(binary, power, call)


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.recursive(_leaf, _grow, max_leaves=6))
def test_random_formulas_over_the_whole_grammar_evaluate_or_are_refused(text: str) -> None:
    _evaluates(text)
