"""`python -m optcore compare`: a fair race from the shell (the same numbers as the app's Race page).

    python -m optcore compare "(1-x)^2 + 100(y-x^2)^2" --methods gd,momentum,adam,bfgs --x0 -1.2 1 \\
        --starts 16 --seed 0 --budget grad=500 --tune --format table
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
from typing import Any, TextIO

import numpy as np

COLUMNS = ("method", "tuned", "success rate", "median f − f*", "worst f − f*", "median to tol", "diverged", "starts")


def add_parser(sub, common) -> None:
    p = sub.add_parser("compare", help="race several methods to an equal budget from many starts",
                       description="Race methods fairly: an equal budget (iterations or evaluations), "
                                   "optionally tuned learning rates, many seeded starts; print one table.")
    common(p)
    p.add_argument("--methods", metavar="LIST", default="gd,momentum,adam,bfgs",
                   help="comma-separated, each optionally with :name=value (default gd,momentum,adam,bfgs)")
    p.add_argument("--starts", type=int, default=1, metavar="N",
                   help="number of starts: --x0 (or the preset's start) and N-1 seeded random ones in the window")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the random starts (default 0)")
    p.add_argument("--budget", default="iterations=500", metavar="KIND=N",
                   help="equal budget per method: iterations, f, grad, hess or cost (f=1, grad=1, "
                        "Hessian=d gradients); e.g. grad=500")
    p.add_argument("--tune", action="store_true",
                   help="pick each method's learning rate (and momentum) by a sweep over a log ladder")
    p.add_argument("--criterion", choices=("gap", "reach"), default="gap",
                   help="tuning score: median f - f* at the budget (gap) or median budget to tolerance (reach)")
    p.add_argument("--window", nargs="+", type=float, metavar="V",
                   help="where random starts are drawn: low high per variable (default: the preset's, or "
                        "a box around --x0)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(handler=cmd_compare)


def start_window(obj, x0: np.ndarray, given, preset) -> tuple[tuple[float, float], ...]:
    """The box random starts come from: --window, the preset's window, or ±2 max(1, |x0_i|) around x0."""
    from .cli import window_option
    if given:
        return window_option(given, obj)
    if preset is not None:
        return tuple(preset.window)
    radius = 2.0 * np.maximum(1.0, np.abs(x0))
    return tuple((float(a - r), float(a + r)) for a, r in zip(x0, radius))


def known_f_star(obj, formula: str) -> float | None:
    """The value at the known minima of a preset with this formula, if there is one."""
    from .cli import _known_minima
    minima = _known_minima(formula, obj.variables)
    if not minima:
        return None
    with np.errstate(all="ignore"):
        values = np.asarray(obj.value(np.asarray(minima, dtype=float)), dtype=float)
    return float(np.nanmin(values)) if np.isfinite(values).any() else None


def cmd_compare(args: argparse.Namespace, out: TextIO) -> int:
    from .cli import (UsageError, _check_method, _check_steps, _merge_params, _preset_and_objective, _start,
                      parse_assignments, parse_method_list)
    from .race import Budget, race, random_starts

    preset, obj = _preset_and_objective(args)
    if args.steps is not None:
        raise UsageError("compare runs to --budget (e.g. --budget iterations=300), not --steps")
    _check_steps(0)
    methods = []
    for method, params in parse_method_list(args.methods):
        _check_method(method)
        methods.append((method, _merge_params(method, params, args.lr, parse_assignments(args.param or []),
                                              only_accepted=True)))
    x0 = _start(args.x0, obj, preset.start if preset else None)
    if not 1 <= args.starts <= 1024:
        raise UsageError("--starts must be from 1 to 1024")
    try:
        budget = Budget.parse(args.budget)
    except ValueError as error:
        raise UsageError(str(error)) from None
    window = start_window(obj, x0, args.window, preset)
    starts = random_starts(window, args.starts, seed=args.seed, first=x0)
    formula = preset.formula if preset else args.formula
    result = race(obj, methods, starts, budget, tune=args.tune, criterion=args.criterion,
                  f_star=known_f_star(obj, formula), tol=args.tol)
    rows = [_row(r, result.budget.kind) for r in result.table()]
    if args.format == "json":
        out.write(json.dumps(_json(result, rows, window, args), allow_nan=False, ensure_ascii=False) + "\n")
    elif args.format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        out.write(buffer.getvalue())
    else:
        out.write(_text_table(rows))
        out.write(f"budget: {budget.describe(obj.dim)} per method; {len(starts)} start(s) "
                  f"(seed {args.seed}) in {_window_text(window)}; f* = {result.f_star:.6g} ({result.f_star_source}); "
                  f"success = f − f* ≤ {result.f_tol:.1e}\n")
        if args.tune:
            out.write(f"tuned by {args.criterion}: the lowest score over a ladder of learning rates "
                      "(and momenta), all in one batched run per method; ties go to the smaller lr\n")
        for note in result.notes:
            out.write(f"note: {note}\n")
        winner = result.winner()
        if winner is not None:
            out.write(f"best: {rows[winner]['method']}\n")
    return 0


def _row(row: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"method": row["method"], "tuned": row["tuned"], "success rate": row["success rate"],
            "median f − f*": row["median f − f*"], "worst f − f*": row["worst f − f*"],
            "median to tol": row[f"median {kind} to tol"], "diverged": row["diverged"], "starts": row["starts"]}


def _finite_or_none(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _json(result, rows, window, args) -> dict[str, Any]:
    return {
        "budget": {"kind": result.budget.kind, "amount": result.budget.amount,
                   "description": result.budget.describe(result.dim)},
        "starts": result.starts.tolist(), "seed": args.seed, "window": [list(w) for w in window],
        "f_star": result.f_star, "f_star_source": result.f_star_source, "f_tol": result.f_tol,
        "tuned": bool(args.tune), "criterion": args.criterion,
        "methods": [{**{k: _finite_or_none(v) for k, v in row.items()}, "params": _plain(entry.params),
                     "sweep": None if entry.sweep is None else {
                         "settings": entry.sweep.settings,
                         "scores": [_finite_or_none(float(s)) for s in entry.sweep.scores]}}
                    for row, entry in zip(rows, result.entries)],
        "notes": result.notes,
    }


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, str | int | float | bool) or v is None else repr(v)) for k, v in params.items()}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "not reached" if value > 0 else "-inf"
        return f"{value:.3g}"
    return str(value)


def _text_table(rows: list[dict[str, Any]]) -> str:
    cells = [[_fmt(r[c]) if c != "success rate" else f"{100 * r[c]:.0f} %" for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines) + "\n"


def _window_text(window) -> str:
    return " × ".join(f"[{lo:g}, {hi:g}]" for lo, hi in window)
