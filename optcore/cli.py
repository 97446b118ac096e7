"""The command line: `python -m optcore run|plot|methods|presets|app` (or `optcore ...` once installed).

    python -m optcore run "x^2" --method gd --x0 10 --steps 10 --lr 0.2
    python -m optcore run --preset textbook-2d --format csv
    python -m optcore plot "(1-x)^2 + 100(y-x^2)^2" --methods gd:lr=0.001,bfgs,newton \\
        --x0 -1.2 1 --out rb.html

Mistakes (a bad formula, an unknown method or parameter, a wrong number of coordinates) end with
exit status 2 and one line on stderr that says what to fix; never a traceback. Set OPTCORE_DEBUG=1
to see the traceback of an unexpected failure.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any, TextIO
from collections.abc import Sequence

import numpy as np

USAGE_ERROR = 2
FAILURE = 1
PLOT_FORMATS = (".html", ".png", ".svg", ".gif")


class UsageError(ValueError):
    """A mistake in what the user asked for; printed as one line, exit status 2."""


class CommandFailed(RuntimeError):
    """The request was fine but could not be carried out (e.g. no browser for PNG); exit status 1."""


# argparse takes "-1e308" for an option (its own pattern knows only -1 and -1.5): numbers in
# exponent notation are numbers too, so `--window -1e308 1e308` reaches the finite-number check.
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line ("error: ...") instead of the usage block."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.startswith("unrecognized arguments:"):
            strays = message.split(":", 1)[1].split()
            if any(s.startswith("-") and not s.startswith("--") for s in strays):
                # "-x^2" looks like an option to argparse; say how to pass such a formula
                raise UsageError(f"{message} (a formula that starts with '-' goes last, after --, "
                                 f"e.g. run --x0 1 -- \"-x^2\")")
        raise UsageError(f"{message} (see: {self.prog} --help)")


# ---------------------------------------------------------------------------------- values
MAX_WINDOW = 1e15  # beyond this a grid's spacing overflows or loses every digit
MAX_STEPS = 20_000  # more is capped (with a note): a million steps wrote 69 MB and plotted for minutes


def _finite(text: str) -> float:
    """argparse type: a finite number (nan and inf are refused, not run)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive(text: str) -> float:
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
    return value


def _not_negative(text: str) -> float:
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def parse_value(text: str) -> Any:
    """A parameter value as typed: true/false, an integer, a number, or else the text itself."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def parse_assignments(items: Sequence[str], where: str = "--param") -> dict[str, Any]:
    """["beta=0.9", "line_search=exact"] -> {"beta": 0.9, "line_search": "exact"}."""
    params: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"{where} expects name=value, got {item!r}")
        params[name.strip()] = parse_value(value.strip())
    return params


def parse_method_list(text: str) -> list[tuple[str, dict[str, Any]]]:
    """ "gd:lr=0.2,newton" -> [("gd", {"lr": 0.2}), ("newton", {})]; the same method may repeat."""
    methods = []
    for chunk in text.split(","):
        if not chunk.strip():
            continue
        name, *assignments = chunk.strip().split(":")
        methods.append((name.strip(), parse_assignments(assignments, where=f"--methods {name.strip()}")))
    if not methods:
        raise UsageError("--methods needs at least one method, e.g. --methods gd,newton")
    return methods


# ---------------------------------------------------------------------------------- setup
def _preset(key: str):
    from .presets import PRESETS
    try:
        return PRESETS[key]
    except KeyError:
        raise UsageError(f"unknown preset {key!r}; `python -m optcore presets` lists them") from None


def _objective(formula: str, variables: Sequence[str] | None):
    from .objective import parse
    return parse(formula, variables=tuple(variables) if variables else None)


def _start(x0: Sequence[float] | None, obj, fallback: Sequence[float] | None) -> np.ndarray:
    if x0 is None:
        if fallback is None:
            raise UsageError(f"--x0 is required: give {obj.dim} number(s), "
                             f"one for each of {', '.join(obj.variables)}")
        x0 = fallback
    if len(x0) != obj.dim:
        raise UsageError(f"--x0 needs {obj.dim} number(s) ({', '.join(obj.variables)}), got {len(x0)}")
    if not all(math.isfinite(v) for v in x0):
        raise UsageError("--x0 must be finite numbers")
    return np.array(x0, dtype=float)


def _check_method(name: str) -> None:
    from .methods import METHODS
    if name not in METHODS:
        raise UsageError(f"unknown method {name!r}; choose one of: {', '.join(METHODS)}")


def _merge_params(method: str, base: dict[str, Any], lr: float | None, extra: dict[str, Any],
                  *, only_accepted: bool = False) -> dict[str, Any]:
    """Preset/method-list params, then --lr, then --param. With `only_accepted`, shared options
    (plot's --lr/--param, applied to every method) skip the methods that do not take them."""
    from .methods import METHODS
    accepted = {p.name for p in METHODS[method].params}
    params = dict(base)
    overrides = {**({"lr": lr} if lr is not None else {}), **extra}
    for name, value in overrides.items():
        if only_accepted and name not in accepted:
            continue
        params[name] = value
    _check_ranges(method, params)
    return params


def _check_ranges(method: str, params: dict[str, Any]) -> None:
    """Numbers must be finite and inside the method's hard bounds (the engine's front door; the
    slider range is only a suggestion: the textbook's η = 1.1 must run, to show divergence)."""
    from .methods import METHODS
    specs = {p.name: p for p in METHODS[method].params}
    for name, value in params.items():
        spec = specs.get(name)
        if spec is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue  # unknown names and text values are the method's to judge
        if not math.isfinite(value):
            raise UsageError(f"{method}: {name} must be a finite number, got {value}")
        if not spec.allows(value):
            raise UsageError(f"{method}: {name}={value:g} is outside its range {spec.range_text()}")


def _check_steps(steps: int, args: argparse.Namespace | None = None) -> int:
    if steps < 0:
        raise UsageError("--steps must be 0 or more")
    if steps > MAX_STEPS:
        err = getattr(args, "err", None) or sys.stderr
        err.write(f"note: --steps {steps} is more than the limit; running {MAX_STEPS} steps\n")
        return MAX_STEPS
    return steps


def _check_out(target: Path) -> None:
    """A bad --out is the user's mistake (exit 2), found before any work is done."""
    folder = target.parent
    if target.is_dir():
        raise UsageError(f"--out {str(target)!r} is a folder; give a file name such as plot.html")
    if not folder.is_dir():
        raise UsageError(f"--out: the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UsageError(f"--out: cannot write to {str(target)!r} (permission denied)")


# ---------------------------------------------------------------------------------- run
def _table(traj, out: TextIO, every: int = 1) -> None:
    """Aligned columns step, coordinates, f, ‖∇f‖ (every `every`-th step and the last), then the status."""
    names = list(traj.variables)
    rows = []
    grad_norms = traj.grad_norms
    last = traj.points.shape[0] - 1
    for k in sorted({*range(0, last + 1, every), last}):
        rows.append([str(k), *(f"{v:.10g}" for v in traj.points[k]), f"{traj.values[k]:.10g}",
                     f"{grad_norms[k]:.3e}"])
    header = ["step", *names, "f", "|grad f|"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    out.write("  ".join(h.rjust(w) for h, w in zip(header, widths)).rstrip() + "\n")
    for row in rows:
        out.write("  ".join(c.rjust(w) for c, w in zip(row, widths)).rstrip() + "\n")
    out.write(f"{traj.status}: {traj.message}\n")


def _preset_and_objective(args: argparse.Namespace):
    """The preset named by --preset (or None) and the objective from it or from FORMULA."""
    preset = _preset(args.preset) if args.preset else None
    if preset is not None and args.formula is not None:
        raise UsageError("give either a FORMULA or --preset, not both")
    if preset is None and args.formula is None:
        raise UsageError("give a FORMULA (e.g. \"x^2 + 3y^2\") or --preset KEY")
    formula = preset.formula if preset else args.formula
    return preset, _objective(formula, args.variables or (preset.variables if preset else None))


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from .run import run

    preset, obj = _preset_and_objective(args)

    if args.method is not None:
        method, base = args.method, {}
        if preset is not None:  # keep the preset's settings for that method, if it suggests one
            base = next((dict(p) for m, p in preset.runs if m == method), {})
    elif preset is not None:
        method, base = preset.runs[0][0], dict(preset.runs[0][1])
    else:
        method, base = "gd", {}
    _check_method(method)
    params = _merge_params(method, base, args.lr, parse_assignments(args.param or []))
    x0 = _start(args.x0, obj, preset.start if preset else None)
    steps = _check_steps(args.steps if args.steps is not None else (preset.steps if preset else 100), args)
    if args.every < 1:
        raise UsageError("--every must be 1 or more")

    traj = run(obj, method, x0, steps=steps, tol=args.tol, **params)
    if args.format in ("json", "csv", "py"):
        from . import export
        label = _label(method, traj.params if args.format != "csv" else params)
        prov = export.provenance(obj, {label: traj}, steps=steps, tol=args.tol)
    if args.format == "json":
        data = json.loads(traj.to_json())
        data["provenance"] = prov
        out.write(json.dumps(data, allow_nan=False) + "\n")
    elif args.format == "csv":
        if args.header:  # `#` lines saying what the table is (pandas: comment="#")
            out.write("".join(f"# {' '.join(line.split())}\n" for line in export.caption_lines(prov)))
        out.write(traj.to_csv())
    elif args.format == "py":
        try:
            out.write(export.python_script(obj, traj, steps=steps, tol=args.tol))
        except ValueError as error:
            raise CommandFailed(str(error)) from None
    else:
        _table(traj, out, every=args.every)
    return 0


# ---------------------------------------------------------------------------------- plot
def _label(method: str, params: dict[str, Any]) -> str:
    if not params:
        return method
    return f"{method} (" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"


def window_option(args_window: Sequence[float], obj) -> tuple[tuple[float, float], ...]:
    """--window as (low, high) per variable, checked: the right count, finite, bounded, low < high."""
    if len(args_window) != 2 * obj.dim:
        raise UsageError(f"--window needs {2 * obj.dim} numbers "
                         f"(low high for each of {', '.join(obj.variables)})")
    if not all(math.isfinite(v) and abs(v) <= MAX_WINDOW for v in args_window):
        raise UsageError(f"--window: values must lie within ±{MAX_WINDOW:g} (and be finite)")
    pairs = tuple((float(args_window[2 * i]), float(args_window[2 * i + 1])) for i in range(obj.dim))
    if any(lo >= hi for lo, hi in pairs):
        raise UsageError("--window: each low must be below its high")
    return pairs


def _window(args_window: Sequence[float] | None, obj, preset,
            trajectories: dict) -> tuple[tuple[float, float], ...]:
    if args_window:
        return window_option(args_window, obj)
    if preset is not None:
        return preset.window
    # Fit the finite points of all runs, with a margin, so every path is on the picture.
    pts = np.concatenate([t.points for t in trajectories.values()])
    pts = pts[np.isfinite(pts).all(axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = np.maximum(0.15 * (hi - lo), 0.5)
    return tuple((float(a - p), float(b + p)) for a, b, p in zip(lo, hi, pad))


def _known_minima(formula: str, variables: tuple[str, ...]) -> tuple[tuple[float, ...], ...]:
    """The minima of a preset with the same formula (ignoring spaces), so typed classics get markers."""
    from .presets import PRESETS
    typed = "".join(formula.split())
    for p in PRESETS.values():
        if "".join(p.formula.split()) == typed and p.variables == variables:
            return p.minima
    return ()


def cmd_plot(args: argparse.Namespace, out: TextIO) -> int:
    from .run import run

    target = Path(args.out)
    suffix = target.suffix.lower()
    if suffix not in PLOT_FORMATS:
        raise UsageError(f"--out must end in {', '.join(PLOT_FORMATS)}, got {args.out!r}")
    _check_out(target)
    preset, obj = _preset_and_objective(args)
    if obj.dim > 2:
        raise UsageError(f"plot draws 1 or 2 variables; this formula has {obj.dim} "
                         f"({', '.join(obj.variables)})")

    methods = parse_method_list(args.methods) if args.methods else (
        [(m, dict(p)) for m, p in preset.runs] if preset else [("gd", {})])
    for name, _ in methods:
        _check_method(name)
    shared = parse_assignments(args.param or [])
    from .methods import METHODS
    taken = {p.name for name, _ in methods for p in METHODS[name].params}
    unused = sorted(set(shared) - taken)
    if unused:
        raise UsageError(f"no method in the plot takes parameter(s) {', '.join(unused)}")
    x0 = _start(args.x0, obj, preset.start if preset else None)
    steps = _check_steps(args.steps if args.steps is not None else (preset.steps if preset else 100), args)

    trajectories = {}
    for method, base in methods:
        params = _merge_params(method, base, args.lr, shared, only_accepted=True)
        label = _label(method, params)
        if label in trajectories:
            raise UsageError(f"--methods lists {label} twice")
        trajectories[label] = run(obj, method, x0, steps=steps, tol=args.tol, **params)
    window = _window(args.window, obj, preset, trajectories)
    minima = preset.minima if preset else _known_minima(obj.text, obj.variables)

    from . import export
    prov = export.provenance(obj, trajectories, steps=steps, tol=args.tol, window=window)
    if suffix == ".gif":  # drawn with Pillow from the runs themselves: no browser needed
        target.write_bytes(export.gif_bytes(obj, trajectories, window, minima=minima, provenance=prov))
    else:
        fig = trajectory_figure(obj, trajectories, window, minima, animate=not args.static, title=obj.text)
        write_figure(fig, target, provenance=prov)
    for label, traj in trajectories.items():
        out.write(f"{label}: {traj.status}: {traj.message}\n")
    out.write(f"wrote {target}\n")
    return 0


def trajectory_figure(obj, trajectories: dict, window, minima=(), *, animate: bool = True,
                      title: str | None = None):
    """The paths of `trajectories` on the contour of f (d = 2) or on its curve (d = 1)."""
    from . import figures

    paths = [figures.path_from_points(t.points, label, figures.default_color(i), values=t.values)
             for i, (label, t) in enumerate(trajectories.items())]
    xs, ys, Z = figures.value_grid(obj, window, n=400 if obj.dim == 1 else 160)
    if obj.dim == 1:
        xs_min = [m[0] for m in minima]
        values = [float(v) for v in obj.value(np.array(minima, dtype=float).reshape(-1, 1))] if minima else []
        return figures.curve_figure(xs, Z, paths, name=obj.variables[0], minima=xs_min, minima_values=values,
                                    title=title, animate=animate)
    return figures.contour_paths_figure(xs, ys, Z, paths, minima=minima, names=obj.variables, title=title,
                                        animate=animate, clickable=False)


def write_figure(fig, target: Path, provenance: dict | None = None) -> None:
    """HTML (self-contained, animated), or a still PNG/SVG (these need Chromium) or an animated GIF
    of the figure's frames; with `provenance`, the file says what it shows (title, caption)."""
    from . import export

    caption = export.caption_lines(provenance) if provenance else None
    writers = {".html": lambda f: export.figure_html(f, provenance),
               ".png": lambda f: export.png_bytes(f, caption),
               ".svg": lambda f: export.svg_bytes(f, caption),
               ".gif": export.figure_gif}
    try:
        data = writers[target.suffix.lower()](fig)
    except export.NoBrowserError as missing:
        raise CommandFailed(str(missing)) from None
    try:
        target.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    except OSError as error:  # the path is what the user gave: a usage mistake
        raise UsageError(f"--out: cannot write {str(target)!r} ({error.strerror or error})") from None


# ---------------------------------------------------------------------------------- listings
def _format_default(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def cmd_methods(args: argparse.Namespace, out: TextIO) -> int:
    from .methods import METHODS
    for spec in METHODS.values():
        hessian = "  [uses the Hessian]" if spec.needs_hessian else ""
        out.write(f"{spec.name:<12} {spec.label}{hessian}\n")
        out.write(f"{'':<12} {spec.summary}\n")
        for p in spec.params:
            extra = f"  one of {', '.join(map(_format_default, p.choices))}" if p.choices else ""
            out.write(f"{'':<14}{p.name}={_format_default(p.default)}{extra}  {p.help}\n")
        out.write("\n")
    return 0


def cmd_presets(args: argparse.Namespace, out: TextIO) -> int:
    from .presets import PRESETS
    width = max(len(k) for k in PRESETS)
    name_width = max(len(p.name) for p in PRESETS.values())
    for key, p in PRESETS.items():
        if args.verbose:
            runs = ", ".join(m + ("(" + ", ".join(f"{k}={v}" for k, v in prm.items()) + ")" if prm else "")
                             for m, prm in p.runs)
            out.write(f"{key}\n  {p.name} [{p.source}, {p.page}]\n  f = {p.formula}\n"
                      f"  start {p.start}, {p.steps} steps: {runs}\n  {p.look_for}\n\n")
        else:
            out.write(f"{key:<{width}}  {p.name:<{name_width}}  {p.formula}\n")
    return 0


# ---------------------------------------------------------------------------------- app
def cmd_app(args: argparse.Namespace, out: TextIO) -> int:
    """`optcore app [streamlit run options]`: the explorer, from a checkout or the installed wheel."""
    import importlib.util
    import subprocess

    if args.streamlit_args[:1] in (["-h"], ["--help"]):
        out.write("usage: optcore app [streamlit run options], e.g. --server.port 8502 --server.headless true\n"
                  "Starts the optimization explorer with Streamlit; `streamlit run --help` lists the options.\n")
        return 0
    checkout = Path(__file__).resolve().parents[1]
    candidates = [checkout] if (checkout / "pyproject.toml").is_file() else []   # python -m optcore app
    installed = importlib.util.find_spec("optcore_app")                           # pip install 'optcore[app]'
    candidates += [Path(p) for p in (installed.submodule_search_locations or [])] if installed else []
    script = next((c / "app.py" for c in candidates if (c / "app.py").is_file() and (c / "ui").is_dir()), None)
    if script is None:
        raise CommandFailed("the explorer's files are not installed; pip install 'optcore[app]'")
    if importlib.util.find_spec("streamlit") is None:
        raise CommandFailed("the explorer needs Streamlit; pip install 'optcore[app]'")
    command = [sys.executable, "-m", "streamlit", "run", str(script), *args.streamlit_args]
    out.flush()
    if os.name == "posix":
        os.execv(sys.executable, command)   # the server takes this process's place (and its pid)
    return subprocess.call(command)


# ---------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m optcore",
                     description="Run optimization methods on a typed formula, from the shell.")
    sub = parser.add_subparsers(dest="command", metavar="{run,plot,compare,methods,presets,app}", parser_class=_Parser)
    sub.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("formula", nargs="?", metavar="FORMULA",
                       help='the function, as typed in the app, e.g. "(1-x)^2 + 100(y-x^2)^2"')
        p.add_argument("--preset", metavar="KEY", help="use a preset's formula, start, steps and runs")
        p.add_argument("--x0", nargs="+", type=_finite, metavar="X",
                       help="start point, one number per variable")
        p.add_argument("--steps", type=int, metavar="N",
                       help="number of steps (default 100, or the preset's)")
        p.add_argument("--lr", type=_positive, metavar="L",
                       help="learning rate / step size (plot: for every method that takes one)")
        p.add_argument("--param", nargs="+", action="extend", metavar="K=V",
                       help="method parameter(s), e.g. --param beta=0.95 line_search=exact")
        p.add_argument("--tol", type=_not_negative, default=1e-8, metavar="T",
                       help="stop when ‖∇f‖ ≤ T (default 1e-8; 0 runs every step)")
        p.add_argument("--variables", nargs="+", metavar="NAME",
                       help="variable order (default: natural order)")

    run_p = sub.add_parser("run", help="print the trajectory of one method",
                           description="Run one method and print its trajectory.")
    common(run_p)
    run_p.add_argument("--method", metavar="M", help="method name (default gd, or the preset's first run)")
    run_p.add_argument("--format", choices=("table", "json", "csv", "py"), default="table",
                       help="py: a standalone NumPy script that re-runs this run (python -m optcore run ... "
                            "--format py > rerun.py)")
    run_p.add_argument("--header", action="store_true",
                       help="csv: start with # lines saying formula, method, start and settings")
    run_p.add_argument("--every", type=int, default=1, metavar="K",
                       help="table: print every K-th step (and the last)")
    run_p.set_defaults(handler=cmd_run)

    plot_p = sub.add_parser("plot", help="draw trajectories on the contour (HTML, PNG or SVG)",
                            description="Run several methods and draw their paths on the contour map "
                                        "(or on the curve, for one variable).")
    common(plot_p)
    plot_p.add_argument("--methods", metavar="LIST",
                        help="comma-separated, each optionally with :name=value, "
                             "e.g. gd:lr=0.2,gd:lr=0.05,newton")
    plot_p.add_argument("--out", required=True, metavar="FILE",
                        help="FILE.html (animated), FILE.png, FILE.svg or FILE.gif (animated)")
    plot_p.add_argument("--window", nargs="+", type=_finite, metavar="V",
                        help="plot range: low high per variable "
                             "(default: the preset's, or fitted to the paths)")
    plot_p.add_argument("--static", action="store_true", help="HTML without the animation")
    plot_p.set_defaults(handler=cmd_plot)

    from .cli_compare import add_parser as add_compare_parser
    add_compare_parser(sub, common)

    methods_p = sub.add_parser("methods", help="list the methods and their parameters")
    methods_p.set_defaults(handler=cmd_methods)

    presets_p = sub.add_parser("presets", help="list the presets")
    presets_p.add_argument("-v", "--verbose", action="store_true",
                           help="show start, runs and what to look for")
    presets_p.set_defaults(handler=cmd_presets)

    # Everything after `app` goes to `streamlit run` untouched: "+" as the prefix keeps argparse
    # from reading --server.port and friends as options of its own.
    app_p = sub.add_parser("app", prefix_chars="+", add_help=False,
                           help="start the explorer in the browser (needs: pip install 'optcore[app]')")
    app_p.add_argument("streamlit_args", nargs=argparse.REMAINDER)
    app_p.set_defaults(handler=cmd_app)
    return parser


def _one_line(message: str) -> str:
    return " ".join(str(message).split()) or "invalid input"


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Entry point; returns the exit status instead of exiting, so tests can call it directly."""
    out = out or sys.stdout
    err = err or sys.stderr
    from .formula import FormulaError

    try:
        args = build_parser().parse_args(argv)
        args.err = err
        return args.handler(args, out)
    except SystemExit as stop:  # --help prints and exits 0
        return int(stop.code or 0)
    except (UsageError, FormulaError, ValueError) as error:
        err.write(f"error: {_one_line(error)}\n")
        return USAGE_ERROR
    except CommandFailed as error:
        err.write(f"error: {_one_line(error)}\n")
        return FAILURE
    except BrokenPipeError:  # `... | head`: the reader left; not an error worth a message
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python's exit flush quiet
        except OSError:
            pass
        return 0
    except OSError as error:
        err.write(f"error: {_one_line(error.strerror or error)}"
                  f"{': ' + str(error.filename) if error.filename else ''}\n")
        return FAILURE
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return 130
    except Exception as error:  # noqa: BLE001 - the promise is: no traceback for the user
        if os.environ.get("OPTCORE_DEBUG"):
            raise
        err.write(f"error: unexpected {type(error).__name__}: {_one_line(error)} "
                  f"(set OPTCORE_DEBUG=1 for details)\n")
        return FAILURE
