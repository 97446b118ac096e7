"""Per-row parameters: ``run_batch`` with one value per start equals ``run`` row by row, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

import optcore
from optcore import analysis
from optcore.methods import METHODS

FUNCTION = "(x - 1)^2 + 3(y + 0.5)^2 + 0.2 x^2 y^2"


def _per_row_values(method: str, m: int) -> dict[str, np.ndarray]:
    """Different in-range values for every per-row parameter of the method (lr from calm to divergent)."""
    rng = np.random.default_rng(len(method))
    values = {}
    for p in METHODS[method].params:
        if not p.per_row:
            continue
        if p.name == "lr":
            values["lr"] = p.default * np.geomspace(0.05, 4.0, m)
        elif p.name == "noise":
            values["noise"] = np.linspace(0.0, 0.3, m)
        elif p.minimum == 0.0 and p.maximum == 1.0:  # a decay or momentum weight
            values[p.name] = rng.uniform(0.0, min(p.high, 0.999), m)
        else:
            values[p.name] = p.default * np.geomspace(0.1, 10.0, m)
    return values


def _variants(method: str) -> list[dict]:
    kinds = next((p.choices for p in METHODS[method].params if p.name == "line_search"), None)
    return [{"line_search": kind} for kind in kinds] if kinds else [{}]


CASES = [(method, variant) for method in METHODS for variant in _variants(method)]


@pytest.mark.parametrize("method, variant", CASES, ids=[f"{m}-{v.get('line_search', '')}" for m, v in CASES])
def test_row_i_equals_run_with_row_i_parameters(method, variant):
    obj = optcore.parse(FUNCTION)
    m = 7
    per_row = _per_row_values(method, m)
    assert "lr" in per_row
    X0 = np.random.default_rng(1).uniform(-2, 2, (m, 2))
    batch = optcore.run_batch(obj, method, X0, steps=40, tol=1e-6, **variant, **per_row)
    for i in range(m):
        params = {name: float(values[i]) for name, values in per_row.items()}
        single = optcore.run(obj, method, X0[i], steps=40, tol=1e-6, **variant, **params)
        row = batch.row(i)
        assert np.array_equal(row.points, single.points, equal_nan=True), (method, i)
        assert np.array_equal(row.values, single.values, equal_nan=True)
        assert row.status == single.status and row.message == single.message
        for kind in ("f", "grad", "hess"):
            assert np.array_equal(row.evaluations[kind], single.evaluations[kind])
        assert row.params == single.params
    assert len(set(batch.status)) >= 1


def test_one_start_is_repeated_for_every_parameter_value():
    obj = optcore.parse(FUNCTION)
    lrs = np.geomspace(0.01, 0.5, 9)
    batch = optcore.run_batch(obj, "momentum", [1.5, -1.0], steps=60, lr=lrs, beta=0.8)
    assert batch.points.shape == (9, 61, 2)
    for i, lr in enumerate(lrs):
        single = optcore.run(obj, "momentum", [1.5, -1.0], steps=60, lr=float(lr), beta=0.8)
        assert np.array_equal(batch.row(i).points, single.points)


@pytest.mark.parametrize("params, match", [
    ({"lr": np.ones((2, 3))}, r"shape \(m,\)"),
    ({"lr": np.ones(4)}, "4 values but there are 3 start points"),
    ({"lr": np.ones(3), "beta": np.full(2, 0.5)}, "same length"),
    ({"lr": np.array([0.1, np.nan, 0.1])}, "row 1"),
    ({"lr": np.array([0.1, -1.0, 0.1])}, r"\(0, 1e\+06\]"),
    ({"beta": np.array([0.1, 1.0, 0.1])}, r"\[0, 1\)"),
    ({"lr": np.array([])}, r"shape \(m,\)"),
])
def test_bad_per_row_shapes_and_values_are_clear_errors(params, match):
    obj = optcore.parse(FUNCTION)
    with pytest.raises(ValueError, match=match):
        optcore.run_batch(obj, "momentum", np.zeros((3, 2)), steps=5, **params)


def test_only_per_row_parameters_take_arrays_and_run_takes_none():
    obj = optcore.parse(FUNCTION)
    with pytest.raises(ValueError, match="memory"):
        optcore.run_batch(obj, "lbfgs", np.zeros((3, 2)), memory=np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="run_batch"):
        optcore.run(obj, "gd", [0.0, 0.0], lr=np.array([0.1, 0.2]))


def _looped_sweep(obj, method, x0, lrs, steps, tol, **params):
    """The learning-rate sweep as it was: one run per value."""
    finals, iters, status = [], [], []
    for lr in lrs:
        batch = optcore.run_batch(obj, method, np.asarray(x0, dtype=float)[None, :], steps=steps, tol=tol,
                                  lr=float(lr), **params)
        finals.append(obj.value(batch.final_points)[0])
        iters.append(float(batch.iterations[0]))
        status.append(batch.status[0])
    return np.array(finals), np.array(iters), np.array(status)


def test_sweeps_in_one_batched_run_give_the_looped_numbers():
    obj = optcore.parse("0.5 w1^2 + 2 w2^2", variables=("w1", "w2"))
    lrs = np.geomspace(0.01, 1.0, 11)
    sweep = analysis.learning_rate_sweep(obj, "gd", [1.0, 1.0], lrs, steps=100)
    finals, iters, status = _looped_sweep(obj, "gd", [1.0, 1.0], lrs, 100, 1e-8)
    assert list(sweep.status) == list(status)
    assert np.array_equal(sweep.iterations, np.where(status == "converged", iters, np.nan), equal_nan=True)
    betas = np.linspace(0.0, 0.9, 4)
    heat = analysis.param_heatmap(obj, "momentum", [1.0, 1.0], lrs, betas, beta_name="beta", steps=100)
    for i, beta in enumerate(betas):
        finals, iters, status = _looped_sweep(obj, "momentum", [1.0, 1.0], lrs, 100, 1e-8, beta=float(beta))
        assert list(heat.status[i]) == list(status)
        assert np.array_equal(heat.iterations[i], np.where(status == "converged", iters, np.nan), equal_nan=True)
