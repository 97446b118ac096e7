"""Session state: the objective every page works on, its start, window and extra starts, and
applying a typed formula or a gallery preset (which also sets the method pickers).

State lives in widget keys of `st.session_state` (start `x0.<var>`, window `win.<var>.lo/hi`,
method pickers `<key>.method` and `<key>.<method>.<param>`). Programmatic changes (a preset, a
click on the contour, a shared URL) happen in callbacks or before the widgets are drawn, which is
when Streamlit allows writing widget state.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import streamlit as st

import optcore
from optcore import share
from optcore import window as windows
from ui import cache, registry
from ui.cache import Formula

DEFAULT_FORMULA = "(1 - x)^2 + 5(y - x^2)^2"
DEFAULT_PRESET = "himmelblau"
DEFAULT_RANGE = (-3.0, 3.0)
MAX_METHODS = share.MAX_METHODS

FORMULA_INPUT = "formula_input"     # the sidebar's text box
PRESET_SELECT = "preset_select"     # the sidebar's gallery
EXTRA_STARTS = "extra_starts"       # list of points
EXTRA_STARTS_TEXT = "extra_starts_text"
GOOD_FORMULA = "_good_formula"      # {"text": str, "variables": tuple | None}: the formula shown
FORMULA_ERROR = "_formula_error"
ACTIVE_PRESET = "_active_preset"
PRESET_PICKERS = "_preset_pickers"     # picker key -> (method, params) an example set
PENDING_PRESET = "_pending_preset"
SLATE_NOTE = "_slate_note"          # what a new formula reset, said once in the sidebar
WINDOW_FIXED = "_window_fixed"      # the student or a preset set the window: the view does not follow runs
SWITCH_TO = "_switch_to"
AUTO_START = "_auto_start"          # {variable: value} the app chose (not the student): a new formula replaces it
CARRIED = "_carried"                # widget values kept across a page switch (see pending_switch)
CARRIED_PREFIXES = ("x0.", "win.", "steps", PRESET_SELECT)   # widget values st.switch_page forgets
# Preset.view settings -> the widget keys of the pages that read them
PRESET_VIEW_KEYS = {"angle": "pc_view_theta", "steps_cap": "pc_steps",
                    "basin_steps": "basin_steps", "basin_panels": "basin_panels"}


# ------------------------------------------------------------------------------- the objective
def try_parse(text: str, variables: tuple[str, ...] | None = None):
    """(objective, None) or (None, message). Never raises: the message is student-facing."""
    try:
        return optcore.parse(text, variables), None
    except optcore.FormulaError as err:
        return None, str(err)
    except Exception as err:  # timeouts, worker failures: still a message, never a traceback
        name = type(err).__name__
        return None, f"could not read this formula ({name}: {err})" if str(err) else f"could not read this formula ({name})"


def presets() -> dict:
    return optcore.PRESETS


def default_text() -> str:
    return presets()[DEFAULT_PRESET].formula if DEFAULT_PRESET in presets() else DEFAULT_FORMULA


def current_formula() -> Formula:
    """The formula shown (the last one that parsed), as the cache keys it."""
    good = st.session_state.get(GOOD_FORMULA)
    if good and try_parse(good["text"], good.get("variables"))[0] is not None:
        variables = good.get("variables")
        return Formula(good["text"], tuple(variables) if variables else None)
    return Formula(DEFAULT_FORMULA)


def current_objective():
    """The objective every page works on: the last formula that parsed (never None)."""
    return current_formula().parse()


def formula_error() -> str | None:
    """The parser's message for the text in the formula box, or None when it is the shown one."""
    return st.session_state.get(FORMULA_ERROR)


def current_preset():
    key = st.session_state.get(ACTIVE_PRESET)
    return presets().get(key) if key else None


# ---------------------------------------------------------------------------- window and start
def window_keys(name: str) -> tuple[str, str]:
    return f"win.{name}.lo", f"win.{name}.hi"


def start_key(name: str) -> str:
    return f"x0.{name}"


def window_entry(name: str) -> tuple[float, float]:
    """The window's range for one variable as the sidebar holds it (the default when unusable)."""
    lo, hi = (st.session_state.get(k) for k in window_keys(name))
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        return DEFAULT_RANGE
    return float(lo), float(hi)


def current_window() -> tuple[tuple[float, float], ...]:
    """Plot range per variable, finite and ordered (a bad entry falls back to the default)."""
    return tuple(window_entry(name) for name in current_objective().variables)


def current_start() -> np.ndarray:
    obj = current_objective()
    window = current_window()
    out = []
    for i, name in enumerate(obj.variables):
        value = st.session_state.get(start_key(name))
        out.append(float(value) if value is not None and math.isfinite(value) else windows.default_start(window[i], i))
    return np.array(out, dtype=float)


def current_starts() -> np.ndarray:
    """All start points: the main start first, then the extra starts of the compare view."""
    d = current_objective().dim
    rows = [current_start()]
    rows += [np.asarray(p, dtype=float) for p in st.session_state.get(EXTRA_STARTS) or [] if len(p) == d]
    return np.array(rows)


def set_start(values: Sequence[float], variables: Sequence[str] | None = None) -> None:
    """Move the start point (call from a callback, or before the sidebar is drawn)."""
    names = list(variables) if variables is not None else list(current_objective().variables)
    for name, value in zip(names, values):
        if value is not None and math.isfinite(float(value)):
            st.session_state[start_key(name)] = float(value)


def set_window(window: Sequence[tuple[float, float]], variables: Sequence[str]) -> None:
    for name, (lo, hi) in zip(variables, window):
        klo, khi = window_keys(name)
        st.session_state[klo], st.session_state[khi] = float(lo), float(hi)


def points_text(points) -> str:
    return "; ".join(", ".join(share.format_number(c) for c in p) for p in points)


def set_extra_starts(points) -> None:
    st.session_state[EXTRA_STARTS] = [list(p) for p in points]
    st.session_state[EXTRA_STARTS_TEXT] = points_text(points)


def window_fixed() -> bool:
    return bool(st.session_state.get(WINDOW_FIXED))


def fix_window() -> None:
    """The student edited the window: the view stays there (runs that leave it are clipped)."""
    st.session_state[WINDOW_FIXED] = True


def fit_to_run() -> None:
    """Let the view follow the runs again (the stationary points' window, widened to hold them)."""
    fit_window()


def fit_window() -> None:
    """Fit the window to the stationary points (or keep it), then shrink it to where f is defined;
    the view follows the runs again."""
    st.session_state[WINDOW_FIXED] = False
    formula, obj = current_formula(), current_objective()
    window = windows.visible_window(obj, cache.auto_window(formula)) or tuple(window_entry(name) for name in obj.variables)
    set_window(cache.defined_window(formula, tuple((float(a), float(b)) for a, b in window)), obj.variables)


# ----------------------------------------------------------------------- formula and preset
def apply_formula(text: str, variables: tuple[str, ...] | None = None,
                  window: Sequence[tuple[float, float]] | None = None,
                  start: Sequence[float] | None = None, preset: str | None = None,
                  fixed: bool = False) -> bool:
    """Make `text` the current objective if it parses; otherwise keep the last good one and
    remember the message. Resizes start and window to the new variables; `fixed` (a preset's
    window) keeps the view there, else it follows the runs. Returns success."""
    ss = st.session_state
    obj, message = try_parse(text, variables)
    ss[FORMULA_INPUT] = text
    if obj is None:
        ss[FORMULA_ERROR] = message
        return False
    ss[FORMULA_ERROR] = None
    ss[GOOD_FORMULA] = {"text": obj.text, "variables": variables}
    # a window the student fixed (not a preset's) stays; otherwise the new formula gets its own
    student_fixed = bool(ss.get(WINDOW_FIXED)) and ss.get(ACTIVE_PRESET) is None
    ss[ACTIVE_PRESET] = preset
    ss[PRESET_SELECT] = preset or ""
    ss[WINDOW_FIXED] = bool(fixed)
    names, formula = obj.variables, Formula(obj.text, variables)
    if window is None and student_fixed:
        ss[WINDOW_FIXED] = True
        window = [window_entry(name) if ss.get(window_keys(name)[0]) is not None else DEFAULT_RANGE
                  for name in names]
    elif window is None:
        # checked: not where f underflows (exp(100x)), and where f varies visibly when it has no
        # stationary point but spans many orders of magnitude; else the default window, as in a
        # fresh session (|x| + y^2 typed after exp(100x) kept its window -0.08..0.08)
        window = windows.visible_window(obj, cache.auto_window(formula)) or [DEFAULT_RANGE] * len(names)
        # automatic only: a window passed in (preset, link) is never shrunk
        window = cache.defined_window(formula, tuple((float(a), float(b)) for a, b in window))
    set_window(window, names)
    auto = ss.get(AUTO_START) or {}
    chosen_by_app = start is None or preset is not None
    if start is None:
        # a coordinate the student set (typed, clicked) stays when it lies in the window; one the
        # app chose for the last formula (its default, a preset's) is chosen afresh
        start = []
        for i, (name, (lo, hi)) in enumerate(zip(names, window)):
            old = ss.get(start_key(name))
            mine = old is not None and auto.get(name) != old
            start.append(old if mine and lo <= old <= hi else windows.default_start((lo, hi), i))
        start = windows.finite_start(obj, windows.informative_start(obj, start, window), window)
    set_start(start, names)
    ss[AUTO_START] = {name: ss.get(start_key(name)) for name in names} if chosen_by_app else {}
    return True


def clean_slate() -> str | None:
    """Forget what belonged to the previous formula: its extra starts, the learning rates to compare and
    an open preset's methods (back to each page's defaults). Returns a sentence saying what was reset, or
    None. After the blog example, typed Rosenbrock kept GD at η = 0.5 and diverged: Rosenbrock got the blame."""
    ss = st.session_state
    reset = []
    preset = current_preset()
    starts = [list(p) for p in ss.get(EXTRA_STARTS) or []]
    # the example's own starts are said with the example (the student never typed them)
    examples_starts = bool(starts) and preset is not None and starts == [list(p) for p in preset.extra_starts]
    if starts and not examples_starts:
        reset.append(f"the extra start points ({points_text(starts)}) were removed")
    set_extra_starts([])
    if ss.get("lrs"):
        reset.append(f"the learning rates to compare ({ss['lrs']}) were cleared")
    ss["lrs"] = ""
    if preset is not None:
        # only the pickers that still hold what the example set: a method the student picked since stays
        pickers = {key for key, (method, params) in (ss.get(PRESET_PICKERS) or {}).items()
                   if ss.get(f"{key}.method") == method
                   and all(ss.get(f"{key}.{method}.{name}") == value for name, value in params.items())}
        for key in [k for k in list(ss.keys()) if isinstance(k, str) and k.split(".", 1)[0] in pickers
                    and "." in k]:
            del ss[key]
        ss.pop("n_methods", None)
        for widget_key in PRESET_VIEW_KEYS.values():
            ss.pop(widget_key, None)
        if pickers or examples_starts:
            what = " and ".join(["its extra start points were removed"] * examples_starts
                                + ["its methods went back to each page's defaults"] * bool(pickers))
            reset.append(f"the example “{preset.name}” was left, so {what}")
    if not reset:
        return None
    items = reset[0] if len(reset) == 1 else ", ".join(reset[:-1]) + " and " + reset[-1]
    note = f"New formula, so what belonged to the last one was reset: {items}."
    ss[SLATE_NOTE] = note
    return note


def apply_typed_formula(text: str) -> bool:
    """A formula the student typed: a clean slate when it is a new one (clean_slate), then applied;
    the sidebar's note also says when the start point or the window were chosen afresh for it."""
    ss = st.session_state
    new = try_parse(text)[0] is not None and text.strip() != current_formula().text.strip()
    if new:
        clean_slate()   # before apply_formula forgets which preset was open
    before = {name: ss.get(start_key(name)) for name in current_objective().variables}
    ok = apply_formula(text)
    if ok and new:
        after = {name: ss.get(start_key(name)) for name in current_objective().variables}
        moved = list(after.values()) != list(before.values())   # by position: the names may change too
        said = []
        if moved:
            said.append("the start point was moved to suit it")
        if not window_fixed():
            said.append("the plot window is its automatic one")
        if said:
            extra = " and ".join(said)
            note = ss.get(SLATE_NOTE)
            ss[SLATE_NOTE] = (note[:-1] + "; " + extra + ".") if note else f"New formula: {extra}."
    return ok


def set_method(key: str, method: str, params: dict | None = None) -> None:
    """Set a method picker's method and parameters (callback or before the picker is drawn)."""
    spec = optcore.METHODS.get(method)
    if spec is None:
        return
    st.session_state[f"{key}.method"] = method
    values = {p.name: p.default for p in spec.params}
    values.update(params or {})
    for pname, value in values.items():
        if isinstance(value, (int, float, str, bool)):
            st.session_state[f"{key}.{method}.{pname}"] = value


def preset_learning_rates(runs) -> str:
    """The "learning rates to compare" text for a preset: the rates its runs of the first method
    use (the textbook's η = 0.2, 0.05, 1.1) with the first run's other settings, or "" when it
    suggests fewer than two. Rates of other methods (Newton's η = 1 beside gradient descent's 0.01)
    would only add a run that explodes."""
    if not runs:
        return ""
    first = runs[0][0]
    settings = {k: v for k, v in runs[0][1].items() if k != "lr"}
    lrs: list[float] = []
    for method, params in runs:
        lr = params.get("lr")
        # only runs that differ from the first in η alone: log(exp(x) + exp(-2x - 3)) paired an exact
        # line search with fixed steps η = 0.1, 0.5, and the rates ran the line search twice
        same = method == first and {k: v for k, v in params.items() if k != "lr"} == settings
        if same and isinstance(lr, (int, float)) and float(lr) not in lrs:
            lrs.append(float(lr))
    return ", ".join(share.format_number(v) for v in lrs) if len(lrs) >= 2 else ""


def apply_preset(key: str, switch: bool = True) -> None:
    """Formula, window, start, steps, extra starts and methods of a gallery preset; with `switch`,
    asks app.py to show the preset's page (a share link names its own view instead)."""
    preset = presets().get(key)
    if preset is None:
        return
    ss = st.session_state
    apply_formula(preset.formula, tuple(preset.variables), preset.window, preset.start, preset=key, fixed=True)
    ss["steps"] = int(min(preset.steps, share.MAX_STEPS))
    set_extra_starts(preset.extra_starts)
    runs = list(preset.runs)[:MAX_METHODS]
    chosen_by_picker = {f"m{i}": (method, params) for i, (method, params) in enumerate(runs)}
    for page in registry.own_pickers():
        chosen_by_picker[page.picker] = next(((m, p) for m, p in runs if m in page.picker_prefers),
                                             (page.picker_default, {}))
    for key, (method, params) in chosen_by_picker.items():
        set_method(key, method, params)
    # what the example set, so a new formula resets only the pickers the student has not changed
    ss[PRESET_PICKERS] = {key: (method, {k: v for k, v in params.items() if isinstance(v, (int, float, str, bool))})
                          for key, (method, params) in chosen_by_picker.items()}
    ss["n_methods"] = max(1, len(runs))
    ss["lrs"] = preset_learning_rates(runs)
    for name, widget_key in PRESET_VIEW_KEYS.items():   # the page settings its picture depends on
        ss[widget_key] = int(preset.view_setting(name))
    if switch and getattr(preset, "page", None):
        ss[SWITCH_TO] = preset.page


def set_compare_methods(picked: Sequence[tuple[str, dict]]) -> None:
    """Compare's method pickers set to these (method, params), in order (a callback, or before they are drawn)."""
    picked = list(picked)[:MAX_METHODS]
    for i, (method, params) in enumerate(picked):
        set_method(f"m{i}", method, params)
    st.session_state["n_methods"] = max(1, len(picked))


def switch_to(view: str) -> None:
    """Ask app.py to show another page on the next run."""
    st.session_state[SWITCH_TO] = view


def load_preset(key: str) -> None:
    """Load a preset (formula, start, window, methods) and rerun; switches to the preset's view."""
    st.session_state[PENDING_PRESET] = key
    st.rerun()


def apply_pending_preset() -> None:
    """The preset an example button asked for (load_preset), applied before any widget is drawn."""
    pending = st.session_state.pop(PENDING_PRESET, None)
    if pending:
        apply_preset(pending)


def pending_switch() -> str | None:
    """The view a preset or a button asked for (consumed by app.py, which then calls st.switch_page).

    st.switch_page starts the next run with no widget states from the browser, and Streamlit then
    drops every widget value: "Use the tuned values in Compare" moved a typed start (2, 1) to the
    default (1.8, 1.32) and the window to -3..3. The start and window are kept here and put back by
    restore_carried before the sidebar draws them."""
    ss = st.session_state
    target = ss.pop(SWITCH_TO, None)
    if target is not None:
        ss[CARRIED] = {k: ss[k] for k in list(ss.keys())
                       if isinstance(k, str) and k.startswith(CARRIED_PREFIXES) and ss[k] is not None}
    return target


def restore_carried() -> None:
    """Put back the start and window a page switch dropped (only values that are gone: a value the
    student has since changed stays)."""
    ss = st.session_state
    for key, value in (ss.pop(CARRIED, None) or {}).items():
        if ss.get(key) is None:
            ss[key] = value
