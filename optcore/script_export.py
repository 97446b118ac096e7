""""Export as Python": one run written out as a standalone NumPy script a student can read and re-run.

    script = python_script(obj, traj, steps=100, tol=1e-8)
    Path("rerun.py").write_text(script)      # python rerun.py  -> same final point and status

The script holds f, its gradient and (when the method uses it) its Hessian, printed from SymPy's
expressions by SymPy's NumPy printer, then the method's update written plainly in one loop (the
line search too, when the run used one). Sums are written in the order optcore adds them, so the
final point agrees with the engine's to about the last digit.

The expressions come from the safe formula parser; still, only variable names that are plain
ASCII identifiers reach the printed code (anything else, and names that would clash with Python
or the script's own names, are renamed), and every free symbol must be one of the variables.
"""
from __future__ import annotations

import keyword
import re
import textwrap
from typing import Any

import numpy as np
import sympy as sp

from sympy.printing.numpy import NumPyPrinter

from .objective import needed_assignments  # the same cse pruning the engine compiles with

# Names the generated code uses itself: a variable with one of these names is renamed.
_RESERVED = {"np", "numpy", "math", "point", "start", "steps", "tol", "f", "grad", "hess", "run", "main", "norm", "dot", "matvec",
             "eigen", "backtracking", "exact_line_search", "float", "abs", "max", "min", "print", "len", "range"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")


class ScriptExportError(ValueError):
    """The run cannot be written as a script (e.g. a learning-rate schedule given as a function)."""


class _Printer(NumPyPrinter):
    """SymPy's NumPy printer, with the few functions it cannot print (or prints differently from
    what optcore evaluates) written the way the engine evaluates them."""

    def _print_Min(self, expr):  # optcore: np.minimum reduced pairwise (amin over a tuple fails on mixed shapes)
        args = [self._print(a) for a in expr.args]
        out = args[0]
        for a in args[1:]:
            out = f"numpy.minimum({out}, {a})"
        return out

    def _print_Max(self, expr):
        args = [self._print(a) for a in expr.args]
        out = args[0]
        for a in args[1:]:
            out = f"numpy.maximum({out}, {a})"
        return out

    def _print_erf(self, expr):
        return f"math.erf({self._print(expr.args[0])})"

    def _print_DiracDelta(self, expr):  # derivative of a kink: zero almost everywhere (as in optcore)
        return "0.0"

    def _print_Heaviside(self, expr):
        return f"numpy.heaviside({self._print(expr.args[0])}, 0.5)"


def _safe_names(variables: tuple[str, ...]) -> dict[str, str]:
    """Variable name -> the name used in the script (a plain identifier that clashes with nothing)."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for i, name in enumerate(variables):
        safe = name
        if not _IDENTIFIER.match(name) or keyword.iskeyword(name) or name in _RESERVED or name.startswith("_"):
            safe = f"{name}_" if _IDENTIFIER.match(name + "_") and not keyword.iskeyword(name + "_") else f"v{i}"
        while safe in used or safe in _RESERVED or keyword.iskeyword(safe):
            safe += "_"
        used.add(safe)
        mapping[name] = safe
    return mapping


def _code(expr, rename: dict[sp.Symbol, sp.Symbol], allowed: set[sp.Symbol]) -> str:
    expr = sp.sympify(expr)
    stray = expr.free_symbols - allowed
    if stray:
        raise ScriptExportError(f"the expression uses {', '.join(sorted(map(str, stray)))}, "
                                f"which is not a variable of the formula")
    text = _Printer({"fully_qualified_modules": True, "allow_unknown_functions": False}).doprint(expr.xreplace(rename))
    if "Not supported" in text or "\n" in text:
        raise ScriptExportError(f"cannot write {expr} as NumPy code")
    return re.sub(r"\bnumpy\.", "np.", text)



def _functions(obj, needs_hessian: bool) -> tuple[str, bool]:
    """Source of f, grad (and hess); also whether `math` is needed (erf).

    The expressions go through the same common-subexpression elimination as optcore's compiled
    functions (one `sympy.cse` over f, the gradient and the Hessian's upper triangle), so the
    script adds and multiplies in the same order and gets the same numbers to the last digit.
    """
    variables = tuple(obj.variables)
    names = _safe_names(variables)
    originals = [sp.Symbol(n, real=True) for n in variables]
    rename = {s: sp.Symbol(names[n], real=True) for s, n in zip(originals, variables)}
    d = len(variables)
    unpack = ", ".join(names[n] for n in variables) + ("," if d == 1 else "")
    H = obj.hessian_exprs
    upper = [H[i, j] for i in range(d) for j in range(i, d)]
    replacements, reduced = sp.cse([obj.expr, *obj.gradient_exprs, *upper], list=False)
    temporaries = {symbol for symbol, _ in replacements}
    for symbol in temporaries:
        if not _IDENTIFIER.match(str(symbol)) or str(symbol) in set(names.values()) | _RESERVED:
            raise ScriptExportError(f"unexpected temporary name {symbol}")
    allowed = set(originals) | temporaries

    def body(outputs: list) -> list[str]:
        lines = [f"    {unpack} = point"]
        for symbol, value in needed_assignments(replacements, outputs):
            lines.append(f"    {symbol} = {_code(value, rename, allowed)}")
        return lines

    f_out = reduced[0]
    g_out = reduced[1:1 + d]
    parts = [
        "def f(point):",
        f'    """f({", ".join(names[n] for n in variables)})"""',
        *body([f_out]),
        f"    return np.float64({_code(f_out, rename, allowed)})",
        "",
        "",
        "def grad(point):",
        '    """The gradient: one partial derivative per variable."""',
        *body(g_out),
        "    return np.array([",
        *(f"        {_code(c, rename, allowed)},  # df/d{names[n]}" for c, n in zip(g_out, variables)),
        "    ], dtype=float)",
    ]
    if needs_hessian:
        h_out = reduced[1 + d:]
        entry = {}
        pos = 0
        for i in range(d):
            for j in range(i, d):
                entry[i, j] = entry[j, i] = _code(h_out[pos], rename, allowed)
                pos += 1
        rows = [f"        [{', '.join(entry[i, j] for j in range(d))}]," for i in range(d)]
        parts += ["", "", "def hess(point):", '    """The Hessian: second partial derivatives (symmetric)."""',
                  *body(list(h_out)), "    return np.array([", *rows, "    ], dtype=float)"]
    source = "\n".join(parts)
    return source, "math.erf(" in source


# ---------------------------------------------------------------------------- method pieces
_HELPERS = '''
def norm(v):
    """Euclidean length, adding the squares left to right (the order optcore uses)."""
    return np.sqrt(np.sum(v * v))
'''

# optcore sums short dot products left to right for 1-2 variables and with einsum above that;
# the script does the same, so its numbers agree to the last digit.
_DOT_SHORT = '''

def dot(a, b):
    return np.sum(a * b)


def matvec(A, v):
    """A @ v, each row summed left to right."""
    return np.sum(A * v, axis=1)
'''

_DOT_EINSUM = '''

def dot(a, b):
    return np.einsum("i,i->", a, b)


def matvec(A, v):
    """A @ v."""
    return np.einsum("ij,j->i", A, v)
'''

_EIGEN = '''

def eigen(H):
    """Eigenvalues (ascending) and eigenvectors of the symmetric matrix H (nan if H is not finite)."""
    if not np.all(np.isfinite(H)):
        return np.full(len(H), np.nan), np.full(H.shape, np.nan)
    return np.linalg.eigh(H)
'''

_BACKTRACKING = '''

def backtracking(x, direction, fx, slope, alpha, c1=1e-4, shrink=0.5, max_trials=60):
    """Armijo backtracking: halve alpha until f(x + alpha d) <= f(x) + c1 alpha (grad f . d).
    No decrease within max_trials: alpha = 0 (stay put)."""
    for _ in range(max_trials):
        if f(alpha * direction + x) <= fx + c1 * alpha * slope:
            return alpha
        alpha = alpha * shrink
    return 0.0
'''

_EXACT = '''

GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0  # 0.618...


def exact_line_search(x, direction, fx, alpha0, xtol=1e-6):
    """Minimise phi(a) = f(x + a d) over a >= 0: bracket, golden section, one parabola.
    No point below f(x) found: alpha = 0 (stay put)."""
    def phi(a):
        return f(a * direction + x)

    lo, f_lo = 0.0, fx
    mid = alpha0
    f_mid = phi(mid)
    hi, f_hi = np.nan, np.nan
    # 1. Shrink toward 0 until phi(mid) < phi(0); the old mid becomes the right end.
    for _ in range(60):
        if f_mid < fx:
            break
        hi, f_hi = mid, f_mid
        mid = mid * (GOLDEN * GOLDEN)
        f_mid = phi(mid)
    if not f_mid < fx:
        return 0.0
    # 2. Expand by the golden ratio while phi keeps decreasing.
    if np.isnan(hi):
        grow = 1.0 + 1.0 / GOLDEN
        for _ in range(60):
            candidate = mid + (mid - lo) * grow
            f_candidate = phi(candidate)
            if f_candidate < f_mid:
                lo, f_lo, mid, f_mid = mid, f_mid, candidate, f_candidate
            else:
                hi, f_hi = candidate, f_candidate
                break
        if np.isnan(hi):
            return mid
    # 3. Golden section on lo < mid < hi (phi(mid) lowest): probe the larger side.
    for _ in range(80):
        if not hi - lo > xtol * (1.0 + mid):
            break
        right_larger = (hi - mid) > (mid - lo)
        if right_larger:
            probe = mid + (1 - GOLDEN) * (hi - mid)
        else:
            probe = mid - (1 - GOLDEN) * (mid - lo)
        f_probe = phi(probe)
        if f_probe < f_mid:
            if right_larger:
                lo, f_lo = mid, f_mid
            else:
                hi, f_hi = mid, f_mid
            mid, f_mid = probe, f_probe
        elif right_larger:
            hi, f_hi = probe, f_probe
        else:
            lo, f_lo = probe, f_probe
    # 4. One parabola through the three points (exact for a quadratic phi), kept if it is lower.
    a, b = lo, hi
    numerator = (mid - a) ** 2 * (f_mid - f_hi) - (mid - b) ** 2 * (f_mid - f_lo)
    denominator = (mid - a) * (f_mid - f_hi) - (mid - b) * (f_mid - f_lo)
    vertex = mid - 0.5 * numerator / denominator
    if np.isfinite(vertex) and a < vertex < b and vertex != mid:
        f_vertex = phi(vertex)
        if f_vertex <= f_mid:
            mid = vertex
    return mid
'''

# Per method: (setup lines before the loop, lines that compute p from g inside the loop).
# Convention (as in optcore): p is a "preconditioned gradient", the step goes along -p.
_NOISE = ["if noise:  # simulated stochastic gradient: the same noise optcore draws for (seed, k)",
          "    g_used = g + noise * np.random.default_rng([seed, k]).standard_normal(len(x))",
          "else:",
          "    g_used = g"]

# Decoupled weight decay (AdamW, Lion): x itself shrinks by lr * weight_decay * x, not through g.
_WEIGHT_DECAY = ["if weight_decay:  # decoupled weight decay: pull x toward 0 directly",
                 "    p = p + weight_decay * x"]


def _method_code(method: str, params: dict[str, Any], d: int) -> tuple[list[str], list[str]]:
    if method == "gd":
        return [], [*_NOISE, "p = g_used"]
    if method in ("momentum", "nesterov"):
        last = "p = g_used + beta * velocity  # Nesterov: look ahead" if method == "nesterov" else "p = velocity"
        return (["velocity = np.zeros_like(x)"],
                [*_NOISE, "velocity = beta * velocity + g_used", last])
    if method == "adagrad":
        return (["sum_of_squares = np.zeros_like(x)"],
                [*_NOISE, "sum_of_squares = sum_of_squares + g_used * g_used",
                 "p = g_used / np.sqrt(sum_of_squares + eps)"])
    if method == "rmsprop":
        return (["average = np.zeros_like(x)"],
                [*_NOISE, "average = gamma * average + (1.0 - gamma) * g_used * g_used",
                 "p = g_used / np.sqrt(average + eps)"])
    if method == "adam":
        return (["m = np.zeros_like(x)  # first moment", "v = np.zeros_like(x)  # second moment"],
                [*_NOISE, "m = beta1 * m + (1.0 - beta1) * g_used",
                 "v = beta2 * v + (1.0 - beta2) * g_used * g_used",
                 "m_hat = m / (1.0 - np.power(beta1, k + 1.0))  # bias corrections",
                 "v_hat = v / (1.0 - np.power(beta2, k + 1.0))",
                 "p = m_hat / (np.sqrt(v_hat) + eps)"])
    if method == "adamw":
        return (["m = np.zeros_like(x)  # first moment", "v = np.zeros_like(x)  # second moment"],
                [*_NOISE, "m = beta1 * m + (1.0 - beta1) * g_used",
                 "v = beta2 * v + (1.0 - beta2) * g_used * g_used",
                 "m_hat = m / (1.0 - np.power(beta1, k + 1.0))  # bias corrections",
                 "v_hat = v / (1.0 - np.power(beta2, k + 1.0))",
                 "p = m_hat / (np.sqrt(v_hat) + eps)",
                 *_WEIGHT_DECAY])
    if method == "lion":
        return (["m = np.zeros_like(x)  # momentum"],
                [*_NOISE, "blend = beta1 * m + (1.0 - beta1) * g_used",
                 "m = beta2 * m + (1.0 - beta2) * g_used  # the momentum update after the blend",
                 "p = np.sign(blend)  # every coordinate moves by exactly lr (where blend is not 0)",
                 *_WEIGHT_DECAY])
    if method == "newton":
        return [], ["H = hess(x)",
                    "lam, V = eigen(H)",
                    "# solve H p = g through the eigenvalues; ones ~0 relative to the largest are dropped",
                    "# (the pseudo-inverse), so a singular Hessian gives a step, not an error",
                    "scale = np.max(np.abs(lam))",
                    "with np.errstate(divide='ignore'):",
                    "    inverse = np.where(np.abs(lam) <= 1e-12 * scale, 0.0, 1.0 / lam)",
                    "p = V @ (inverse * (V.T @ g))"]
    if method == "newton_abs":
        return [], ["H = hess(x)",
                    "lam, V = eigen(H)",
                    "# |H|: every eigenvalue replaced by max(|lambda|, floor), so the step never climbs",
                    "p = V @ ((1.0 / np.maximum(np.abs(lam), floor)) * (V.T @ g))"]
    if method == "newton_reg":
        return (["damping = lambda0", "previous_f = np.nan"],
                ["H = hess(x)",
                 "# Levenberg-Marquardt: less damping after f fell, more after it rose",
                 "if fx > previous_f:",
                 "    damping = damping * 10.0",
                 "elif fx < previous_f:",
                 "    damping = damping / 10.0",
                 "lam, V = eigen(H)",
                 "margin = 1e-8 * (1.0 + np.max(np.abs(lam)))",
                 "if lam[0] + damping <= margin:  # H + damping I must be positive definite",
                 "    damping = np.maximum(-2.0 * lam[0], margin)",
                 "p = V @ ((1.0 / (lam + damping)) * (V.T @ g))",
                 "previous_f = fx"])
    if method == "diag_newton":
        if params.get("use_abs", True):
            curvature = ["curvature = np.maximum(np.abs(np.diag(H)), floor)  # |diag H|, at least floor"]
        else:
            curvature = ["diagonal = np.diag(H)",
                         "curvature = np.where(np.abs(diagonal) < floor, np.where(diagonal < 0, -floor, floor), diagonal)"]
        return [], ["H = hess(x)", *curvature, "p = g / curvature"]
    if method == "bfgs":
        return (["B = np.eye(len(x))  # approximation of the inverse Hessian",
                 "previous_x, previous_g = None, None"],
                ["if previous_x is not None:",
                 "    s, y = x - previous_x, g - previous_g",
                 "    sy = dot(s, y)",
                 "    size = norm(s) * norm(y)",
                 "    if size > 0 and sy > 1e-10 * size:  # skip pairs with s.y <= 0 (B stays positive definite)",
                 "        rho = 1.0 / sy",
                 "        By = matvec(B, y)",
                 "        c = rho * rho * dot(y, By) + rho",
                 "        # B <- (I - rho s y^T) B (I - rho y s^T) + rho s s^T, multiplied out",
                 "        B = B + (c * np.outer(s, s) - rho * (np.outer(s, By) + np.outer(By, s)))",
                 "p = matvec(B, g)",
                 "previous_x, previous_g = x, g"])
    if method == "lbfgs":
        return (["pairs = []  # the last `memory` (s, y) pairs, oldest first",
                 "previous_x, previous_g = None, None"],
                ["if previous_x is not None:",
                 "    s, y = x - previous_x, g - previous_g",
                 "    size = norm(s) * norm(y)",
                 "    if size > 0:",
                 "        if dot(s, y) > 1e-10 * size:",
                 "            pairs = (pairs + [(s, y)])[-memory:]",
                 "        else:",
                 "            pairs = []  # s.y <= 0: clear the memory (the next step is a scaled gradient step)",
                 "# two-loop recursion: p = (approximate inverse Hessian) g",
                 "q = g.copy()",
                 "alphas = []",
                 "for s, y in reversed(pairs):",
                 "    a = (1.0 / dot(s, y)) * dot(s, q)",
                 "    alphas.append(a)",
                 "    q = q - a * y",
                 "gamma = 1.0",
                 "if pairs:",
                 "    s, y = pairs[-1]",
                 "    yy = dot(y, y)",
                 "    gamma = dot(s, y) / (yy if yy > 0 else 1.0)",
                 "p = gamma * q",
                 "for (s, y), a in zip(pairs, reversed(alphas)):",
                 "    b = (1.0 / dot(s, y)) * dot(y, p)",
                 "    p = p + (a - b) * s",
                 "previous_x, previous_g = x, g"])
    if method == "cg":
        if params["beta_rule"] == "FR":
            beta = ["beta = dot(g, g) / safe  # Fletcher-Reeves"]
        elif params["beta_rule"] == "PR":
            beta = ["beta = dot(g, g - previous_g) / safe  # Polak-Ribiere"]
        else:
            beta = ["beta = np.maximum(dot(g, g - previous_g) / safe, 0.0)  # Polak-Ribiere, never negative"]
        return (["previous_g = np.zeros_like(x)", "previous_p = np.zeros_like(x)", "since_restart = 0"],
                ["previous_norm2 = dot(previous_g, previous_g)",
                 "safe = previous_norm2 if previous_norm2 > 0 else 1.0",
                 *beta,
                 "restarted = since_restart == 0 or since_restart >= len(x) or previous_norm2 == 0",
                 "if restarted:",
                 "    beta = 0.0  # restart with steepest descent every len(x) steps",
                 "p = g + beta * previous_p",
                 "if dot(p, g) <= 0:  # not a descent direction: restart",
                 "    p, restarted = g, True",
                 "since_restart = 1 if restarted else since_restart + 1",
                 "previous_g, previous_p = g, p"])
    raise ScriptExportError(f"no script template for method {method!r}")


def _step_code(line_search: str) -> list[str]:
    if line_search == "backtracking":
        return ["direction = -p",
                "alpha = backtracking(x, direction, fx, dot(g, direction), lr)",
                "step = alpha * direction"]
    if line_search == "exact":
        return ["direction = -p",
                "alpha = exact_line_search(x, direction, fx, lr)",
                "step = alpha * direction"]
    return ["step = -lr * p"]


def _number(value: Any) -> str:
    if isinstance(value, bool) or isinstance(value, (int, np.integer)):
        return repr(value if isinstance(value, bool) else int(value))
    if isinstance(value, str):
        return repr(value)
    return repr(float(value))


def python_script(obj, traj, *, steps: int | None = None, tol: float | None = None,
                  version: str | None = None) -> str:
    """A standalone script (NumPy only) that re-runs `traj` (a Trajectory of `obj`) and prints
    the final point and status.

    `steps` and `tol` are the run's settings (a Trajectory does not record them): `steps`
    defaults to the run's iterations, `tol` to the trajectory's `tol` if it has one, else 1e-8
    (optcore's default). Raises ScriptExportError for what cannot be written out (a schedule
    given as a Python function).
    """
    from .methods import get_method

    spec = get_method(traj.method)
    params = dict(traj.params)
    for name, value in params.items():
        if callable(value):
            raise ScriptExportError(f"{name} is a schedule (a Python function); "
                                    f"only runs with numeric settings can be exported as a script")
    steps = int(traj.iterations if steps is None else steps)
    tol = float(getattr(traj, "tol", 1e-8) if tol is None else tol)
    d = len(obj.variables)
    functions, needs_math = _functions(obj, spec.needs_hessian)
    setup, direction = _method_code(spec.name, params, d)
    line_search = params.get("line_search", "none")
    x0 = [float(v) for v in np.asarray(traj.points[0], dtype=float)]
    final = [float(v) for v in np.asarray(traj.points[-1], dtype=float)]

    settings = [f"start = np.array({x0!r})  # start point ({', '.join(obj.variables)})",
                f"steps = {steps}  # at most this many steps",
                f"tol = {tol!r}  # stop when |grad f| <= tol (0: run every step)"]
    settings += [f"{name} = {_number(value)}" for name, value in params.items()
                 if name not in ("line_search", "use_abs", "beta_rule")]
    if "line_search" in params:
        settings.append(f"# line search: {line_search}")

    loop_body = [*direction, *_step_code(line_search)]
    helpers = _HELPERS + (_DOT_SHORT if d <= 2 else _DOT_EINSUM)
    if spec.needs_hessian and spec.name != "diag_newton":
        helpers += _EIGEN
    if line_search == "backtracking":
        helpers += _BACKTRACKING
    elif line_search == "exact":
        helpers += _EXACT

    params_text = ", ".join(f"{k}={_number(v)}" for k, v in params.items())
    header = textwrap.dedent(f'''\
        #!/usr/bin/env python3
        """Re-run of an optcore run, as plain NumPy code to read, change and run.

        f({", ".join(obj.variables)}) = {_docstring_safe(obj.text)}
        method: {spec.label} ({spec.name}); {params_text}
        start: {tuple(x0)}; at most {steps} steps; stop when |grad f| <= {tol!r}
        optcore{" " + version if version else ""} got: {traj.status} after {traj.iterations} steps at {tuple(final)}

        Run it with:  python this_file.py   (needs only NumPy)
        """
        ''')
    imports = "import math\n\nimport numpy as np\n" if needs_math else "import numpy as np\n"
    run_lines = [
        "def run():",
        '    """The optimisation loop; returns (final point, f there, status, steps taken)."""',
        "    x = start.copy()",
        "    fx, g = f(x), grad(x)",
        "    if not (np.all(np.isfinite(x)) and np.isfinite(fx)):",
        '        return x, fx, "diverged", 0',
        "    if tol > 0 and norm(g) <= tol:",
        '        return x, fx, "converged", 0',
        *("    " + line for line in setup),
        "    for k in range(steps):",
        *("        " + line for line in loop_body),
        "        x_new = x + step",
        "        f_new, g_new = f(x_new), grad(x_new)",
        "        if not (norm(x_new) <= DIVERGENCE_RADIUS and np.isfinite(f_new)):",
        '            return x, fx, "diverged", k  # stay at the last finite point',
        "        x, fx, g = x_new, f_new, g_new",
        "        if tol > 0 and norm(g) <= tol:",
        '            return x, fx, "converged", k + 1',
        '    return x, fx, "max_steps", steps',
    ]
    main = textwrap.dedent(f'''\
        OPTCORE_STATUS = {traj.status!r}
        OPTCORE_FINAL_POINT = {final!r}


        if __name__ == "__main__":
            with np.errstate(all="ignore"):  # nan/inf are results here (a diverging run), not errors
                x, fx, status, taken = run()
            print("status:", status, "after", taken, "steps")
            print("final point:", [float(v) for v in x])
            print("f at the final point:", float(fx))
            gap = max(abs(a - b) for a, b in zip(x, OPTCORE_FINAL_POINT))
            print("optcore got:", OPTCORE_STATUS, OPTCORE_FINAL_POINT, "- largest difference:", float(gap))
        ''')
    return "\n".join([
        header, imports, "",
        "# -- the function and its exact derivatives (printed from SymPy's expressions) ------------",
        functions, "", "",
        "# -- the run's settings --------------------------------------------------------------------",
        *settings,
        "DIVERGENCE_RADIUS = 1e8  # |x| beyond this counts as diverged",
        "",
        "# -- helpers -------------------------------------------------------------------------------",
        helpers.strip("\n"), "", "",
        f"# -- {spec.label}: p is the (preconditioned) gradient; the step goes along -p",
        "\n".join(run_lines), "", "",
        main,
    ])


def _docstring_safe(text: str) -> str:
    """Formula text inside the script's docstring: no way to close it or smuggle a line out."""
    return " ".join(text.replace("\\", "/").replace('"""', "'''").split())
