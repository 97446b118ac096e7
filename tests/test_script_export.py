"""Export as Python: the script re-runs the run with NumPy alone and prints the engine's result.

Every method is exported and executed (a subprocess with a timeout) on the blog's seed example
sin(x0)^2 + sin(10 + x1 x0/2) cos(x0) from (3.1, 1.3); a few more cases cover the line searches,
noise, other parameter choices, one and three variables, and awkward variable names.
"""
from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import pytest

import optcore
from optcore import export
from optcore.methods import METHODS
from optcore.script_export import ScriptExportError, _safe_names, python_script

SEED_FORMULA = "sin(x0)^2 + sin(10 + x1*x0/2)*cos(x0)"  # blog post (seed 002), saddle start
SEED_START = [3.1, 1.3]


def run_script(source: str, tmp_path) -> tuple[str, int, np.ndarray]:
    path = tmp_path / "rerun.py"
    path.write_text(source, encoding="utf-8")
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    status_words = lines["status"].split()
    final = np.array(ast.literal_eval(lines["final point"].strip()), dtype=float)
    return status_words[0], int(status_words[2]), final


def assert_reproduces(obj, traj, tmp_path, *, steps: int, tol: float) -> None:
    status, taken, final = run_script(export.python_script(obj, traj, steps=steps, tol=tol), tmp_path)
    assert status == traj.status
    assert taken == traj.iterations
    scale = max(1.0, float(np.max(np.abs(traj.points[-1]))))
    np.testing.assert_allclose(final, traj.points[-1], rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_reproduces_the_seed_run(method, tmp_path):
    obj = optcore.parse(SEED_FORMULA)
    traj = optcore.run(obj, method, SEED_START, steps=20, tol=1e-8)
    assert_reproduces(obj, traj, tmp_path, steps=20, tol=1e-8)


@pytest.mark.parametrize("formula, start, method, params, steps", [
    ("log(exp(x) + exp(-2x - 3))", [2.5], "gd", {"line_search": "exact"}, 30),  # textbook line search
    (SEED_FORMULA, [3.1, 1.8], "newton", {"line_search": "backtracking"}, 20),
    ("(1-x)^2 + 100(y-x^2)^2", [-1.2, 1.0], "gd", {"lr": 0.001, "noise": 0.5, "seed": 3}, 300),
    ("(1-x)^2 + 100(y-x^2)^2", [-1.2, 1.0], "cg", {"beta_rule": "FR", "line_search": "backtracking"}, 200),
    ("x^2 + 100y^2", [-5.0, -2.0], "diag_newton", {"use_abs": False}, 100),
    ("x^2 + 2y^2 + 3z^2 + x*y + sin(z)", [1.0, -2.0, 0.5], "lbfgs", {"memory": 2}, 100),
    ("x^2", [10.0], "gd", {"lr": 1.1}, 400),  # diverges
    ("lambda^2 + (x-1)^2 + erf(x) + lambda*x/2", [1.0, 2.0], "bfgs", {}, 50),  # a keyword as a name
    ("abs(x) + max(y, 0.5x) + y^2", [1.0, 2.0], "gd", {"lr": 0.01}, 50),
    ("(1-x)^2 + 100(y-x^2)^2", [-1.2, 1.0], "adamw", {"weight_decay": 0.1, "noise": 0.3, "seed": 5}, 200),
    ("(1-x)^2 + 100(y-x^2)^2", [-1.2, 1.0], "adamw", {"weight_decay": 0.0}, 100),
    ("x^2 + 2y^2 + 3z^2 + x*y + sin(z)", [1.0, -2.0, 0.5], "lion", {"weight_decay": 0.5, "lr": 0.01}, 150),
    (SEED_FORMULA, SEED_START, "lion", {"noise": 0.5, "seed": 2, "beta1": 0.95}, 100),
])
def test_more_settings_reproduce(formula, start, method, params, steps, tmp_path):
    obj = optcore.parse(formula)
    traj = optcore.run(obj, method, start, steps=steps, tol=1e-8, **params)
    assert_reproduces(obj, traj, tmp_path, steps=steps, tol=1e-8)


def test_tol_zero_runs_every_step(tmp_path):
    obj = optcore.parse("x^2")
    traj = optcore.run(obj, "gd", [10.0], steps=10, tol=0, lr=0.2)
    status, taken, final = run_script(python_script(obj, traj, steps=10, tol=0), tmp_path)
    assert (status, taken) == ("max_steps", 10)
    assert final[0] == pytest.approx(0.0604661760, rel=1e-9)  # the textbook's number


def test_script_is_numpy_only_and_shows_the_maths():
    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    source = python_script(obj, optcore.run(obj, "newton", [-1.2, 1.0], steps=50), steps=50)
    imports = {line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"numpy", "math"}
    assert "def grad(point):" in source and "def hess(point):" in source
    assert "optcore" not in "".join(line for line in source.splitlines() if line.startswith(("import", "from")))
    compile(source, "rerun.py", "exec")


def test_first_order_script_has_no_hessian():
    obj = optcore.parse("x^2 + 3y^2")
    source = python_script(obj, optcore.run(obj, "adam", [1.0, 1.0], steps=10), steps=10)
    assert "def hess" not in source and "m_hat" in source


def test_schedules_cannot_be_written_out():
    obj = optcore.parse("x^2")
    traj = optcore.run(obj, "gd", [1.0], steps=5, lr=lambda k: 0.1 / (k + 1))
    with pytest.raises(ScriptExportError, match="schedule"):
        python_script(obj, traj)


def test_names_that_would_clash_are_renamed():
    names = _safe_names(("lambda", "np", "x", "point", "import", "x'"))
    assert names["x"] == "x"
    for _original, safe in names.items():
        assert safe.isidentifier() and safe.isascii()
        assert safe not in ("lambda", "np", "point", "import")
    assert len(set(names.values())) == len(names)


def test_formula_text_cannot_escape_the_docstring(tmp_path):
    obj = optcore.parse("x^2")
    traj = optcore.run(obj, "gd", [1.0], steps=3)
    obj_text = type(obj)(text='x^2 """; import os; """', expr=obj.expr, variables=obj.variables,
                         gradient_exprs=obj.gradient_exprs, hessian_exprs=obj.hessian_exprs)
    source = python_script(obj_text, traj, steps=3)
    tree = ast.parse(source)
    assert not any(isinstance(node, ast.Import) and any(a.name == "os" for a in node.names) for node in ast.walk(tree))
