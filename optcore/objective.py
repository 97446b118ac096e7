"""Objective: a validated SymPy expression with exact derivatives, compiled to batched NumPy.

`parse(text)` is the front door: the text is parsed safely (`formula.py`), differentiated in a
worker process under a wall-clock limit (`sandbox.py`), then value, gradient and Hessian are
compiled with `lambdify` into functions that broadcast over any leading batch shape.
"""
from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass, field
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from .formula import FormulaError, parse_formula

# Past this many operations the compiled Hessian gets slow to build and to run; students never
# need it, attackers like it.
MAX_DERIVATIVE_OPS = 20_000
DERIVE_SECONDS = 5.0


def _reduce(ufunc: np.ufunc) -> Callable[..., np.ndarray]:
    return lambda *args: functools.reduce(ufunc, args)


def _zeros_like_first(x, *_rest):
    return np.zeros_like(np.asarray(x, dtype=float))


# lambdify prints Min/Max as numpy.amin over a tuple, which fails when a constant meets an array;
# the elementwise ufuncs broadcast. DiracDelta (second derivative of abs/max) is zero almost
# everywhere, which is what a student's plot should show.
_NUMPY_OVERRIDES = {
    "Min": _reduce(np.minimum),
    "Max": _reduce(np.maximum),
    "DiracDelta": _zeros_like_first,
    "Heaviside": lambda x, h0=0.5: np.heaviside(x, h0),
    # SymPy prints erf as math.erf, which takes one number: vectorize it for batches.
    "erf": np.vectorize(math.erf, otypes=[float]),
}


def _drop_step_derivatives(expr: sp.Expr) -> sp.Expr:
    """floor, ceil and sign are piecewise constant: SymPy leaves their derivative unevaluated
    (and the NumPy printer cannot print it); it is zero almost everywhere, which is what a plot
    and a gradient step should see."""
    expr = expr.replace(lambda e: isinstance(e, sp.Derivative)
                        and isinstance(e.expr, (sp.floor, sp.ceiling, sp.sign)), lambda e: sp.S.Zero)
    # ceil(x^2)' is Subs(Derivative(ceiling(u), u), u, x^2) * 2x: the inner derivative is now 0,
    # and the Subs around it must go too (the NumPy printer has no Subs).
    if expr.has(sp.Subs):
        expr = expr.replace(lambda e: isinstance(e, sp.Subs), lambda e: e.doit())
    return expr


def _refuse_unevaluable(exprs: Sequence[sp.Expr]) -> None:
    """Every derivative must be a real expression NumPy can evaluate, or the formula is refused here
    (not with a NameError or a dropped imaginary part at the first evaluation)."""
    for e in exprs:
        if e.has(sp.I):
            raise FormulaError("the derivative of this formula is complex-valued (a negative number to a "
                               "variable power?); only real-valued functions can be minimised")
        if e.has(sp.Subs, sp.Derivative):
            raise FormulaError("the derivative of this formula cannot be written out in closed form")


def derive(expr: sp.Expr, names: Sequence[str]) -> tuple[tuple[sp.Expr, ...], tuple[tuple[sp.Expr, ...], ...]]:
    """Gradient and Hessian of `expr` in the variables `names` (both as plain tuples of SymPy).

    Only the upper triangle is differentiated (mixed partials agree; the compiled code only ever
    used the upper triangle), the lower one mirrors it: for a degree-6 polynomial in two variables
    that is a quarter less symbolic work.
    """
    symbols = [sp.Symbol(n, real=True) for n in names]
    d = len(symbols)
    gradient = tuple(_drop_step_derivatives(sp.diff(expr, s)) for s in symbols)
    upper = {(i, j): _drop_step_derivatives(sp.diff(gradient[i], symbols[j])) for i in range(d) for j in range(i, d)}
    hessian = tuple(tuple(upper[min(i, j), max(i, j)] for j in range(d)) for i in range(d))
    _refuse_unevaluable([expr, *gradient, *upper.values()])
    # Same bound as counting every entry: off-diagonal entries count twice.
    size = sum(sp.count_ops(h) * (1 if i == j else 2) for (i, j), h in upper.items())
    if size > MAX_DERIVATIVE_OPS:
        raise FormulaError(f"the Hessian of this formula has about {size:,} operations, more than "
                           f"{MAX_DERIVATIVE_OPS:,}; please try a simpler formula")
    return gradient, hessian


def _needed_assignments(replacements: list, outputs: list) -> list:
    """The cse assignments `outputs` depend on (in their original order)."""
    needed = set().union(*(sp.sympify(out).free_symbols for out in outputs)) if outputs else set()
    kept = []
    for symbol, value in reversed(replacements):
        if symbol in needed:
            kept.append((symbol, value))
            needed |= value.free_symbols
    return kept[::-1]


def _own_array(value, batch: tuple[int, ...]) -> np.ndarray:
    """`value` as a float array of shape `batch` that no one else holds.

    A freshly computed float array is taken as is (no copy); a scalar (constant f) or a view of
    the input (f = x) is copied.
    """
    if isinstance(value, np.ndarray) and value.base is None and value.dtype == float and value.shape == batch:
        return value
    out = np.empty(batch)
    out[...] = value
    return out


def _parse_and_derive(text: str, variables: tuple[str, ...] | None):
    """Worker-side job: everything symbolic that can take long. Returns picklable SymPy objects."""
    expr, found = parse_formula(text)
    names = _choose_variables(found, variables)
    gradient, hessian = derive(expr, names)
    return expr, names, gradient, hessian


def _choose_variables(found: tuple[str, ...], variables: Sequence[str] | None) -> tuple[str, ...]:
    if variables is None:
        return found
    names = tuple(variables)
    from .formula import parse_formula as _check  # each requested name must itself be a variable
    for name in names:
        try:
            _, got = _check(name)
        except FormulaError as err:
            raise FormulaError(f"'{name}' is not a valid variable name") from err
        if got != (name,):
            raise FormulaError(f"'{name}' is not a valid variable name")
    if len(set(names)) != len(names):
        raise FormulaError("a variable is listed twice")
    missing = [n for n in found if n not in names]
    if missing:
        raise FormulaError(f"the formula uses {', '.join(missing)}, which is not in the variable list")
    return names


@dataclass(eq=False)
class Objective:
    """f: R^d -> R with exact gradient and Hessian, evaluated on batches of points.

    X has shape (..., d); `value` returns (...), `grad` (..., d), `hess` (..., d, d).
    Where f is undefined (log of a negative, 1/0) the result is nan/inf, never an exception.
    """

    text: str
    expr: sp.Expr
    variables: tuple[str, ...]
    gradient_exprs: tuple[sp.Expr, ...]
    hessian_exprs: sp.Matrix
    _compiled: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def dim(self) -> int:
        return len(self.variables)

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(sp.Symbol(n, real=True) for n in self.variables)

    # -- display -------------------------------------------------------------------------
    @property
    def latex(self) -> str:
        return sp.latex(self.expr)

    @property
    def gradient_latex(self) -> str:
        return sp.latex(sp.Matrix(self.gradient_exprs))

    @property
    def hessian_latex(self) -> str:
        return sp.latex(self.hessian_exprs)

    @property
    def is_quadratic(self) -> bool:
        """True when every Hessian entry is a constant (f is a quadratic, or linear)."""
        return all(h.is_number for h in self.hessian_exprs)

    # -- compiled evaluation ---------------------------------------------------------------
    def _function(self, kind: str) -> Callable:
        """Compile on first use: a page that only needs f and ∇f never pays for the Hessian."""
        fn = self._compiled.get(kind)
        if fn is None:
            with self._lock:
                fn = self._compiled.get(kind)
                if fn is None:
                    fn = self._compiled[kind] = self._compile(kind)
        return fn

    def _upper_hessian(self) -> list[sp.Expr]:
        d = self.dim
        return [self.hessian_exprs[i, j] for i in range(d) for j in range(i, d)]

    def _program(self) -> tuple[list, list]:
        """One common-subexpression elimination over f, ∇f and the Hessian's upper triangle.

        Every kind ("f", "fg", "gh", ...) is compiled from this one program with the unused
        assignments dropped, so f from `value` and f from `value_grad_hess` are the same floating
        point operations (the driver reuses a line search's f as the next step's f), and the
        expensive `cse` runs once per formula instead of once per kind.
        """
        program = self._compiled.get("program")
        if program is None:
            outputs = [self.expr, *self.gradient_exprs, *self._upper_hessian()]
            replacements, reduced = sp.cse(outputs, list=False)
            program = self._compiled["program"] = (list(replacements), list(reduced))
        return program

    def _compile(self, kind: str) -> Callable:
        replacements, reduced = self._program()
        d = self.dim
        wanted: list[int] = []
        if "f" in kind:
            wanted.append(0)
        if "g" in kind:
            wanted.extend(range(1, 1 + d))
        if "h" in kind:
            wanted.extend(range(1 + d, len(reduced)))
        outputs = [reduced[i] for i in wanted]
        needed = _needed_assignments(replacements, outputs)
        return sp.lambdify(self.symbols, outputs, modules=[_NUMPY_OVERRIDES, "numpy"],
                           cse=lambda _exprs: (needed, outputs))

    def _evaluate(self, kind: str, X) -> tuple[np.ndarray | None, ...]:
        X = np.asarray(X, dtype=float)
        d = self.dim
        if X.shape[-1:] != (d,):
            raise ValueError(f"points must have last axis of length {d} "
                             f"({', '.join(self.variables)}), got shape {X.shape}")
        batch = X.shape[:-1]
        with np.errstate(all="ignore"):
            raw = self._function(kind)(*(X[..., i] for i in range(d)))
        # Outputs are written straight into their final arrays: assignment broadcasts the
        # constant entries lambdify returns as Python scalars (sympy issue 9725), and there is
        # no np.stack / np.broadcast_to copy of everything.
        f = g = H = None
        pos = 0
        if "f" in kind:
            f = _own_array(raw[0], batch)
            pos = 1
        if "g" in kind:
            g = np.empty(batch + (d,))
            for i in range(d):
                g[..., i] = raw[pos + i]
            pos += d
        if "h" in kind:
            H = np.empty(batch + (d, d))
            for i in range(d):
                for j in range(i, d):
                    H[..., i, j] = raw[pos]
                    if j != i:
                        H[..., j, i] = raw[pos]
                    pos += 1
        return f, g, H

    def value(self, X) -> np.ndarray:
        return self._evaluate("f", X)[0]

    def grad(self, X) -> np.ndarray:
        return self._evaluate("g", X)[1]

    def hess(self, X) -> np.ndarray:
        return self._evaluate("h", X)[2]

    def value_grad(self, X) -> tuple[np.ndarray, np.ndarray]:
        f, g, _ = self._evaluate("fg", X)
        return f, g

    def grad_hess(self, X) -> tuple[np.ndarray, np.ndarray]:
        _, g, H = self._evaluate("gh", X)
        return g, H

    def value_grad_hess(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """f, ∇f and ∇²f in one compiled call that shares common subexpressions."""
        return self._evaluate("fgh", X)

    def __repr__(self) -> str:
        return f"Objective({self.text!r}, variables={self.variables})"


def objective_from_expr(expr: sp.Expr, variables: Sequence[str], text: str | None = None) -> Objective:
    """Build an Objective from a trusted SymPy expression (tests, presets written in code)."""
    names = tuple(variables)
    gradient, hessian = derive(expr, names)
    return Objective(text=text if text is not None else str(expr), expr=expr, variables=names,
                     gradient_exprs=gradient, hessian_exprs=sp.Matrix(hessian))


@functools.lru_cache(maxsize=128)
def _parse_cached(text: str, variables: tuple[str, ...] | None, seconds: float | None) -> Objective:
    from .sandbox import run_limited
    expr, names, gradient, hessian = run_limited(_parse_and_derive, text, variables, seconds=seconds)
    return Objective(text=text, expr=expr, variables=names, gradient_exprs=gradient,
                     hessian_exprs=sp.Matrix(hessian))


def parse(text: str, variables: Sequence[str] | None = None, *,
          seconds: float | None = DERIVE_SECONDS) -> Objective:
    """Parse typed text into an Objective; raises FormulaError with a student-readable message.

    >>> obj = parse("x^2 + 3y^2")
    >>> obj.variables, obj.grad([1.0, 1.0]).tolist()
    (('x', 'y'), [2.0, 6.0])

    `variables` fixes the order (or adds a variable the formula does not use). Parsing and
    differentiation run in a worker process limited to `seconds` of wall-clock time; results are
    cached per (text, variables), so retyping a formula costs nothing.
    """
    if not isinstance(text, str):
        raise FormulaError("the formula must be text")
    key = tuple(variables) if variables is not None else None
    return _parse_cached(text.strip(), key, seconds)
