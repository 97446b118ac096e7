"""The shared frame: the state every page reads (objective, start, window, preset) and shared widgets.

`app.py` calls `init()` (first-load URL restore, pending preset), then `sidebar()`, runs the page,
then `sync_url(view)`. Pages only call the public functions below; all widget keys live here.

State lives in widget keys of `st.session_state` (start `x0.<var>`, window `win.<var>.lo/hi`,
method pickers `<key>.method` and `<key>.<method>.<param>`). Programmatic changes (a preset, a click
on the contour, a shared URL) happen in callbacks or before the widgets are drawn, which is when
Streamlit allows writing widget state.
"""
from __future__ import annotations

import contextlib
import functools
import math
import runpy
import threading
from pathlib import Path
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
import streamlit as st

import optcore
from optcore import share

DEFAULT_FORMULA = "(1 - x)^2 + 5(y - x^2)^2"
DEFAULT_PRESET = "himmelblau"
DEFAULT_RANGE = (-3.0, 3.0)
MAX_START_INPUTS = 6
MAX_METHODS = share.MAX_METHODS

K_FORMULA = "formula_input"
K_GOOD = "_good_formula"          # {"text": str, "variables": tuple | None}
K_ERROR = "_formula_error"
K_PRESET = "preset_select"
K_ACTIVE_PRESET = "_active_preset"
K_PENDING = "_pending_preset"
K_RESTORE = "_restore"            # decoded URL state waiting for its widgets
K_NOTICES = "_url_notices"
K_SWITCH = "_switch_to"
K_RUN_PICKERS = "_pickers_this_run"
K_RUN_OPTIONS = "_options_this_run"
K_STARTS = "extra_starts"
K_OPTION_NOTICES = "_option_notices"   # widget key -> (sentence, value): a link value that was changed
# Newton's model has its own method picker: with the shared "m0" it opened on whatever the other
# pages last used (gradient descent after a preset such as Himmelblau), not on Newton.
NEWTON_PICKER = "nm"
SECOND_ORDER_PICKS = ("newton", "newton_abs", "newton_reg", "bfgs")

CHART_CONFIG = {"displaylogo": False, "scrollZoom": False,
                "toImageButtonOptions": {"format": "png", "scale": 2, "filename": "optimization-explorer"}}

PARAM_LABELS = {"lr": "learning rate η", "beta": "momentum β", "beta1": "β₁", "beta2": "β₂",
                "gamma": "decay γ", "eps": "ε", "noise": "gradient noise σ", "seed": "noise seed",
                "line_search": "line search", "floor": "eigenvalue floor δ", "lambda0": "damping λ₀",
                "use_abs": "use |diag H|", "memory": "memory M", "beta_rule": "β rule"}


# =============================================================================================
# Objective, window, start
# =============================================================================================
def _parse(text: str, variables: tuple[str, ...] | None = None):
    return optcore.parse(text, variables)


def _try_parse(text: str, variables: tuple[str, ...] | None = None):
    """(objective, None) or (None, message). Never raises: the message is student-facing."""
    try:
        return _parse(text, variables), None
    except optcore.FormulaError as err:
        return None, str(err)
    except Exception as err:  # timeouts, worker failures: still a message, never a traceback
        name = type(err).__name__
        return None, f"could not read this formula ({name}: {err})" if str(err) else f"could not read this formula ({name})"


def _default_text() -> str:
    presets = _presets()
    return presets[DEFAULT_PRESET].formula if DEFAULT_PRESET in presets else DEFAULT_FORMULA


# Set while app.py runs. A fresh server asked for a page URL first runs that page's script
# alone (Streamlit's old pages/ folder routing, until st.navigation has been seen once): the guard
# then runs app.py in its place, which draws the frame and runs the page inside it.
_frame = threading.local()


@contextlib.contextmanager
def running_frame():
    """app.py runs inside this, so pages know the shared frame is drawn around them."""
    _frame.active = True
    try:
        yield
    finally:
        _frame.active = False


def _require_frame() -> None:
    if getattr(_frame, "active", False):
        return
    runpy.run_path(str(Path(__file__).resolve().parents[1] / "app.py"), run_name="__main__")
    st.stop()


def current_objective():
    """The objective every page works on: the last formula that parsed (never None)."""
    _require_frame()
    return _objective()


def _objective():
    """current_objective() without the frame guard: widget callbacks run outside app.py's
    running_frame(), where the guard would re-run the whole app and stop inside the callback."""
    good = st.session_state.get(K_GOOD)
    if good:
        obj, _ = _try_parse(good["text"], good.get("variables"))
        if obj is not None:
            return obj
    return _parse(DEFAULT_FORMULA)


def formula_error() -> str | None:
    """The parser's message for the text in the formula box, or None when it is the shown one."""
    return st.session_state.get(K_ERROR)


def current_preset():
    key = st.session_state.get(K_ACTIVE_PRESET)
    return _presets().get(key) if key else None


def _presets() -> dict:
    try:
        return optcore.PRESETS
    except (ImportError, AttributeError):
        return {}


def _win_keys(name: str) -> tuple[str, str]:
    return f"win.{name}.lo", f"win.{name}.hi"


def _window_entry(name: str) -> tuple[float, float]:
    """The window's range for one variable as the sidebar holds it (the default when unusable)."""
    lo, hi = (st.session_state.get(k) for k in _win_keys(name))
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        return DEFAULT_RANGE
    return float(lo), float(hi)


def current_window() -> tuple[tuple[float, float], ...]:
    """Plot range per variable, finite and ordered (a bad entry falls back to the default)."""
    _require_frame()
    out = []
    for name in current_objective().variables:
        klo, khi = _win_keys(name)
        lo, hi = st.session_state.get(klo), st.session_state.get(khi)
        if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
            lo, hi = DEFAULT_RANGE
        out.append((float(lo), float(hi)))
    return tuple(out)


def current_start() -> np.ndarray:
    obj = current_objective()
    window = current_window()
    return np.array([_start_value(name, window[i]) for i, name in enumerate(obj.variables)], dtype=float)


def _start_value(name: str, window: tuple[float, float]) -> float:
    value = st.session_state.get(f"x0.{name}")
    if value is None or not math.isfinite(value):
        return _default_start(window)
    return float(value)


def _default_start(window: tuple[float, float]) -> float:
    lo, hi = window
    return float(np.round(lo + 0.8 * (hi - lo), 3))


def current_starts() -> np.ndarray:
    """All start points: the main start first, then the extra starts of the compare view."""
    _require_frame()
    d = current_objective().dim
    rows = [current_start()]
    for p in st.session_state.get(K_STARTS) or []:
        if len(p) == d:
            rows.append(np.asarray(p, dtype=float))
    return np.array(rows)


def set_start(values: Sequence[float], variables: Sequence[str] | None = None) -> None:
    """Move the start point (call from a callback, or before the sidebar is drawn)."""
    names = list(variables) if variables is not None else list(_objective().variables)
    for name, value in zip(names, values):
        if value is not None and math.isfinite(float(value)):
            st.session_state[f"x0.{name}"] = float(value)


def _set_window(window: Sequence[tuple[float, float]], variables: Sequence[str]) -> None:
    for name, (lo, hi) in zip(variables, window):
        klo, khi = _win_keys(name)
        st.session_state[klo], st.session_state[khi] = float(lo), float(hi)


@st.cache_data(max_entries=64, show_spinner=False)
def _auto_window(text: str, variables: tuple[str, ...] | None) -> tuple[tuple[float, float], ...] | None:
    """A window around the stationary points found in [-5, 5]^d, or None when there are none."""
    try:
        from optcore import analysis
        obj = _parse(text, variables)
        pts = analysis.critical_points(obj, [(-5.0, 5.0)] * obj.dim, seeds=400 if obj.dim <= 2 else 200,
                                       iterations=40, max_points=20)
    except Exception:
        return None
    if not pts:
        return None
    return window_around(np.array([c.point for c in pts]))


def window_around(points: np.ndarray) -> tuple[tuple[float, float], ...]:
    """A plot window that frames the stationary points: a margin of a third of their spread (at
    least 0.5, and 2 around a single point), rounded outwards to halves. A fixed margin of 2 made
    x^4 - 3x^2 + x, whose features lie in [-1.3, 1.1], show [-4, 4], where f climbs to 200 and the
    two dips look flat."""
    P = np.asarray(points, dtype=float).reshape(len(points), -1)
    lo, hi = P.min(axis=0), P.max(axis=0)
    spread = hi - lo
    widest = float(spread.max()) if spread.size else 0.0
    if widest < 1e-9:
        pad = np.full_like(spread, 2.0)
    else:
        pad = np.maximum.reduce([spread / 3.0, np.full_like(spread, widest / 6.0), np.full_like(spread, 0.5)])
    return tuple((float(np.floor(2 * (a - p)) / 2), float(np.ceil(2 * (b + p)) / 2)) for a, b, p in zip(lo, hi, pad))


UNDEFINED_SHARE = 0.45   # shrink an automatic window when f is undefined on about half of it or more
MIN_WINDOW = 1.0         # ... but never below this width per variable (nor a tenth of the window)


def defined_window(obj, window: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """`window` shrunk toward where f is finite, when f is undefined (nan/inf) on about half of it
    or more: log(x) + y^2 in [-3, 3]^2 showed an empty left half. f is sampled on a coarse grid
    (random points beyond two variables); the finite samples' bounding box is padded by a grid step
    and 5 %, rounded outwards, kept inside the window and at least MIN_WINDOW (or a tenth of the
    window) wide. Unchanged when f is finite almost everywhere or nowhere."""
    W = np.array([[float(lo), float(hi)] for lo, hi in window], dtype=float)
    d = len(W)
    if d == 0 or not np.all(np.isfinite(W)) or np.any(W[:, 0] >= W[:, 1]):
        return tuple((float(lo), float(hi)) for lo, hi in W)
    if d == 1:
        n = 401
        X = np.linspace(W[0, 0], W[0, 1], n)[:, None]
    elif d == 2:
        n = 61
        g = [np.linspace(lo, hi, n) for lo, hi in W]
        X = np.stack(np.meshgrid(*g, indexing="ij"), axis=-1).reshape(-1, 2)
    else:
        n = 40
        rng = np.random.default_rng(0)
        X = W[:, 0] + rng.random((4000, d)) * (W[:, 1] - W[:, 0])
    try:
        with np.errstate(all="ignore"):
            values = np.asarray(obj.value(X), dtype=float).reshape(-1)
    except Exception:
        return tuple((float(lo), float(hi)) for lo, hi in W)
    finite = np.isfinite(values)
    if not finite.any() or 1.0 - finite.mean() < UNDEFINED_SHARE:
        return tuple((float(lo), float(hi)) for lo, hi in W)
    F = X[finite]
    width = W[:, 1] - W[:, 0]
    lo, hi = F.min(axis=0), F.max(axis=0)
    pad = width / (n - 1) + 0.05 * (hi - lo)
    lo, hi = np.maximum(lo - pad, W[:, 0]), np.minimum(hi + pad, W[:, 1])
    smallest = np.minimum(np.maximum(MIN_WINDOW, width / 10), width)
    short = (hi - lo) < smallest
    centre = (lo + hi) / 2
    lo = np.where(short, np.clip(centre - smallest / 2, W[:, 0], W[:, 1] - smallest), lo)
    hi = np.where(short, lo + smallest, hi)
    out = []
    for a, b, (wlo, whi) in zip(lo, hi, W):
        unit = 10.0 ** np.floor(np.log10(b - a)) / 10  # 0.1 for a width of 1 to 10
        a2, b2 = max(np.floor(a / unit) * unit, wlo), min(np.ceil(b / unit) * unit, whi)
        out.append((float(np.round(a2, 10)), float(np.round(b2, 10))))
    return tuple(out)


@st.cache_data(max_entries=64, show_spinner=False)
def _defined_window(text: str, variables: tuple[str, ...] | None,
                    window: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    try:
        obj = _parse(text, variables)
    except Exception:
        return window
    return defined_window(obj, window)


def _apply_formula(text: str, variables: tuple[str, ...] | None = None,
                   window: Sequence[tuple[float, float]] | None = None,
                   start: Sequence[float] | None = None, preset: str | None = None) -> bool:
    """Make `text` the current objective if it parses; otherwise keep the last good one and
    remember the message. Resizes start and window to the new variables. Returns success."""
    obj, message = _try_parse(text, variables)
    st.session_state[K_FORMULA] = text
    if obj is None:
        st.session_state[K_ERROR] = message
        return False
    st.session_state[K_ERROR] = None
    st.session_state[K_GOOD] = {"text": obj.text, "variables": variables}
    st.session_state[K_ACTIVE_PRESET] = preset
    st.session_state[K_PRESET] = preset or ""
    names = obj.variables
    if window is None:
        window = _auto_window(obj.text, variables)
        if window is None:  # keep what the user had for variables that stay, default for new ones
            window = []
            for name in names:
                klo, khi = _win_keys(name)
                lo, hi = st.session_state.get(klo), st.session_state.get(khi)
                window.append((lo, hi) if lo is not None and hi is not None and lo < hi else DEFAULT_RANGE)
        # automatic only: a window passed in (preset, link) is never shrunk
        window = _defined_window(obj.text, variables, tuple((float(a), float(b)) for a, b in window))
    _set_window(window, names)
    if start is None:
        start = []
        for name, (lo, hi) in zip(names, window):
            old = st.session_state.get(f"x0.{name}")
            start.append(old if old is not None and lo <= old <= hi else _default_start((lo, hi)))
        start = finite_start(obj, start, window)
    set_start(start, names)
    return True


def finite_start(obj, start: Sequence[float], window: Sequence[tuple[float, float]]) -> list[float]:
    """`start` if f has a finite value there, else the first point of the window where it does
    (log(x) + y^2 typed while the start is at x = 0 would otherwise stop before the first step)."""
    candidates = [np.asarray(start, dtype=float), np.array([_default_start(w) for w in window])]
    for t in (0.8, 0.6, 0.9, 0.7, 0.55, 0.95, 0.3, 0.1):
        candidates.append(np.array([lo + t * (hi - lo) for lo, hi in window]))
    try:
        values = np.asarray(obj.value(np.array(candidates)), dtype=float)
    except Exception:
        return [float(v) for v in start]
    for i, (point, value) in enumerate(zip(candidates, values)):
        if np.isfinite(value):
            return [float(v) if i == 0 else float(np.round(v, 3)) for v in point]
    return [float(v) for v in start]


def _apply_preset(key: str) -> None:
    preset = _presets().get(key)
    if preset is None:
        return
    _apply_formula(preset.formula, tuple(preset.variables), preset.window, preset.start, preset=key)
    st.session_state["steps"] = int(min(preset.steps, share.MAX_STEPS))
    st.session_state[K_STARTS] = [list(s) for s in preset.extra_starts]
    st.session_state[K_STARTS + "_text"] = _points_text(preset.extra_starts)
    runs = list(preset.runs)[:MAX_METHODS]
    for i, (method, params) in enumerate(runs):
        set_method(f"m{i}", method, params)
    newton = next(((m, p) for m, p in runs if m in SECOND_ORDER_PICKS), ("newton", {}))
    set_method(NEWTON_PICKER, *newton)
    st.session_state["n_methods"] = max(1, len(runs))
    st.session_state["lrs"] = preset_learning_rates(runs)


def preset_learning_rates(runs) -> str:
    """The "learning rates to compare" text for a preset: the rates its runs of the first method
    use (the textbook's η = 0.2, 0.05, 1.1), or "" when it suggests fewer than two. Rates of other
    methods (Newton's η = 1 beside gradient descent's 0.01) would only add a run that explodes."""
    if not runs:
        return ""
    first = runs[0][0]
    lrs: list[float] = []
    for method, params in runs:
        lr = params.get("lr")
        if method == first and isinstance(lr, (int, float)) and float(lr) not in lrs:
            lrs.append(float(lr))
    return ", ".join(share.format_number(v) for v in lrs) if len(lrs) >= 2 else ""


def _points_text(points) -> str:
    return "; ".join(", ".join(share.format_number(c) for c in p) for p in points)


def load_preset(key: str) -> None:
    """Load a preset (formula, start, window, methods) and rerun; switches to the preset's view."""
    st.session_state[K_PENDING] = key
    st.rerun()


def _on_preset_select() -> None:
    key = st.session_state.get(K_PRESET)
    if key:
        _apply_preset(key)
        page = getattr(_presets().get(key), "page", None)
        if page:
            st.session_state[K_SWITCH] = page


def _on_formula_submit() -> None:
    text = st.session_state.get(K_FORMULA, "")
    preset = current_preset()
    if preset is not None and text.strip() == preset.formula.strip():
        return  # unchanged
    _apply_formula(text)


# =============================================================================================
# First load, URL state
# =============================================================================================
def init(view_paths: Sequence[str]) -> None:
    """Call once per run before anything is drawn: defaults, a shared URL on first load, a
    pending preset."""
    ss = st.session_state
    ss[K_RUN_PICKERS] = {}
    ss[K_RUN_OPTIONS] = {}
    if "_initialised" not in ss:
        ss["_initialised"] = True
        query = {k: st.query_params[k] for k in st.query_params}
        state, notices = share.decode_state(query, views=tuple(view_paths))
        ss[K_NOTICES] = notices
        _restore(state)
    pending = ss.pop(K_PENDING, None)
    if pending:
        _apply_preset(pending)
        page = getattr(_presets().get(pending), "page", None)
        if page:
            ss[K_SWITCH] = page


def _restore(state: dict) -> None:
    ss = st.session_state
    preset = state.get("preset")
    if preset:
        _apply_preset(preset)
    elif not state.get("formula"):
        if DEFAULT_PRESET in _presets():
            _apply_preset(DEFAULT_PRESET)
        else:
            _apply_formula(DEFAULT_FORMULA)
    if state.get("formula"):
        keep = preset and _presets()[preset].formula.strip() == state["formula"].strip()
        variables = tuple(_presets()[preset].variables) if keep else None
        ok = _apply_formula(state["formula"], variables, state.get("window"), state.get("start"),
                            preset=preset if keep else None)
        if not ok:
            ss[K_NOTICES] = [*ss.get(K_NOTICES, []),
                             f"formula from the link was not used: {ss[K_ERROR]}"]
            if not ss.get(K_GOOD):
                _apply_formula(_default_text())
            ss[K_ERROR] = None
    obj = current_objective()
    if state.get("window"):
        if len(state["window"]) == obj.dim:
            _set_window(state["window"], obj.variables)
        else:
            ss[K_NOTICES].append("window from the link does not match the variables; ignored")
    if state.get("start"):
        if len(state["start"]) == obj.dim:
            set_start(state["start"])
        else:
            ss[K_NOTICES].append("start from the link does not match the variables; ignored")
    if "starts" in state:
        good = [p for p in state["starts"] if len(p) == obj.dim]
        if len(good) != len(state["starts"]):
            ss[K_NOTICES].append("some extra starts from the link do not match the variables; dropped")
        ss[K_STARTS] = good
        ss[K_STARTS + "_text"] = _points_text(good)
    if "steps" in state:
        ss["steps"] = state["steps"]
    if "tol" in state:
        ss["tol"] = state["tol"]
    methods = state.get("methods") or {}
    for key, entry in methods.items():
        set_method(key, entry["method"], entry["params"])
    if state.get("view") == "newton_model" and NEWTON_PICKER not in methods and "m0" in methods:
        # links copied before the page had its own picker said m.m0
        set_method(NEWTON_PICKER, methods["m0"]["method"], methods["m0"]["params"])
    picked = sorted(int(k[1:]) for k in methods if k[:1] == "m" and k[1:].isdigit())
    if picked:
        ss["n_methods"] = min(MAX_METHODS, max(picked) + 1)
    ss[K_RESTORE] = dict(state.get("options") or {})


def default_view(available: Sequence[str], view: str | None, asked: str | None) -> str:
    """Which page st.navigation serves at "/": the view named in the link (a share link may point
    at any page, even through "/"), else the playground. Streamlit serves the default page only at
    "/", so when the address itself is `/<page>` that page must not be the default, or the browser
    gets "Page not found" (every link copied from an analysis page looked like that)."""
    available = list(available)
    fallback = "playground" if "playground" in available else (available[0] if available else "playground")
    chosen = view if view in available else fallback
    if asked in available and asked == chosen and len(available) > 1:
        return next(p for p in available if p != asked)
    return chosen


def url_notices() -> list[str]:
    return st.session_state.pop(K_NOTICES, None) or []


def pending_switch() -> str | None:
    """The view a preset or a shared link asked for (consumed by app.py)."""
    return st.session_state.pop(K_SWITCH, None)


def url_state(view: str) -> dict[str, Any]:
    ss = st.session_state
    good = ss.get(K_GOOD) or {}
    state: dict[str, Any] = {"view": view, "formula": good.get("text"),
                             "preset": ss.get(K_ACTIVE_PRESET), "start": current_start().tolist(),
                             "window": [list(w) for w in current_window()],
                             "methods": dict(ss.get(K_RUN_PICKERS) or {}),
                             "options": dict(ss.get(K_RUN_OPTIONS) or {})}
    if "steps" in ss.get(K_RUN_OPTIONS, {}):
        state["steps"] = state["options"].pop("steps")
    if "tol" in ss.get(K_RUN_OPTIONS, {}):
        state["tol"] = float(state["options"].pop("tol"))
    if K_STARTS in state["options"]:
        state["options"].pop(K_STARTS)
        state["starts"] = [list(p) for p in current_starts()[1:]]
    return state


def sync_url(view: str) -> None:
    """Write the whole state into the query string (only when it changed)."""
    # Written on every run: a page switch clears the browser's query string even when the server's
    # copy still matches, so "only when changed" would lose the link after navigating.
    st.query_params.from_dict(share.encode_state(url_state(view)))
    # The browser applies a page switch after this run's messages and drops the query string
    # then; one more (cached, cheap) run writes it back.
    last = st.session_state.get("_last_view")
    st.session_state["_last_view"] = view
    if last is not None and last != view:
        st.rerun()


# =============================================================================================
# Sidebar
# =============================================================================================
def sidebar() -> None:
    """The shared inputs: formula, preset gallery, start, window, and the formula in LaTeX."""
    ss = st.session_state
    sb = st.sidebar
    presets = _presets()
    keys = [""] + sorted(presets, key=lambda k: (_source_rank(presets[k].source), list(presets).index(k)))
    if ss.get(K_PRESET) not in keys:
        ss[K_PRESET] = ""
    sb.selectbox("Example gallery", keys, key=K_PRESET, on_change=_on_preset_select,
                 format_func=lambda k: gallery_label(presets[k]) if k else "— your own formula —",
                 help="Every example of the course material and the classic test functions. "
                      "Choosing one sets the formula, start, window and suggested methods.")
    preset = current_preset()
    if preset is not None:
        sb.info(f"**What to look for:** {preset.look_for}", icon=":material/search:")

    if K_FORMULA not in ss:
        ss[K_FORMULA] = (ss.get(K_GOOD) or {}).get("text", _default_text())
    sb.text_input("f(x) =", key=K_FORMULA, on_change=_on_formula_submit,
                  placeholder="e.g. x^2 + 3y^2, sin(x)cos(y), (1-x)^2 + 100(y-x^2)^2",
                  help="Press Enter to apply. Write powers as x^2, products as 3y or 3*y; "
                       "functions: sin cos tan exp log sqrt abs tanh max min … Variables are any names.")
    error = formula_error()
    obj = current_objective()
    if error:
        sb.error(f"{error}\n\nStill showing: `{obj.text}`", icon=":material/warning:")

    names = obj.variables
    window = current_window()
    sb.markdown(f"**Start point** ({', '.join(names)})")
    if obj.dim <= MAX_START_INPUTS:
        cols = sb.columns(min(obj.dim, 3))
        for i, name in enumerate(names):
            key = f"x0.{name}"
            if ss.get(key) is None:
                ss[key] = _default_start(window[i])
            cols[i % len(cols)].number_input(name, key=key, step=0.1, format="%.4g")
    else:
        text_key = "x0.all"
        ss[text_key] = ", ".join(share.format_number(v) for v in current_start())
        sb.text_input("start (comma separated)", key=text_key, on_change=_on_start_text,
                      help=f"{obj.dim} values, one per variable, in the order {', '.join(names)}")
    if obj.dim <= 2:
        where = "curve" if obj.dim == 1 else "contour plot"
        sb.caption(f"Tip: click anywhere on the {where} to start there.")

    with sb.expander("Plot window", expanded=False):
        for i, name in enumerate(names[:MAX_START_INPUTS]):
            klo, khi = _win_keys(name)
            if ss.get(klo) is None or ss.get(khi) is None:
                ss[klo], ss[khi] = window[i]
            c1, c2 = st.columns(2)
            c1.number_input(f"{name} from", key=klo, step=0.5, format="%.4g")
            c2.number_input(f"{name} to", key=khi, step=0.5, format="%.4g")
            lo, hi = ss[klo], ss[khi]
            if not lo < hi:
                st.warning(f"{name}: 'from' must be less than 'to'; using {DEFAULT_RANGE}")
        st.button("Fit window to stationary points", on_click=_on_auto_window, key="auto_window")

    with sb.expander("Formula, gradient, Hessian", expanded=False):
        st.latex(f"f({', '.join(_latex_name(n) for n in names)}) = {obj.latex}")
        st.latex(r"\nabla f = " + obj.gradient_latex)
        st.latex(r"\nabla^2 f = " + obj.hessian_latex)


def gallery_label(preset) -> str:
    """"x² (textbook, η = 0.2)", not "textbook · x² (textbook, η = 0.2)": the sidebar is narrow and
    the source was named twice."""
    return preset.name if preset.source in preset.name else f"{preset.source} · {preset.name}"


def _source_rank(source: str) -> int:
    order = ("textbook", "blog", "course notes", "second-order notes", "classic")
    return order.index(source) if source in order else len(order)


def _latex_name(name: str) -> str:
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    return f"{head}_{{{tail}}}" if tail and head else name


def _on_start_text() -> None:
    text = st.session_state.get("x0.all", "")
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        return
    obj = _objective()
    if len(values) == obj.dim:
        set_start(values)


def _on_auto_window() -> None:
    good = st.session_state.get(K_GOOD) or {}
    text, variables = good.get("text", DEFAULT_FORMULA), good.get("variables")
    obj = _objective()
    window = _auto_window(text, variables)
    if not window:  # no stationary points: still fit to where f is defined
        window = tuple(_window_entry(name) for name in obj.variables)
    window = _defined_window(obj.text, variables, tuple((float(a), float(b)) for a, b in window))
    _set_window(window, obj.variables)


# =============================================================================================
# Page widgets
# =============================================================================================
def _log_grid(low: float, high: float, *extra: float) -> list[float]:
    """1, 1.5, 2, 3, 5, 7 per decade from low to high, plus the given values (kept exact)."""
    values = set()
    for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for m in (1, 1.5, 2, 3, 5, 7):
            v = float(f"{m}e{e}")
            if low * (1 - 1e-12) <= v <= high * (1 + 1e-12):
                values.add(v)
    values.update(float(v) for v in extra if isinstance(v, (int, float)) and low <= v <= high)
    return sorted(values)


def _param_widget(spec, key: str, container) -> Any:
    ss = st.session_state
    label = PARAM_LABELS.get(spec.name, spec.name)
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
        value = ss.get(key, default)
        ss[key] = float(value)
        options = _log_grid(spec.low, spec.high, value, default)
        return container.select_slider(label, options=options, format_func=lambda v: f"{v:g}", **common)
    lo = float(spec.low) if spec.low is not None else None
    hi = float(spec.high) if spec.high is not None else None
    if ss.get(key) is not None:
        ss[key] = float(ss[key])
    step = (hi - lo) / 100 if lo is not None and hi is not None else 0.1
    return container.number_input(label, min_value=lo, max_value=hi, step=step, format="%.6g", **common)


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
    main = [p for p in spec.params if p.name not in ("noise", "seed")]
    extra = [p for p in spec.params if p.name in ("noise", "seed")]
    for p in main:
        params[p.name] = _param_widget(p, f"{key}.{name}.{p.name}", container)
    if extra:
        with container.expander("Gradient noise (SGD)", expanded=False):
            for p in extra:
                params[p.name] = _param_widget(p, f"{key}.{name}.{p.name}", st)
    params = {k: v for k, v in params.items() if v is not None}
    st.session_state[K_RUN_PICKERS][key] = {"method": name, "params": params}
    return name, params


def shared_option(widget: Callable, label: str, key: str, *, convert: Callable[[str], Any] | None = None,
                  **kwargs) -> Any:
    """Draw a widget whose value is part of the share link (`o.<key>=...`).

    The widget keeps its value across pages. `convert` turns the URL text back into a value
    (default: match an option's text, or float/int/bool/str by the current value's type).
    """
    ss = st.session_state
    restore = ss.get(K_RESTORE) or {}
    notices = ss.setdefault(K_OPTION_NOTICES, {})
    if key in restore:
        text = restore.pop(key)
        value, notice = _convert_option(text, convert, kwargs)
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
        ss[K_RUN_OPTIONS][key] = value if isinstance(value, str) else _option_text(value)
    return value


def _option_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return share.format_number(value)
    if isinstance(value, (list, tuple)):
        return "|".join(_option_text(v) for v in value)
    return str(value)


def _convert_option(text: str, convert, kwargs) -> tuple[Any, str | None]:
    """(value, notice): the widget value for the URL text, or None when it cannot be used, and a
    sentence whenever the link's value was not taken as it is (clamped, rounded, ignored)."""
    shown = text if len(text) <= 30 else text[:30] + "…"
    try:
        if convert is not None:
            value = convert(text)
            return value, None if value is not None else f"'{shown}' could not be used; kept the default"
        options = kwargs.get("options")
        if options is not None:
            options = list(options)
            fmt = kwargs.get("format_func", str)
            for opt in options:
                if _option_text(opt) == text or str(fmt(opt)) == text:
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
    tol_options = _log_grid(low, high, ss["tol"])
    tol = container.select_slider("tolerance on ‖∇f‖", options=tol_options, key="tol",
                                  format_func=lambda v: f"{v:g}", persist_state="session",
                                  help="stop when the gradient norm falls below this")
    ss[K_RUN_OPTIONS]["steps"] = int(steps)
    ss[K_RUN_OPTIONS]["tol"] = share.format_number(tol)
    return int(steps), float(tol)


def extra_starts_input(container=None) -> np.ndarray:
    """Text box for extra start points ('x, y; x, y'); returns all starts (main start first)."""
    container = container or st
    ss = st.session_state
    tkey = K_STARTS + "_text"
    if tkey not in ss:
        ss[tkey] = _points_text(ss.get(K_STARTS) or [])
    container.text_input("extra start points", key=tkey, on_change=_on_starts_text, persist_state="session",
                         placeholder="e.g. -1, 2; 0.5, -1", help="more starts, separated by ';' (at most 15)")
    d = current_objective().dim
    bad = [p for p in ss.get(K_STARTS) or [] if len(p) != d]
    if bad:
        container.caption(f"{len(bad)} start(s) ignored: they do not have {d} coordinates")
    ss[K_RUN_OPTIONS][K_STARTS] = "1"
    return current_starts()


def _on_starts_text() -> None:
    text = st.session_state.get(K_STARTS + "_text", "")
    notices: list[str] = []
    pts = share._points(text, "starts", notices, share.MAX_STARTS - 1) if text.strip() else []
    st.session_state[K_STARTS] = pts or []


# =============================================================================================
# Charts and export
# =============================================================================================
def _on_chart_click(key: str, axes: tuple[int, ...]) -> None:
    state = st.session_state.get(key)
    try:
        points = state["selection"]["points"]
    except (KeyError, TypeError):
        return
    if not points:
        return
    point = points[-1]
    obj = _objective()
    coords = [point.get("x"), point.get("y")][:len(axes)]
    names = [obj.variables[i] for i in axes if i < obj.dim]
    if any(c is None or not isinstance(c, (int, float)) for c in coords):
        return
    set_start([round(float(c), 4) for c in coords], names)


def chart(fig, key: str, clickable: bool = True):
    """Show a Plotly figure; with `clickable`, a click on a point (or on the faint grid laid over a
    contour) moves the start point. The figure says which variables its axes are through
    `layout.meta["click_axes"]` (default: the first two)."""
    from optcore.figures.base import keep_unselected_visible
    if not clickable:
        return st.plotly_chart(fig, key=key, config=CHART_CONFIG, width="stretch")
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    axes = tuple(meta.get("click_axes", (0, 1)))
    keep_unselected_visible(fig)
    return st.plotly_chart(fig, key=key, config=CHART_CONFIG, width="stretch", on_select=functools.partial(
        _on_chart_click, key, axes), selection_mode="points")


GIF_MAX_FRAMES = 12   # one browser session renders them in about 5 s
GIF_WIDTH = 640
_3D_TRACES = ("surface", "scatter3d", "mesh3d", "cone", "streamtube", "isosurface", "volume")


def gif_data(fig) -> Callable[[], bytes] | None:
    """What the GIF button downloads: a callable building the GIF (at most GIF_MAX_FRAMES + 1 frames),
    or None when the figure is not an animated 2-D or 1-D chart."""
    if fig is None or not fig.frames or any(getattr(t, "type", None) in _3D_TRACES for t in fig.data):
        return None
    from optcore import export
    return lambda: export.figure_gif(fig, max_frames=GIF_MAX_FRAMES, width=GIF_WIDTH)


def export_buttons(fig, trajectories: dict | None, key: str) -> None:
    """Download buttons: trajectories as CSV and JSON, the figure as HTML (animated), PNG, SVG and,
    for an animated 2-D/1-D chart, GIF. Files are built only when a button is clicked."""
    from optcore import export
    cols = st.columns(6)
    stem = "optimization-explorer"
    if trajectories:
        cols[0].download_button("CSV", data=lambda: export.trajectories_csv(trajectories), key=f"{key}.csv",
                                file_name=f"{stem}-trajectories.csv", mime="text/csv", icon=":material/download:",
                                on_click="ignore")
        cols[1].download_button("JSON", data=lambda: export.trajectories_json(trajectories), key=f"{key}.json",
                                file_name=f"{stem}-trajectories.json", mime="application/json",
                                icon=":material/download:", on_click="ignore")
    if fig is None:
        return
    cols[2].download_button("HTML", data=lambda: export.figure_html(fig), key=f"{key}.html",
                            file_name=f"{stem}.html", mime="text/html", icon=":material/download:",
                            on_click="ignore", help="self-contained page with the animation; works offline")
    if export.chromium_path() is None:
        cols[3].caption("PNG/SVG/GIF need Chromium, which was not found: use HTML, or the camera "
                        "button on the chart.")
        return
    cols[3].download_button("PNG", data=lambda: export.figure_png(fig), key=f"{key}.png",
                            file_name=f"{stem}.png", mime="image/png", icon=":material/download:",
                            on_click="ignore")
    cols[4].download_button("SVG", data=lambda: export.figure_svg(fig), key=f"{key}.svg",
                            file_name=f"{stem}.svg", mime="image/svg+xml", icon=":material/download:",
                            on_click="ignore")
    gif = gif_data(fig)
    if gif is None:
        cols[5].caption("GIF: only for animated 2-D and 1-D charts.")
        return
    cols[5].download_button("GIF", data=gif, key=f"{key}.gif", file_name=f"{stem}.gif", mime="image/gif",
                            icon=":material/download:", on_click="ignore",
                            help=f"the animation in {GIF_MAX_FRAMES} frames; takes a few seconds")


# =============================================================================================
# Cached runs and grids (picklable results only)
# =============================================================================================
def _key_params(params: dict) -> tuple:
    return tuple(sorted((k, v) for k, v in params.items()))


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_run(text: str, variables: tuple | None, method: str, params: tuple, x0: tuple,
                steps: int, tol: float):
    obj = _parse(text, variables)
    return optcore.run(obj, method, np.array(x0, dtype=float), steps=steps, tol=tol, **dict(params))


def run(method: str, params: dict, x0: Sequence[float], steps: int, tol: float):
    """optcore.run on the current objective, cached per (formula, method, params, start, steps, tol)."""
    good = st.session_state.get(K_GOOD) or {"text": current_objective().text, "variables": None}
    obj = current_objective()
    variables = good.get("variables")
    text = good["text"] if good["text"] == obj.text else obj.text
    return _cached_run(text, tuple(variables) if variables else None, method, _key_params(params),
                       tuple(float(v) for v in x0), int(steps), float(tol))


@st.cache_data(max_entries=64, show_spinner=False)
def _cached_grid(text: str, variables: tuple | None, window: tuple, n: int, base: tuple | None,
                 axes: tuple[int, int]):
    from optcore.figures.grid import value_grid
    return value_grid(_parse(text, variables), window, n, base=base, axes=axes)


def grid(window=None, n: int = 200, base: Sequence[float] | None = None, axes: tuple[int, int] = (0, 1)):
    """(xs, ys, Z) of f over the window (a slice through `base` for d > 2), cached."""
    good = st.session_state.get(K_GOOD) or {}
    obj = current_objective()
    variables = good.get("variables")
    window = tuple(tuple(w) for w in (window or current_window()))
    return _cached_grid(obj.text, tuple(variables) if variables else None, window, int(n),
                        tuple(float(b) for b in base) if base is not None else None, tuple(axes))
