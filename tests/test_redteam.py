"""Red team: inputs of at most 500 characters chosen to make the server work, each with a budget of
CPU time in the app process (outside the bounded worker) for everything one formula causes there:
parse, the LaTeX of f, gradient and Hessian, compiling and evaluating value, gradient and Hessian.

The budget is an assertion about bounded work (the worst of these cost ~50 CPU-s before), not a speed
benchmark: the bound is generous and measured with process time, so a busy machine does not fail it.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import optcore
from optcore import objective
from optcore.formula import FormulaError
from optcore.objective import DERIVE_SECONDS, MAX_LATEX_CHARS, ObjectiveCache
from optcore.sandbox import FormulaTimeout

APP_CPU_SECONDS = 3.0  # the goal for any input of up to 500 characters


def _nest(function: str, inner: str, depth: int) -> str:
    return f"{function}(" * depth + inner + ")" * depth


def _names(count: int) -> list[str]:
    return [f"x{i}" for i in range(1, count + 1)]


CORPUS = {
    # nested special functions
    "sigmoid tower 6 (the issue's link)": _nest("sigmoid", "x", 6),
    "sigmoid tower 9": _nest("sigmoid", "x", 9),
    "sigmoid tower 12": _nest("sigmoid", "x", 12),
    "tanh tower of a product": _nest("tanh", "x y", 13),
    "erf tower": _nest("erf", "x y", 6),
    "atan tower": _nest("atan", "x+y", 7),
    "softplus tower": _nest("softplus", "x - y", 15),
    "log tower": _nest("log", "x", 15),
    "log(1+exp()) tower": "log(1+exp(" * 10 + "x" + "))" * 10,
    "trig and inverse chain": "asin(sin(acos(cos(atan(tan(asinh(sinh(atanh(tanh(x))))))))))",
    "sec csc cot chain": "sec(csc(cot(sec(csc(cot(x y))))))",
    # towers just under and over the limits
    "sin tower 49": _nest("sin", "x", 49),
    "exp tower 40": _nest("exp", "x", 40),
    "power tower 49": "x" + "^x" * 49,
    "alternating power tower": "x^(y^(x^(y^(x^(y^(x^y))))))",
    "abs tower": _nest("abs", "x-1", 40),
    "floor tower": _nest("floor", "x y", 30),
    "sign tower": _nest("sign", "x y", 30),
    "relu tower": _nest("relu", "x-y", 40),
    "max of eight sines": "max(" + ",".join(f"sin(x{i} y)" for i in range(8)) + ")",
    "max of eight sigmoids": "max(" + ",".join(f"sigmoid(x{i} y)" for i in range(8)) + ")",
    "min of eight erfs": "min(" + ",".join(f"erf(x{i} - y)" for i in range(8)) + ")",
    "degree 1000 polynomial": "(x+y+z)^1000",
    "degree 177 cubed": "(" + "+".join(f"{k}x^{k}" for k in range(1, 60)) + ")^3",
    # many variables
    "sum of 120 variables (the issue's 491 characters)": "+".join(_names(120)),
    "sum of 20 variables": " + ".join(_names(20)),
    "product of 59 variables": " ".join(_names(59)),
    "exp of a product of 35 variables": "exp(" + " ".join(_names(35)) + ")",
    "sin of a sum of 59 variables": "sin(" + "+".join(_names(59)) + ")^2",
    "29 sigmoid pairs": "*".join(f"sigmoid(x{i}+x{i + 1})" for i in range(1, 30)),
    "sigmoids of four products": "sigmoid(x y z)*sigmoid(y z w)*sigmoid(z w x)*sigmoid(w x y)*erf(x-y)",
    # LaTeX-heavy
    "sum of 50 squares": " + ".join(f"x{i}^2" for i in range(1, 51)),
    "nested sigmoids summed": "+".join(f"sigmoid(sigmoid(x{i}))" for i in range(1, 20)),
    "ambiguous names": "gamma(x) + zeta(y) + lambda(x) + pix",
}


def test_corpus_is_within_500_characters() -> None:
    assert len(CORPUS) >= 30
    for label, text in CORPUS.items():
        assert len(text) <= 500, (label, len(text))


@pytest.mark.parametrize("label", list(CORPUS))
def test_app_process_work_per_input_is_bounded(label: str) -> None:
    text = CORPUS[label]
    start = time.process_time()
    try:
        obj = objective._build(text, None, DERIVE_SECONDS)  # uncached: the first tab to open it pays
    except FormulaError as err:
        assert err.message.strip()
        obj = None
    if obj is not None:
        shown = [obj.latex, obj.gradient_latex, obj.hessian_latex]
        X = np.random.default_rng(0).normal(size=(50, obj.dim))
        f, g, H = obj.value_grad_hess(X)
        obj.value_grad(X)
        obj.value(X[0])
        assert f.shape == (50,) and g.shape == (50, obj.dim) and H.shape == (50, obj.dim, obj.dim)
    used = time.process_time() - start
    assert used < APP_CPU_SECONDS, f"{label}: {used:.1f} CPU-s in the app process"
    if obj is not None:
        assert all(len(text) <= MAX_LATEX_CHARS for text in shown)


def test_the_sigmoid_tower_shows_f_and_grad_and_marks_the_hessian() -> None:
    obj = optcore.parse(CORPUS["sigmoid tower 6 (the issue's link)"])
    assert obj.latex.startswith(r"\frac{1}{1 + e^{-")
    assert "matrix" in obj.gradient_latex  # 868 characters: shown
    assert "matrix" in obj.hessian_latex  # 10,056 characters: still shown (under the caps)
    big = optcore.parse(CORPUS["sigmoid tower 12"])
    assert big.hessian_latex.startswith(r"\text{(too large to display:")
    assert big.value_grad_hess(np.zeros(1))[2].shape == (1, 1)  # the run itself is cheap: no refusal


def test_a_120_variable_sum_shows_a_short_hessian_marker() -> None:
    obj = optcore.parse(CORPUS["sum of 120 variables (the issue's 491 characters)"])
    assert obj.dim == 120
    assert obj.hessian_latex == r"\text{(too large to display: 120 × 120 matrix)}"
    assert obj.gradient_latex.startswith(r"\text{(too large to display:")
    np.testing.assert_array_equal(obj.grad(np.zeros(120)), 1.0)


def test_too_many_variables_is_refused_by_count() -> None:
    with pytest.raises(FormulaError, match="121 variables; at most 120"):
        optcore.parse(" + ".join(_names(121)))


def test_an_enormous_hessian_is_refused_by_size_not_time() -> None:
    with pytest.raises(FormulaError, match="Hessian of this formula has about") as caught:
        optcore.parse(" ".join(_names(59)), seconds=None)  # in process: no time limit at all
    assert not isinstance(caught.value, FormulaTimeout)


# --------------------------------------------------------------------------------------------------
# Limits that do not depend on load
# --------------------------------------------------------------------------------------------------

BUSY_LOOP = "import time\nend = time.time() + 120\nwhile time.time() < end: pass\n"


def test_twenty_variables_parse_on_a_busy_machine() -> None:
    busy = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(3)]
    try:
        time.sleep(0.5)
        text = " + ".join(_names(20)) + " "  # a text no other test parsed: not in the cache
        obj = objective._build(text, None, DERIVE_SECONDS)
        assert obj.dim == 20
        np.testing.assert_array_equal(obj.grad(np.zeros(20)), 1.0)
    finally:
        for process in busy:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------------------------------
# The shared cache: one derivation per formula per server, refusals included
# --------------------------------------------------------------------------------------------------

@pytest.fixture
def counted_builds(monkeypatch):
    calls: list[str] = []
    real = objective._build

    def counting(text, variables, seconds):
        calls.append(text)
        return real(text, variables, seconds)

    monkeypatch.setattr(objective, "_build", counting)
    monkeypatch.setattr(objective, "OBJECTIVES", ObjectiveCache())
    return calls


def test_a_refusal_at_the_cpu_limit_is_remembered(counted_builds) -> None:
    text = " ".join(_names(45)) + " + 1"
    for _ in range(3):
        with pytest.raises(FormulaTimeout, match="CPU-seconds"):
            optcore.parse(text, seconds=0.2)
    assert counted_builds == [text]


def test_size_refusals_are_remembered_and_say_the_same_each_time(counted_builds) -> None:
    messages = []
    for _ in range(3):
        with pytest.raises(FormulaError) as caught:
            optcore.parse(CORPUS["sin tower 49"])
        messages.append(str(caught.value))
    assert len(set(messages)) == 1 and "operations" in messages[0]
    assert len(counted_builds) == 1


def test_many_tabs_opening_one_link_derive_it_once(counted_builds) -> None:
    text = _nest("sigmoid", "x", 5) + " + 0 y"
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(optcore.parse(text))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(results) == 6 and all(r is results[0] for r in results)
    assert counted_builds == [text]


def test_the_cache_is_bounded_by_entries_and_by_size() -> None:
    cache = ObjectiveCache(max_entries=3, max_ops=10_000)
    built = [optcore.parse(f"x^2 + {k} y", seconds=None) for k in range(5)]
    for k, obj in enumerate(built):
        assert cache.get(("t", k), lambda obj=obj: obj) is obj
    assert len(cache) == 3
    assert cache.get(("t", 4), lambda: pytest.fail("evicted too early")) is built[4]
    heavy = optcore.parse(CORPUS["erf tower"], seconds=None)  # thousands of operations
    small = ObjectiveCache(max_entries=100, max_ops=heavy._sizes().hessian)
    for k in range(3):
        small.get(("h", k), lambda: heavy)
    assert small.total_ops <= small.max_ops and len(small) <= 1
