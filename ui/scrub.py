"""The in-figure scrub of a page's chart: which parameters get a slider (η, and the momentum weight β
where the method has one), their ladders (one batched run each, through `ui.cache`), the caption
with their ranges, and the click on the path that keeps the values it shows."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

import optcore
from optcore.figures import scrub
from ui import cache, link

SCRUBBED = ("lr", "beta", "beta1")  # η, and the momentum-like weight of momentum, Nesterov, Adam(W), Lion
SYMBOLS = {"lr": "η", "beta": "β", "beta1": "β₁"}


def _usable(spec, value) -> bool:
    if not spec.per_row or isinstance(value, bool) or not isinstance(value, (int, float)):
        return False  # a schedule, or a parameter the batched run cannot vary per row
    return value > 0 if spec.name == "lr" else 0.0 <= value < 1.0


def scrubbable(method: str, params: dict, with_beta: bool = True) -> list:
    """The ParamSpecs of `method` that get an in-figure slider at the current `params`: η first,
    then β; empty when η itself cannot be scrubbed (a schedule)."""
    specs = [p for p in optcore.METHODS[method].params if p.name in SCRUBBED and _usable(p, params.get(p.name))]
    if not specs or specs[0].name != "lr":
        return []
    return specs if with_beta else specs[:1]


def ladder_values(spec, value: float):
    """The ladder of values a slider of `spec` swaps between, around `value`."""
    if spec.name == "lr":
        return scrub.ladder(value, low=spec.low, high=spec.high)  # the η box accepts [low, high]
    return scrub.decay_ladder(value, high=min(float(spec.high), scrub.DECAY_CLOSEST_TO_ONE))


def ladder_runs(formula, method: str, params: dict, x0, steps: int, tol: float, with_beta: bool = True) -> list:
    """[(spec, values, paths)] for each scrubbable parameter: its ladder and the path from `x0` at
    each value, one batched run per ladder (cached)."""
    out = []
    for spec in scrubbable(method, params, with_beta):
        values = ladder_values(spec, float(params[spec.name]))
        out.append((spec, values, cache.ladder_paths(formula, method, params, x0, steps, tol, spec.name, values)))
    return out


def add_sliders(fig, formula, method: str, params: dict, x0, steps: int, tol: float, *, path_name: str,
                path_of: Callable, with_beta: bool = True, note: str = "", status_note: bool = False,
                legend_prefix: str | None = None):
    """`fig` with one in-figure slider per scrubbable parameter of `method` (each ladder one batched
    run from `x0`), and the caption that states the ladders' ranges (plus `note`; with `status_note`,
    which values the rest of the page describes). With `legend_prefix`, the path is named in the
    legend and its hover by that prefix and the sliders, not by `path_name`, which states the
    committed η ("1. Gradient descent η=0.001") and went on saying it after the slider moved."""
    specs = scrubbable(method, params, with_beta)
    ladders = [scrub.Ladder(spec.name, SYMBOLS[spec.name], values, [path_of(P) for P in points],
                            scrub.active_index(values, float(params[spec.name])))
               for spec, values, points in ladder_runs(formula, method, params, x0, steps, tol, with_beta)]
    legend = None
    if legend_prefix is not None:
        on = f"{', '.join(lad.label for lad in ladders)} on the slider{'s' if len(ladders) > 1 else ''}"
        legend = f"{legend_prefix} ({on})" if legend_prefix else on
    fig = scrub.add_scrub_sliders(fig, path_name, ladders, committed={s.name: float(params[s.name]) for s in specs},
                                  legend_name=legend)
    if status_note:
        set_values = ", ".join(f"{lad.label} = {float(params[lad.param]):.4g}" for lad in ladders)
        note += (f" The status and the plots below are for {set_values} until a click on the path keeps the "
                 f"slider's value{'s' if len(ladders) > 1 else ''}.")
    st.caption(scrub.ladders_range_text(ladders) + note)
    return fig


def keeper(prefix: str, method: str, params: dict, with_beta: bool = True) -> Callable[..., None]:
    """The click on a scrubbed path: the values it carries ([η, β] in the sliders' order) become the
    method's parameters (widget keys `<prefix>.<method>.<name>`, hence the share link)."""
    specs = scrubbable(method, params, with_beta)

    def keep(*values: float) -> None:
        for spec, value in zip(specs, values):
            inside = (spec.low is None or value >= spec.low) and (spec.high is None or value <= spec.high)
            if _usable(spec, value) and inside:   # what the parameter's widget accepts
                st.session_state[f"{prefix}.{method}.{spec.name}"] = float(value)
    return keep


def toggle(key: str, label: str, help_text: str, on_change: Callable[[], None] | None = None) -> bool:
    """The shared "scrub in the chart" switch (part of the share link)."""
    return bool(link.shared_option(st.toggle, label, key=key, value=False, convert=lambda t: t == "true",
                                   help=help_text, on_change=on_change))

