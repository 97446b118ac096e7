"""Front door of the engine's runs: ``run`` / ``run_batch`` and their result types.

The pieces live in their own modules: the driver in :mod:`optcore.driver`, the result types in
:mod:`optcore.results`, the objective as the rules see it in :mod:`optcore.oracle`, row helpers in
:mod:`optcore.rows`, the curvature classifier in :mod:`optcore.curvature`. Everything that was
importable from here still is.
"""
from __future__ import annotations

from .curvature import classify_curvature
from .driver import run, run_batch
from .oracle import StepOracle
from .oracle import evaluate as _evaluate
from .results import (CONVERGED, DIVERGED, DIVERGENCE_RADIUS, EVALUATION_KINDS, MAX_STEPS, NOTE_TEXT, RUNNING,
                      STATUS_NAMES, STOPPED_AT_TEXT, BatchTrajectory, History, RowMessages, Trajectory)
from .rows import put_rows, take_rows
from .rows import row_norm as _row_norm
from .rows import take_tree as _take
from .rules import STEP_DIAGNOSTICS

_History = History

__all__ = [
    "run", "run_batch", "Trajectory", "BatchTrajectory", "RowMessages", "classify_curvature", "StepOracle",
    "STEP_DIAGNOSTICS", "DIVERGENCE_RADIUS", "STATUS_NAMES", "EVALUATION_KINDS", "NOTE_TEXT", "STOPPED_AT_TEXT",
    "RUNNING", "CONVERGED", "MAX_STEPS", "DIVERGED", "take_rows", "put_rows", "History",
    "_evaluate", "_row_norm", "_take", "_History",
]
