"""Heavy jobs (basin maps, sweeps, races): priced before they start, one at a time per server.

- `estimate(obj, methods, runs, steps)` prices a request in operations (runs x steps x the operation
  count of what each step evaluates); `check` refuses one past `MAX_WORK` with a message that says
  what to reduce, and one past this session's share of the last `SESSION_WINDOW_S` seconds.
- `GATE` lets `SERVER_SLOTS` heavy jobs run at once on the whole server (2 cores: one job leaves a
  core for everyone's simple edits); the others wait in order and are shown their place in the queue.
  A session has one heavy job: a newer request from the same session cancels its older one.
- `run(kind, ...)` runs a job on the script thread with a progress bar and a Cancel button. The job
  stops when nobody waits for it: Cancel, a newer rerun (Streamlit raises at the next progress update),
  or a closed tab (the session is no longer active). `optcore.driver.STOP_CHECK` carries the check
  into the batched loops, so a stop takes effect within a few steps, not at the end of a chunk.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
Progress = Callable[..., None]

OVERHEAD_OPS = 50                 # per row and step: the step rule, norms, bookkeeping (in "operations")
MAX_WORK = 1.2e11                 # per request: basins 300 x 300 x 3 methods x 2000 steps of Himmelblau fit
SESSION_WORK = 3e11               # per session per window: a few of the heaviest jobs, then a pause
SESSION_WINDOW_S = 600.0
SERVER_SLOTS = 1                  # heavy jobs running at once on the server (a 2-core machine)
UPDATE_EVERY_S = 0.25             # progress updates: also the points where Streamlit can stop the script


class Cancelled(Exception):
    """The job was cancelled: its Cancel button, a newer request of the same session, or a closed tab."""


class OverBudget(ValueError):
    """A request whose estimated work is past the limit; the message says what to reduce."""


# ------------------------------------------------------------------------------------- estimates
@dataclass(frozen=True)
class Estimate:
    """A request's work: `runs` start points (x settings) for `steps` steps with each of `methods`,
    each step of each run costing `ops_per_step` operations (averaged over the methods)."""
    runs: int
    steps: int
    methods: int
    ops_per_step: float

    @property
    def work(self) -> float:
        return float(self.runs) * self.steps * self.methods * self.ops_per_step

    def describe(self) -> str:
        return (f"{self.methods} method{'s' if self.methods != 1 else ''} x {self.runs:,} runs x {self.steps:,} "
                f"steps x ~{self.ops_per_step:,.0f} operations per step ≈ {self.work:.2g} operations")


def evaluation_cost(obj, needs_hessian: bool) -> float:
    """Operations per row and step: f and the gradient (and the Hessian for second-order methods),
    counted on the derivatives the engine already built, plus a fixed overhead."""
    sizes = obj.sizes if obj.sizes is not None else obj._sizes()
    return OVERHEAD_OPS + sizes.f + sizes.gradient + (sizes.hessian if needs_hessian else 0)


def estimate(obj, methods: Sequence[str], runs: int, steps: int) -> Estimate:
    """The work of running every method in `methods` from `runs` starts (x settings) for `steps` steps."""
    from optcore import METHODS
    methods = list(methods) or ["gd"]
    per_step = sum(evaluation_cost(obj, METHODS[m].needs_hessian if m in METHODS else True)
                   for m in methods) / len(methods)
    return Estimate(int(runs), int(steps), len(methods), per_step)


# f evaluations a line search adds per step (Rosenbrock from (-1.2, 1), one row): the exact search
# brackets and narrows by golden section (~60), backtracking halves a few times (gd ~8, bfgs ~2,
# lbfgs ~3 per step).
LINE_SEARCH_EVALUATIONS = {"exact": 60, "backtracking": 4}
ROW_SECONDS_PER_OP = 2.5e-6       # a single row's operation costs about one NumPy call (quiet machine)


def run_cost(obj, method: str, params: dict) -> float:
    """Operations per step of one run of `method` with `params`, its line search's trials included."""
    from optcore import METHODS
    spec = METHODS.get(method)
    cost = evaluation_cost(obj, spec.needs_hessian if spec is not None else True)
    default = next((p.default for p in spec.params if p.name == "line_search"), "none") if spec else "none"
    trials = LINE_SEARCH_EVALUATIONS.get(str(params.get("line_search", default)), 0)
    sizes = obj.sizes if obj.sizes is not None else obj._sizes()
    return cost + trials * (OVERHEAD_OPS + sizes.f)


def estimate_runs(obj, runs: Sequence[tuple[str, dict]], steps: int, extra_runs: float = 0.0) -> Estimate:
    """The work of single runs, each (method, params) for up to `steps` steps, plus `extra_runs`
    runs' worth of other work (priced like an average run). `methods` is 1: the runs are listed."""
    costs = [run_cost(obj, m, p) for m, p in runs]
    per_step = sum(costs) / len(costs) if costs else evaluation_cost(obj, False)
    return Estimate(len(costs) + math.ceil(extra_runs), int(steps), 1, per_step)


def row_seconds(est: Estimate) -> float:
    """Rough wall time of `est` done one row at a time (each operation a NumPy call)."""
    return est.work * ROW_SECONDS_PER_OP


def check(est: Estimate, limit: float = MAX_WORK) -> None:
    """Refuse a request past `limit` with a message that says how far past and what to reduce."""
    if est.work > limit:
        factor = est.work / limit
        raise OverBudget(f"This request is too heavy for a shared server: {est.describe()}, "
                         f"{factor:.1f}x the limit of {limit:.2g} per request. Use fewer grid points, "
                         f"steps, starts or methods (about {factor:.1f}x fewer in all).")


@dataclass
class SessionLedger:
    """The work this session's heavy jobs were priced at, over the last `window_s` seconds."""
    limit: float = SESSION_WORK
    window_s: float = SESSION_WINDOW_S
    spent: list[tuple[float, float]] = field(default_factory=list)  # (monotonic time, work)

    def used(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        self.spent = [(t, w) for t, w in self.spent if now - t < self.window_s]
        return sum(w for _, w in self.spent)

    def charge(self, est: Estimate, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        used = self.used(now)
        if used + est.work > self.limit and self.spent:
            wait = self.window_s - (now - self.spent[0][0])
            raise OverBudget(f"You have run {used:.2g} operations of heavy jobs in the last "
                             f"{self.window_s / 60:.0f} minutes (limit {self.limit:.2g} per session, shared "
                             f"server); this one needs {est.work:.2g}. Try again in about {wait:.0f} s "
                             f"or make it smaller.")
        self.spent.append((now, est.work))


# -------------------------------------------------------------------------------------- the gate
class Ticket:
    """One request's place at the gate."""

    def __init__(self, owner: str):
        self.owner = owner
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled("cancelled")


class Gate:
    """At most `slots` jobs at once, first come first served, one per owner (a newer request from the
    same owner cancels the older one, running or waiting)."""

    def __init__(self, slots: int = SERVER_SLOTS):
        self.slots = slots
        self._cond = threading.Condition()
        self._running: list[Ticket] = []
        self._waiting: list[Ticket] = []

    def snapshot(self) -> tuple[int, int]:
        """(running, waiting) right now."""
        with self._cond:
            return len(self._running), len(self._waiting)

    def enter(self, owner: str, on_wait: Callable[[int], None] | None = None, poll_s: float = UPDATE_EVERY_S) -> Ticket:
        """Wait for a slot; `on_wait(jobs ahead)` is called about every `poll_s` while waiting (it may
        raise to give up the place). Raises Cancelled when a newer request of `owner` supersedes it."""
        ticket = Ticket(owner)
        with self._cond:
            for other in self._running + self._waiting:
                if other.owner == owner:
                    other.cancel()
            self._waiting.append(ticket)
            self._cond.notify_all()
        try:
            while True:
                with self._cond:
                    ticket.raise_if_cancelled()
                    if self._may_start(ticket):
                        self._waiting.remove(ticket)
                        self._running.append(ticket)
                        return ticket
                    ahead = len(self._running) + self._waiting.index(ticket)
                if on_wait is not None:
                    on_wait(ahead)
                with self._cond:
                    if not self._may_start(ticket) and not ticket.cancelled.is_set():
                        self._cond.wait(poll_s)
        except BaseException:
            with self._cond:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                self._cond.notify_all()
            raise

    def _may_start(self, ticket: Ticket) -> bool:
        # the owner's older job must have unwound first: one job per session, even for a moment
        return (len(self._running) < self.slots and self._waiting and self._waiting[0] is ticket
                and not any(t.owner == ticket.owner for t in self._running))

    def leave(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket in self._running:
                self._running.remove(ticket)
            self._cond.notify_all()


GATE = Gate()


# ------------------------------------------------------------------------------ memory release
def _find_malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None elsewhere (musl, macOS, Windows have none)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_MALLOC_TRIM = _find_malloc_trim()


def release_memory() -> None:
    """Hand a finished job's memory back to the system. The job's arrays are freed when its last
    reference goes, but glibc keeps the freed heap pages for the process (NumPy buffers below the
    mmap threshold, which glibc raises after the first big free, and Python's small objects); a
    basin job then held ~250 MB per 10,000 starts until the server restarted. `malloc_trim(0)` returns
    every free page of every arena (a few ms)."""
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


# -------------------------------------------------------------------------- running in Streamlit
def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else f"thread-{threading.get_ident()}"


def session_alive(session_id: str) -> bool:
    """False once the tab that asked is closed or disconnected (True outside a server, e.g. AppTest)."""
    from streamlit.runtime import Runtime
    if not Runtime.exists():
        return True
    return Runtime.instance().is_active_session(session_id)


def newer_request_waiting() -> bool:
    """True when this session asked for another run while the job runs: its Cancel button, or any
    knob. Inside an st.fragment such a request does not interrupt the running script (Streamlit
    queues fragment reruns: `_fragment_run_should_not_preempt_script`), so a job must look itself,
    or Cancel would only act once the job had finished."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
        requests = getattr(get_script_run_ctx(), "script_requests", None)
        return requests is not None and getattr(requests, "_state", None) == ScriptRequestType.RERUN
    except Exception:   # a Streamlit without these internals: a full rerun still interrupts the job
        return False


def _cancel_marker(kind: str) -> str:
    return f"_jobs.cancelled.{kind}"


def show_if_cancelled(kind: str, key, label: str) -> bool:
    """Say so when the student cancelled this very request (the rerun its Cancel button caused)."""
    import streamlit as st
    if st.session_state.get(_cancel_marker(kind)) == key:
        st.info(f"{label}: cancelled. Press the button to start it again.", icon=":material/cancel:")
        return True
    return False


def _say_cancelled(slot, label: str, why: Cancelled) -> None:
    """The job's box goes; a note says why, unless a newer run of this session follows (it says so
    itself through `show_if_cancelled`, and two notes would stand side by side)."""
    import streamlit as st
    slot.empty()
    if not newer_request_waiting():
        st.info(f"{label}: {why}.", icon=":material/cancel:")


@contextlib.contextmanager
def _not_recorded_by_caches():
    """Streamlit calls made here are not recorded by a cached function further up the stack.

    The bar is updated from inside the engine's loop, which often runs inside `st.cache_data`
    (ui/cache.py). Streamlit records what a cached function draws and replays it on every later hit:
    a recorded bar update was replayed onto a bar that no longer existed (CacheReplayClosureError in
    place of the page). The flag Streamlit reads is a context variable; unset, nothing is recorded."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import in_cached_function
    except ImportError:   # a later Streamlit: tests/test_compare_jobs.py says whether it still records
        yield
        return
    token = in_cached_function.set(False)
    try:
        yield
    finally:
        in_cached_function.reset(token)


def run(kind: str, key, label: str, compute: Callable[[Progress], T], est: Estimate | None = None,
        auto: bool = False) -> T | None:
    """compute(report) as this session's one heavy job: budget checked, in the server's queue, with a
    progress bar and a Cancel button. None when refused (the reason is shown), cancelled, or when
    `auto` and the student cancelled this same request before (then it waits for a button)."""
    import streamlit as st
    from optcore import driver

    ss = st.session_state
    marker = _cancel_marker(kind)
    if auto and show_if_cancelled(kind, key, label):
        return None
    ss.pop(marker, None)
    if est is not None:
        try:
            check(est)
            ss.setdefault("_jobs.ledger", SessionLedger()).charge(est)
        except OverBudget as refusal:
            st.warning(str(refusal), icon=":material/block:")
            return None

    session_id = _session_id()
    slot = st.empty()                   # emptied when the job ends (a container's .empty() adds an element)
    box = slot.container(border=True)
    bar = box.progress(0.0, text=f"{label}: starting…")
    box.button("Cancel", key=f"_jobs.cancel.{kind}", icon=":material/cancel:",
               on_click=lambda: ss.__setitem__(marker, key))
    started = time.monotonic()

    def on_wait(ahead: int) -> None:
        if not session_alive(session_id):
            raise Cancelled("the tab was closed")
        if newer_request_waiting():
            raise Cancelled("cancelled")
        bar.progress(0.0, text=f"{label}: waiting for {ahead} other job{'s' if ahead != 1 else ''}… "
                               f"({time.monotonic() - started:.0f} s; one heavy job runs at a time on this server)")

    try:
        ticket = GATE.enter(session_id, on_wait)
    except Cancelled as why:   # given up while waiting in the queue
        _say_cancelled(slot, label, why)
        return None
    progress = {"fraction": 0.0, "text": label, "shown": 0.0}
    t0 = time.monotonic()

    def update(force: bool = False) -> None:
        ticket.raise_if_cancelled()
        now = time.monotonic()
        if force or now - progress["shown"] >= UPDATE_EVERY_S:
            progress["shown"] = now
            if not session_alive(session_id):
                ticket.cancel()
                raise Cancelled("the tab was closed")
            if newer_request_waiting():   # Cancel, or another knob of this page
                ticket.cancel()
                raise Cancelled("cancelled")
            # a Streamlit call: where a newer rerun or a stop request of this session interrupts the job
            with _not_recorded_by_caches():
                bar.progress(progress["fraction"],
                             text=f"{progress['text']} {progress['fraction']:.0%} · {now - t0:.0f} s")

    def report(fraction: float, text: str | None = None) -> None:
        progress["fraction"] = min(max(float(fraction), 0.0), 1.0)
        if text:
            progress["text"] = f"{label}: {text}"
        update()

    token = driver.STOP_CHECK.set(update)
    try:
        update(force=True)
        result = compute(report)
    except Cancelled as why:
        _say_cancelled(slot, label, why)
        return None
    finally:
        driver.STOP_CHECK.reset(token)
        GATE.leave(ticket)
        release_memory()
    slot.empty()
    return result
