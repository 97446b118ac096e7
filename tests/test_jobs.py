"""Heavy jobs: the gate admits one job at a time (others wait in order), one per session, a cancel stops
a running batched run within a few steps, and estimates refuse over-budget requests with a message."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import optcore
from optcore import analysis, driver
from ui import jobs


def _wait_until(predicate, timeout=10.0):
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return True
        done.wait(0.01)
    return predicate()


def test_gate_runs_one_job_and_queues_the_rest_in_order():
    gate = jobs.Gate(slots=1)
    first = gate.enter("alice")
    seen_ahead, order = [], []

    def waiter(owner):
        ticket = gate.enter(owner, on_wait=seen_ahead.append, poll_s=0.01)
        order.append(owner)
        gate.leave(ticket)

    bob = threading.Thread(target=waiter, args=("bob",))
    bob.start()
    assert _wait_until(lambda: gate.snapshot() == (1, 1))
    carol = threading.Thread(target=waiter, args=("carol",))
    carol.start()
    assert _wait_until(lambda: gate.snapshot() == (1, 2))
    assert order == []                      # nobody passes while alice's job runs
    assert 1 in seen_ahead and 2 in seen_ahead  # bob saw 1 job ahead, carol 2
    gate.leave(first)
    bob.join(5)
    carol.join(5)
    assert order == ["bob", "carol"]
    assert gate.snapshot() == (0, 0)


def test_a_newer_request_of_the_same_session_cancels_its_older_job():
    gate = jobs.Gate(slots=1)
    old = gate.enter("alice")
    result = {}

    def newer():
        ticket = gate.enter("alice", poll_s=0.01)
        result["ran"] = True
        gate.leave(ticket)

    t = threading.Thread(target=newer)
    t.start()
    assert _wait_until(old.cancelled.is_set)
    with pytest.raises(jobs.Cancelled):
        old.raise_if_cancelled()
    assert "ran" not in result               # the older job must unwind before the newer one starts
    gate.leave(old)
    t.join(5)
    assert result == {"ran": True}


def test_a_waiting_request_that_gives_up_leaves_the_queue():
    gate = jobs.Gate(slots=1)
    first = gate.enter("alice")

    def give_up(ahead):
        raise jobs.Cancelled("the tab was closed")

    with pytest.raises(jobs.Cancelled):
        gate.enter("bob", on_wait=give_up)
    assert gate.snapshot() == (1, 0)
    gate.leave(first)
    gate.leave(gate.enter("carol"))


def test_stop_check_stops_a_batched_run_within_a_few_steps():
    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    calls = []

    def stop_after_three():
        calls.append(1)
        if len(calls) >= 3:
            raise jobs.Cancelled("cancelled")

    token = driver.STOP_CHECK.set(stop_after_three)
    try:
        with pytest.raises(jobs.Cancelled):
            optcore.run_batch(obj, "gd", np.full((50, 2), -1.5), steps=100_000, tol=0.0, lr=1e-4)
    finally:
        driver.STOP_CHECK.reset(token)
    assert len(calls) == 3                   # checked every 20 steps: stopped at step 40, not 100,000
    # outside the job the hook is gone: the same run finishes normally
    assert optcore.run_batch(obj, "gd", np.full((2, 2), -1.5), steps=50, tol=0.0, lr=1e-4).iterations.tolist() == [50, 50]


def test_cancel_from_another_thread_stops_a_running_basin_map_promptly():
    obj = optcore.parse("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    gate = jobs.Gate(slots=1)
    ticket = gate.enter("alice")
    progress = []
    token = driver.STOP_CHECK.set(ticket.raise_if_cancelled)
    timer = threading.Timer(0.5, ticket.cancel)
    timer.start()
    try:
        with pytest.raises(jobs.Cancelled):
            analysis.basin_map(obj, "gd", [(-5, 5), (-5, 5)], n=300, steps=100_000, tol=0.0, lr=1e-4,
                               on_progress=progress.append, chunk=2000)
    finally:
        driver.STOP_CHECK.reset(token)
        timer.cancel()
        gate.leave(ticket)
    assert progress == []                    # cancelled inside the first chunk's loop, long before its end


def test_estimate_counts_methods_steps_runs_and_the_formulas_size():
    small = optcore.parse("x^2 + y^2")
    big = optcore.parse("sin(x*y)*exp(cos(x+y^2))*log(2+x^2+y^4)")
    one = jobs.estimate(small, ["gd"], runs=100, steps=10)
    assert jobs.estimate(small, ["gd"], runs=200, steps=10).work == pytest.approx(2 * one.work)
    assert jobs.estimate(small, ["gd"], runs=100, steps=30).work == pytest.approx(3 * one.work)
    assert jobs.estimate(small, ["gd", "gd"], runs=100, steps=10).work == pytest.approx(2 * one.work)
    assert jobs.estimate(big, ["gd"], runs=100, steps=10).work > one.work
    # Newton evaluates the Hessian: a step costs more than a gradient step on the same formula
    assert jobs.estimate(big, ["newton"], runs=100, steps=10).work > jobs.estimate(big, ["gd"], runs=100, steps=10).work


def test_the_heaviest_allowed_basin_job_passes_and_a_bigger_one_is_refused_with_a_message():
    himmelblau = optcore.parse("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    jobs.check(jobs.estimate(himmelblau, ["gd", "newton", "newton_abs"], runs=300 * 300, steps=2000))
    heavy = optcore.parse("sin(sin(sin(sin(x*y))))*exp(cos(cos(cos(x+y))))")
    with pytest.raises(jobs.OverBudget) as refusal:
        jobs.check(jobs.estimate(heavy, ["newton", "newton", "newton"], runs=300 * 300, steps=2000))
    message = str(refusal.value)
    assert "too heavy" in message and "fewer grid points" in message and "x the limit" in message


def test_session_ledger_refuses_past_its_share_and_forgets_old_work():
    est = jobs.Estimate(runs=1000, steps=1000, methods=1, ops_per_step=100.0)   # 1e8
    ledger = jobs.SessionLedger(limit=2.5e8, window_s=60)
    ledger.charge(est, now=0.0)
    ledger.charge(est, now=1.0)
    with pytest.raises(jobs.OverBudget, match="Try again in about"):
        ledger.charge(est, now=2.0)
    ledger.charge(est, now=60.5)            # the first job left the window
    assert ledger.used(now=60.5) == pytest.approx(2e8)


# ------------------------------------------------------------------------------------- in the app
def _app(page: str | None = None, formula: str | None = None):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.run()
    if formula is not None:
        at.text_input(key="formula_input").input(formula)
        at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_sidebar_typesets_the_derivatives_only_while_its_expander_is_open():
    at = _app(formula="x^2 + 3y^2")
    box = next(e for e in at.sidebar.expander if e.label.startswith("Formula"))
    assert len(box.latex) == 0                        # closed: nothing typeset
    at.session_state["sidebar_latex"] = True          # what opening it in the browser sets
    at.run()
    box = next(e for e in at.sidebar.expander if e.label.startswith("Formula"))
    shown = " ".join(el.value for el in box.latex)
    assert "x^{2}" in shown and "6 y" in shown and "\\nabla^2 f" in shown


def test_basins_page_refuses_an_over_budget_request_with_a_message_and_runs_an_allowed_one():
    at = _app("ui/pages/basins.py", formula="sin(sin(sin(sin(x*y))))*exp(cos(cos(cos(x+y))))*log(2+x^2+y^2)")
    at.slider(key="basin_n").set_value(300)
    at.number_input(key="basin_panels").set_value(3)
    at.number_input(key="basin_steps").set_value(2000)
    at.run()
    for i in range(3):
        at.selectbox(key=f"m{i}.method").set_value("newton")
    at.button(key="basin_go").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = " ".join(w.value for w in at.warning)
    assert "too heavy" in warnings and "fewer grid points" in warnings
    assert not at.get("plotly_chart")                   # nothing was computed

    at.slider(key="basin_n").set_value(160)
    at.number_input(key="basin_panels").set_value(1)
    at.number_input(key="basin_steps").set_value(20)
    at.run()
    at.button(key="basin_go").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("plotly_chart")                       # the allowed job ran and drew its map
    assert jobs.GATE.snapshot() == (0, 0)               # and gave its slot back
