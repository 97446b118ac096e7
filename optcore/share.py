"""Share links: the explorer's state <-> URL query parameters (pure functions, no Streamlit).

A shared URL is untrusted input. `decode_state` never evaluates anything: the formula stays text
(the app hands it to `optcore.parse`, the only parser), numbers are parsed with `float`, checked for
finiteness and clamped to the registry's ranges, names are checked against the registry, and lists
are cut to fixed lengths. Everything that had to be changed is reported as a one-line notice.

State (a plain dict; every key optional):

    formula  str                          text as typed
    preset   str                          preset key
    start    list[float]                  the start point
    starts   list[list[float]]            extra start points (compare view)
    window   list[tuple[float, float]]    plot range per variable
    window_fixed  bool                    the view stays on `window` (else it widens to follow the runs)
    methods  dict[str, dict]              picker key -> {"method": name, "params": {...}}
    steps    int
    tol      float
    view     str                          page url path
    options  dict[str, str]               small page settings (widget key -> text)

URL form (short keys so links stay readable):

    f=x^2+3y^2  p=rosenbrock  x0=1.5,-0.5  starts=1,2;-1,0.5  win=-3,3;-2,2  winfix=1  steps=200  tol=1e-08
    view=compare  m.m0=gd(lr=0.1,line_search=none)  o.xaxis=iterations
"""
from __future__ import annotations

import math
import re
from typing import Any
from collections.abc import Mapping

MAX_STEPS = 5000
MIN_STEPS = 1
MAX_METHODS = 6
MAX_STARTS = 16
MAX_DIM = 20
MAX_FORMULA_CHARS = 500
MAX_OPTION_CHARS = 200
MAX_OPTIONS = 20
MAX_COORD = 1e6
TOL_RANGE = (1e-15, 1.0)

_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")
_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")


def format_number(value: float) -> str:
    """Shortest text that reads back to the same float (`repr` round-trips exactly)."""
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _points_text(points) -> str:
    return ";".join(",".join(format_number(c) for c in p) for p in points)


def _method_text(entry: Mapping[str, Any]) -> str:
    params = entry.get("params") or {}
    inner = ",".join(f"{k}={format_number(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v}"
                     for k, v in params.items() if v is not None and not callable(v))
    return f"{entry['method']}({inner})"


def encode_state(state: Mapping[str, Any]) -> dict[str, str]:
    """State dict -> query parameters (all values strings). Keys with no value are left out."""
    out: dict[str, str] = {}
    if state.get("view"):
        out["view"] = str(state["view"])
    if state.get("preset"):
        out["p"] = str(state["preset"])
    if state.get("formula"):
        out["f"] = str(state["formula"])
    if state.get("start") is not None and len(state["start"]):
        out["x0"] = _points_text([state["start"]])
    if state.get("starts"):
        out["starts"] = _points_text(state["starts"])
    if state.get("window"):
        out["win"] = _points_text(state["window"])
        if state.get("window_fixed"):
            out["winfix"] = "1"
    if state.get("steps") is not None:
        out["steps"] = str(int(state["steps"]))
    if state.get("tol") is not None:
        out["tol"] = format_number(state["tol"])
    for key, entry in (state.get("methods") or {}).items():
        out[f"m.{key}"] = _method_text(entry)
    for key, value in (state.get("options") or {}).items():
        out[f"o.{key}"] = str(value)
    return out


# -- decoding --------------------------------------------------------------------------------

# Plain ASCII decimal notation only. Python's float() also reads "５０" (fullwidth), "٥٠" (Arabic-Indic)
# and "1_000"; a link that spells a number so is not one the app wrote, and is refused with a notice.
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _float(text: str) -> float | None:
    if not isinstance(text, str):
        return None
    text = text.strip(" \t")
    if not _DECIMAL.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _bounded_number(text: str, name: str, low: float, high: float, notices: list[str],
                    integer: bool = False) -> float | None:
    """A number from the link, clamped to [low, high] with a notice; None (and a notice) if not a number."""
    value = _float(text)
    if value is None:
        notices.append(f"{name}: '{text[:20]}' is not a finite number in plain digits; default used")
        return None
    bounded = _clamp(round(value) if integer else value, low, high)
    bounded = int(bounded) if integer else bounded
    if bounded != value:
        notices.append(f"{name}: {text[:20]} clamped to {bounded:g}")
    return bounded


def _clamp(value: float, low: float | None, high: float | None) -> float:
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


def _points(text: str, what: str, notices: list[str], max_points: int) -> list[list[float]] | None:
    rows = [r for r in text.split(";") if r.strip()]
    if len(rows) > max_points:
        notices.append(f"{what}: kept the first {max_points} of {len(rows)} points")
        rows = rows[:max_points]
    points: list[list[float]] = []
    for row in rows:
        parts = row.split(",")
        if len(parts) > MAX_DIM:
            notices.append(f"{what}: a point had more than {MAX_DIM} coordinates and was dropped")
            continue
        coords = [_float(p) for p in parts]
        if any(c is None for c in coords):
            notices.append(f"{what}: '{row[:40]}' is not a list of finite numbers and was dropped")
            continue
        clamped = [_clamp(c, -MAX_COORD, MAX_COORD) for c in coords]
        if clamped != coords:
            notices.append(f"{what}: coordinates clamped to ±{MAX_COORD:g}")
        points.append(clamped)
    return points or None


def _window(text: str, notices: list[str]) -> list[tuple[float, float]] | None:
    rows = _points(text, "window", notices, MAX_DIM)
    if rows is None:
        return None
    window = []
    for row in rows:
        if len(row) != 2:
            notices.append("window: each range needs exactly two numbers (low,high); window ignored")
            return None
        lo, hi = row
        if lo > hi:
            lo, hi = hi, lo
            notices.append("window: a range was reversed and has been put in order")
        if hi - lo < 1e-9:
            notices.append("window: an empty range was widened")
            lo, hi = lo - 1.0, hi + 1.0
        window.append((lo, hi))
    return window


def _param_value(spec: Any, raw: str, where: str, notices: list[str]) -> Any:
    """One method parameter from text, checked against its ParamSpec (choices or numeric range)."""
    choices = getattr(spec, "choices", None)
    if choices:
        allowed = {str(c): c for c in choices}
        if raw in allowed:
            return allowed[raw]
        notices.append(f"{where}: '{raw[:20]}' is not one of {', '.join(allowed)}; default used")
        return getattr(spec, "default", None)
    default = getattr(spec, "default", None)
    if isinstance(default, bool):
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        notices.append(f"{where}: '{raw[:20]}' is not true/false; default used")
        return default
    value = _float(raw)
    if value is None:
        notices.append(f"{where}: '{raw[:20]}' is not a finite number; default used")
        return default
    low, high = getattr(spec, "low", None), getattr(spec, "high", None)
    clamped = _clamp(value, low, high)
    if clamped != value:
        notices.append(f"{where}: {value:g} is outside [{low:g}, {high:g}], clamped to {clamped:g}")
    if isinstance(default, int):
        clamped = int(round(clamped))
    return clamped


def _method(text: str, key: str, registry: Mapping[str, Any], notices: list[str]) -> dict | None:
    match = re.fullmatch(r"\s*([A-Za-z0-9_\-]{1,40})\s*(?:\((.*)\))?\s*", text, flags=re.S)
    if not match:
        notices.append(f"method {key}: '{text[:40]}' is not of the form name(param=value,...); ignored")
        return None
    name, inner = match.group(1), match.group(2) or ""
    spec = registry.get(name)
    if spec is None:
        notices.append(f"method {key}: unknown method '{name}'; ignored")
        return None
    specs = {p.name: p for p in getattr(spec, "params", ())}
    params: dict[str, Any] = {}
    for item in filter(None, (s.strip() for s in inner.split(","))):
        pname, sep, raw = item.partition("=")
        pname = pname.strip()
        if not sep or pname not in specs:
            notices.append(f"method {key}: '{pname[:20]}' is not a parameter of {name}; ignored")
            continue
        params[pname] = _param_value(specs[pname], raw.strip(), f"{name} {pname}", notices)
    return {"method": name, "params": params}


def decode_state(query: Mapping[str, str], methods: Mapping[str, Any] | None = None,
                 presets: Mapping[str, Any] | None = None,
                 views: tuple[str, ...] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Query parameters -> (state, notices). Never raises on bad input; drops or clamps instead.

    `methods`/`presets` default to the optcore registries; `views` (allowed page paths) is checked
    when given.
    """
    if methods is None:
        from . import METHODS as methods  # noqa: N811 - the registry
    if presets is None:
        try:
            from . import PRESETS as presets
        except ImportError:  # presets not available: accept no preset key
            presets = {}
    notices: list[str] = []
    state: dict[str, Any] = {}
    q = {str(k): str(v) for k, v in query.items()}

    if "f" in q:
        formula = q["f"]
        if len(formula) > MAX_FORMULA_CHARS:
            notices.append(f"formula: longer than {MAX_FORMULA_CHARS} characters; ignored")
        elif formula.strip():
            state["formula"] = formula
    if "p" in q:
        if q["p"] in presets:
            state["preset"] = q["p"]
        else:
            notices.append(f"preset: unknown preset '{q['p'][:40]}'; ignored")
    if "view" in q:
        if views is None or q["view"] in views:
            if _NAME.match(q["view"]):
                state["view"] = q["view"]
        else:
            notices.append(f"view: unknown view '{q['view'][:40]}'; ignored")
    if "x0" in q:
        pts = _points(q["x0"], "start", notices, 1)
        if pts:
            state["start"] = pts[0]
    if "starts" in q:
        pts = _points(q["starts"], "starts", notices, MAX_STARTS)
        if pts:
            state["starts"] = pts
    if "win" in q:
        window = _window(q["win"], notices)
        if window:
            state["window"] = window
    if "winfix" in q:   # absent in links made before it existed: the app then decides (see ui.link)
        if q["winfix"] in ("0", "1"):
            state["window_fixed"] = q["winfix"] == "1"
        else:
            notices.append("winfix: not 0 or 1; ignored")
    if "steps" in q:
        steps = _bounded_number(q["steps"], "steps", MIN_STEPS, MAX_STEPS, notices, integer=True)
        if steps is not None:
            state["steps"] = steps
    if "tol" in q:
        tol = _bounded_number(q["tol"], "tol", *TOL_RANGE, notices)
        if tol is not None:
            state["tol"] = tol

    method_keys = [k for k in q if k.startswith("m.")]
    picked: dict[str, dict] = {}
    for qkey in method_keys:
        key = qkey[2:]
        if not _KEY.match(key):
            notices.append("method: a method with an invalid key was ignored")
            continue
        if len(picked) >= MAX_METHODS:
            notices.append(f"methods: at most {MAX_METHODS}; the rest were dropped")
            break
        entry = _method(q[qkey], key, methods, notices)
        if entry is not None:
            picked[key] = entry
    if picked:
        state["methods"] = picked

    options: dict[str, str] = {}
    for qkey in (k for k in q if k.startswith("o.")):
        key = qkey[2:]
        if not _KEY.match(key) or len(options) >= MAX_OPTIONS:
            notices.append(f"option '{key[:32]}' ignored")
            continue
        value = q[qkey]
        if len(value) > MAX_OPTION_CHARS:
            notices.append(f"option {key}: too long, cut to {MAX_OPTION_CHARS} characters")
            value = value[:MAX_OPTION_CHARS]
        options[key] = value
    if options:
        state["options"] = options
    # Duplicates in notices (one per coordinate) read badly.
    return state, list(dict.fromkeys(notices))
