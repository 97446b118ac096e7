"""The fair race's results as the race page shows them: the table of methods (f − f* and the cost to
reach the tolerance in words) and the tuning-sweep curves."""
from __future__ import annotations

import numpy as np
import streamlit as st

from optcore import race as races
from optcore.figures.race import sweep_failures


def gap_text(gap: float) -> str:
    """f − f* as the table shows it: 3 significant digits, 'diverged' where a run left for infinity."""
    return f"{gap:.3g}" if np.isfinite(gap) else "diverged"


def spent_text(spent: float) -> str:
    """The budget a method spent to reach the tolerance, or 'not reached'."""
    return f"{spent:,.4g}" if np.isfinite(spent) else "not reached"


def show_race_table(result, budget) -> None:
    """One row per method, the winner starred; the engine's "median <kind> to tol" column named in
    words ("median gradient evaluations to reach tol")."""
    to_tol = f"median {budget.kind} to tol"   # the engine's key
    spent_words = "cost" if budget.kind == "cost" else races.BUDGET_KINDS[budget.kind]
    to_tol_words = f"median {spent_words} to reach tol"
    winner = result.winner()
    rows = [{"best": "★" if i == winner else "", "method": r["method"], "tuned": r["tuned"],
             "success rate": r["success rate"], "median f − f*": gap_text(r["median f − f*"]),
             "worst f − f*": gap_text(r["worst f − f*"]), to_tol_words: spent_text(r[to_tol]),
             "diverged": r["diverged"]} for i, r in enumerate(result.table())]
    st.dataframe(rows, hide_index=True, key="race_table",
                 column_order=["best", "method", "tuned", "success rate", "median f − f*", "worst f − f*",
                               to_tol_words, "diverged"],
                 column_config={"success rate": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                                format="percent"),
                                "median f − f*": st.column_config.TextColumn(
                                    help=f"over the starts, at the budget; 0 means within {result.resolution:.0e} of f*"),
                                "worst f − f*": st.column_config.TextColumn(help="the worst start, at the budget"),
                                to_tol_words: st.column_config.TextColumn(
                                    help="not reached: the median start never got within the tolerance")})


def tuning_curves(result) -> list[dict]:
    """Per tuned method with a learning rate: its score at every η tried and the η the race used; with
    the gap score, `ceiling`: the starts' median gap (a score above it moved away from the minimum)."""
    ceiling = result.start_gap if result.criterion == "gap" else None
    curves = []
    for entry in result.entries:
        if entry.sweep is not None and "lr" in entry.sweep.best_setting:
            lrs, scores = entry.sweep.curve()
            curves.append(dict(label=entry.label, lrs=lrs, scores=scores, best_lr=entry.sweep.best_setting["lr"],
                               best_score=float(entry.sweep.scores[entry.sweep.best]), ceiling=ceiling))
    return curves


def sweep_caption(curves: list[dict]) -> str:
    """What the tuning sweeps show, saying only what is drawn: the starts' level and the crosses appear
    in some sweeps only (a caption that promised crosses under a chart without any misled)."""
    masks = [sweep_failures(c) for c in curves]
    infinite, away = (any(m[k].any() for m in masks) for k in (0, 1))
    why = [w for w, drawn in (("diverged or never reached", infinite),
                              ("ended farther from f* than it started", away)) if drawn]
    return ("Each method's score at every learning rate tried (best over the momenta at that η); the star is "
            "the value the race used: the lowest score, ties to the smaller η."
            + (" The dotted line: the median f − f* at the starts." if curves and curves[0].get("ceiling") else "")
            + (f" Crosses along the top: {' or '.join(why)}." if why else ""))
