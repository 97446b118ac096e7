"""Widgets the pages share: the method picker, steps and tolerance, extra starts, the slice
picker, the learning-rate list and the example buttons. Each returns plain values; the ones
that belong in the share link register themselves with ui.link."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import streamlit as st

import optcore
from optcore import share
from ui import link, state

PARAM_LABELS = {"lr": "learning rate η", "beta": "momentum β", "beta1": "β₁", "beta2": "β₂",
                "gamma": "decay γ", "eps": "ε", "noise": "gradient noise σ", "seed": "noise seed",
                "line_search": "line search", "floor": "eigenvalue floor δ", "lambda0": "damping λ₀",
                "use_abs": "use |diag H|", "memory": "memory M", "beta_rule": "β rule"}
NOISE_PARAMS = ("noise", "seed")
MAX_LEARNING_RATES = 8
MAX_LEARNING_RATE = 100.0


def param_label(spec) -> str:
    """The label the registry gives a parameter (newer engines), else ours, else its name."""
    return getattr(spec, "label", None) or PARAM_LABELS.get(spec.name, spec.name)


def log_grid(low: float, high: float, *extra: float) -> list[float]:
    """1, 1.5, 2, 3, 5, 7 per decade from low to high, plus the given values (kept exact)."""
    values = set()
    for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for m in (1, 1.5, 2, 3, 5, 7):
            v = float(f"{m}e{e}")
            if low * (1 - 1e-12) <= v <= high * (1 + 1e-12):
                values.add(v)
    values.update(float(v) for v in extra if isinstance(v, (int, float)) and low <= v <= high)
    return sorted(values)


def even_grid(low: float, high: float, step: float, *extra: float) -> list[float]:
    """low, low + step, ... up to high, plus the given values in [low, high] (kept exact)."""
    count = int(math.floor((high - low) / step + 1e-9))
    values = {round(low + i * step, 12) for i in range(count + 1)}
    values.update(float(v) for v in extra if isinstance(v, (int, float)) and low <= v <= high)
    return sorted(values)


def param_widget(spec, key: str, container) -> Any:
    """One widget for one registry parameter: a choice, a checkbox, an integer, a log slider."""
    ss = st.session_state
    label = param_label(spec)
    default = spec.default
    if ss.get(key) is None and default is not None:
        ss[key] = default
    common = dict(key=key, help=spec.help or None, persist_state="session")
    if spec.choices:
        options = list(spec.choices)
        if ss.get(key) not in options:
            ss[key] = options[0] if default not in options else default
        return container.selectbox(label, options, format_func=str, **common)
    if isinstance(default, bool):
        return container.checkbox(label, **common)
    if isinstance(default, int):
        lo = int(spec.low) if spec.low is not None else None
        hi = int(spec.high) if spec.high is not None else None
        return container.number_input(label, min_value=lo, max_value=hi, step=1, **common)
    if spec.log and spec.low and spec.high:
        return log_param_input(label, key, float(spec.low), float(spec.high), float(default), container,
                               help=spec.help or None)
    lo = float(spec.low) if spec.low is not None else None
    hi = float(spec.high) if spec.high is not None else None
    if ss.get(key) is not None:
        ss[key] = float(ss[key])
    step = (hi - lo) / 100 if lo is not None and hi is not None else 0.1
    return container.number_input(label, min_value=lo, max_value=hi, step=step, format="%.6g", **common)


def _copy_slider(key: str) -> None:
    st.session_state[key] = float(st.session_state[f"{key}.slide"])


def log_param_input(label: str, key: str, low: float, high: float, default: float, container,
                    help: str | None = None) -> float:
    """A parameter on a log scale: a box where any value in [low, high] can be typed exactly (the
    textbook's η = 1.1) and, under it, a slider over a 1-1.5-2-3-5-7 ladder that sets the box. The
    box's key holds the value (share links and presets write it)."""
    return typed_input(label, key, low, high, default, lambda typed: log_grid(low, high, typed, default),
                       container, help=help)


def _within(value, low: float, high: float, default: float) -> float:
    """`value` as a float in [low, high]; `default` when it is not a finite number."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return min(max(value, low), high) if math.isfinite(value) else default


def _clamp_typed(key: str, label: str, low: float, high: float, default: float) -> None:
    """A typed value outside [low, high] becomes the nearest allowed one, and the box says so once."""
    ss = st.session_state
    typed = ss.get(key)
    value = _within(typed, low, high, default)
    if value == typed:
        return
    if isinstance(typed, (int, float)) and math.isfinite(typed):
        said = f"{typed:g} is {'below the smallest' if typed < low else 'above the largest'} allowed, {value:g}"
    else:
        said = "not a number"
    ss[key] = value
    ss[f"{key}.clamped"] = f"{label}: {said}; using {value:g} (allowed {low:g} to {high:g})."


def typed_input(label: str, key: str, low: float, high: float, default: float,
                ladder: Callable[[float], list[float]], container, help: str | None = None) -> float:
    """A box where any value in [low, high] can be typed exactly and, under it, a slider over
    `ladder(typed value)` (which holds the typed value) that sets the box (key `<key>.slide`)."""
    ss = st.session_state
    ss[key] = _within(ss.get(key, default), low, high, default)
    # No min/max on the box: the browser turned an out-of-range value red, kept the old one unsaid and
    # showed the range only on hover. The value is clamped here (before the run) and said under the box.
    typed = container.number_input(label, step=None, format="%g", key=key, help=help, persist_state="session",
                                   on_change=_clamp_typed, args=(key, label, low, high, default))
    note = ss.pop(f"{key}.clamped", None)
    if note:
        container.caption(f":material/warning: {note}")
    ss[f"{key}.slide"] = float(typed)
    container.select_slider(f"{label} (slide)", options=ladder(float(typed)), key=f"{key}.slide",
                            format_func=lambda v: f"{v:g}", on_change=_copy_slider, args=(key,),
                            label_visibility="collapsed")
    return float(typed)


def shared_typed_input(label: str, key: str, low: float, high: float, default: float, container=None,
                     help: str | None = None, ladder: Callable[[float], list[float]] | None = None) -> float:
    """`log_param_input` (or `typed_input` over `ladder`) whose value is part of the share link
    (`o.<key>=...`): a tolerance, a scale or an angle that can be typed exactly (3e-7, 37.5°) as well
    as slid. A link's value outside [low, high] is clamped, with a note under the box."""
    container = container or st
    restore = st.session_state.get(link.RESTORE) or {}
    if key in restore:
        value, notice = link.convert_option(restore.pop(key), None, {"min_value": low, "max_value": high})
        if value is not None:
            st.session_state[key] = float(value)
        if notice:
            container.caption(f":material/link: The link's value was changed — {label}: {notice}")
    if ladder is None:
        value = log_param_input(label, key, low, high, default, container, help=help)
    else:
        value = typed_input(label, key, low, high, default, ladder, container, help=help)
    link.remember_option(key, value)
    return value


def method_picker(key: str, default: str = "gd", allowed: Sequence[str] | None = None,
                  container=None, label: str = "Method") -> tuple[str, dict]:
    """A method selectbox plus one widget per registry parameter; returns (name, params).

    The choice is part of the share link (`m.<key>=name(p=v,...)`).
    """
    container = container or st
    methods = optcore.METHODS
    names = [n for n in methods if allowed is None or n in allowed]
    mkey = f"{key}.method"
    if st.session_state.get(mkey) not in names:
        st.session_state[mkey] = default if default in names else names[0]
    name = container.selectbox(label, names, key=mkey, format_func=lambda n: methods[n].label,
                               persist_state="session", help=methods[st.session_state[mkey]].summary)
    spec = methods[name]
    params: dict[str, Any] = {}
    for p in spec.params:
        if p.name not in NOISE_PARAMS:
            params[p.name] = param_widget(p, f"{key}.{name}.{p.name}", container)
    noise = [p for p in spec.params if p.name in NOISE_PARAMS]
    if noise:
        with container.expander("Gradient noise (SGD)", expanded=False):
            for p in noise:
                params[p.name] = param_widget(p, f"{key}.{name}.{p.name}", st)
    params = {k: v for k, v in params.items() if v is not None}
    link.remember_picker(key, name, params)
    return name, params


def steps_and_tol(container=None, default_steps: int = 100) -> tuple[int, float]:
    """The shared 'steps' and 'tol' widgets (part of the share link)."""
    container = container or st
    ss = st.session_state
    if ss.get("steps") is None:
        ss["steps"] = default_steps
    ss["steps"] = int(min(max(int(ss["steps"]), 1), share.MAX_STEPS))
    steps = container.number_input("steps", min_value=1, max_value=share.MAX_STEPS, step=10, key="steps",
                                   persist_state="session", help="maximum number of iterations")
    if ss.get("tol") is None:
        ss["tol"] = 1e-8
    # The slider spans exactly what a link may say (share.TOL_RANGE): a link's tol=0 is clamped to
    # 1e-15 and the slider must show 1e-15, not snap to its own first option (nor tol=0.5 to 1e-14).
    low, high = share.TOL_RANGE
    ss["tol"] = float(min(max(float(ss["tol"]), low), high)) if math.isfinite(float(ss["tol"])) else 1e-8
    tol = container.select_slider("tolerance on ‖∇f‖", options=log_grid(low, high, ss["tol"]), key="tol",
                                  format_func=lambda v: f"{v:g}", persist_state="session",
                                  help="stop when the gradient norm falls below this")
    link.remember_option("steps", int(steps))
    link.remember_option("tol", float(tol))
    return int(steps), float(tol)


def parse_points(text: str) -> list[list[float]]:
    """'x, y; x, y' -> points, read by the share link's own (bounded) reader."""
    if not text.strip():
        return []
    decoded, _ = share.decode_state({"starts": text})
    return decoded.get("starts") or []


def _on_starts_text() -> None:
    points = parse_points(st.session_state.get(state.EXTRA_STARTS_TEXT, ""))[:share.MAX_STARTS - 1]
    st.session_state[state.EXTRA_STARTS] = points


def extra_starts_input(container=None) -> np.ndarray:
    """Text box for extra start points ('x, y; x, y'); returns all starts (main start first)."""
    container = container or st
    ss = st.session_state
    if state.EXTRA_STARTS_TEXT not in ss:
        ss[state.EXTRA_STARTS_TEXT] = state.points_text(ss.get(state.EXTRA_STARTS) or [])
    container.text_input("extra start points", key=state.EXTRA_STARTS_TEXT, on_change=_on_starts_text,
                         persist_state="session", placeholder="e.g. -1, 2; 0.5, -1",
                         help=f"more starts, separated by ';' (at most {share.MAX_STARTS - 1})")
    d = state.current_objective().dim
    bad = [p for p in ss.get(state.EXTRA_STARTS) or [] if len(p) != d]
    if bad:
        container.caption(f"{len(bad)} start(s) ignored: they do not have {d} coordinates")
    link.remember_option(state.EXTRA_STARTS, "1")
    return state.current_starts()


def slice_picker(names: Sequence[str]) -> tuple[int, int]:
    """Two variables spanning the plane of a slice through a d > 2 function (part of the share
    link); when both name the same variable the next one is taken, and the caption says so."""
    names = list(names)
    c1, c2 = st.columns(2)
    a = link.shared_option(c1.selectbox, "slice: horizontal variable", "slice_x", options=names, index=0)
    b = link.shared_option(c2.selectbox, "slice: vertical variable", "slice_y", options=names, index=1)
    if a == b:  # one variable cannot span a plane
        b = next(n for n in names if n != a)
        st.caption(f"Both slice axes were {a}; showing {a} against {b}.")
    return names.index(a), names.index(b)


def parse_learning_rates(text: str | None) -> list[float]:
    """'0.2, 0.05; 1.1' -> [0.2, 0.05, 1.1]: positive values up to MAX_LEARNING_RATE, no repeats,
    at most MAX_LEARNING_RATES; what cannot be read is skipped."""
    out: list[float] = []
    for part in (text or "").replace(";", ",").split(","):
        try:
            value = float(part)
        except ValueError:
            continue
        if 0 < value <= MAX_LEARNING_RATE and value not in out and len(out) < MAX_LEARNING_RATES:
            out.append(value)
    return out


def learning_rates_text(text: str) -> str | None:
    """The link's list of rates as the box shows it (only the rates it can use), or None if none."""
    return ", ".join(share.format_number(v) for v in parse_learning_rates(text)) or None


def learning_rates_input(placeholder: str = "e.g. 0.05, 0.2, 1.1") -> list[float]:
    """The shared "learning rates to compare" box (part of the share link); the rates it holds."""
    text = link.shared_option(st.text_input, "learning rates to compare", "lrs", placeholder=placeholder,
                              convert=learning_rates_text,
                              help=f"several η at once, separated by commas (up to {MAX_LEARNING_RATES})")
    return parse_learning_rates(text)


def example_button(label: str, preset: str, container=None) -> None:
    """A button that opens one of the gallery's examples (and its page)."""
    if (container or st).button(label, icon=":material/school:", key=f"example.{preset}"):
        state.load_preset(preset)
