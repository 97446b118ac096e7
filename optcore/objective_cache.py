"""One server-wide cache of parsed formulas and of their refusals, shared by every session.

    cache = ObjectiveCache(max_entries=128, max_ops=400_000)
    obj = cache.get(key, lambda: derive_it())   # a refusal (FormulaError) is re-raised from the cache too

The values are Objectives (anything with ``_sizes()`` giving operation counts): the cache weighs
each by those counts, so a few enormous formulas cannot crowd out memory.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

from .formula import FormulaError

__all__ = ["ObjectiveCache"]


class _Refusal(NamedTuple):
    error: FormulaError
    expires: float  # time.monotonic(); inf for refusals that do not depend on load


class ObjectiveCache:
    """Thread-safe LRU of parsed Objectives and of refusals, shared by every session.

    Bounded by entry count and by total size (operations of f, gradient and Hessian: the compiled
    code and the LaTeX grow with them). A refusal is remembered too, so resubmitting a formula that
    hit the worker's CPU limit costs nothing; a refusal by the wall clock (a busy machine) is
    remembered only for REFUSAL_SECONDS. Concurrent requests for one key wait for the first one
    instead of deriving the same formula again (four tabs opening one link derive it once).
    """

    REFUSAL_SECONDS = 30.0

    def __init__(self, max_entries: int = 128, max_ops: int = 400_000) -> None:
        self.max_entries = max_entries
        self.max_ops = max_ops
        self._entries: OrderedDict = OrderedDict()  # key -> (Objective | _Refusal, weight)
        self._ops = 0
        self._lock = threading.Lock()
        self._pending: dict = {}  # key -> threading.Event of the derivation under way

    @staticmethod
    def _weight(value) -> int:
        if isinstance(value, _Refusal):
            return 1
        sizes = value._sizes()
        return 1 + sizes.f + sizes.gradient + sizes.hessian

    def _lookup(self, key):
        entry = self._entries.get(key)
        if entry is None:
            return None
        value = entry[0]
        if isinstance(value, _Refusal) and value.expires < time.monotonic():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return value

    def _remove(self, key) -> None:
        _, weight = self._entries.pop(key)
        self._ops -= weight

    def _store(self, key, value) -> None:
        weight = self._weight(value)
        if weight > self.max_ops:
            return
        if key in self._entries:
            self._remove(key)
        self._entries[key] = (value, weight)
        self._ops += weight
        while len(self._entries) > self.max_entries or self._ops > self.max_ops:
            self._remove(next(iter(self._entries)))

    def get(self, key, compute: Callable[[], Any]) -> Any:
        while True:
            with self._lock:
                value = self._lookup(key)
                if value is None:
                    waiting = self._pending.get(key)
                    if waiting is None:
                        self._pending[key] = threading.Event()
                        break
            if value is not None:
                return _answer(value)
            waiting.wait()  # another session is deriving this formula: use its answer
        try:
            value = compute()
        except FormulaError as err:
            value = _Refusal(_fresh(err), time.monotonic() + self.REFUSAL_SECONDS
                             if getattr(err, "load_dependent", False) else math.inf)
        except BaseException:
            with self._lock:
                self._pending.pop(key).set()
            raise
        with self._lock:
            self._store(key, value)
            self._pending.pop(key).set()
        return _answer(value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._ops = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_ops(self) -> int:
        return self._ops


def _fresh(err: FormulaError) -> FormulaError:
    """A new exception object each time: one raised object shared by threads would share its traceback."""
    fresh = type(err).__new__(type(err))
    fresh.__dict__.update(err.__dict__)
    fresh.args = err.args
    return fresh


def _answer(value):
    if isinstance(value, _Refusal):
        raise _fresh(value.error)
    return value
