"""Numeric faults: overflow, NaN, division by zero, singular and indefinite Hessians, discontinuities,
functions undefined on part of the window.

Whatever a student types, a run ends with a status and a sentence, never raises, lets no RuntimeWarning
escape, keeps only finite points and exports valid CSV/JSON; analysis maps mask undefined regions as
nan; figures build and serialise to JSON that parses.
"""
from __future__ import annotations

import csv
import io
import json
import warnings

import numpy as np
import pytest

import optcore
from optcore import analysis
from optcore.figures.grid import value_grid
from optcore.figures.trajectory import contour_paths_figure, path_from_points
from optcore.formula import NAMED_FUNCTIONS

STATUSES = {"converged", "max_steps", "diverged"}
METHOD_NAMES = sorted(optcore.METHODS)



@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _no_bad_tokens(text: str):
    def refuse(token):
        raise AssertionError(f"non-standard JSON token {token}")
    return json.loads(text, parse_constant=refuse)


def check_trajectory(traj, dim: int) -> None:
    """The invariants every run must satisfy, however badly the function behaves."""
    assert traj.status in STATUSES
    assert isinstance(traj.message, str) and traj.message.strip()
    assert traj.points.shape == (traj.iterations + 1, dim)
    assert np.isfinite(traj.points).all(), traj.points
    assert traj.values.shape == (traj.iterations + 1,)
    if traj.iterations > 0:  # every accepted step has a finite value (only the start may not)
        assert np.isfinite(traj.values[1:]).all(), traj.values
        assert np.isfinite(traj.step_sizes).all()
    if traj.status == "converged":
        assert np.isfinite(traj.values[-1])
    # Exports.
    csv_text = traj.to_csv()
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == ["step", *traj.variables, "f", "grad_norm", "step_size"]
    assert len(rows) == traj.iterations + 2
    assert all(len(r) == len(rows[0]) for r in rows)
    payload = _no_bad_tokens(traj.to_json())
    assert payload["status"] == traj.status and payload["message"] == traj.message
    assert len(payload["points"]) == traj.iterations + 1


# --------------------------------------------------------------------------------------------
# Every method on every fault
# --------------------------------------------------------------------------------------------
FAULTS = [
    # id, formula, x0, extra params for every method (lr where the fault needs a big step)
    ("overflow-start", "exp(x^2)", [30.0], {}),
    ("overflow-midrun", "exp(x^2)", [2.0], {}),
    ("overflow-2d", "exp(x^2) + exp(y^2)", [3.0, -2.5], {}),
    ("nan-start", "sin(x)/x + y^2", [0.0, 1.0], {}),
    ("div0-1d", "1/x", [0.0], {}),
    ("div0-origin", "1/(x^2 + y^2)", [0.0, 0.0], {}),
    ("near-pole", "1/(x^2 + y^2)", [1e-8, -1e-8], {}),
    ("singular-quartic-origin", "x^4 + y^4", [0.0, 0.0], {}),
    ("singular-quartic-axis", "x^4 + y^4", [1.0, 0.0], {}),
    ("singular-rank1", "(x + y)^2", [1.0, 2.0], {}),
    ("indefinite-saddle", "x^2 - y^2", [1.0, 1.0], {}),
    ("indefinite-monkey", "x^3 - 3x y^2", [0.5, 0.2], {}),
    ("kink-abs", "abs(x) + abs(y)", [1.3, -0.7], {}),
    ("kink-abs-at-0", "abs(x) + abs(y)", [0.0, 0.0], {}),
    ("jump-sign", "sign(x) + y^2", [0.5, 1.0], {}),
    ("jump-sign-at-0", "sign(x) + y^2", [0.0, 1.0], {}),
    ("relu-max", "relu(x - 1) + max(x, y)^2", [0.3, -0.4], {}),
    ("undefined-log", "log(x)", [0.5], {}),
    ("undefined-log-2d", "log(x) + y^2", [0.3, 1.0], {}),
    ("undefined-sqrt", "sqrt(x)", [0.5], {}),
    ("undefined-sqrt-2d", "sqrt(x) + (y - 1)^2", [0.2, -1.0], {}),
    ("undefined-recip", "1/x + y^2", [-0.5, 1.0], {}),
    ("undefined-acos", "acos(x) + y^2", [0.9, 0.5], {}),
    ("undefined-big-lr", "log(x) + y^2", [0.3, 1.0], {"lr": 5.0}),
    ("tan-poles", "tan(x) + y^2", [1.5, 0.0], {}),
]
FLOOR_FAULTS = [
    ("jump-floor", "floor(x) + y^2", [0.5, 1.0], {}),
    ("jump-ceil", "ceil(x) + y^2", [-0.5, 1.0], {}),
]

_OBJECTIVES: dict[str, object] = {}


def objective(text: str):
    if text not in _OBJECTIVES:
        _OBJECTIVES[text] = optcore.parse(text)
    return _OBJECTIVES[text]


def _fault_params(faults, marks=()):
    return [pytest.param(formula, x0, params, method, id=f"{name}-{method}", marks=marks)
            for name, formula, x0, params in faults for method in METHOD_NAMES]


@pytest.mark.parametrize("formula, x0, params, method",
                         _fault_params(FAULTS) + _fault_params(FLOOR_FAULTS))
def test_every_method_survives_the_fault(formula, x0, params, method):
    obj = objective(formula)
    traj = optcore.run(obj, method, x0, steps=60, **params)
    check_trajectory(traj, obj.dim)


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("formula, window", [
    ("log(x) + y^2", ((-2.0, 3.0), (-2.0, 2.0))),
    ("sqrt(x) + (y - 1)^2", ((-2.0, 3.0), (-2.0, 2.0))),
    ("1/(x^2 + y^2)", ((-1.0, 1.0), (-1.0, 1.0))),
    ("exp(x^2) + y^2", ((-30.0, 30.0), (-2.0, 2.0))),
    ("x^2 - y^2", ((-2.0, 2.0), (-2.0, 2.0))),
    ("abs(x) + abs(y)", ((-2.0, 2.0), (-2.0, 2.0))),
])
def test_batches_over_a_faulty_window(formula, window, method):
    obj = objective(formula)
    _, _, XY = analysis.grid(window, 9)
    X0 = XY.reshape(-1, 2)
    batch = optcore.run_batch(obj, method, X0, steps=40)
    assert set(batch.status.tolist()) <= STATUSES
    assert np.isfinite(batch.final_points).all()
    assert all(isinstance(m, str) and m for m in batch.messages)
    for i in (0, len(X0) // 2, len(X0) - 1):
        check_trajectory(batch.row(i), 2)


# --------------------------------------------------------------------------------------------
# What each fault should look like to the student
# --------------------------------------------------------------------------------------------
def test_overflow_at_the_start_is_reported():
    traj = optcore.run(objective("exp(x^2)"), "gd", [30.0], steps=50, lr=1.0)
    assert traj.status == "diverged" and traj.iterations == 0
    assert "start point" in traj.message
    assert traj.points.tolist() == [[30.0]]


def test_overflow_during_the_run_keeps_the_last_finite_point():
    traj = optcore.run(objective("exp(x^2)"), "gd", [2.0], steps=50, lr=1.0)
    assert traj.status == "diverged"
    assert "diverged at step" in traj.message
    assert traj.points[-1, 0] == 2.0 or np.isfinite(np.exp(traj.points[-1, 0] ** 2))


def test_csv_export_of_huge_gradients_warns_nothing():
    traj = optcore.run(objective("exp(x^2)"), "gd", [2.0], steps=50, lr=0.1)
    assert traj.status == "diverged"
    assert np.isfinite(traj.grads).all() and np.abs(traj.grads).max() > 1e160
    rows = list(csv.reader(io.StringIO(traj.to_csv())))  # warns: overflow in np.linalg.norm
    assert len(rows) == traj.iterations + 2


@pytest.mark.parametrize("formula, x0", [("1/x", [0.0]), ("1/(x^2 + y^2)", [0.0, 0.0]),
                                         ("sin(x)/x + y^2", [0.0, 1.0]), ("log(x) + y^2", [-1.0, 0.0]),
                                         ("x^2 + y^2", [float("nan"), 1.0]), ("x^2 + y^2", [float("inf"), 1.0])])
def test_start_without_a_finite_value_is_diverged_not_raised(formula, x0):
    obj = objective(formula)
    traj = optcore.run(obj, "gd", x0, steps=10)
    assert traj.status == "diverged" and traj.iterations == 0
    assert "start point" in traj.message
    payload = _no_bad_tokens(traj.to_json())
    assert payload["values"][0] is None or np.isfinite(payload["values"][0])
    batch = optcore.run_batch(obj, "gd", np.array([x0, [1.0] * obj.dim]), steps=10)
    assert batch.status[0] == "diverged"


def test_newton_on_rank_one_hessian_uses_pseudo_inverse_and_says_so():
    traj = optcore.run(objective("(x + y)^2"), "newton", [1.0, 2.0], steps=20)
    assert traj.status == "converged"
    assert "singular" in traj.message
    assert abs(traj.points[-1].sum()) < 1e-8           # on the valley x + y = 0
    np.testing.assert_allclose(traj.points[-1], [-0.5, 0.5], atol=1e-12)  # minimum-norm Newton step


def test_newton_on_quartic_with_singular_direction():
    traj = optcore.run(objective("x^4 + y^4"), "newton", [1.0, 0.0], steps=30)
    check_trajectory(traj, 2)
    assert "singular" in traj.message
    # Pure Newton on x^4 shrinks x by 2/3 each step; y stays at 0.
    np.testing.assert_allclose(traj.points[:5, 0], (2 / 3) ** np.arange(5))
    assert (traj.points[:, 1] == 0).all()


def test_newton_heads_for_the_saddle_and_saddle_free_newton_does_not():
    obj = objective("x^2 - y^2")
    newton = optcore.run(obj, "newton", [1.0, 1.0], steps=20)
    np.testing.assert_allclose(newton.points[1], [0.0, 0.0], atol=1e-12)
    assert newton.status == "converged"  # ∇f = 0 at the saddle: Newton cannot tell
    escape = optcore.run(obj, "newton_abs", [1.0, 1.0], steps=60)
    check_trajectory(escape, 2)
    assert escape.status in {"diverged", "max_steps"}
    assert np.all(np.diff(escape.values) <= 1e-12)  # |H| Newton always descends
    assert abs(escape.points[-1, 1]) > 1e3


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_stepping_into_log_domain_stops_at_last_defined_point(method):
    traj = optcore.run(objective("log(x) + y^2"), method, [0.3, 1.0], steps=60, **(
        {"lr": 5.0} if "lr" in {p.name for p in optcore.METHODS[method].params} else {}))
    check_trajectory(traj, 2)
    assert (traj.points[:, 0] > 0).all()  # never reports a point where log is undefined


# --------------------------------------------------------------------------------------------
# Every named function: value, gradient, Hessian on a batch crossing its bad points
# --------------------------------------------------------------------------------------------
BAD_POINTS = np.array([[0.5, 1.0], [-0.5, 0.3], [0.0, 0.0], [2.0, -1.0], [1.0, 1.0], [-1.0, -1.0],
                       [np.pi / 2, 0.0], [1e-300, -1e-300], [800.0, 800.0], [-800.0, 1.0]])


@pytest.mark.parametrize("name", NAMED_FUNCTIONS)
def test_named_function_evaluates_on_a_batch(name):
    text = f"{name}(x, y) + y^2" if name in ("atan2", "min", "max") else f"{name}(x) + y^2"
    obj = optcore.parse(text, variables=("x", "y"))
    f, g, H = obj.value_grad_hess(BAD_POINTS)
    assert f.shape == (len(BAD_POINTS),) and g.shape == (len(BAD_POINTS), 2)
    assert H.shape == (len(BAD_POINTS), 2, 2)
    same = dict(rtol=1e-12, atol=0, equal_nan=True)  # fused and separate compilations differ by an ulp
    np.testing.assert_allclose(obj.value(BAD_POINTS), f, **same)
    np.testing.assert_allclose(obj.grad(BAD_POINTS), g, **same)
    np.testing.assert_allclose(obj.hess(BAD_POINTS), H, **same)
    assert np.isfinite(f[0]) or name in ("acosh",)  # every function is defined at (0.5, 1) bar acosh
    for i, x in enumerate(BAD_POINTS[:3]):  # one point at a time gives the same
        fi, gi, Hi = obj.value_grad_hess(x)
        np.testing.assert_allclose(fi, f[i], **same)
        np.testing.assert_allclose(gi, g[i], **same)
        np.testing.assert_allclose(Hi, H[i], **same)


# --------------------------------------------------------------------------------------------
# Analysis maps mask undefined regions
# --------------------------------------------------------------------------------------------
MAP_CASES = [
    ("log(x) + y^2", ((-2.0, 3.0), (-2.0, 2.0))),
    ("sqrt(x) + y^2", ((-2.0, 3.0), (-2.0, 2.0))),
    ("1/x + y^2", ((-2.0, 2.0), (-2.0, 2.0))),
    ("1/(x^2 + y^2)", ((-1.0, 1.0), (-1.0, 1.0))),
    ("abs(x) + abs(y)", ((-2.0, 2.0), (-2.0, 2.0))),
    ("x^2 - y^2", ((-2.0, 2.0), (-2.0, 2.0))),
    ("exp(x^2) + y^2", ((-40.0, 40.0), (-2.0, 2.0))),
]


@pytest.mark.parametrize("formula, window", MAP_CASES)
def test_curvature_maps_never_raise_and_use_nan_not_inf(formula, window):
    obj = objective(formula)
    xs, ys, XY = analysis.grid(window, 41)  # 41 points: x = 0 is on the grid
    H = obj.hess(XY)
    bad_hessian = ~np.isfinite(H).all(axis=(-2, -1))
    det = analysis.hessian_det_grid(obj, XY)
    cls = analysis.curvature_class_grid(obj, XY)
    lam = analysis.min_eigenvalue_grid(obj, XY)
    for grid_ in (det, cls, lam):
        assert grid_.shape == (41, 41)
        assert not np.isinf(grid_).any()
        assert np.isnan(grid_[bad_hessian]).all()
    assert set(np.unique(cls[~np.isnan(cls)])) <= {-1.0, 0.0, 1.0}


@pytest.mark.parametrize("formula, window", [
    pytest.param("log(x) + y^2", ((-2.0, 3.0), (-2.0, 2.0))),
    ("sqrt(x) + y^2", ((-2.0, 3.0), (-2.0, 2.0))),
    ("1/x + y^2", ((-2.0, 2.0), (-2.0, 2.0))),
    ("1/(x^2 + y^2)", ((-1.0, 1.0), (-1.0, 1.0))),
])
def test_curvature_maps_mask_where_f_is_undefined(formula, window):
    obj = objective(formula)
    _, _, XY = analysis.grid(window, 41)
    undefined = ~np.isfinite(obj.value(XY))
    assert undefined.any()
    for fn in (analysis.hessian_det_grid, analysis.curvature_class_grid, analysis.min_eigenvalue_grid):
        result = fn(obj, XY)
        assert np.isnan(result[undefined]).all(), f"{fn.__name__} shows values where f is undefined"


@pytest.mark.parametrize("method", ["gd", "newton", "bfgs", "adam"])
@pytest.mark.parametrize("formula, window", MAP_CASES[:6])
def test_basin_map_labels_undefined_starts_as_diverged(formula, window, method):
    obj = objective(formula)
    bm = analysis.basin_map(obj, method, window, n=15, steps=60)
    assert bm.labels.shape == (15, 15)
    _, _, XY = analysis.grid(window, 15)
    undefined = ~np.isfinite(obj.value(XY))
    assert (bm.labels[undefined] == analysis.DIVERGED).all()
    assert set(np.unique(bm.labels)) <= {analysis.DIVERGED, analysis.NOT_CONVERGED} | set(range(len(bm.attractors)))
    assert all(np.isfinite(a).all() for a in bm.attractors)


@pytest.mark.parametrize("formula, window, kinds", [
    ("log(x) + y^2", ((-2.0, 3.0), (-2.0, 2.0)), set()),
    ("sqrt(x) + y^2", ((-2.0, 3.0), (-2.0, 2.0)), set()),
    ("1/x + y^2", ((-2.0, 2.0), (-2.0, 2.0)), set()),
    ("1/(x^2 + y^2)", ((-1.0, 1.0), (-1.0, 1.0)), set()),
    ("x^2 - y^2", ((-2.0, 2.0), (-2.0, 2.0)), {"saddle"}),
    ("x^4 + y^4", ((-2.0, 2.0), (-2.0, 2.0)), {"degenerate"}),
    ("abs(x) + abs(y)", ((-2.0, 2.0), (-2.0, 2.0)), None),
    ("exp(x^2) + y^2", ((-3.0, 3.0), (-2.0, 2.0)), {"min"}),
    pytest.param("exp(x^2) + y^2", ((-40.0, 40.0), (-2.0, 2.0)), {"min"}, id="exp-wide-window"),
])
def test_critical_points_on_faulty_functions(formula, window, kinds):
    obj = objective(formula)
    found = analysis.critical_points(obj, window, seeds=400)
    for cp in found:
        assert np.isfinite(cp.point).all() and np.isfinite(cp.value)
        assert cp.kind in {"min", "max", "saddle", "degenerate"}
    if kinds is not None:
        assert {cp.kind for cp in found} == kinds, found


# --------------------------------------------------------------------------------------------
# Figures build and serialise on functions undefined on part of the window
# --------------------------------------------------------------------------------------------
FIGURE_CASES = [
    ("log(x) + y^2", ((-2.0, 3.0), (-2.0, 2.0)), [0.3, 1.0]),
    ("sqrt(x) + (y - 1)^2", ((-2.0, 3.0), (-2.0, 2.0)), [0.2, -1.0]),
    ("1/(x^2 + y^2)", ((-1.0, 1.0), (-1.0, 1.0)), [0.5, 0.5]),
    ("log(x) + y^2", ((-3.0, -1.0), (-2.0, 2.0)), [0.3, 1.0]),  # nothing defined in the window
    ("abs(x) + abs(y)", ((-2.0, 2.0), (-2.0, 2.0)), [1.3, -0.7]),
    ("exp(x^2) + y^2", ((-3.0, 3.0), (-2.0, 2.0)), [2.0, 1.0]),
    pytest.param("exp(x^2) + y^2", ((-40.0, 40.0), (-2.0, 2.0)), [2.0, 1.0],
                 id="exp-wide-window"),
]


@pytest.mark.parametrize("formula, window, x0", FIGURE_CASES)
def test_contour_figure_with_every_method_serialises(formula, window, x0):
    obj = objective(formula)
    xs, ys, Z = value_grid(obj, window, 80)
    assert not np.isinf(Z).any()
    paths = []
    for i, method in enumerate(METHOD_NAMES):
        traj = optcore.run(obj, method, x0, steps=40)
        paths.append(path_from_points(traj.points, method, f"#{(i * 1234567) % 0xFFFFFF:06x}", values=traj.values))
    for animate in (True, False):
        fig = contour_paths_figure(xs, ys, Z, paths, minima=[(0.0, 0.0)], animate=animate, title=formula)
        text = fig.to_json()
        payload = _no_bad_tokens(text)
        # The contour is either a contour trace or a picture under the axes (layout.images).
        assert (any(t.get("type") == "contour" for t in payload["data"])
                or payload["layout"].get("images")), "no contour drawn"
        names = {t.get("name") for t in payload["data"]}
        assert set(METHOD_NAMES) <= names
        if animate:
            assert payload["frames"]
