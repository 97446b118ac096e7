"""Named methods as recipes of step rules, registered by keyword with their parameters.

A method is one recipe registered with :func:`register`: the decorator takes the method's name,
its one-line summary, its update rule in LaTeX and its parameters (:class:`ParamSpec`: default,
label and help for the UI, a suggested slider range ``low``/``high`` and hard bounds the engine
enforces). The recipe's signature must name exactly those parameters, checked at import, and
the recipe is called by keyword. Adding a method is one rule in ``rules.py`` (if new), one
registered recipe here, and one row in the method table of ``tests/test_methods.py``; the CLI
(``python -m optcore methods``), share links and the UI read this registry.

Defaults are chosen for the explorer's 2-D pictures: GD-family learning rates that behave on the
seeds' quadratics, Newton-type methods at ``lr = 1`` with no line search (the textbook update),
BFGS / L-BFGS with Armijo backtracking (the standard pairing), and CG with an exact line search
(conjugacy, and finite termination on quadratics, rely on exact line minimisation).

``low`` / ``high`` are the suggested slider range, not enforced: a run with ``lr = 1.1`` to show
divergence must stay possible. ``minimum`` / ``maximum`` are hard bounds (``resolve_params``
refuses values beyond them, naming the parameter and the range), as are ``choices``.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, NamedTuple
from collections.abc import Callable

import numpy as np

from . import rules
from .rules import StepRule


class ParamSpec(NamedTuple):
    """One parameter of a method.

    ``low``/``high``: the suggested (slider) range; ``minimum``/``maximum``: hard bounds, open
    at an end whose ``*_open`` flag is set; ``per_row``: may be an array of one value per start
    in ``run_batch``.
    """

    name: str
    default: Any
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple | None = None
    help: str = ""
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    minimum_open: bool = False
    maximum_open: bool = False
    per_row: bool = False

    def range_text(self) -> str:
        lo = "-∞" if self.minimum is None else f"{self.minimum:g}"
        hi = "∞" if self.maximum is None else f"{self.maximum:g}"
        return f"{'(' if self.minimum_open or self.minimum is None else '['}{lo}, {hi}{')' if self.maximum_open or self.maximum is None else ']'}"

    def allows(self, value: np.ndarray | float) -> np.ndarray | bool:
        """Whether ``value`` (a number or an array) is finite and within the hard bounds."""
        v = np.asarray(value, dtype=float)
        ok = np.isfinite(v)
        if self.minimum is not None:
            ok &= (v > self.minimum) if self.minimum_open else (v >= self.minimum)
        if self.maximum is not None:
            ok &= (v < self.maximum) if self.maximum_open else (v <= self.maximum)
        return ok


class MethodSpec(NamedTuple):
    name: str
    label: str
    summary: str
    update_latex: str
    needs_hessian: bool
    first_order: bool  # gradient-step family (GD, momentum, adaptive): these take noise and seed
    params: tuple[ParamSpec, ...]
    build: Callable[..., StepRule]


class RegistrationError(TypeError):
    """A recipe whose signature does not match its declared parameters (raised at import)."""


METHODS: dict[str, MethodSpec] = {}


def register(name: str, *, label: str, summary: str, update_latex: str, params: tuple[ParamSpec, ...],
             needs_hessian: bool = False, first_order: bool = False) -> Callable:
    """Register the decorated recipe as method ``name``; its signature must take exactly ``params``."""

    def decorate(build: Callable[..., StepRule]) -> Callable[..., StepRule]:
        _check_recipe(name, build, params)
        METHODS[name] = MethodSpec(name, label, summary, update_latex, needs_hessian, first_order, tuple(params), build)
        return build

    return decorate


def _check_recipe(name: str, build: Callable, params: tuple[ParamSpec, ...]) -> None:
    if name in METHODS:
        raise RegistrationError(f"method {name!r} is registered twice")
    declared = [p.name for p in params]
    if len(declared) != len(set(declared)):
        raise RegistrationError(f"method {name!r} declares a parameter twice: {declared}")
    signature = inspect.signature(build)
    taken = [p.name for p in signature.parameters.values()
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    required = {p.name for p in signature.parameters.values()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is p.empty}
    missing, unused = sorted(set(declared) - set(taken)), sorted(required - set(declared))
    if missing or unused or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values()):
        raise RegistrationError(f"recipe {build.__name__} of method {name!r} does not match its parameters: "
                                f"declared but not taken {missing}, taken but not declared {unused}")
    for p in params:
        if not p.label or not p.help:
            raise RegistrationError(f"method {name!r}: parameter {p.name!r} needs a label and a help text")
        if p.choices is not None and p.default not in p.choices:
            raise RegistrationError(f"method {name!r}: default of {p.name!r} is not one of its choices")
        if p.choices is None and not isinstance(p.default, bool) and not p.allows(p.default):
            raise RegistrationError(f"method {name!r}: default of {p.name!r} is outside {p.range_text()}")


LINE_SEARCHES = ("none", "backtracking", "exact")

# Hard bounds: what the engine accepts at all (the slider ranges are far inside).
MAX_LR = 1e6
MAX_NOISE = 1e6
MAX_MEMORY = 100


def _lr(default: float, help_text: str = "step size η (a number, or a schedule k -> η_k)") -> ParamSpec:
    return ParamSpec("lr", default, 1e-4, 10.0, True, None, help_text, "learning rate η",
                     0.0, MAX_LR, minimum_open=True, per_row=True)


def _line_search(default: str) -> ParamSpec:
    return ParamSpec(
        "line_search", default, None, None, False, LINE_SEARCHES,
        "how far to go along the direction: fixed lr, Armijo backtracking from lr, or exact 1-D minimisation",
        "line search",
    )


def _decay(name: str, default: float, high: float, help_text: str, label: str) -> ParamSpec:
    """A decay or momentum weight in [0, 1)."""
    return ParamSpec(name, default, 0.0, high, False, None, help_text, label, 0.0, 1.0, maximum_open=True,
                     per_row=True)


def _eps(default: float, help_text: str) -> ParamSpec:
    return ParamSpec("eps", default, 1e-12, 1e-1, True, None, help_text, "ε", 0.0, 1e3, minimum_open=True,
                     per_row=True)


NOISE = ParamSpec("noise", 0.0, 0.0, 10.0, False, None, "std of Gaussian noise added to each gradient (simulated SGD)",
                  "gradient noise σ", 0.0, MAX_NOISE, per_row=True)
SEED = ParamSpec("seed", 0, 0, 2**31 - 1, False, None, "random seed of the gradient noise", "noise seed", 0, 2**32 - 1)
FIRST_ORDER_EXTRAS = (NOISE, SEED)
_BETA = _decay("beta", 0.9, 0.999, "momentum: weight β of the previous velocity", "momentum β")
_BETA1 = _decay("beta1", 0.9, 0.999, "decay β₁ of the first moment", "β₁")
_BETA2 = _decay("beta2", 0.999, 0.99999, "decay β₂ of the second moment", "β₂")
_FLOOR = ParamSpec("floor", 1e-3, 1e-8, 10.0, True, None, "δ: smallest |eigenvalue| used, caps the step",
                   "eigenvalue floor δ", 0.0, 1e6, minimum_open=True)
_FIRST_TRIAL = "first trial step of the line search (or the fixed step)"


def _weight_decay(default: float) -> ParamSpec:
    return ParamSpec("weight_decay", default, 0.0, 1.0, False, None,
                     "decoupled weight decay: each step also shrinks x by lr·wd·x", "weight decay wd", 0.0, 1e3,
                     per_row=True)


def _first_order(core: StepRule, noise, seed: int) -> list[StepRule]:
    return [rules.add_noise(noise, seed), core] if _nonzero(noise) else [core]


def _nonzero(value) -> bool:
    return bool(np.any(np.asarray(value) != 0))


# ---------------------------------------------------------------- the methods (gallery order)


@register("gd", label="Gradient descent",
          summary="Step downhill along the negative gradient, scaled by the learning rate.",
          update_latex=r"x_{k+1} = x_k - \eta\,\nabla f(x_k)",
          params=(_lr(0.1), _line_search("none"), *FIRST_ORDER_EXTRAS), first_order=True)
def _build_gd(lr, line_search, noise, seed) -> StepRule:
    links = [rules.add_noise(noise, seed)] if _nonzero(noise) else []
    return rules.chain(*links, rules.line_search(line_search, lr))


@register("momentum", label="Momentum (heavy ball)",
          summary="Average past gradients into a velocity so steps build speed along consistent directions.",
          update_latex=r"v_{k+1} = \beta v_k + \nabla f(x_k),\quad x_{k+1} = x_k - \eta\, v_{k+1}",
          params=(_lr(0.05), _BETA, *FIRST_ORDER_EXTRAS), first_order=True)
def _build_momentum(lr, beta, noise, seed, nesterov=False) -> StepRule:
    return rules.chain(*_first_order(rules.scale_by_momentum(beta, nesterov), noise, seed), rules.scale_by_lr(lr))


@register("nesterov", label="Nesterov momentum",
          summary="Momentum that adds the fresh gradient on top of the updated velocity (a look-ahead correction).",
          update_latex=r"v_{k+1} = \beta v_k + \nabla f(x_k),\quad x_{k+1} = x_k - \eta\,(\nabla f(x_k) + \beta v_{k+1})",
          params=(_lr(0.05), _BETA, *FIRST_ORDER_EXTRAS), first_order=True)
def _build_nesterov(lr, beta, noise, seed) -> StepRule:
    return _build_momentum(lr, beta, noise, seed, nesterov=True)


@register("adagrad", label="AdaGrad",
          summary="Give each coordinate its own step, shrinking with the sum of its squared gradients so far.",
          update_latex=r"s_{k+1} = s_k + g_k^2,\quad x_{k+1} = x_k - \frac{\eta}{\sqrt{s_{k+1} + \epsilon}}\odot g_k",
          params=(_lr(0.4), _eps(1e-6, "ε keeps the division safe where gradients vanish"), *FIRST_ORDER_EXTRAS),
          first_order=True)
def _build_adagrad(lr, eps, noise, seed) -> StepRule:
    return rules.chain(*_first_order(rules.scale_by_adagrad(eps), noise, seed), rules.scale_by_lr(lr))


@register("rmsprop", label="RMSProp",
          summary="Like AdaGrad, but with a leaky average of squared gradients, so steps do not shrink forever.",
          update_latex=r"s_{k+1} = \gamma s_k + (1-\gamma) g_k^2,\quad x_{k+1} = x_k - \frac{\eta}{\sqrt{s_{k+1} + \epsilon}}\odot g_k",
          params=(_lr(0.1), _decay("gamma", 0.9, 0.999, "decay γ of the squared-gradient average", "decay γ"),
                  _eps(1e-6, "ε keeps the division safe where gradients vanish"), *FIRST_ORDER_EXTRAS),
          first_order=True)
def _build_rmsprop(lr, gamma, eps, noise, seed) -> StepRule:
    return rules.chain(*_first_order(rules.scale_by_rms(gamma, eps), noise, seed), rules.scale_by_lr(lr))


@register("adam", label="Adam",
          summary="Momentum on the gradient plus RMSProp scaling, both bias-corrected: steps of about η per coordinate.",
          update_latex=r"m_{k+1} = \beta_1 m_k + (1-\beta_1) g_k,\ v_{k+1} = \beta_2 v_k + (1-\beta_2) g_k^2,\ "
                       r"x_{k+1} = x_k - \eta\,\frac{\hat m_{k+1}}{\sqrt{\hat v_{k+1}} + \epsilon}",
          params=(_lr(0.1), _BETA1, _BETA2, _eps(1e-8, "ε in the denominator"), *FIRST_ORDER_EXTRAS),
          first_order=True)
def _build_adam(lr, beta1, beta2, eps, noise, seed) -> StepRule:
    return rules.chain(*_first_order(rules.scale_by_adam(beta1, beta2, eps), noise, seed), rules.scale_by_lr(lr))


@register("adamw", label="AdamW (decoupled weight decay)",
          summary="Adam plus a weight decay applied to x directly, not through the gradient (Loshchilov & Hutter 2019).",
          update_latex=r"x_{k+1} = x_k - \eta\left(\frac{\hat m_{k+1}}{\sqrt{\hat v_{k+1}} + \epsilon} + w\,x_k\right)",
          params=(_lr(0.1), _BETA1, _BETA2, _eps(1e-8, "ε in the denominator"), _weight_decay(0.01),
                  *FIRST_ORDER_EXTRAS),
          first_order=True)
def _build_adamw(lr, beta1, beta2, eps, weight_decay, noise, seed) -> StepRule:
    return rules.chain(*_first_order(rules.scale_by_adam(beta1, beta2, eps), noise, seed),
                       rules.add_decayed_weights(weight_decay), rules.scale_by_lr(lr))


@register("lion", label="Lion (sign momentum)",
          summary="Step by the sign of a blend of momentum and gradient: every coordinate moves by exactly η (Chen et al. 2023).",
          update_latex=r"c_k = \beta_1 m_k + (1-\beta_1) g_k,\ x_{k+1} = x_k - \eta\,(\mathrm{sign}(c_k) + w\,x_k),\ "
                       r"m_{k+1} = \beta_2 m_k + (1-\beta_2) g_k",
          params=(_lr(0.05), _decay("beta1", 0.9, 0.999, "weight β₁ of the momentum in the signed blend", "β₁"),
                  _decay("beta2", 0.99, 0.9999, "decay β₂ of the momentum", "β₂"), _weight_decay(0.0),
                  *FIRST_ORDER_EXTRAS),
          first_order=True)
def _build_lion(lr, beta1, beta2, weight_decay, noise, seed) -> StepRule:
    return rules.chain(*_first_order(rules.scale_by_lion(beta1, beta2), noise, seed),
                       rules.add_decayed_weights(weight_decay), rules.scale_by_lr(lr))


@register("newton", label="Newton's method",
          summary="Jump to the stationary point of the local quadratic model; lr < 1 damps the jump.",
          update_latex=r"x_{k+1} = x_k - \eta\, H(x_k)^{-1} \nabla f(x_k)",
          params=(_lr(1.0, "η = 1 is pure Newton, η < 1 damped; a schedule k -> η_k also works"), _line_search("none")),
          needs_hessian=True)
def _build_newton(lr, line_search) -> StepRule:
    return rules.chain(rules.precondition_newton("pure"), rules.line_search(line_search, lr))


@register("newton_abs", label="Newton with |H| (saddle-free)",
          summary="Newton with every Hessian eigenvalue replaced by its absolute value, so it never climbs.",
          update_latex=r"x_{k+1} = x_k - \eta\, |H(x_k)|^{-1} \nabla f(x_k),\quad |H| = V\max(|\Lambda|, \delta)V^\top",
          params=(_lr(1.0), _FLOOR, _line_search("none")), needs_hessian=True)
def _build_newton_abs(lr, floor, line_search) -> StepRule:
    return rules.chain(rules.precondition_newton("abs", floor=floor), rules.line_search(line_search, lr))


@register("newton_reg", label="Regularised Newton (Levenberg–Marquardt)",
          summary="Newton on H + λI; λ shrinks after a step that lowers f and grows when f rises or H + λI is not positive definite.",
          update_latex=r"x_{k+1} = x_k - \eta\,(H(x_k) + \lambda_k I)^{-1} \nabla f(x_k)",
          params=(_lr(1.0), ParamSpec("lambda0", 1.0, 1e-8, 1e4, True, None, "starting damping λ₀", "damping λ₀",
                                      0.0, 1e12, per_row=True), _line_search("none")),
          needs_hessian=True)
def _build_newton_reg(lr, lambda0, line_search) -> StepRule:
    return rules.chain(rules.precondition_newton("reg", lambda0=lambda0), rules.line_search(line_search, lr))


@register("diag_newton", label="Diagonal Newton (preconditioned GD)",
          summary="Divide each gradient coordinate by its own curvature, the diagonal of the Hessian.",
          update_latex=r"x_{k+1} = x_k - \eta\,\mathrm{diag}(H(x_k))^{-1} \nabla f(x_k)",
          params=(_lr(1.0), ParamSpec("use_abs", True, None, None, False, (True, False),
                                      "use |diag H| so the step always descends", "use |diag H|"),
                  _FLOOR._replace(help="smallest |curvature| divided by", label="curvature floor δ"),
                  _line_search("none")),
          needs_hessian=True)
def _build_diag_newton(lr, use_abs, floor, line_search) -> StepRule:
    mode = "diag_abs" if use_abs else "diag"
    return rules.chain(rules.precondition_newton(mode, floor=floor), rules.line_search(line_search, lr))


@register("bfgs", label="BFGS",
          summary="Build an approximation of the inverse Hessian from how the gradient changed along each step.",
          update_latex=r"x_{k+1} = x_k - \alpha_k B_k \nabla f(x_k),\ B_{k+1} = (I - \rho s y^\top) B_k (I - \rho y s^\top) + \rho s s^\top",
          params=(_lr(1.0, _FIRST_TRIAL), _line_search("backtracking")))
def _build_bfgs(lr, line_search) -> StepRule:
    return rules.chain(rules.bfgs_inverse(), rules.line_search(line_search, lr))


@register("lbfgs", label="L-BFGS",
          summary="BFGS that keeps only the last few step/gradient-change pairs instead of a full matrix.",
          update_latex=r"x_{k+1} = x_k - \alpha_k\, \mathrm{twoloop}(\nabla f(x_k); \{s_i, y_i\}_{i>k-M})",
          params=(_lr(1.0, _FIRST_TRIAL),
                  ParamSpec("memory", 5, 1, 50, False, None, "number M of stored pairs", "memory M", 1, MAX_MEMORY),
                  _line_search("backtracking")))
def _build_lbfgs(lr, memory, line_search) -> StepRule:
    return rules.chain(rules.lbfgs(memory), rules.line_search(line_search, lr))


@register("cg", label="Nonlinear conjugate gradient",
          summary="Mix the new gradient with the previous direction so successive line searches do not undo each other.",
          update_latex=r"d_k = -\nabla f(x_k) + \beta_k d_{k-1},\quad x_{k+1} = x_k + \alpha_k d_k",
          params=(_lr(1.0, _FIRST_TRIAL),
                  ParamSpec("beta_rule", "PR+", None, None, False, ("PR+", "PR", "FR"),
                            "Polak–Ribière (+) or Fletcher–Reeves β", "β rule"),
                  _line_search("exact")))
def _build_cg(lr, beta_rule, line_search) -> StepRule:
    return rules.chain(rules.cg(beta_rule), rules.line_search(line_search, lr))


def get_method(method: str | MethodSpec) -> MethodSpec:
    """Look a method up by name; unknown names list the valid ones."""
    if isinstance(method, MethodSpec):
        return method
    try:
        return METHODS[method]
    except (KeyError, TypeError):
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}") from None


def _coerce(spec: ParamSpec, method: str, value: Any) -> Any:
    where = f"{method}: parameter {spec.name!r}"
    if spec.choices is not None:
        if value not in spec.choices:
            raise ValueError(f"{where} must be one of {', '.join(map(repr, spec.choices))}, got {value!r}")
        return value
    if spec.name == "lr" and callable(value):
        return value  # a schedule k -> lr
    default = spec.default
    if isinstance(default, bool):
        if not isinstance(value, (bool, int, np.bool_)):
            raise ValueError(f"{where} must be True or False, got {value!r}")
        return bool(value)
    if isinstance(value, (np.ndarray, list, tuple)):
        return _coerce_rows(spec, where, value)
    if isinstance(default, int):
        try:
            whole = not isinstance(value, bool) and float(value).is_integer()
        except (TypeError, ValueError, OverflowError):
            whole = False
        if not whole:
            raise ValueError(f"{where} must be an integer in {spec.range_text()}, got {value!r}")
        number = int(float(value)) if abs(float(value)) < 2**63 else math.inf
    else:
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{where} must be a number in {spec.range_text()}, got {value!r}") from None
    if not spec.allows(number):
        raise ValueError(f"{where} must be a finite number in {spec.range_text()}, got {value!r}")
    return number


def _coerce_rows(spec: ParamSpec, where: str, value: Any) -> np.ndarray:
    """A per-row value: a 1-D array of numbers, each within the hard bounds."""
    if not spec.per_row:
        raise ValueError(f"{where} takes one value for all rows, not an array")
    try:
        values = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: per-row values must be numbers") from None
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{where}: per-row values must have shape (m,), one per start, got shape {values.shape}")
    bad = np.flatnonzero(~spec.allows(values))
    if bad.size:
        raise ValueError(f"{where} must be a finite number in {spec.range_text()}, got {values[bad[0]]!r} "
                         f"in row {int(bad[0])}")
    return values


def resolve_params(method: str | MethodSpec, **params: Any) -> dict[str, Any]:
    """Validate ``params`` for ``method`` and fill in defaults (in the spec's order).

    Raises ``ValueError`` naming the valid parameters when a name is unknown, and naming the
    parameter and its allowed range when a value is not a finite number within it.
    """
    spec = get_method(method)
    valid = [p.name for p in spec.params]
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"{spec.name} does not take parameter(s) {', '.join(unknown)}; valid parameters: {', '.join(valid)}"
        )
    return {p.name: _coerce(p, spec.name, params.get(p.name, p.default)) for p in spec.params}


def build_rule(method: str | MethodSpec, **params: Any) -> tuple[StepRule, dict[str, Any]]:
    """The step rule for ``method`` and the parameters actually used."""
    spec = get_method(method)
    used = resolve_params(spec, **params)
    return spec.build(**used), used
