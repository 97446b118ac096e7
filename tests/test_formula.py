"""What students type parses to the SymPy expression they meant; mistakes get a clear message and column."""

from __future__ import annotations

import re

import pytest
import sympy

import optcore
from optcore.formula import NAMED_FUNCTIONS, FormulaError, parse_formula, read_formula

x, y, z = sympy.symbols("x y z", real=True)
x1, x2, x10 = sympy.symbols("x1 x2 x10", real=True)
theta, alpha, lam = sympy.symbols("theta alpha lambda", real=True)


def same(a: sympy.Expr, b: sympy.Expr) -> bool:
    return sympy.simplify(a - b) == 0


# (typed text, expression built by hand, variable names in order)
TYPED = [
    ("x^2 + 3y^2", x**2 + 3 * y**2, ("x", "y")),
    ("x**2 + 3*y**2", x**2 + 3 * y**2, ("x", "y")),
    ("(1-x)^2 + 100(y-x^2)^2", (1 - x) ** 2 + 100 * (y - x**2) ** 2, ("x", "y")),
    ("x1^2 + 2 x2^2", x1**2 + 2 * x2**2, ("x1", "x2")),
    ("2xy", 2 * x * y, ("x", "y")),
    ("3(x+1)", 3 * (x + 1), ("x",)),
    ("(x+1)(x-1)", (x + 1) * (x - 1), ("x",)),
    ("x y", x * y, ("x", "y")),
    ("2 sin(x)", 2 * sympy.sin(x), ("x",)),
    ("x10 + x2", x10 + x2, ("x2", "x10")),
    ("theta^2 + alpha", theta**2 + alpha, ("alpha", "theta")),
    ("lam^2 + lambda", lam**2 + lam, ("lambda",)),
    (
        "sin(x)^2 + sin(10 + x*y/2)*cos(x)",
        sympy.sin(x) ** 2 + sympy.sin(10 + x * y / 2) * sympy.cos(x),
        ("x", "y"),
    ),
    ("log(exp(x) + exp(-2x - 3))", sympy.log(sympy.exp(x) + sympy.exp(-2 * x - 3)), ("x",)),
    ("x*cos(0.15*pi*x)", x * sympy.cos(sympy.Float("0.15") * sympy.pi * x), ("x",)),
    ("cosh(0.5x)", sympy.cosh(sympy.Float("0.5") * x), ("x",)),
    ("-x^2", -(x**2), ("x",)),
    ("2^-1 x", x / 2, ("x",)),
    ("2^3^2 x", 512 * x, ("x",)),  # right-associative
    ("e^x", sympy.exp(x), ("x",)),
    ("E^x + pi x", sympy.exp(x) + sympy.pi * x, ("x",)),
    ("max(x, y)", sympy.Max(x, y), ("x", "y")),
    ("min(x, y, z)", sympy.Min(x, y, z), ("x", "y", "z")),
    ("x/2y", x * y / 2, ("x", "y")),  # left to right, as in most calculators
    ("1/(2x)", 1 / (2 * x), ("x",)),
    ("sqrt(x^2 + 1)", sympy.sqrt(x**2 + 1), ("x",)),
    ("abs(x) + sign(y)", sympy.Abs(x) + sympy.sign(y), ("x", "y")),
    ("ln(x) + log(y, 2)", sympy.log(x) + sympy.log(y) / sympy.log(2), ("x", "y")),
    ("arctan(x) + atan2(y, x)", sympy.atan(x) + sympy.atan2(y, x), ("x", "y")),
    ("sigmoid(x)", 1 / (1 + sympy.exp(-x)), ("x",)),
    ("softplus(x) + relu(y)", sympy.log(1 + sympy.exp(x)) + sympy.Max(y, 0), ("x", "y")),
    ("2.5E3x + .5y + 1e-3z", 2500 * x + y / 2 + z / 1000, ("x", "y", "z")),
    ("x_1 + x_max", sympy.Symbol("x_1", real=True) + sympy.Symbol("x_max", real=True), ("x_1", "x_max")),
    ("x(2)", 2 * x, ("x",)),
    ("a*-b", -sympy.Symbol("a", real=True) * sympy.Symbol("b", real=True), ("a", "b")),
    ("x^-y^2", x ** (-(y**2)), ("x", "y")),
    ("π x", sympy.pi * x, ("x",)),  # the one non-ASCII letter accepted
    ("−x × y · z", -x * y * z, ("x", "y", "z")),  # pasted minus sign, times and dot
    ("sin(1) x + sqrt(2)", sympy.sin(1) * x + sympy.sqrt(2), ("x",)),  # constants stay exact
    ("  x\t+ 1 ", x + 1, ("x",)),
]


@pytest.mark.parametrize("text, expected, names", TYPED, ids=[t for t, _, _ in TYPED])
def test_typed_formula_parses_to_what_was_meant(text: str, expected: sympy.Expr, names: tuple) -> None:
    expr, got_names = parse_formula(text)
    assert got_names == names
    assert same(expr, expected), (expr, expected)
    assert all(s.is_real for s in expr.free_symbols)
    assert not expr.has(sympy.I)


def test_minus_square_is_minus_of_the_square() -> None:
    expr, _ = parse_formula("-x^2")
    assert expr == -(x**2)
    assert expr.subs(x, 3) == -9


def test_names_come_in_natural_order() -> None:
    _, names = parse_formula("y x2 x10 x1 x + X")
    assert names == ("x", "X", "x1", "x2", "x10", "y")


def test_symbols_are_real() -> None:
    expr, _ = parse_formula("x^2 + y")
    assert {s.assumptions0.get("real") for s in expr.free_symbols} == {True}
    assert sympy.sqrt(parse_formula("x^2")[0]) == sympy.Abs(x)  # real=True lets SymPy simplify


def test_decimals_stay_as_typed_and_integers_exact() -> None:
    expr, _ = parse_formula("0.15 x + 3 y")
    assert sympy.Float("0.15") in expr.atoms(sympy.Float)
    assert sympy.Integer(3) in expr.atoms(sympy.Integer)


def test_towers_of_constants_are_folded_to_floats() -> None:
    expr, _ = parse_formula("sin(cos(exp(exp(1)))) x")
    (coefficient,) = expr.atoms(sympy.Float)
    assert abs(float(coefficient) - float(sympy.sin(sympy.cos(sympy.exp(sympy.E))))) < 1e-12


def test_named_functions_are_listed_sorted() -> None:
    assert list(NAMED_FUNCTIONS) == sorted(NAMED_FUNCTIONS)
    assert {"sin", "exp", "log", "sqrt", "max", "sigmoid"} <= set(NAMED_FUNCTIONS)


@pytest.mark.parametrize("name", NAMED_FUNCTIONS)
def test_every_named_function_parses(name: str) -> None:
    args = "x, y" if name in ("atan2", "min", "max") else "x"
    expr, _ = parse_formula(f"{name}({args})")
    assert expr.free_symbols


# (typed text, a piece of the message, column or None)
MISTAKES = [
    ("x +", "nothing after '+'", 3),
    ("(x+1", "'(' is never closed", 1),
    ("x+1)", "unexpected ')'", 4),
    ("foo(x)", "unknown function 'foo' — did you mean 'floor'?", 1),
    ("sinn(x)", "did you mean 'sin'?", 1),
    ("x = 1", "'='", 3),
    ("3", "the formula has no variable", None),
    ("x - x", "the formula has no variable", None),
    ("I*x", "complex numbers are not supported", 1),
    ("2j + x", "complex numbers are not supported", 2),
    ("", "type a formula", None),
    ("   ", "type a formula", None),
    ("*x", "'*' has nothing before it", 1),
    ("x+*y", "two operators in a row", 3),
    ("x**", "nothing after '**'", 2),
    ("()", "empty parentheses", 1),
    ("sin()", "needs an argument", 1),
    ("sin x", "'sin' is a function: write sin(...)", 1),
    ("log(x, 2, 3)", "log takes 1 to 2 arguments, got 3", 1),
    ("max(x)", "max takes 2 to 8 arguments, got 1", 1),
    ("max(max(a, b, c, d, e), max(f, g, h, i))", "max of more than 8 values", 1),
    ("atan2(x)", "atan2 takes 2 arguments, got 1", 1),
    ("x < 2", "comparisons", 3),
    ("x; y", "';'", 2),
    ("x[0]", "square brackets", 2),
    ("\\frac{x}{2}", "LaTeX is not supported", 1),
    ("x + é", "the letter 'é'", 5),
    ("2 3 x", "missing operator before the number '3'", 3),
    ("x/0", "division by zero", 2),
    ("x^1001", "exponent too large", 2),
    ("1e400 x", "number too large", 1),
    ("sqrt(-1) + x", "undefined", 1),
    ("(-8)^(1/3) + x", "not a real number", 5),
    ("abcd", "unknown name 'abcd'", 1),
    ("x.y", "unexpected '.'", 2),
    ("sin(x,)", "nothing after ','", 6),
    ("(x, y)", "commas only separate function arguments", 3),
    ("x\ny", "line break", 2),
    ("inf x", "infinity is not allowed", 1),
    ("x!", "'!' is not supported", 2),
]


@pytest.mark.parametrize("text, fragment, column", MISTAKES, ids=[repr(t) for t, _, _ in MISTAKES])
def test_mistakes_get_a_clear_message_and_column(text: str, fragment: str, column: int | None) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    err = caught.value
    assert fragment in err.message
    assert err.column == column
    if column is not None:
        assert str(err).endswith(f"at column {column}")
    else:
        assert str(err) == err.message


def test_formula_error_is_a_value_error_and_pickles() -> None:
    import pickle

    err = FormulaError("unexpected ')'", 7)
    assert isinstance(err, ValueError)
    assert str(err) == "unexpected ')' at column 7"
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.message, copy.column, str(copy)) == (err.message, err.column, str(err))


# ---------------------------------------------------------------- |x|, ln, and readings said out loud
@pytest.mark.parametrize("text, expected", [
    ("|x|", sympy.Abs(x)),
    ("|x - 1| + |y|", sympy.Abs(x - 1) + sympy.Abs(y)),
    ("|x||y|", sympy.Abs(x) * sympy.Abs(y)),
    ("||x| - 1|", sympy.Abs(sympy.Abs(x) - 1)),
    ("2|x|^3", 2 * sympy.Abs(x) ** 3),
    ("|x^2 - y|(1 + y^2)", sympy.Abs(x**2 - y) * (1 + y**2)),
    ("ln(x^2 + 1)", sympy.log(x**2 + 1)),
])
def test_bars_are_abs_and_ln_is_log(text, expected):
    expr, _ = parse_formula(text)
    assert expr == expected


@pytest.mark.parametrize("text, fragment", [
    ("x | y", "abs(x)"),
    ("|x + (y|)", "not closed yet"),
    ("|", "never closed"),
])
def test_unbalanced_bars_say_how_to_write_abs(text, fragment):
    with pytest.raises(FormulaError, match=re.escape(fragment)):
        parse_formula(text)


@pytest.mark.parametrize("text, fragment", [
    ("gamma(x)", "read gamma(...) as the variable gamma times (...)"),
    ("zeta(y) + x", "read zeta(...) as the variable zeta times"),
    ("lambda(x)", "read lambda(...) as the variable lambda times"),
    ("pix", "read 'pix' as p·i·x"),
    ("2ex", "read 'ex' as e·x, where e is Euler's number"),
])
def test_ambiguous_readings_come_with_a_notice(text, fragment):
    parsed = read_formula(text)
    assert any(fragment in notice for notice in parsed.notices), parsed.notices
    obj = optcore.parse(text)
    assert obj.notices == parsed.notices  # through the worker and onto the Objective


@pytest.mark.parametrize("text", ["x y", "2xy + z", "theta^2 + alpha", "pi x", "e^x", "x1 x2", "sin(x)"])
def test_plain_readings_have_no_notice(text):
    assert read_formula(text).notices == ()
