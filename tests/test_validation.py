"""The engine's front door: every method parameter at, inside and beyond its hard range gives a
result or a ValueError naming the parameter and the allowed range, before any work is done."""
from __future__ import annotations

import math

import numpy as np
import pytest

import optcore
from optcore.methods import METHODS

QUADRATIC = "(x - 1)^2 + 2(y + 0.5)^2"
OBJECTIVE = optcore.parse(QUADRATIC)


def _probe_values(p) -> list:
    """Values at, inside and beyond the hard bounds of a numeric parameter."""
    integer = isinstance(p.default, int)
    values = [p.default, math.nan, math.inf, -math.inf, 1e308, -1e308]
    for bound, _is_open, outward in ((p.minimum, p.minimum_open, -math.inf), (p.maximum, p.maximum_open, math.inf)):
        if bound is None:
            continue
        if integer:
            values += [bound, bound - 1 if outward < 0 else bound + 1]
        else:
            inward = -outward
            values += [bound, float(np.nextafter(bound, inward)), float(np.nextafter(bound, outward))]
    if integer:
        values += [2.5, 1e8]
    return values


CASES = [(name, p, value) for name, spec in METHODS.items() for p in spec.params
         if p.choices is None and not isinstance(p.default, bool) for value in _probe_values(p)]


@pytest.mark.parametrize("method, spec, value", CASES, ids=[f"{n}-{p.name}-{v!r}" for n, p, v in CASES])
def test_numeric_parameter_gives_a_result_or_a_clear_error(method, spec, value):
    allowed = bool(spec.allows(value)) and (not isinstance(spec.default, int) or float(value).is_integer())
    if allowed:
        t = optcore.run(OBJECTIVE, method, [-2.0, 1.5], steps=10, **{spec.name: value})
        assert t.status in ("converged", "max_steps", "diverged") and t.message
    else:
        with pytest.raises(ValueError) as err:
            optcore.run(OBJECTIVE, method, [-2.0, 1.5], steps=10, **{spec.name: value})
        message = str(err.value)
        assert repr(spec.name) in message and spec.range_text() in message, message


@pytest.mark.parametrize("method", sorted(METHODS))
def test_choice_and_flag_parameters_refuse_other_values(method):
    for p in METHODS[method].params:
        if p.choices is None and not isinstance(p.default, bool):
            continue
        for good in (p.choices or (True, False)):
            assert optcore.run(OBJECTIVE, method, [-2.0, 1.5], steps=3, **{p.name: good}).message
        with pytest.raises(ValueError, match=p.name):
            optcore.run(OBJECTIVE, method, [-2.0, 1.5], steps=3, **{p.name: "maybe"})


def test_lbfgs_memory_out_of_range_is_a_value_error_not_a_crash_or_a_hang():
    with pytest.raises(ValueError, match=r"'memory' must be .* in \[1, 100\], got 0"):
        optcore.run(OBJECTIVE, "lbfgs", [0.0, 0.0], memory=0)
    with pytest.raises(ValueError, match="memory"):
        optcore.run(OBJECTIVE, "lbfgs", [0.0, 0.0], memory=100_000_000)
    assert optcore.run(OBJECTIVE, "lbfgs", [0.0, 0.0], memory=100, steps=20).status == "converged"


@pytest.mark.parametrize("steps", [-1, 2.5, math.nan, math.inf, 1e7, "ten", True])
def test_bad_steps_are_refused(steps):
    with pytest.raises(ValueError, match="steps"):
        optcore.run(OBJECTIVE, "gd", [0.0, 0.0], steps=steps)
    with pytest.raises(ValueError, match="steps"):
        optcore.run_batch(OBJECTIVE, "gd", np.zeros((3, 2)), steps=steps)


@pytest.mark.parametrize("tol", [math.nan, math.inf, -math.inf, "small"])
def test_bad_tol_is_refused(tol):
    with pytest.raises(ValueError, match="tol"):
        optcore.run(OBJECTIVE, "gd", [0.0, 0.0], tol=tol)


def test_values_inside_the_range_still_run_as_before():
    # lr beyond the slider (1.1 on x^2) must stay possible: it shows divergence.
    t = optcore.run(optcore.parse("x^2"), "gd", [10.0], steps=10, tol=0, lr=1.1)
    assert t.iterations == 10 and f"{t.points[-1, 0]:f}" == "61.917364"
    assert optcore.run(OBJECTIVE, "gd", [0.0, 0.0], steps=0).iterations == 0
    assert optcore.run(OBJECTIVE, "gd", [-2.0, 1.5], steps=5, tol=-1.0).iterations == 5
