"""Named methods as recipes of step rules, with their parameters described for the UI.

Each :class:`MethodSpec` says what a method does in one line, shows its update rule in LaTeX and
lists its parameters (:class:`ParamSpec`: default and a suggested slider range). ``build(**params)``
returns the :class:`~optcore.rules.StepRule` chain. A new method is one recipe plus one entry in
``METHODS``.

Defaults are chosen for the explorer's 2-D pictures: GD-family learning rates that behave on the
seeds' quadratics, Newton-type methods at ``lr = 1`` with no line search (the textbook update),
BFGS / L-BFGS with Armijo backtracking (the standard pairing), and CG with an exact line search
(conjugacy, and finite termination on quadratics, rely on exact line minimisation).

``low`` / ``high`` are the suggested slider range, not enforced: a run with ``lr = 1.1`` to show
divergence must stay possible. ``resolve_params`` enforces names, types and ``choices``.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from collections.abc import Callable

from . import rules
from .rules import StepRule


class ParamSpec(NamedTuple):
    name: str
    default: Any
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple | None = None
    help: str = ""


class MethodSpec(NamedTuple):
    name: str
    label: str
    summary: str
    update_latex: str
    needs_hessian: bool
    first_order: bool  # gradient-step family (GD, momentum, adaptive): these take noise and seed
    params: tuple[ParamSpec, ...]
    build: Callable[..., StepRule]


LINE_SEARCHES = ("none", "backtracking", "exact")


def _lr(default: float, help_text: str = "step size η (a number, or a schedule k -> η_k)") -> ParamSpec:
    return ParamSpec("lr", default, 1e-4, 10.0, True, None, help_text)


def _line_search(default: str) -> ParamSpec:
    return ParamSpec(
        "line_search", default, None, None, False, LINE_SEARCHES,
        "how far to go along the direction: fixed lr, Armijo backtracking from lr, or exact 1-D minimisation",
    )


NOISE = ParamSpec("noise", 0.0, 0.0, 10.0, False, None, "std of Gaussian noise added to each gradient (simulated SGD)")
SEED = ParamSpec("seed", 0, 0, 2**31 - 1, False, None, "random seed of the gradient noise")
FIRST_ORDER_EXTRAS = (NOISE, SEED)


def _first_order(core: StepRule, noise: float, seed: int) -> list[StepRule]:
    return [rules.add_noise(noise, seed), core] if noise else [core]


def _build_gd(lr, line_search, noise, seed) -> StepRule:
    links = [rules.add_noise(noise, seed)] if noise else []
    return rules.chain(*links, rules.line_search(line_search, lr))


def _build_momentum(lr, beta, noise, seed, nesterov=False) -> StepRule:
    return rules.chain(*_first_order(rules.scale_by_momentum(beta, nesterov), noise, seed), rules.scale_by_lr(lr))


def _build_nesterov(lr, beta, noise, seed) -> StepRule:
    return _build_momentum(lr, beta, noise, seed, nesterov=True)


def _build_adagrad(lr, eps, noise, seed) -> StepRule:
    return rules.chain(*_first_order(rules.scale_by_adagrad(eps), noise, seed), rules.scale_by_lr(lr))


def _build_rmsprop(lr, gamma, eps, noise, seed) -> StepRule:
    return rules.chain(*_first_order(rules.scale_by_rms(gamma, eps), noise, seed), rules.scale_by_lr(lr))


def _build_adam(lr, beta1, beta2, eps, noise, seed) -> StepRule:
    return rules.chain(*_first_order(rules.scale_by_adam(beta1, beta2, eps), noise, seed), rules.scale_by_lr(lr))


def _build_newton(lr, line_search) -> StepRule:
    return rules.chain(rules.precondition_newton("pure"), rules.line_search(line_search, lr))


def _build_newton_abs(lr, floor, line_search) -> StepRule:
    return rules.chain(rules.precondition_newton("abs", floor=floor), rules.line_search(line_search, lr))


def _build_newton_reg(lr, lambda0, line_search) -> StepRule:
    return rules.chain(rules.precondition_newton("reg", lambda0=lambda0), rules.line_search(line_search, lr))


def _build_diag_newton(lr, use_abs, floor, line_search) -> StepRule:
    mode = "diag_abs" if use_abs else "diag"
    return rules.chain(rules.precondition_newton(mode, floor=floor), rules.line_search(line_search, lr))


def _build_bfgs(lr, line_search) -> StepRule:
    return rules.chain(rules.bfgs_inverse(), rules.line_search(line_search, lr))


def _build_lbfgs(lr, memory, line_search) -> StepRule:
    return rules.chain(rules.lbfgs(memory), rules.line_search(line_search, lr))


def _build_cg(lr, beta_rule, line_search) -> StepRule:
    return rules.chain(rules.cg(beta_rule), rules.line_search(line_search, lr))


_BETA = ParamSpec("beta", 0.9, 0.0, 0.999, False, None, "momentum: weight β of the previous velocity")
_EPS = ParamSpec("eps", 1e-6, 1e-12, 1e-1, True, None, "ε keeps the division safe where gradients vanish")

METHODS: dict[str, MethodSpec] = {
    spec.name: spec
    for spec in (
        MethodSpec(
            "gd", "Gradient descent",
            "Step downhill along the negative gradient, scaled by the learning rate.",
            r"x_{k+1} = x_k - \eta\,\nabla f(x_k)",
            False, True, (_lr(0.1), _line_search("none"), *FIRST_ORDER_EXTRAS), _build_gd,
        ),
        MethodSpec(
            "momentum", "Momentum (heavy ball)",
            "Average past gradients into a velocity so steps build speed along consistent directions.",
            r"v_{k+1} = \beta v_k + \nabla f(x_k),\quad x_{k+1} = x_k - \eta\, v_{k+1}",
            False, True, (_lr(0.05), _BETA, *FIRST_ORDER_EXTRAS), _build_momentum,
        ),
        MethodSpec(
            "nesterov", "Nesterov momentum",
            "Momentum that adds the fresh gradient on top of the updated velocity (a look-ahead correction).",
            r"v_{k+1} = \beta v_k + \nabla f(x_k),\quad x_{k+1} = x_k - \eta\,(\nabla f(x_k) + \beta v_{k+1})",
            False, True, (_lr(0.05), _BETA, *FIRST_ORDER_EXTRAS), _build_nesterov,
        ),
        MethodSpec(
            "adagrad", "AdaGrad",
            "Give each coordinate its own step, shrinking with the sum of its squared gradients so far.",
            r"s_{k+1} = s_k + g_k^2,\quad x_{k+1} = x_k - \frac{\eta}{\sqrt{s_{k+1} + \epsilon}}\odot g_k",
            False, True, (_lr(0.4), _EPS, *FIRST_ORDER_EXTRAS), _build_adagrad,
        ),
        MethodSpec(
            "rmsprop", "RMSProp",
            "Like AdaGrad, but with a leaky average of squared gradients, so steps do not shrink forever.",
            r"s_{k+1} = \gamma s_k + (1-\gamma) g_k^2,\quad x_{k+1} = x_k - \frac{\eta}{\sqrt{s_{k+1} + \epsilon}}\odot g_k",
            False, True,
            (_lr(0.1), ParamSpec("gamma", 0.9, 0.0, 0.999, False, None, "decay γ of the squared-gradient average"),
             _EPS, *FIRST_ORDER_EXTRAS),
            _build_rmsprop,
        ),
        MethodSpec(
            "adam", "Adam",
            "Momentum on the gradient plus RMSProp scaling, both bias-corrected: steps of about η per coordinate.",
            r"m_{k+1} = \beta_1 m_k + (1-\beta_1) g_k,\ v_{k+1} = \beta_2 v_k + (1-\beta_2) g_k^2,\ "
            r"x_{k+1} = x_k - \eta\,\frac{\hat m_{k+1}}{\sqrt{\hat v_{k+1}} + \epsilon}",
            False, True,
            (_lr(0.1), ParamSpec("beta1", 0.9, 0.0, 0.999, False, None, "decay β₁ of the first moment"),
             ParamSpec("beta2", 0.999, 0.0, 0.99999, False, None, "decay β₂ of the second moment"),
             ParamSpec("eps", 1e-8, 1e-12, 1e-1, True, None, "ε in the denominator"), *FIRST_ORDER_EXTRAS),
            _build_adam,
        ),
        MethodSpec(
            "newton", "Newton's method",
            "Jump to the stationary point of the local quadratic model; lr < 1 damps the jump.",
            r"x_{k+1} = x_k - \eta\, H(x_k)^{-1} \nabla f(x_k)",
            True, False, (_lr(1.0, "η = 1 is pure Newton, η < 1 damped; a schedule k -> η_k also works"),
                          _line_search("none")), _build_newton,
        ),
        MethodSpec(
            "newton_abs", "Newton with |H| (saddle-free)",
            "Newton with every Hessian eigenvalue replaced by its absolute value, so it never climbs.",
            r"x_{k+1} = x_k - \eta\, |H(x_k)|^{-1} \nabla f(x_k),\quad |H| = V\max(|\Lambda|, \delta)V^\top",
            True, False,
            (_lr(1.0), ParamSpec("floor", 1e-3, 1e-8, 10.0, True, None, "δ: smallest |eigenvalue| used, caps the step"),
             _line_search("none")),
            _build_newton_abs,
        ),
        MethodSpec(
            "newton_reg", "Regularised Newton (Levenberg–Marquardt)",
            "Newton on H + λI; λ shrinks after a step that lowers f and grows when f rises or H + λI is not positive definite.",
            r"x_{k+1} = x_k - \eta\,(H(x_k) + \lambda_k I)^{-1} \nabla f(x_k)",
            True, False,
            (_lr(1.0), ParamSpec("lambda0", 1.0, 1e-8, 1e4, True, None, "starting damping λ₀"), _line_search("none")),
            _build_newton_reg,
        ),
        MethodSpec(
            "diag_newton", "Diagonal Newton (preconditioned GD)",
            "Divide each gradient coordinate by its own curvature, the diagonal of the Hessian.",
            r"x_{k+1} = x_k - \eta\,\mathrm{diag}(H(x_k))^{-1} \nabla f(x_k)",
            True, False,
            (_lr(1.0), ParamSpec("use_abs", True, None, None, False, (True, False), "use |diag H| so the step always descends"),
             ParamSpec("floor", 1e-3, 1e-8, 10.0, True, None, "smallest |curvature| divided by"),
             _line_search("none")),
            _build_diag_newton,
        ),
        MethodSpec(
            "bfgs", "BFGS",
            "Build an approximation of the inverse Hessian from how the gradient changed along each step.",
            r"x_{k+1} = x_k - \alpha_k B_k \nabla f(x_k),\ B_{k+1} = (I - \rho s y^\top) B_k (I - \rho y s^\top) + \rho s s^\top",
            False, False, (_lr(1.0, "first trial step of the line search (or the fixed step)"), _line_search("backtracking")),
            _build_bfgs,
        ),
        MethodSpec(
            "lbfgs", "L-BFGS",
            "BFGS that keeps only the last few step/gradient-change pairs instead of a full matrix.",
            r"x_{k+1} = x_k - \alpha_k\, \mathrm{twoloop}(\nabla f(x_k); \{s_i, y_i\}_{i>k-M})",
            False, False,
            (_lr(1.0, "first trial step of the line search (or the fixed step)"),
             ParamSpec("memory", 5, 1, 50, False, None, "number M of stored pairs"), _line_search("backtracking")),
            _build_lbfgs,
        ),
        MethodSpec(
            "cg", "Nonlinear conjugate gradient",
            "Mix the new gradient with the previous direction so successive line searches do not undo each other.",
            r"d_k = -\nabla f(x_k) + \beta_k d_{k-1},\quad x_{k+1} = x_k + \alpha_k d_k",
            False, False,
            (_lr(1.0, "first trial step of the line search (or the fixed step)"),
             ParamSpec("beta_rule", "PR+", None, None, False, ("PR+", "PR", "FR"), "Polak–Ribière (+) or Fletcher–Reeves β"),
             _line_search("exact")),
            _build_cg,
        ),
    )
}


def get_method(method: str | MethodSpec) -> MethodSpec:
    """Look a method up by name; unknown names list the valid ones."""
    if isinstance(method, MethodSpec):
        return method
    try:
        return METHODS[method]
    except KeyError:
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
        if not isinstance(value, (bool, int)):
            raise ValueError(f"{where} must be True or False, got {value!r}")
        return bool(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not float(value).is_integer():
            raise ValueError(f"{where} must be an integer, got {value!r}")
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be a number, got {value!r}") from None
    return number


def resolve_params(method: str | MethodSpec, **params: Any) -> dict[str, Any]:
    """Validate ``params`` for ``method`` and fill in defaults (in the spec's order).

    Raises ``ValueError`` naming the valid parameters when a name is unknown.
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
