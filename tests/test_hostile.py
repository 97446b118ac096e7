"""Hostile and malformed text: refused with a message or parsed to a harmless expression, fast, and
never executed. Also the sandbox that runs SymPy work in a killable worker process."""

from __future__ import annotations

import operator
import re
import sys
import threading
import time
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optcore.formula import FormulaError, parse_formula
from optcore import sandbox
from optcore.sandbox import FormulaTimeout, run_limited

TIME_LIMIT = 2.0  # seconds per case, generous: most take well under a millisecond
VALID_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,19}\Z")

# "{canary}" is replaced by a real path in tmp_path: had any of these been executed, the file would exist.
CODE_INJECTION = [
    "__import__('os').system('touch {canary}')",
    '__import__("os").system("touch {canary}")',
    "open('{canary}', 'w').write('pwned')",
    "open('{canary}','w')",
    "eval(\"open('{canary}','w')\")",
    "exec(\"open('{canary}','w')\")",
    "exec('import os; os.system(\"touch {canary}\")')",
    "getattr(__builtins__, 'open')('{canary}', 'w')",
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "x.__class__",
    "x.__class__.__mro__",
    "lambda: 1",
    "lambda x: x",
    "(lambda: open('{canary}','w'))()",
    "S('x')",
    "S('__import__(\"os\").system(\"touch {canary}\")')",
    "sympify('x')",
    "sympify(\"open('{canary}','w')\")",
    "parse_expr('x')",
    "'x'",
    '"x**2"',
    "x + 'a'",
    "＿＿ｉｍｐｏｒｔ＿＿('os').system('touch {canary}')",
    "ｘ^2",
    "Ｘ + y",
    "import os",
    "import os; os.system('touch {canary}')",
    "x; import os",
    "x\nimport os",
    "x\r\nopen('{canary}','w')",
    "x__import__",
    "x__class__ + 1",
    "__x",
    "_x + 1",
    "x_ + __import__",
    "globals()",
    "locals()['x']",
    "vars()",
    "compile('1','','eval')",
    "breakpoint()",
    "os.system('touch {canary}')",
    "Symbol('x')",
    "Function('f')(x)",
    "x if x else y",
    "[x for x in range(10)]",
    "{x: 1}",
    "x @ y",
    "f'{{x}}'",
    "`x`",
    "x # comment",
    "\\x41",
    "x\x00",
    "\u200bx",
    "x\u00a0+ y",
    "exit()",
    "quit",
    "True + x",
    "None",
]

MALFORMED = [
    "",
    " ",
    "\t",
    "x +",
    "+",
    "-",
    "x ^",
    "^x",
    "(",
    ")",
    "(()",
    "())",
    "(x+1",
    "x+1)",
    "x = 1",
    "x == 1",
    "x < 2",
    "x >= 2",
    "x != y",
    "x[0]",
    "x[",
    "\\frac{x}{2}",
    "\\sin x",
    "$x^2$",
    "é + x",
    "x²",
    "π",
    "π x",
    "😀",
    "x + 😀",
    "x,,y",
    ",x",
    "x,",
    "1..2",
    "..5",
    "x^^2",
    "x**-",
    "2 3",
    "sin(",
    "sin)",
    "max()",
    "x!",
    "x%2",
    "x & y",
    "x | y",
    "~x",
    "x // 2",
    "0x1F",
    "1_000 x",
    "1e",
    "1e+",
    "3j",
    "I",
    "oo",
    "nan*x",
    "zoo",
    "x y z w v u t s r",
]

PATHOLOGICAL = [
    "9**9**9",
    "10**10**10",
    "x*10**(10**7)",
    "factorial(10**8)",
    "1e100000000",
    "1e-100000000 + x",
    "((9**9)**9999)**9999",
    "(" * 2000 + "x" + ")" * 2000,
    "(" * 101 + "x" + ")" * 101,
    "(" * 100 + "x" + ")" * 100,
    "x" + "+x" * 100000,
    "x" + "+x" * 999,
    "exp(exp(exp(exp(x))))",
    "sin(cos(exp(exp(exp(exp(1))))))",
    "sin(cos(exp(exp(1)))) + x",
    "-" * 1999 + "x",
    "x" + "^x" * 999,
    "2^" * 999 + "x",
    "x^1000^1000",
    "(x+1)^1000 * (y+1)^1000",
    "(x+y+z)^1000",
    "9" * 301,
    "9" * 300 + " x",
    "1" + "0" * 300 + " x",
    "0." + "0" * 400 + "1 x",
    "1e-400 x",
    "sin(" * 99 + "x" + ")" * 99,
    "sin(" * 101 + "x" + ")" * 101,
    "exp(" * 50 + "1" + ")" * 50 + " x",
    "sqrt(" * 99 + "2" + ")" * 99 + " x",
    "max(" + ",".join(["x"] * 900) + ")",
    "x" * 2000,
    "x1" * 1000,
    "E^1e300 x",
    "E^700 x",
    "exp(x)^1000^1000",
    "floor(1e299*pi) x",
    "tan(10^200 pi / 2) x",
    "sin(10^299) x",
    "cos(" + "+".join(["pi"] * 400) + ") x",
    "x" + "*x" * 999,
    "x" + "/x" * 999,
    "(2^(1/2))^1000 x",
    "0^-1 + x",
    "x^(2^1000)",
    "log(0) + x",
    "atan2(0, 0) + x",
    "tan(pi/2) + x",
    "10^300 * 10^300 * x",
    "max(" + ",".join(f"x{i}" for i in range(400)) + ")",
    "max(max(x1, x2, x3, x4, x5), max(y1, y2, y3, y4, y5))",
    "min(" + ",".join(f"x{i}" for i in range(9)) + ")",
]

CORPUS = (
    [("code", text) for text in CODE_INJECTION]
    + [("malformed", text) for text in MALFORMED]
    + [("size", text) for text in PATHOLOGICAL]
)


def _case_id(case: tuple[str, str]) -> str:
    group, text = case
    shown = text if len(text) <= 40 else f"{text[:30]}...<{len(text)} chars>"
    return f"{group}:{shown.encode('unicode_escape').decode('ascii')}"


def _check_result(expr: sympy.Expr, names: tuple[str, ...]) -> None:
    """A parsed hostile string must still be an ordinary real expression in validated names."""
    assert isinstance(expr, sympy.Expr)
    assert names, "a returned formula always has a variable"
    assert all(VALID_NAME.match(name) and "__" not in name for name in names), names
    assert {s.name for s in expr.free_symbols} == set(names)
    assert all(isinstance(s, sympy.Symbol) and s.is_real for s in expr.free_symbols)
    assert not expr.has(sympy.I, sympy.zoo, sympy.oo, sympy.nan)


@pytest.mark.parametrize("case", CORPUS, ids=[_case_id(c) for c in CORPUS])
def test_hostile_text_is_refused_or_harmless(case: tuple[str, str], tmp_path: Path) -> None:
    canary = tmp_path / "CANARY"
    text = case[1].replace("{canary}", str(canary))
    start = time.perf_counter()
    try:
        expr, names = parse_formula(text)
    except FormulaError as err:
        assert err.message.strip()
        assert str(err).strip()
        assert err.column is None or 1 <= err.column <= len(text) + 1
    else:
        _check_result(expr, names)
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_LIMIT, f"took {elapsed:.2f} s"
    assert not canary.exists(), "hostile text was executed"


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 80
    assert len(set(CORPUS)) == len(CORPUS)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch CANARY')",
        "open('CANARY','w')",
        "().__class__.__base__.__subclasses__()",
        "＿＿ｉｍｐｏｒｔ＿＿('os')",
        "x__import__",
        "x.__class__",
        "eval('1')",
        "lambda: 1",
        "S('x')",
    ],
)
def test_code_is_refused_not_read_as_a_product(text: str) -> None:
    with pytest.raises(FormulaError):
        parse_formula(text)


def test_limits_are_explained() -> None:
    cases = {
        "x" + "+x" * 100000: "too long",
        "(" * 101 + "x" + ")" * 101: "too many nested parentheses",
        "9**9**9": "constant too large",
        "1e100000000": "number too large",
        "x^1001": "exponent too large",
        "x" + "^x" * 60: "nested too deeply",
        "sin(" * 60 + "x" + ")" * 60: "nested too deeply",
        "max(" + ",".join(f"x{i}" for i in range(400)) + ")": "max takes 2 to 8 arguments, got 400",
        "10^300 * 10^300 * x": "constant too large",
    }
    for text, fragment in cases.items():
        with pytest.raises(FormulaError, match=fragment):
            parse_formula(text)


# ------------------------------------------------------------------------------------------------
# Fuzzing: random text never escapes as anything but FormulaError, and stays fast
# ------------------------------------------------------------------------------------------------

FORMULA_ALPHABET = "xyz012.e^*/+-() ,sinexplog_aIj=[]'\"\\;:!<>π😀é\n\t"


def _refused_with_message_or_valid(text: str) -> None:
    try:
        expr, names = parse_formula(text)
    except FormulaError as err:
        assert err.message.strip()
    else:
        _check_result(expr, names)


@settings(max_examples=400, deadline=TIME_LIMIT * 1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=FORMULA_ALPHABET, max_size=60))
def test_random_text_is_refused_or_valid(text: str) -> None:
    _refused_with_message_or_valid(text)


@settings(max_examples=200, deadline=TIME_LIMIT * 1000)
@given(st.text(max_size=40))
def test_arbitrary_unicode_is_refused_or_valid(text: str) -> None:
    _refused_with_message_or_valid(text)


X, Y = sympy.symbols("x y", real=True)
_leaves = st.sampled_from([("x", X), ("y", Y)]) | st.integers(1, 9).map(lambda n: (str(n), sympy.Integer(n)))


def _combine(children: st.SearchStrategy) -> st.SearchStrategy:
    def binary(op: str, build):
        return st.tuples(children, children).map(lambda ab: (f"({ab[0][0]}){op}({ab[1][0]})", build(ab[0][1], ab[1][1])))

    return st.one_of(
        binary("+", operator.add),
        binary("-", operator.sub),
        binary("*", operator.mul),
        binary(" ", operator.mul),  # implicit multiplication
        binary("/", operator.truediv),
        st.tuples(children, st.integers(0, 3)).map(lambda a: (f"({a[0][0]})^{a[1]}", a[0][1] ** a[1])),
        children.map(lambda a: (f"-({a[0]})", -a[1])),
    )


@settings(max_examples=200, deadline=TIME_LIMIT * 1000)
@given(st.recursive(_leaves, _combine, max_leaves=12))
def test_fully_parenthesised_trees_round_trip(pair: tuple[str, sympy.Expr]) -> None:
    text, expected = pair
    try:
        expr, _ = parse_formula(text)
    except FormulaError as err:
        # Only honest refusals: the tree divides by zero or cancels down to a constant.
        assume(not ("division by zero" in err.message or "no variable" in err.message))
        raise
    assert expr == expected


# ------------------------------------------------------------------------------------------------
# Sandbox
# ------------------------------------------------------------------------------------------------

def test_sandbox_returns_the_result() -> None:
    expr, names = run_limited(parse_formula, "(1-x)^2 + 100(y-x^2)^2", seconds=30)
    assert names == ("x", "y")
    assert expr == parse_formula("(1-x)^2 + 100(y-x^2)^2")[0]


def test_sandbox_reraises_formula_errors_with_their_column() -> None:
    with pytest.raises(FormulaError) as caught:
        run_limited(parse_formula, "x +", seconds=30)
    assert caught.value.column == 3
    assert str(caught.value) == "nothing after '+' at column 3"


def test_sandbox_reports_other_exceptions_as_formula_errors() -> None:
    with pytest.raises(FormulaError, match="ZeroDivisionError"):
        run_limited(operator.truediv, 1, 0, seconds=30)
    with pytest.raises(ValueError, match="invalid literal"):
        run_limited(int, "not a number", seconds=30)


def spin(seconds: float) -> float:
    """Burn `seconds` of this process's CPU time (a stand-in for a slow SymPy call)."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return seconds


def test_sandbox_stops_a_job_at_its_cpu_budget_and_the_worker_lives_on() -> None:
    run_limited(operator.add, 1, 2, seconds=30)  # warm, so start-up time is not measured below
    with pytest.raises(FormulaTimeout, match=r"more than 0.5 CPU-seconds") as caught:
        run_limited(spin, 30, seconds=0.5, task="differentiate")
    assert isinstance(caught.value, FormulaError) and not caught.value.load_dependent
    assert run_limited(spin, 0.1, seconds=30) == 0.1
    assert run_limited(operator.add, 2, 3, seconds=30) == 5


def test_sandbox_does_not_count_waiting_against_the_cpu_budget() -> None:
    # A sleeping job uses no CPU: a busy machine (the job waiting for a core) is not a refusal.
    assert run_limited(time.sleep, 1.0, seconds=0.5) is None


def test_sandbox_wall_clock_is_the_last_resort_and_recovers() -> None:
    run_limited(operator.add, 1, 2, seconds=30)
    start = time.perf_counter()
    with pytest.raises(FormulaTimeout, match="takes too long to differentiate") as caught:
        run_limited(time.sleep, 30, seconds=5, wall_seconds=0.5, task="differentiate")
    assert time.perf_counter() - start < 0.5 + 1.0
    assert caught.value.load_dependent
    assert run_limited(operator.add, 2, 3, seconds=30) == 5


def test_sandbox_works_from_other_threads_at_once() -> None:
    results: dict[int, object] = {}

    def job(i: int) -> None:
        try:
            results[i] = run_limited(operator.mul, i, 10, seconds=30)
        except BaseException as err:  # noqa: BLE001 — reported through results
            results[i] = err

    threads = [threading.Thread(target=job, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {i: i * 10 for i in range(6)}


def test_sandbox_round_trip_is_cheap() -> None:
    run_limited(operator.add, 1, 2, seconds=30)
    timings = []
    for _ in range(50):
        start = time.perf_counter()
        run_limited(operator.add, 1, 2, seconds=30)
        timings.append(time.perf_counter() - start)
    assert sorted(timings)[25] < 0.005  # median well under 5 ms (measured ~0.1 ms)


_WARMED: list[str] = []  # in a worker: filled by _note_warm_up before its first job


def _note_warm_up() -> None:
    _WARMED.append("warm")


def _worker_state(module: str) -> tuple[bool, list[str]]:
    return module in sys.modules, list(_WARMED)


def test_new_workers_run_the_registered_warm_ups_before_their_first_job(monkeypatch) -> None:
    import optcore.objective  # noqa: F401 — registers its own warm-up (a small derivation) on import

    sandbox.shutdown()  # idle workers from earlier tests started without this test's warm-up
    targets = [*sandbox._warm_ups, "no_such_module:anything", f"{__name__}:_note_warm_up"]
    monkeypatch.setattr(sandbox, "_warm_ups", targets)
    try:
        objective_loaded, warmed = run_limited(_worker_state, "optcore.objective", seconds=30)
    finally:
        sandbox.shutdown()  # later tests get workers without this module's warm-up
    # The sandbox imports nothing above itself: optcore.objective is in the worker only because
    # its registered warm-up ran; a broken target is skipped and the ones after it still run.
    assert objective_loaded
    assert warmed == ["warm"]


def test_sandbox_in_process_when_no_limit() -> None:
    assert run_limited(operator.add, 1, 2, seconds=None) == 3
    with pytest.raises(FormulaError):
        run_limited(parse_formula, "x +", seconds=None)


@pytest.mark.parametrize("text", ["9**9**9", "__import__('os').system('touch CANARY')", "x" + "+x" * 5000])
def test_hostile_text_through_the_sandbox(text: str) -> None:
    with pytest.raises(FormulaError):
        run_limited(parse_formula, text, seconds=5)
