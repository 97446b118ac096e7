"""optcore: type a formula, get exact derivatives, and watch optimization methods walk on it.

    >>> import optcore
    >>> obj = optcore.parse("x^2 + 3y^2")
    >>> traj = optcore.run(obj, "gd", [2.0, 1.0], steps=50, lr=0.1)
    >>> traj.status
    'converged'

The public API is re-exported flat here; submodules load on first use so `import optcore`
stays cheap (the CLI and the app's start-up only pay for what they touch).
"""
from __future__ import annotations

import importlib
from typing import Any

# Imported eagerly: the submodule `optcore.run` would otherwise shadow the function `optcore.run`
# the first time anything imports it. It needs only NumPy.
from .run import BatchTrajectory, Trajectory, run, run_batch

_EXPORTS = {
    "FormulaError": "formula",
    "parse_formula": "formula",
    "FormulaTimeout": "sandbox",
    "Objective": "objective",
    "parse": "objective",
    "objective_from_expr": "objective",
    "METHODS": "methods",
    "MethodSpec": "methods",
    "ParamSpec": "methods",
    "resolve_params": "methods",
    "STEP_DIAGNOSTICS": "rules",
    "Diagnostic": "rules",
    "classify_curvature": "curvature",
    "PRESETS": "presets",
    "Preset": "presets",
}

__all__ = sorted([*_EXPORTS, "run", "run_batch", "Trajectory", "BatchTrajectory"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'optcore' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
