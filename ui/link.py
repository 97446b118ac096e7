"""The share link: the whole state in the URL's query string. Restored on a session's first run,
written back after every run; widgets drawn with `shared_option` and the method pickers take part.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import streamlit as st

from optcore import share
from ui import registry, state

RESTORE = "_restore"                  # option values from the link waiting for their widgets
NOTICES = "_url_notices"
OPTION_NOTICES = "_option_notices"    # widget key -> (sentence, value): a link value that was changed
RUN_PICKERS = "_pickers_this_run"     # the method pickers drawn in this run (what the link holds)
RUN_OPTIONS = "_options_this_run"     # the shared options drawn in this run


def init() -> None:
    """Call once per run before anything is drawn: restore a shared URL on the session's first
    run, then apply a preset an example button asked for."""
    ss = st.session_state
    ss[RUN_PICKERS] = {}
    ss[RUN_OPTIONS] = {}
    if "_initialised" not in ss:
        ss["_initialised"] = True
        query = {k: st.query_params[k] for k in st.query_params}
        decoded, notices = share.decode_state(query, views=registry.KEYS)
        ss[NOTICES] = notices
        restore(decoded)
    state.apply_pending_preset()


def restore(decoded: dict) -> None:
    """Put a decoded link's state into the session (before any widget is drawn)."""
    ss = st.session_state
    notices = ss.setdefault(NOTICES, [])
    preset = decoded.get("preset")
    if preset:
        state.apply_preset(preset, switch=False)
    elif not decoded.get("formula"):
        if state.DEFAULT_PRESET in state.presets():
            state.apply_preset(state.DEFAULT_PRESET, switch=False)
        else:
            state.apply_formula(state.DEFAULT_FORMULA)
    if decoded.get("formula"):
        keep = preset and state.presets()[preset].formula.strip() == decoded["formula"].strip()
        variables = tuple(state.presets()[preset].variables) if keep else None
        ok = state.apply_formula(decoded["formula"], variables, decoded.get("window"), decoded.get("start"),
                                 preset=preset if keep else None, fixed=_window_fixed(decoded, preset if keep else None))
        if not ok:
            notices.append(f"formula from the link was not used: {state.formula_error()}")
            if not ss.get(state.GOOD_FORMULA):
                state.apply_formula(state.default_text())
            ss[state.FORMULA_ERROR] = None
    obj = state.current_objective()
    if decoded.get("window"):
        if len(decoded["window"]) == obj.dim:
            state.set_window(decoded["window"], obj.variables)
            if "window_fixed" in decoded:   # also with no formula in the link (an example's own)
                ss[state.WINDOW_FIXED] = bool(decoded["window_fixed"])
        else:
            notices.append("window from the link does not match the variables; ignored")
    if decoded.get("start"):
        if len(decoded["start"]) == obj.dim:
            state.set_start(decoded["start"])
        else:
            notices.append("start from the link does not match the variables; ignored")
    if "starts" in decoded:
        good = [p for p in decoded["starts"] if len(p) == obj.dim]
        if len(good) != len(decoded["starts"]):
            notices.append("some extra starts from the link do not match the variables; dropped")
        state.set_extra_starts(good)
    for key in ("steps", "tol"):
        if key in decoded:
            ss[key] = decoded[key]
    methods = decoded.get("methods") or {}
    for key, entry in methods.items():
        state.set_method(key, entry["method"], entry["params"])
    page = registry.BY_KEY.get(decoded.get("view") or "")
    if page is not None and page.picker not in methods and "m0" in methods:
        # links copied before the page had its own picker said m.m0
        state.set_method(page.picker, methods["m0"]["method"], methods["m0"]["params"])
    picked = sorted(int(k[1:]) for k in methods if k[:1] == "m" and k[1:].isdigit())
    if picked:
        ss["n_methods"] = min(state.MAX_METHODS, max(picked) + 1)
    ss[RESTORE] = dict(decoded.get("options") or {})


def _window_fixed(decoded: dict, preset: str | None) -> bool:
    """Whether the link's window stays put. Links say so (winfix) since the view could follow the
    runs; an older link kept an example's fixed window only if its window is the example's own
    (they opened with a window that followed the runs, not the view the sender saw)."""
    if "window_fixed" in decoded:
        return bool(decoded["window_fixed"])
    if preset is None:
        return False
    window, own = decoded.get("window"), state.presets()[preset].window
    return window is None or (own is not None and len(window) == len(own) and all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12) for w, o in zip(window, own) for a, b in zip(w, o)))


def url_notices() -> list[str]:
    """What the link said that was changed to a safe value (shown once)."""
    return st.session_state.pop(NOTICES, None) or []


def remember_picker(key: str, method: str, params: dict) -> None:
    st.session_state[RUN_PICKERS][key] = {"method": method, "params": params}


def remember_option(key: str, value: Any) -> None:
    st.session_state[RUN_OPTIONS][key] = value if isinstance(value, str) else option_text(value)


def url_state(view: str) -> dict[str, Any]:
    ss = st.session_state
    good = ss.get(state.GOOD_FORMULA) or {}
    options = dict(ss.get(RUN_OPTIONS) or {})
    out: dict[str, Any] = {"view": view, "formula": good.get("text"), "preset": ss.get(state.ACTIVE_PRESET),
                           "start": state.current_start().tolist(),
                           "window": [list(w) for w in state.current_window()], "window_fixed": state.window_fixed(),
                           "methods": dict(ss.get(RUN_PICKERS) or {}), "options": options}
    if "steps" in options:
        out["steps"] = int(options.pop("steps"))
    if "tol" in options:
        out["tol"] = float(options.pop("tol"))
    if state.EXTRA_STARTS in options:
        options.pop(state.EXTRA_STARTS)
        out["starts"] = [list(p) for p in state.current_starts()[1:]]
    return out


def sync_url(view: str) -> None:
    """Write the whole state into the query string."""
    # Written on every run: a page switch clears the browser's query string even when the server's
    # copy still matches, so "only when changed" would lose the link after navigating.
    st.query_params.from_dict(share.encode_state(url_state(view)))
    # The browser applies a page switch after this run's messages and drops the query string
    # then; one more (cached, cheap) run writes it back.
    last = st.session_state.get("_last_view")
    st.session_state["_last_view"] = view
    if last is not None and last != view:
        st.rerun()


def shared_option(widget: Callable, label: str, key: str, *, convert: Callable[[str], Any] | None = None,
                  **kwargs) -> Any:
    """Draw a widget whose value is part of the share link (`o.<key>=...`).

    The widget keeps its value across pages. `convert` turns the URL text back into a value
    (default: match an option's text, or float/int/bool/str by the current value's type).
    """
    ss = st.session_state
    restore_ = ss.get(RESTORE) or {}
    notices = ss.setdefault(OPTION_NOTICES, {})
    if key in restore_:
        text = restore_.pop(key)
        value, notice = convert_option(text, convert, kwargs)
        if value is not None:
            ss[key] = value
        if notice:
            notices[key] = (f"{label}: {notice}", value)  # None: whatever the widget shows now
    if key in ss:  # the value comes from session state: a default as well would trigger a warning
        for name in ("index", "value"):
            kwargs.pop(name, None)
    value = widget(label, key=key, persist_state="session", **kwargs)
    if key in notices:  # shown under the widget until the student changes the value
        text, shown = notices[key]
        if shown is None:
            notices[key] = (text, shown := value)
        if value == shown:
            getattr(widget, "__self__", st).caption(f":material/link: The link's value was changed — {text}")
        else:
            notices.pop(key)
    if value is not None:
        remember_option(key, value)
    return value


def option_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return share.format_number(value)
    if isinstance(value, (list, tuple)):
        return "|".join(option_text(v) for v in value)
    return str(value)


def convert_option(text: str, convert, kwargs) -> tuple[Any, str | None]:
    """(value, notice): the widget value for the URL text, or None when it cannot be used, and a
    sentence whenever the link's value was not taken as it is (clamped, rounded, ignored)."""
    shown = text if len(text) <= 30 else text[:30] + "…"
    try:
        if convert is not None:
            value = convert(text)
            return value, None if value is not None else f"'{shown}' could not be used; kept the default"
        options = kwargs.get("options")
        if options is not None:
            fmt = kwargs.get("format_func", str)
            for opt in list(options):
                if option_text(opt) == text or str(fmt(opt)) == text:
                    return opt, None
            return None, f"'{shown}' is not one of the choices; kept the default"
        raw = float(text)
        if not math.isfinite(raw):
            return None, f"'{shown}' is not a finite number; kept the default"
        value = raw
        lo, hi = kwargs.get("min_value"), kwargs.get("max_value")
        if lo is not None:
            value = max(value, lo)
        if hi is not None:
            value = min(value, hi)
        step = kwargs.get("step", 0.1)
        if isinstance(step, int) and not isinstance(step, bool):
            base = lo if isinstance(lo, (int, float)) else 0
            value = int(round((value - base) / step) * step + base)
            if hi is not None and value > hi:
                value -= step
        if value != raw:
            span = f" (allowed {share.format_number(lo)} to {share.format_number(hi)}" + \
                   (f" in steps of {step})" if isinstance(step, int) and step > 1 else ")") \
                if lo is not None and hi is not None else ""
            return value, f"{shown} became {share.format_number(value)}{span}"
        return value, None
    except (TypeError, ValueError):
        return None, f"'{shown}' could not be read; kept the default"
