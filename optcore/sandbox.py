"""Run a function in a worker process with a CPU-time limit, from any thread.

Streamlit runs page scripts in non-main threads, where ``signal.alarm`` cannot be used, and a long
SymPy call cannot be interrupted from inside the process. So the work goes to a small pool of warm
worker processes (fresh interpreters, like multiprocessing's "spawn": no state inherited from the
caller's threads or locks, POSIX only).

The limit is on the CPU time the job itself uses (``cpu_limit``, enforced inside the worker, whose
main thread can take signals), so a busy machine does not turn easy input into a refusal; the
worker survives a job stopped this way. A generous wall-clock limit stays as the last resort (a job
stuck in one long C call never sees the signal): then the worker is killed and replaced.

    expr, names = run_limited(parse_formula, "x^2 + y^2", seconds=2.0)

``fn`` must be a picklable top-level function (pickled by reference) and its arguments and result
must be picklable. ``seconds=None`` runs ``fn`` in the calling process with no limit (tests, CLI).

The sandbox sits below the modules that use it and imports none of them: what a new worker should
load and run before its first job is handed in by name (``warm_workers_with("module:function")``).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import multiprocessing.connection
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any, TypeVar
from collections.abc import Callable, Iterator

from optcore.formula import FormulaError

__all__ = ["CpuBudgetExceeded", "FormulaTimeout", "cpu_limit", "run_limited", "shutdown", "warm_up",
           "warm_workers_with"]

T = TypeVar("T")

MAX_WORKERS = 2  # one long job must not block every other session; each worker holds SymPy (~100 MB)
STARTUP_SECONDS = 60.0  # a cold worker imports SymPy; that time is not charged to the job's limit
PRELOAD_MODULES = ("sympy", "optcore.formula")
WALL_FACTOR = 10.0  # last-resort wall-clock limit: this many times the CPU budget, at least MIN_WALL_SECONDS
MIN_WALL_SECONDS = 30.0


class FormulaTimeout(FormulaError):
    """The job ran past its limit (CPU time, or the last-resort wall clock)."""

    def __init__(self, message: str, column: int | None = None, *, load_dependent: bool = False) -> None:
        super().__init__(message, column)
        self.load_dependent = load_dependent  # wall clock: the same job may pass on a quieter machine

    def __reduce__(self):
        return (_timeout, (self.message, self.column, self.load_dependent))


def _timeout(message: str, column: int | None, load_dependent: bool) -> FormulaTimeout:
    return FormulaTimeout(message, column, load_dependent=load_dependent)


# --------------------------------------------------------------------------------------------------
# CPU budgets (in the process's main thread; elsewhere they only count)
# --------------------------------------------------------------------------------------------------

class CpuBudgetExceeded(BaseException):
    """Raised inside a ``cpu_limit`` block past its CPU time. A BaseException, so SymPy's own
    ``except Exception`` blocks cannot swallow it."""

    def __init__(self, budget: _Budget) -> None:
        super().__init__(f"over {budget.seconds:g} CPU-seconds")
        self.budget = budget


class _Budget:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.process_time() + seconds
        self.enforced = False
        self.closed = False

    @property
    def used(self) -> float:
        return time.process_time() - (self.deadline - self.seconds)


_budgets: list[_Budget] = []  # open cpu_limit blocks of the main thread, outermost first


def _arm() -> None:
    if not _budgets:
        signal.setitimer(signal.ITIMER_PROF, 0)
        return
    remaining = min(b.deadline for b in _budgets) - time.process_time()
    # Re-armed every 0.1 s past a deadline, in case C code or a bare except delayed the first signal.
    signal.setitimer(signal.ITIMER_PROF, max(remaining, 0.001), 0.1)


def _on_sigprof(_signum, _frame) -> None:
    now = time.process_time()
    for budget in _budgets:  # outermost first: the job's own limit wins over a sub-budget
        if budget.deadline <= now + 1e-4 and not budget.closed:
            raise CpuBudgetExceeded(budget)
    _arm()


@contextlib.contextmanager
def cpu_limit(seconds: float) -> Iterator[_Budget]:
    """Raise CpuBudgetExceeded (carrying this block's budget) once the block has used ``seconds`` of CPU.

    Enforced only in the main thread of a POSIX process (the workers' case); elsewhere it only
    measures (``budget.used``), so in-process callers rely on size limits. Blocks nest.

        try:
            with cpu_limit(2.0) as budget:
                text = slow_latex(expr)
        except CpuBudgetExceeded as err:
            if err.budget is not budget:
                raise  # an outer limit: not ours to handle
            text = fallback
    """
    budget = _Budget(seconds)
    enforce = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not enforce:
        yield budget
        return
    budget.enforced = True
    if not _budgets:
        signal.signal(signal.SIGPROF, _on_sigprof)
    _budgets.append(budget)
    _arm()
    try:
        yield budget
    finally:
        budget.closed = True
        _budgets.remove(budget)
        _arm()


# --------------------------------------------------------------------------------------------------
# Worker side
# --------------------------------------------------------------------------------------------------

# The worker is started with subprocess rather than multiprocessing's "spawn": spawn re-runs the
# parent's __main__ module in the child (as __mp_main__), so a script or `python -m optcore` without an
# `if __name__ == "__main__"` guard would start its own work, or more workers, inside every worker.
_WORKER_BOOT = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from optcore.sandbox import _worker_entry; _worker_entry(int(sys.argv[2]), json.loads(sys.argv[3]))"
)

# "module:function" warm-ups every new worker runs before its first job, in registration order.
_warm_ups: list[str] = []


def warm_workers_with(target: str) -> None:
    """Have every worker started from now on import ``module`` and call ``function()`` (a
    ``"module:function"`` string) before its first job, so the job's CPU budget is not charged for
    imports SymPy makes on first use. By name, so the sandbox imports nothing from the layers above
    it; a warm-up that fails is skipped (the job reports any real problem)."""
    if target not in _warm_ups:
        _warm_ups.append(target)


def _worker_entry(fd: int, warm_ups: list[str]) -> None:
    _worker_main(multiprocessing.connection.Connection(fd), PRELOAD_MODULES, tuple(warm_ups))


def _worker_main(connection: multiprocessing.connection.Connection, preload: tuple[str, ...],
                 warm_ups: tuple[str, ...] = ()) -> None:
    # Ctrl-C in the terminal reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in preload:
        try:
            importlib.import_module(module)
        except Exception:  # a missing optional module must not stop the worker; jobs will report it
            pass
    _run_warm_ups(warm_ups)
    connection.send(("ready",))
    while True:
        try:
            data = connection.recv_bytes()
        except (EOFError, OSError):  # parent gone
            return
        try:
            job = pickle.loads(data)
            if job is None:  # clean shutdown
                return
            fn, args, seconds = job
            with cpu_limit(seconds):
                result = fn(*args)
            reply: tuple = ("ok", result)
        except CpuBudgetExceeded:
            reply = ("cpu_limit",)
        except FormulaError as err:
            reply = ("formula_error", err.message, err.column)
        except ValueError as err:
            reply = ("value_error", str(err))
        except BaseException as err:  # noqa: BLE001 — anything else is reported, the worker lives on
            reply = ("error", type(err).__name__, str(err))
        try:
            connection.send(reply)
        except OSError:  # parent gone
            return
        except Exception as err:  # noqa: BLE001 — e.g. an unpicklable result
            connection.send(("error", type(err).__name__, f"the result could not be sent back: {err}"))


def _run_warm_ups(targets: tuple[str, ...]) -> None:
    """Call each ``"module:function"`` of ``warm_workers_with``, uncharged to any job's budget."""
    for target in targets:
        module, _, name = target.partition(":")
        try:
            getattr(importlib.import_module(module), name)()
        except Exception:  # noqa: BLE001 — a broken warm-up must not stop the worker
            pass


# --------------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------------

class _WorkerCrashed(Exception):
    pass


class _Worker:
    """One worker process and the parent's end of its socket."""

    def __init__(self) -> None:
        parent_end, child_end = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_BOOT, json.dumps(sys.path), str(child_end.fileno()),
                 json.dumps(_warm_ups)],
                pass_fds=(child_end.fileno(),),  # the only thing the worker inherits
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()  # so a dead worker shows up as EOF on our end
        self.connection = multiprocessing.connection.Connection(parent_end.detach())
        self.ready = False

    def wait_ready(self) -> None:
        if self.ready:
            return
        if not self.connection.poll(STARTUP_SECONDS):
            raise _WorkerCrashed("the worker did not start")
        self._receive()
        self.ready = True

    def _receive(self) -> tuple:
        try:
            return self.connection.recv()
        except (EOFError, OSError) as err:
            raise _WorkerCrashed(str(err)) from None

    def call(self, payload: bytes, seconds: float) -> tuple | None:
        """The worker's reply to a pickled job, or None when the limit passed first."""
        self.wait_ready()
        try:
            self.connection.send_bytes(payload)
        except OSError as err:
            raise _WorkerCrashed(str(err)) from None
        if not self.connection.poll(seconds):
            return None
        return self._receive()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        try:
            self.connection.send_bytes(pickle.dumps(None))
            self.process.wait(0.5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
        try:
            self.process.wait(5.0)
        except subprocess.TimeoutExpired:
            pass
        self.connection.close()


class _Pool:
    """At most ``max_workers`` warm workers, each used by one thread at a time."""

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._condition = threading.Condition()
        self._idle: list[_Worker] = []
        self._started = 0  # workers alive: idle + busy
        self._closed = False

    def acquire(self) -> _Worker:
        with self._condition:
            while not self._idle and self._started >= self.max_workers:
                self._condition.wait()
            if self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.kill()  # died while idle (e.g. killed by the OS): start a fresh one below
            else:
                self._started += 1
        try:
            return _Worker()  # outside the lock: starting a process takes a few milliseconds
        except BaseException:
            with self._condition:
                self._started -= 1
                self._condition.notify()
            raise

    def release(self, worker: _Worker) -> None:
        with self._condition:
            if not self._closed:
                self._idle.append(worker)
                self._condition.notify()
                return
            self._started -= 1
        worker.stop()

    def replace(self, worker: _Worker) -> None:
        """Kill a worker that timed out or crashed and start its successor right away (warm-up overlaps)."""
        worker.kill()
        with self._condition:
            if self._closed:
                self._started -= 1
                self._condition.notify()
                return
        try:
            successor = _Worker()
        except BaseException:
            with self._condition:
                self._started -= 1
                self._condition.notify()
            raise
        self.release(successor)

    def shutdown(self) -> None:
        with self._condition:
            self._closed = True
            idle, self._idle = self._idle, []
            self._started -= len(idle)
            self._condition.notify_all()
        for worker in idle:
            worker.stop()


_pool = _Pool(MAX_WORKERS)
_pool_lock = threading.Lock()


def _current_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool._closed:  # shut down earlier (tests): start over
            _pool = _Pool(MAX_WORKERS)
        return _pool


def run_limited(
    fn: Callable[..., T], *args: Any, seconds: float | None = 5.0, task: str = "differentiate",
    wall_seconds: float | None = None,
) -> T:
    """``fn(*args)`` in a worker process, stopped after ``seconds`` of its own CPU time.

    ``wall_seconds`` (default: WALL_FACTOR times ``seconds``, at least MIN_WALL_SECONDS) is the last
    resort: past it the worker is killed and replaced. Raises FormulaTimeout past either limit;
    FormulaError and ValueError raised by ``fn`` come back as themselves; any other exception comes
    back as a FormulaError naming it. ``task`` completes the timeout message.
    """
    if seconds is None:
        return fn(*args)
    if wall_seconds is None:
        wall_seconds = max(MIN_WALL_SECONDS, WALL_FACTOR * seconds)
    payload = pickle.dumps((fn, args, seconds))  # here, so an unpicklable job fails before any worker is involved
    pool = _current_pool()
    worker = pool.acquire()
    try:
        reply = worker.call(payload, wall_seconds)
    except _WorkerCrashed:
        pool.replace(worker)
        raise FormulaError(f"the computation stopped unexpectedly while trying to {task} this formula") from None
    except BaseException:
        pool.replace(worker)  # interrupted mid-job: a late reply must not reach the next caller
        raise
    if reply is None:
        pool.replace(worker)
        raise FormulaTimeout(f"this formula takes too long to {task} (over {wall_seconds:g} s, the server "
                             "may be busy); try again or try a simpler one", load_dependent=True)
    pool.release(worker)
    kind = reply[0]
    if kind == "ok":
        return reply[1]
    if kind == "cpu_limit":
        raise FormulaTimeout(f"this formula takes too long to {task} (more than {seconds:g} CPU-seconds); "
                             "try a simpler one")
    if kind == "formula_error":
        raise FormulaError(reply[1], reply[2])
    if kind == "value_error":
        raise ValueError(reply[1])
    raise FormulaError(f"could not {task} this formula ({reply[1]}: {reply[2]})")


def warm_up() -> None:
    """Start a worker now (e.g. when the app starts) so the first formula does not wait for SymPy."""
    pool = _current_pool()
    worker = pool.acquire()
    try:
        worker.wait_ready()
    except _WorkerCrashed:
        pool.replace(worker)
        raise
    pool.release(worker)


def shutdown() -> None:
    """Stop all idle workers (busy ones stop when their job returns). Called at interpreter exit."""
    _pool.shutdown()


atexit.register(shutdown)
