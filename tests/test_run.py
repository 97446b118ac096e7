"""The driver: statuses, frozen rows, batch == single run, exports, and the textbook's numbers."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

import optcore
from optcore.methods import METHODS
from optcore.run import BatchTrajectory, Trajectory, run, run_batch

CURVED = "(x - 1)^2 + 2(y + 0.5)^2 + 0.3x^2*y^2"


def parse(text: str):
    return optcore.parse(text)


@pytest.mark.parametrize("lr, printed", [(0.2, "0.060466"), (0.05, "3.486784"), (1.1, "61.917364")])
def test_textbook_gd_on_x_squared(lr, printed):
    # The chapter runs x <- x - lr * 2x from x = 10 for 10 epochs and prints f"{x:f}".
    trajectory = optcore.run(optcore.parse("x^2"), "gd", [10.0], steps=10, tol=0, lr=lr)
    assert trajectory.iterations == 10
    assert f"{trajectory.points[-1, 0]:f}" == printed
    assert np.allclose(trajectory.points[:, 0], 10.0 * (1 - 2 * lr) ** np.arange(11))


def test_statuses_and_messages():
    objective = parse("x^2")
    converged = run(objective, "gd", [10.0], steps=200, lr=0.2)
    assert converged.status == "converged"
    assert converged.message.startswith(f"converged in {converged.iterations} steps: ‖∇f‖ = ")
    assert abs(converged.grads[-1, 0]) <= 1e-8 < abs(converged.grads[-2, 0])

    stopped = run(objective, "gd", [10.0], steps=10, lr=0.05)
    assert stopped.status == "max_steps" and stopped.iterations == 10
    assert stopped.message == f"stopped after 10 steps; ‖∇f‖ = {abs(stopped.grads[-1, 0]):.3g}"

    runaway = run(objective, "gd", [10.0], steps=500, lr=1.1)  # |x| grows 1.2x per step
    assert runaway.status == "diverged"
    assert "diverged at step" in runaway.message and "1e+08" in runaway.message
    expected_steps = int(np.floor(np.log(1e8 / 10.0) / np.log(1.2)))  # last step with |x| <= 1e8
    assert runaway.iterations == expected_steps
    assert np.abs(runaway.points).max() <= 1e8


def test_diverged_run_keeps_only_finite_points():
    # GD on log(x) from 1 with lr 2 jumps to x = -1, where log is nan: frozen at x = 1.
    trajectory = run(parse("log(x)"), "gd", [1.0], steps=10, lr=2.0)
    assert trajectory.status == "diverged"
    # The message says why in a student's words, not just "nan".
    # in words a student reads ("f is nan there" was jargon)
    assert trajectory.message == ("diverged at step 1: the step left the region where f is defined "
                                  "(no real value there, as for the log or the square root of a negative number)")
    assert trajectory.iterations == 0
    assert trajectory.points.shape == (1, 1) and np.isfinite(trajectory.points).all()
    assert np.isfinite(trajectory.values).all()
    batch = run_batch(parse("log(x)"), "gd", [[1.0], [5.0]], steps=3, tol=0, lr=2.0)
    assert list(batch.status) == ["diverged", "max_steps"]
    assert np.isfinite(batch.points).all() and np.all(batch.points[0] == 1.0)


def test_start_without_finite_value_is_diverged():
    trajectory = run(parse("log(x)"), "gd", [-1.0], steps=5)
    assert trajectory.status == "diverged" and trajectory.iterations == 0


def _batch_cases():
    for name, spec in METHODS.items():
        yield name, {}
        if spec.first_order:
            yield name, {"noise": 0.3, "seed": 7}
        if "line_search" in {p.name for p in spec.params}:
            for kind in ("none", "backtracking", "exact"):
                if kind != spec.params[[p.name for p in spec.params].index("line_search")].default:
                    yield name, {"line_search": kind, "lr": 0.5 if kind == "none" else 1.0}


@pytest.mark.parametrize("method, params", list(_batch_cases()), ids=lambda v: str(v))
def test_batch_row_equals_single_run(method, params):
    objective = parse(CURVED)
    # Row 1 starts at the minimum (frozen at once); row 3 is far out (may diverge for some).
    X0 = np.array([[-2.0, 1.5], [1.0, -0.5], [0.3, 2.0], [40.0, -30.0]])
    batch = run_batch(objective, method, X0, steps=40, tol=1e-9, **params)
    assert isinstance(batch, BatchTrajectory)
    assert batch.points.shape == (4, 41, 2) and batch.values.shape == (4, 41)
    for i, x0 in enumerate(X0):
        single = run(objective, method, x0, steps=40, tol=1e-9, **params)
        row = batch.row(i)
        assert isinstance(row, Trajectory)
        assert (row.status, row.iterations, row.message) == (single.status, single.iterations, single.message)
        assert np.allclose(row.points, single.points, rtol=1e-10, atol=1e-12)
        assert np.allclose(row.values, single.values, rtol=1e-10, atol=1e-12)
        assert np.allclose(row.grads, single.grads, rtol=1e-9, atol=1e-12)
        for kind in ("f", "grad", "hess"):
            assert np.array_equal(row.evaluations[kind], single.evaluations[kind])
        assert np.allclose(batch.final_points[i], single.final_point)


def test_finished_rows_are_frozen():
    objective = parse("x^2 + 3y^2")
    X0 = np.array([[0.0, 0.0], [2.0, 1.0], [1e-3, 0.0]])
    batch = run_batch(objective, "gd", X0, steps=60, tol=1e-6, lr=0.1)
    assert batch.status[0] == "converged" and batch.iterations[0] == 0
    assert batch.status[1] == "max_steps" and batch.iterations[1] == 60
    done = batch.iterations[2]
    assert batch.status[2] == "converged" and 0 < done < 60
    assert np.all(batch.points[0] == 0.0)
    assert np.all(batch.points[2, done:] == batch.points[2, done])
    assert np.all(batch.values[2, done:] == batch.values[2, done])
    assert np.all(batch.grad_norms[2, done:] == batch.grad_norms[2, done])
    assert np.all(batch.evaluations[2, done:] == batch.evaluations[2, done])
    assert batch.grad_norms[2, done] <= 1e-6 < batch.grad_norms[2, done - 1]
    assert np.array_equal(batch.final_points[2], batch.points[2, done])


def test_tol_zero_runs_all_steps():
    # lr = 0.5 lands exactly on the minimum of x^2 at step 1; tol = 0 still runs all steps.
    trajectory = run(parse("x^2"), "gd", [10.0], steps=7, tol=0, lr=0.5)
    assert trajectory.iterations == 7 and trajectory.status == "max_steps"
    assert np.all(trajectory.points[1:] == 0.0)


def test_evaluation_counts_follow_the_method():
    objective = parse(CURVED)
    gd = run(objective, "gd", [-2.0, 1.5], steps=5, tol=0)
    assert list(gd.evaluations["grad"]) == [0, 1, 2, 3, 4, 5]
    assert list(gd.evaluations["f"]) == [0] * 6 and list(gd.evaluations["hess"]) == [0] * 6
    newton = run(objective, "newton", [-2.0, 1.5], steps=3, tol=0)
    assert list(newton.evaluations["hess"]) == [0, 1, 2, 3]
    cg = run(objective, "cg", [-2.0, 1.5], steps=3, tol=0)
    trials = [len(t) for t in cg.extras["line_search_trials"]]
    assert list(np.diff(cg.evaluations["f"])) == [n + 1 for n in trials]


def test_extras_have_one_entry_per_step():
    objective = parse(CURVED)
    adam = run(objective, "adam", [-2.0, 1.5], steps=12, tol=0)
    assert adam.extras["adam_m"].shape == (12, 2) and adam.extras["adam_v"].shape == (12, 2)
    assert adam.extras["lr"].shape == (12,)
    newton = run(objective, "newton", [-2.0, 1.5], steps=4, tol=0)
    H = objective.hess(newton.points[:-1])
    assert np.allclose(newton.extras["hess_eigenvalues"], np.linalg.eigvalsh(H))
    bfgs = run(objective, "bfgs", [-2.0, 1.5], steps=4, tol=0)
    assert bfgs.extras["bfgs_inverse"].shape == (4, 2, 2)
    assert np.allclose(bfgs.extras["bfgs_inverse"][0], np.eye(2))
    assert len(bfgs.extras["line_search_trials"]) == 4
    assert np.allclose(bfgs.step_sizes, np.linalg.norm(np.diff(bfgs.points, axis=0), axis=1))


def test_to_json_is_valid_json_without_nan():
    trajectory = run(parse("log(x) + x^2"), "bfgs", [2.0], steps=30, line_search="exact")
    diverged = run(parse("log(x)"), "gd", [1.0], steps=10, lr=2.0)

    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")

    for t in (trajectory, diverged):
        data = json.loads(t.to_json(), parse_constant=refuse)
        assert data["method"] == t.method and data["status"] == t.status and data["message"] == t.message
        assert data["variables"] == ["x"]
        assert len(data["points"]) == t.iterations + 1
        assert data["params"]["line_search"] == t.params["line_search"]
    scheduled = run(parse("x^2"), "gd", [1.0], steps=3, lr=lambda k: 0.1)
    assert "schedule" in json.loads(scheduled.to_json())["params"]["lr"]
    nan_extra = run(parse("x^2 + y^2"), "gd", [1.0, 2.0], steps=2, tol=0)
    nan_extra.extras["probe"] = np.array([np.nan, np.inf])
    assert json.loads(nan_extra.to_json())["extras"]["probe"] == [None, None]


def test_to_csv_has_columns_and_rows():
    trajectory = run(parse(CURVED), "momentum", [-2.0, 1.5], steps=15, tol=0)
    rows = list(csv.reader(io.StringIO(trajectory.to_csv())))
    assert rows[0] == ["step", "x", "y", "f", "grad_norm", "step_size"]
    assert len(rows) == 1 + trajectory.iterations + 1
    table = np.array([[float(v) if v else np.nan for v in row] for row in rows[1:]])
    assert np.array_equal(table[:, 0], np.arange(16))
    assert np.allclose(table[:, 1:3], trajectory.points)
    assert np.allclose(table[:, 3], trajectory.values)
    assert np.allclose(table[:, 4], np.linalg.norm(trajectory.grads, axis=1))
    assert np.isnan(table[0, 5]) and np.allclose(table[1:, 5], trajectory.step_sizes)


def test_distance_to_and_bad_inputs():
    trajectory = run(parse("x^2 + 3y^2"), "newton", [3.0, 4.0], steps=3)
    assert np.allclose(trajectory.distance_to([0.0, 0.0]), [5.0, 0.0])
    with pytest.raises(ValueError, match=r"shape \(m, 2\)"):
        run_batch(parse("x^2 + 3y^2"), "gd", np.zeros((3, 3)))
    with pytest.raises(ValueError, match="unknown method"):
        run(parse("x^2"), "sgd", [1.0])


@pytest.mark.parametrize("formula, method, x0, kind", [
    ("x^2 - y^2", "newton", [1.0, 1.0], "saddle point"),       # Newton jumps straight to the saddle
    ("-(x^2 + 2y^2)", "newton", [1.0, -1.0], "maximum"),
    ("(x^2 + y - 11)^2 + (x + y^2 - 7)^2", "newton", [-0.3, -0.9], "maximum"),  # Himmelblau's hilltop
    ("x^2 + 3y^2", "gd", [1.0, 1.0], "minimum"),
])
def test_a_converged_run_says_what_kind_of_point_it_found(formula, method, x0, kind):
    traj = run(optcore.parse(formula), method, x0, steps=200, lr=1.0 if method == "newton" else 0.1)
    assert traj.status == "converged"
    assert traj.stopped_at == kind
    if kind == "minimum":
        assert "not a minimum" not in traj.message
    else:
        assert kind.split()[-1] in traj.message and "not a minimum" in traj.message
    assert json.loads(traj.to_json())["stopped_at"] == kind


def test_batch_rows_that_did_not_converge_have_no_kind():
    batch = run_batch(optcore.parse("x^2 - y^2"), "gd", np.array([[1.0, 0.0], [1.0, 1.0]]), steps=200, lr=0.1)
    assert batch.status.tolist() == ["converged", "diverged"]  # the second row runs off along y
    assert batch.stopped_at[1] == ""
    assert batch.stopped_at[0] == "saddle point"  # GD from y = 0 stays on the axis and stops at the saddle


# ------------------------------------------------------------------ only true statements (issue 10)
@pytest.mark.parametrize("method", ["gd", "newton", "bfgs", "adam"])
def test_values_that_underflow_are_not_taken_as_convergence(method):
    # exp(100x) at x = -5: f = 7e-218 and f' = 7e-216, which passes any gradient test, yet the
    # function has no stationary point anywhere.
    t = run(parse("exp(100x)"), method, [-5.0], steps=20)
    assert t.status != "converged" and t.stopped_at == ""
    assert "underflow" in t.message and "not taken as convergence" in t.message
    assert "‖∇f‖ = 0" not in t.message
    batch = run_batch(parse("exp(100x)"), method, np.array([[-5.0], [-6.0], [1.0]]), steps=20)
    assert "converged" not in set(batch.status[:2])
    assert batch.message[0] == t.message


@pytest.mark.parametrize("formula, x0, stopped_at", [("x^2", 0.0, "minimum"), ("x^2", 1e-80, "minimum"),
                                                     ("x^4", 0.0, "flat point"), ("-x^2", 0.0, "maximum")])
def test_true_stationary_points_with_tiny_values_still_converge(formula, x0, stopped_at):
    t = run(parse(formula), "gd", [x0], steps=20)
    assert t.status == "converged" and t.iterations == 0 and t.stopped_at == stopped_at
    assert "underflow" not in t.message


@pytest.mark.parametrize("method", ["gd", "momentum"])
def test_values_that_underflow_to_exact_zero_are_not_convergence(method):
    # GD with lr 0.1 from 0.048 jumps to x = -1215, where exp(-121506) is 0.0 only by underflow:
    # f, ∇f and ∇²f read exactly 0 like x⁴ at 0, yet exp(100x) has no minimum.
    t = run(parse("exp(100x)"), method, [0.048], steps=20, lr=0.1)
    assert t.status != "converged" and t.stopped_at == ""
    assert "underflow" in t.message and "no minimum" in t.message
    assert "‖∇f‖ = 0" not in t.message
    # The exact zeros of a true flat point raise no underflow and still converge.
    for formula, x0 in [("x^4", 0.0), ("(x - 1e-80)^2", 1e-80), ("x^2", 1e-160)]:
        assert run(parse(formula), method, [x0], steps=20).status == "converged"


def test_a_batch_of_exact_zeros_tells_underflow_from_a_flat_point_row_by_row():
    # Every row jumps into exp(100x)'s underflowing tail: none is called converged. A batch of
    # exact zeros that raise no underflow (x⁴ at 0) still converges, every row of it.
    batch = run_batch(parse("exp(100x)"), "gd", np.array([[0.048], [0.049], [0.047]]), steps=10, lr=0.1)
    assert "converged" not in set(batch.status)
    assert all("underflow" in batch.message[i] for i in range(3))
    flat = run_batch(parse("x^4"), "gd", np.zeros((12, 1)), steps=10)
    assert set(flat.status) == {"converged"}


# ------------------------------------------------------------------ ∇f < tol is not always a stationary point
def test_newton_on_an_exponential_is_not_called_converged():
    """Newton with η = 1 on exp(100x): x moves by -1/100 at every step (f'/f'' = 1/100) while ∇f
    shrinks by e per step, so ∇f falls below tol although exp(100x) has no stationary point."""
    t = run(parse("exp(100x)"), "newton", [0.1], steps=100, lr=1.0)
    steps = t.step_sizes
    assert t.status == "converged" and t.final_grad_norm <= 1e-8   # the stopping test itself did fire
    assert np.allclose(steps, 0.01)                                 # ... with steady steps all along
    assert t.stopped_at == "still moving"
    assert not t.message.startswith("converged") and "converged" not in t.message
    assert "infimum" in t.message and "not a stationary point" in t.message and "0.01" in t.message
    assert json.loads(t.to_json())["stopped_at"] == "still moving"
    batch = run_batch(parse("exp(100x)"), "newton", np.array([[0.1], [0.0]]), steps=100, lr=1.0)
    assert batch.message[0] == t.message and batch.stopped_at.tolist() == ["still moving", "still moving"]


@pytest.mark.parametrize("formula, method, x0, params", [
    ("x^8", "newton", [1.0], {}),                                # steps shrink by 6/7: x converges
    ("x^8 + y^2", "bfgs", [1.0, 1.0], {}),
    ("x^4", "gd", [1.0], {"lr": 0.1, "steps": 40000}),           # steps shrink like k^(-3/2)
    ("x^4", "adam", [1.3], {}),
    ("x^4", "lion", [1.3], {}),                                  # steady 0.05 steps across the flat bottom
    ("(1 - x)^2 + 100(y - x^2)^2", "gd", [-1.5, 2.0], {"lr": 0.001, "steps": 40000}),
    ("(1 - x)^2 + 100(y - x^2)^2", "newton", [-1.5, 2.0], {}),
])
def test_runs_that_approach_a_stationary_point_still_converge(formula, method, x0, params):
    params = {"steps": 500, **params}
    t = run(parse(formula), method, x0, tol=1e-6, **params)
    assert t.status == "converged", t.message
    assert t.stopped_at != "still moving" and t.message.startswith("converged"), t.message


@pytest.mark.parametrize("formula, method", [("log(1 + exp(-x)) + y^2", "newton"), ("exp(x) + exp(-y)", "bfgs"),
                                             ("exp(x) + exp(-y)", "lion")])
def test_functions_without_a_minimum_are_said_to_approach_an_infimum(formula, method):
    """The logistic loss of one separable point and a sum of exponentials: no stationary point,
    f → 0 at infinity; a method that gets ∇f below tol is still walking away."""
    t = run(parse(formula), method, [0.5, 0.5], steps=2000, tol=1e-6)
    assert t.status == "converged" and t.stopped_at == "still moving", t.message
    assert t.step_sizes[-1] > 0.01 * t.step_sizes.max()
