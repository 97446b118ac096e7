"""The objective as the step rules see it during one step (the protocol is ``rules.Oracle``).

The driver makes one :class:`StepOracle` per step for the rows it is advancing. Reading
``value`` or ``hess`` counts one evaluation per row (once per step): the driver computes them
anyway for the report, but a textbook GD would not, and the counts show what a textbook
implementation would spend. Trial points (line searches) are evaluated through ``evaluate`` /
``evaluate_with_grad`` and counted by the search itself through ``count_trials``, since only it
knows which of its trials a one-at-a-time search makes.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np


def evaluate(objective, X: np.ndarray, needs_hessian: bool):
    """``(f, ∇f, H)`` at the rows of X as float arrays (``H`` None unless asked for), fused where
    the objective offers it."""
    if needs_hessian:
        f, g, H = objective.value_grad_hess(X)
        return np.asarray(f, dtype=float), np.asarray(g, dtype=float), np.asarray(H, dtype=float)
    if hasattr(objective, "value_grad"):
        f, g = objective.value_grad(X)
    else:
        f, g = objective.value(X), objective.grad(X)
    return np.asarray(f, dtype=float), np.asarray(g, dtype=float), None


class StepOracle:
    """f, ∇f and ∇²f at the current rows, trial evaluations, and per-row notes and logs.

    ``trial_grads``: whether a search that may end on a trial point should evaluate ∇f there too
    (it keeps them in its own state, and the driver reuses them at the accepted point). The
    driver turns it off for Hessian methods, which evaluate f, ∇f and ∇²f fused at the new point.
    """

    def __init__(self, objective, X, value, grad, hess, recording: bool, trial_grads: bool = False) -> None:
        self.objective = objective
        self.X = X
        self._value = value
        self._grad = grad
        self._hess = hess
        self.recording = recording
        self.trial_grads = trial_grads
        self.trial_counts: np.ndarray | None = None  # (n,) f evaluations at trial points
        self.notes: dict[str, np.ndarray] = {}
        self.logged: dict[str, Any] = {}
        self._value_counted = False
        self._hess_counted = False

    @property
    def value(self) -> np.ndarray:
        self._value_counted = True
        return self._value

    @property
    def grad(self) -> np.ndarray:
        return self._grad

    @property
    def hess(self) -> np.ndarray:
        if self._hess is None:  # a rule wants curvature the method did not declare
            self._hess = np.asarray(self.objective.hess(self.X), dtype=float)
        self._hess_counted = True
        return self._hess

    @property
    def counts(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Evaluations of f, grad, hess this step: ``(3,)`` for every row, plus ``(n,)`` more f
        evaluations per row from a line search (or None). Kept apart: building an (n, 3) array
        every step cost more than a first-order step's own arithmetic."""
        return _uniform_counts(self._value_counted, self._hess_counted), self.trial_counts

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """f at trial points (not counted here: see ``count_trials``)."""
        return np.asarray(self.objective.value(X), dtype=float)

    def evaluate_with_grad(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """f and ∇f at trial points, fused (not counted here: see ``count_trials``)."""
        return self.objective.value_grad(X)

    def count_trials(self, evaluations: np.ndarray) -> None:
        """Add a line search's f evaluations per row (it knows which trials a textbook search
        makes; a speculative call evaluates more)."""
        counts = np.asarray(evaluations, dtype=np.int32)
        self.trial_counts = counts if self.trial_counts is None else self.trial_counts + counts

    def note(self, name: str, mask: np.ndarray) -> None:
        self.notes[name] = self.notes.get(name, 0) + np.asarray(mask, dtype=np.int64)

    def log(self, name: str, value: Any) -> None:
        self.logged[name] = value


@functools.cache
def _uniform_counts(value_counted: bool, hess_counted: bool) -> np.ndarray:
    """The ``(3,)`` per-step f, grad, hess counts, one shared read-only array per combination
    (history keeps one per step; building it each step was a call the few-rows tail paid for)."""
    counts = np.array([int(value_counted), 1, int(hess_counted)], dtype=np.int32)
    counts.setflags(write=False)
    return counts
