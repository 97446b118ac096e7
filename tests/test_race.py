"""Fair races: equal budgets, tuned learning rates, many starts (optcore.race)."""
from __future__ import annotations

import numpy as np
import pytest

import optcore
from optcore.race import Budget, grid_starts, race, random_starts, tuning_settings, values_at

ROSENBROCK = "(1-x)^2 + 100(y-x^2)^2"
WINDOW = [(-2.0, 2.0), (-1.0, 3.0)]


@pytest.fixture(scope="module")
def rosenbrock():
    return optcore.parse(ROSENBROCK)


@pytest.fixture(scope="module")
def starts():
    return random_starts(WINDOW, 8, seed=3, first=[-1.2, 1.0])


def test_budget_parse_and_errors():
    assert Budget.parse("grad=500") == Budget("grad", 500)
    assert Budget.parse("300") == Budget("iterations", 300)
    assert Budget.parse("hessian=20") == Budget("hess", 20)
    for bad in ("grad=abc", "time=5", "grad=0", "grad=-3"):
        with pytest.raises(ValueError):
            Budget.parse(bad)


@pytest.mark.parametrize("kind", ["grad", "f", "hess", "cost", "iterations"])
def test_every_method_keeps_within_the_budget(rosenbrock, starts, kind):
    """The point a race scores for a method never cost more than the budget, counted independently
    from the engine's evaluation counts."""
    budget = Budget(kind, 60)
    methods = [("gd", {"lr": 1e-3}), ("momentum", {"lr": 5e-4}), ("adam", {}), ("bfgs", {}), ("newton", {}),
               ("cg", {})]
    result = race(rosenbrock, methods, starts, budget)
    weights = {"f": [1, 0, 0], "grad": [0, 1, 0], "hess": [0, 0, 1], "cost": [1, 1, 2]}
    for entry, (method, params) in zip(result.entries, methods):
        batch = optcore.run_batch(rosenbrock, method, starts, steps=budget.iteration_cap(method), tol=1e-8, **params)
        if kind == "iterations":
            spent = np.minimum(np.arange(batch.steps + 1)[None, :], batch.iterations[:, None])
        else:
            spent = np.asarray(batch.evaluations) @ np.asarray(weights[kind], dtype=float)
        scored = values_at(entry.runs, np.array([60.0]))[:, 0]
        for i in range(len(starts)):
            k = np.flatnonzero(batch.values[i] == scored[i])
            assert k.size and spent[i, k.min()] <= 60, (method, i)
        # and it used the budget where it could: the next step (if any, still running) would overshoot
        last_within = (spent <= 60).sum(axis=1) - 1
        np.testing.assert_array_equal(scored, batch.values[np.arange(len(starts)), last_within])


def test_a_newton_step_costs_d_gradients_in_the_cost_model(rosenbrock, starts):
    budget = Budget("cost", 30)
    result = race(rosenbrock, [("newton", {})], starts, budget)
    batch = optcore.run_batch(rosenbrock, "newton", starts, steps=30)
    # each Newton step: one gradient and one Hessian (2 gradients in 2-D), and no f evaluation
    for i, k in enumerate(batch.iterations):
        np.testing.assert_array_equal(result.entries[0].runs.spent[i, : min(k, 10) + 1], 3 * np.arange(min(k, 10) + 1))
    assert "∇²f = 2 gradients" in budget.describe(2)


def test_the_user_start_leads_and_starts_are_seeded():
    a = random_starts(WINDOW, 10, seed=7, first=[-1.2, 1.0])
    b = random_starts(WINDOW, 10, seed=7, first=[-1.2, 1.0])
    np.testing.assert_array_equal(a, b)
    assert a[0].tolist() == [-1.2, 1.0]
    assert np.all((a[1:] >= [-2, -1]) & (a[1:] <= [2, 3]))
    g = grid_starts(WINDOW, 4)
    assert g.shape == (16, 2) and np.all((g > [-2, -1]) & (g < [2, 3]))


def test_many_starts_band_brackets_the_median(rosenbrock, starts):
    result = race(rosenbrock, [("gd", {"lr": 1e-3}), ("bfgs", {})], starts, Budget("grad", 200), f_star=0.0)
    for band in result.bands(21):
        assert np.all(band["q25"] <= band["median"]) and np.all(band["median"] <= band["q75"])
        # more budget never makes the median worse for a descent method
        assert np.all(np.diff(band["median"][np.isfinite(band["median"])]) <= 1e-12)
    rows = {r["method"]: r for r in result.table()}
    assert rows["BFGS"]["success rate"] == 1.0
    assert rows["Gradient descent"]["success rate"] < 1.0
    assert result.entries[result.winner()].method == "bfgs"


def test_tuned_lr_is_the_argmin_of_the_shown_sweep(rosenbrock, starts):
    result = race(rosenbrock, [("gd", {}), ("momentum", {})], starts, Budget("grad", 300), tune=True, n_lrs=24,
                  f_star=0.0)
    for entry in result.entries:
        sweep = entry.sweep
        lrs, curve = sweep.curve()
        assert len(lrs) == 24
        best = sweep.best_setting
        assert curve.min() == sweep.scores[sweep.best]
        # ties go to the smaller learning rate
        assert best["lr"] == lrs[np.flatnonzero(curve == curve.min())[0]]
        assert entry.params["lr"] == best["lr"]
        # the tuned run is exactly a plain run with the tuned parameters
        plain = race(rosenbrock, [(entry.method, best)], starts, Budget("grad", 300), f_star=0.0)
        np.testing.assert_array_equal(plain.entries[0].runs.values, entry.runs.values)
    assert "beta" in result.entries[1].sweep.best_setting


def test_tuning_beats_a_bad_default(rosenbrock, starts):
    """GD at lr=0.1 diverges on Rosenbrock; tuned, it makes progress."""
    budget = Budget("grad", 300)
    untuned = race(rosenbrock, [("gd", {"lr": 0.1})], starts, budget, f_star=0.0)
    tuned = race(rosenbrock, [("gd", {"lr": 0.1})], starts, budget, tune=True, f_star=0.0)
    assert untuned.table()[0]["diverged"] > 0
    assert tuned.table()[0]["median f − f*"] < 1.0
    assert tuned.entries[0].params["lr"] < 0.01


def test_tuning_ladder_ordered_by_lr():
    settings = tuning_settings("momentum", n_lrs=5)
    lrs = [s["lr"] for s in settings]
    assert lrs == sorted(lrs) and len(settings) == 15
    assert tuning_settings("newton_abs", n_lrs=5)[0].keys() == {"lr"}


def test_bad_requests_are_clear(rosenbrock):
    with pytest.raises(ValueError, match="coordinates"):
        race(rosenbrock, [("gd", {})], [[1.0, 2.0, 3.0]], Budget())
    with pytest.raises(ValueError, match="unknown method"):
        race(rosenbrock, [("sgd9", {})], [[1.0, 2.0]], Budget())
    with pytest.raises(ValueError, match="criterion"):
        race(rosenbrock, [("gd", {})], [[1.0, 2.0]], Budget(), criterion="vibes")


def test_command_line_prints_the_race_table_and_json():
    import io
    import json

    from optcore.cli import main
    out, err = io.StringIO(), io.StringIO()
    argv = ["compare", ROSENBROCK, "--methods", "gd:lr=0.001,bfgs", "--x0", "-1.2", "1", "--starts", "6",
            "--seed", "2", "--budget", "grad=200", "--format", "json"]
    assert main(argv, out, err) == 0, err.getvalue()
    data = json.loads(out.getvalue())
    assert data["budget"] == {"kind": "grad", "amount": 200, "description": "200 gradient evaluations"}
    assert data["f_star_source"] == "known minimum" and data["f_star"] == 0.0
    assert data["starts"][0] == [-1.2, 1.0] and len(data["starts"]) == 6
    # the same race through the library gives the same table
    obj = optcore.parse(ROSENBROCK)
    window = [tuple(w) for w in data["window"]]
    result = race(obj, [("gd", {"lr": 0.001}), ("bfgs", {})], random_starts(window, 6, seed=2, first=[-1.2, 1.0]),
                  Budget("grad", 200), f_star=0.0, tol=1e-8)
    for row, mine in zip(data["methods"], result.table()):
        assert row["success rate"] == mine["success rate"]
        assert row["median f − f*"] == mine["median f − f*"]
    text = io.StringIO()
    assert main(argv[:-2], text, err) == 0
    assert "best: BFGS" in text.getvalue() and "200 gradient evaluations per method" in text.getvalue()


@pytest.mark.parametrize("argv, message", [
    (["--budget", "time=3"], "budget kind"),
    (["--budget", "grad=0"], "budget amount"),
    (["--starts", "0"], "--starts"),
    (["--methods", "gd,nope"], "unknown method"),
    (["--steps", "10"], "--budget"),
])
def test_command_line_mistakes_exit_2(argv, message):
    import io

    from optcore.cli import main
    err = io.StringIO()
    assert main(["compare", "x^2 + y^2", "--x0", "1", "1", *argv], io.StringIO(), err) == 2
    assert message in err.getvalue()


def test_gaps_below_the_resolution_tie_to_the_smaller_lr():
    # On x² many learning rates end within 1e-20 of f* = 0: rounding noise, not a ranking. They
    # score 0 (a tie), the tie goes to the smallest such η, and the chart's floor is that resolution.
    from optcore.figures.race import race_bands_figure, tuning_sweep_figure
    obj = optcore.parse("x^2 + y^2")
    starts = random_starts([(-2, 2), (-2, 2)], 4, seed=0)
    result = race(obj, [("gd", {})], starts, Budget("grad", 200), tune=True, n_lrs=24, f_star=0.0)
    sweep = result.entries[0].sweep
    lrs, curve = sweep.curve()
    assert result.resolution == 1e-14
    assert not ((curve > 0) & (curve <= result.resolution)).any()   # nothing hides under the floor
    assert (curve == 0).sum() > 1                                     # a real tie ...
    assert sweep.best_setting["lr"] == lrs[np.flatnonzero(curve == 0)[0]]  # ... to the smaller η
    fig = tuning_sweep_figure([dict(label="GD", lrs=lrs, scores=curve, best_lr=sweep.best_setting["lr"],
                                    best_score=float(sweep.scores[sweep.best]))],
                              score_title="median f − f*", floor=result.resolution)
    line = np.asarray(fig.data[0].y, dtype=float)
    on_floor = np.flatnonzero(line == result.resolution)
    assert sweep.best_setting["lr"] == lrs[on_floor[0]]   # the star is the first point on the floor
    bands = race_bands_figure(result.bands(), x_title="gradient evaluations", floor=result.resolution)
    assert np.nanmin(np.asarray(bands.data[2].y, dtype=float)) == result.resolution
    # the resolution grows with |f*|: f has 16 digits, f* is one of them
    shifted = race(optcore.parse("x^2 + y^2 + 1e6"), [("gd", {})], starts, Budget("grad", 200), f_star=1e6)
    assert shifted.resolution == 1e-8


def test_tuning_ladder_values_have_three_significant_digits():
    lrs = [s["lr"] for s in tuning_settings("gd")]
    assert all(lr == float(f"{lr:.3g}") for lr in lrs)
    assert len(set(lrs)) == len(lrs) == 48 and lrs == sorted(lrs)
    assert lrs[0] == 1e-4 and lrs[-1] == 10.0
