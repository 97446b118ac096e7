"""Fair race: every method to the same budget, tuned the same way, from the same many starts."""
from __future__ import annotations

import numpy as np
import streamlit as st

import optcore
from optcore import race as races
from optcore import share
from optcore.figures import race as race_figs
from ui import cache, charts, link, race_table, state, views

DEFAULT_METHODS = ["gd", "momentum", "adam", "bfgs"]
BUDGET_KINDS = {"gradient evaluations": "grad", "iterations": "iterations", "f evaluations": "f",
                "Hessian evaluations": "hess", "cost (Hessian = d gradients)": "cost"}

formula, obj = state.current_formula(), state.current_objective()
window, x0 = state.current_window(), state.current_start()

st.header("Fair race")
st.markdown(
    "Comparisons of optimizers are easy to make unfair: one method gets a hand-picked learning rate and the "
    "others a default, the budget counts iterations although a Newton step costs far more than a gradient "
    "step, and a single start decides the winner. Here every method gets **the same budget**, optionally "
    "**its own best learning rate** (picked by the same sweep for all), and runs from **the same seeded "
    "starts**; the result is a median with its spread.")

# the methods, the toggle and the score on rows of their own: in columns they were cut ("Adam…")
methods = link.shared_option(st.multiselect, "methods", "race_methods", options=list(optcore.METHODS),
                             default=DEFAULT_METHODS, format_func=lambda m: optcore.METHODS[m].label,
                             max_selections=state.MAX_METHODS)
c2, c3, c4, c5 = st.columns([2, 1, 1, 1])
kind_label = link.shared_option(c2.selectbox, "budget in", "race_budget_kind", options=list(BUDGET_KINDS))
amount = int(link.shared_option(c3.number_input, "budget", "race_budget", min_value=10, max_value=5000,
                                value=500, step=10))
n_starts = int(link.shared_option(c4.number_input, "starts", "race_starts", min_value=1, max_value=64,
                                  value=16, step=1, help="the sidebar's start plus seeded random ones in the window"))
seed = int(link.shared_option(c5.number_input, "seed", "race_seed", min_value=0, max_value=10_000, value=0, step=1))
tune = bool(link.shared_option(st.toggle, "tune each method's η (and momentum)", "race_tune", value=True,
                               convert=lambda text: {"true": True, "false": False}.get(text),
                               help="a sweep over 48 log-spaced learning rates from 1e-4 to 10 (× momentum "
                                    "0.5 / 0.9 / 0.99 where the method has one), all starts, one batched run"))
criterion = link.shared_option(st.segmented_control, "tuning score", "race_criterion", options=list(races.CRITERIA),
                               default="gap", format_func=lambda c: races.CRITERIA[c]) or "gap"

if not methods:
    st.info("Pick at least one method.")
    st.stop()

budget = races.Budget(BUDGET_KINDS[kind_label], amount)
starts = races.random_starts(window, n_starts, seed=seed, first=x0)
minima = views.known_minima()
f_star = float(np.nanmin(obj.value(minima))) if len(minima) else None
picked = [(m, {}) for m in methods]
work = len(methods) * n_starts * budget.amount * (len(races.tuning_settings(methods[0])) if tune else 1)
result = cache.race(formula, picked, starts, budget, tune, criterion, f_star, compute=work <= 2_000_000)
if result is None:
    st.caption(f"About {work:,} start-steps: press the button to run the race "
               "(one heavy job runs at a time on the server; you can cancel it).")
    if st.button("Run the race", type="primary", key="race_go"):
        result = cache.race(formula, picked, starts, budget, tune, criterion, f_star, asked=True)
if result is None:
    st.stop()

x_title = budget.describe(obj.dim).split(" ", 1)[1]
charts.chart(race_figs.race_bands_figure(result.bands(), x_title=x_title, floor=result.resolution), key="race_bands",
             clickable=False)
st.caption(f"Median over {len(starts)} starts, band from the 25th to the 75th percentile. f* = {result.f_star:.6g} "
           f"({result.f_star_source}); a run succeeds when f − f* ≤ {result.f_tol:.0e} within "
           f"{budget.describe(obj.dim)}.")

race_table.show_race_table(result, budget)
for note in result.notes:
    st.caption(f":material/info: {note}")

if tune:
    score_title = "median f − f* at the budget" if criterion == "gap" else f"median {budget.kind} to tolerance"
    curves = race_table.tuning_curves(result)
    if curves:
        st.subheader("Tuning sweeps")
        charts.chart(race_figs.tuning_sweep_figure(curves, score_title=score_title, floor=result.resolution),
                     key="race_sweeps", clickable=False)
        st.caption(race_table.sweep_caption(curves))
    tuned = [(e.method, e.sweep.best_setting) for e in result.entries if e.sweep is not None]

    def use_tuned() -> None:
        state.set_compare_methods(tuned)
        st.session_state["steps"] = min(budget.amount, share.MAX_STEPS)   # as far as the race let them go
        state.switch_to("compare")

    st.button("Use the tuned values in Compare", key="race_to_compare", on_click=use_tuned,
              help="sets Compare's methods to these, with their tuned parameters, and its step limit to the "
                   "race's budget (then in the share link)")
