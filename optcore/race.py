"""Fair races between methods: an equal budget, tuned learning rates and many starts.

A race answers "which method is better here?" without the three usual unfairnesses: one method
hand-tuned and the others at a default, a budget in iterations although a Newton step costs far
more than a gradient step, and a single start point that happens to favour one method.

    >>> obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    >>> starts = random_starts([(-2, 2), (-1, 3)], 16, seed=0)
    >>> result = race(obj, [("gd", {}), ("bfgs", {})], starts, Budget("grad", 500), tune=True)
    >>> result.table()

Every start and every value of a tuning ladder is one row of ONE batched run per method
(`run_batch` with per-row parameters), so tuning 48 learning rates over 16 starts costs about
as much as one run of 768 starts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from .methods import METHODS
from .run import run_batch

EVALUATION_KINDS = ("f", "grad", "hess")  # the columns of BatchTrajectory.evaluations
BUDGET_KINDS = {
    "iterations": "iterations",
    "f": "f evaluations",
    "grad": "gradient evaluations",
    "hess": "Hessian evaluations",
    "cost": "cost (f = 1, ∇f = 1, ∇²f = d gradients)",
}
MOMENTUM_PARAMS = ("beta", "beta1")          # the "momentum" a method may have, tuned with its lr
MOMENTUM_LADDER = (0.5, 0.9, 0.99)
LR_LADDER = (1e-4, 10.0)                     # log-spaced tuning range of the learning rate
LADDER_DIGITS = 3                            # ladder values rounded so labels read η = 0.254, not 0.253662
# f − f* below this (relative to max(1, |f*|)) is rounding noise, not progress: such gaps count as 0,
# so scores of 1e-21 and 1e-20 tie (to the smaller η) instead of deciding the winner invisibly.
GAP_RESOLUTION = 1e-14
UNUSED_KIND_CAP = 20                         # iterations per unit of a budget kind a method never spends
MAX_RACE_STEPS = 5000
CRITERIA = {
    "gap": "median f − f* at the budget",
    "reach": "median budget spent to reach f − f* ≤ tolerance",
}

Progress = Callable[[float, str], None] | None


# ------------------------------------------------------------------------------------- budget
@dataclass(frozen=True)
class Budget:
    """What every method may spend: ``amount`` units of ``kind``.

    ``kind`` is "iterations", "f", "grad", "hess" or "cost". The cost model counts an f
    evaluation and a gradient as 1 each and a Hessian as ``hessian_cost`` gradients (default: the
    number of variables d, what forward-over-reverse differentiation costs).
    """

    kind: str = "iterations"
    amount: int = 500
    hessian_cost: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in BUDGET_KINDS:
            raise ValueError(f"budget kind must be one of {', '.join(BUDGET_KINDS)}, got {self.kind!r}")
        if not (isinstance(self.amount, int | np.integer) and 1 <= self.amount <= 100_000):
            raise ValueError(f"budget amount must be a whole number from 1 to 100000, got {self.amount!r}")
        if self.hessian_cost is not None and not (math.isfinite(self.hessian_cost) and 0 < self.hessian_cost <= 1e4):
            raise ValueError(f"hessian_cost must be in (0, 10000], got {self.hessian_cost!r}")

    @classmethod
    def parse(cls, text: str) -> Budget:
        """ "grad=500" -> Budget("grad", 500); "500" alone means 500 iterations."""
        kind, sep, amount = text.strip().partition("=")
        if not sep:
            kind, amount = "iterations", kind
        kind = {"iter": "iterations", "iteration": "iterations", "gradient": "grad", "hessian": "hess"}.get(
            kind.strip(), kind.strip())
        try:
            value = int(amount.strip())
        except ValueError:
            raise ValueError(f"budget must look like grad=500 (a kind and a whole number), got {text!r}") from None
        return cls(kind, value)

    def per_unit(self, dim: int) -> np.ndarray:
        """The weight of one f, ∇f and ∇²f evaluation in this budget's unit."""
        if self.kind == "cost":
            return np.array([1.0, 1.0, float(self.hessian_cost or dim)])
        return np.array([float(k == self.kind) for k in EVALUATION_KINDS])

    def spent(self, evaluations: np.ndarray, dim: int) -> np.ndarray:
        """Cumulative spending ``(..., K+1)`` from cumulative evaluation counts ``(..., K+1, 3)``."""
        if self.kind == "iterations":
            k = np.arange(evaluations.shape[-2], dtype=float)
            return np.broadcast_to(k, evaluations.shape[:-1]).copy()
        return evaluations @ self.per_unit(dim)

    def iteration_cap(self, method: str) -> int:
        """How many iterations a method may take: the budget itself, or a stated cap for a kind the
        method never spends (gradient descent under a Hessian budget)."""
        if self.kind in ("iterations", "grad", "cost"):
            return self.amount  # every step costs at least one iteration / gradient / unit
        uses = METHODS[method].needs_hessian if self.kind == "hess" else True
        return min(MAX_RACE_STEPS, self.amount * (1 if uses else UNUSED_KIND_CAP))

    def describe(self, dim: int) -> str:
        unit = BUDGET_KINDS[self.kind]
        if self.kind == "cost":
            unit = f"cost (f = 1, ∇f = 1, ∇²f = {self.hessian_cost or dim:g} gradients)"
        return f"{self.amount:,} {unit}"


# ------------------------------------------------------------------------------------- starts
def random_starts(window: Sequence[tuple[float, float]], n: int, seed: int = 0,
                  first: Sequence[float] | None = None) -> np.ndarray:
    """``n`` seeded uniform starts in the window ``(n, d)``; ``first`` (the user's start) leads."""
    if not 1 <= n <= 4096:
        raise ValueError(f"number of starts must be from 1 to 4096, got {n}")
    lo, hi = np.asarray(window, dtype=float).T
    rng = np.random.default_rng(seed)
    X = lo + (hi - lo) * rng.random((n, lo.size))
    if first is not None:
        X[0] = np.asarray(first, dtype=float)
    return X


def grid_starts(window: Sequence[tuple[float, float]], per_axis: int) -> np.ndarray:
    """A regular grid of starts inside the window (cell centres), ``(per_axis**d, d)``."""
    axes = [lo + (hi - lo) * (np.arange(per_axis) + 0.5) / per_axis for lo, hi in window]
    return np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="ij")], axis=-1)


# ------------------------------------------------------------------------------- one method
@dataclass
class MethodRuns:
    """One batched run of a method: ``m = settings x starts`` rows, settings-major."""

    method: str
    settings: list[dict[str, Any]]      # per setting: the parameters that vary (lr, beta, ...)
    n_starts: int
    values: np.ndarray                  # (m, K+1) f along each row
    spent: np.ndarray                   # (m, K+1) budget spent after each step
    status: np.ndarray                  # (m,)
    final_points: np.ndarray            # (m, d)
    params: dict[str, Any]              # the parameters shared by every row

    def setting_rows(self, s: int) -> slice:
        return slice(s * self.n_starts, (s + 1) * self.n_starts)


def _run_rows(obj, method: str, starts: np.ndarray, settings: list[dict[str, Any]], params: dict[str, Any],
              budget: Budget, tol: float) -> MethodRuns:
    """Every (setting, start) pair as one row of one batched run."""
    n = len(starts)
    X0 = np.tile(starts, (len(settings), 1))
    per_row = {name: np.repeat([s[name] for s in settings], n) for name in (settings[0] if settings else {})}
    batch = run_batch(obj, method, X0, steps=budget.iteration_cap(method), tol=tol, **{**params, **per_row})
    evaluations = np.asarray(batch.evaluations, dtype=float)
    spent = budget.spent(evaluations, obj.dim)
    if budget.kind == "iterations":  # a finished row stops spending iterations
        spent = np.minimum(spent, np.asarray(batch.iterations, dtype=float)[:, None])
    return MethodRuns(method, settings, n, np.asarray(batch.values, dtype=float), spent,
                      np.asarray(batch.status), np.asarray(batch.final_points), dict(batch.params))


def values_at(runs: MethodRuns, levels: np.ndarray) -> np.ndarray:
    """f of each row after spending at most each budget level: ``(m, len(levels))``.

    A method that would overshoot a level with its next step stops before it: a row's value at a
    level is the one after the last step whose cumulative spending is within the level.
    """
    last = (runs.spent[:, :, None] <= np.asarray(levels, dtype=float)[None, None, :]).sum(axis=1) - 1
    return np.take_along_axis(runs.values, np.maximum(last, 0), axis=1)


def gap_resolution(f_star: float) -> float:
    """The smallest f − f* told apart from 0: f has about 16 digits, and f* is one of them."""
    return GAP_RESOLUTION * max(1.0, abs(float(f_star)))


def _gaps(values: np.ndarray, f_star: float) -> np.ndarray:
    """f − f*, with non-finite values (diverged rows) as +inf; gaps within the resolution are 0."""
    with np.errstate(all="ignore"):
        gap = values - f_star
    gap = np.where(gap <= gap_resolution(f_star), 0.0, gap)
    return np.where(np.isfinite(gap), gap, np.inf)


def spent_to_reach(runs: MethodRuns, f_star: float, f_tol: float, budget: Budget) -> np.ndarray:
    """``(m,)`` budget spent when f − f* first fell to ``f_tol`` (inf if never within the budget)."""
    reached = (_gaps(runs.values, f_star) <= f_tol) & (runs.spent <= budget.amount)
    first = np.argmax(reached, axis=1)
    return np.where(reached.any(axis=1), runs.spent[np.arange(len(first)), first], np.inf)


# ------------------------------------------------------------------------------------ tuning
@dataclass
class TuningSweep:
    """The score of every tried setting of one method; ``best`` is the argmin (ties: smaller lr)."""

    method: str
    settings: list[dict[str, Any]]
    scores: np.ndarray                  # (n_settings,) lower is better; inf = diverged / never reached
    criterion: str
    best: int

    @property
    def lrs(self) -> np.ndarray:
        return np.array([s["lr"] for s in self.settings])

    @property
    def best_setting(self) -> dict[str, Any]:
        return dict(self.settings[self.best])

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(lr, best score over the other tuned parameters at that lr), for a sweep plot."""
        lrs = self.lrs
        unique = np.unique(lrs)
        return unique, np.array([self.scores[lrs == lr].min() for lr in unique])


def tuning_settings(method: str, n_lrs: int = 48, lr_range: tuple[float, float] = LR_LADDER,
                    momenta: Sequence[float] = MOMENTUM_LADDER) -> list[dict[str, Any]]:
    """The ladder a method is tuned over: log-spaced lr, crossed with a few momenta if it has one.
    Ordered by lr first, so the first of equal scores is the smallest lr."""
    names = {p.name for p in METHODS[method].params}
    if "lr" not in names:
        return [{}]
    lrs = [float(f"{lr:.{LADDER_DIGITS}g}") for lr in np.geomspace(*lr_range, n_lrs)]
    momentum = next((p for p in MOMENTUM_PARAMS if p in names), None)
    if momentum is None:
        return [{"lr": float(lr)} for lr in lrs]
    return [{"lr": float(lr), momentum: float(b)} for lr in lrs for b in momenta]


def score_settings(runs: MethodRuns, criterion: str, f_star: float, f_tol: float, budget: Budget) -> np.ndarray:
    """One number per setting: the median over the starts of the criterion (lower is better)."""
    if criterion == "gap":
        per_row = _gaps(values_at(runs, np.array([float(budget.amount)]))[:, 0], f_star)
    elif criterion == "reach":
        per_row = spent_to_reach(runs, f_star, f_tol, budget)
    else:
        raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}, got {criterion!r}")
    # the median of values that include inf: np.median would return nan for inf - inf midpoints
    return np.array([_median(per_row[runs.setting_rows(s)]) for s in range(len(runs.settings))])


def _median(x: np.ndarray) -> float:
    x = np.sort(np.asarray(x, dtype=float))
    if x.size == 0:
        return math.inf
    mid = x.size // 2
    if x.size % 2:
        return float(x[mid])
    lo, hi = x[mid - 1], x[mid]
    return float(hi) if math.isinf(hi) else float((lo + hi) / 2)


def _argmin_first(scores: np.ndarray) -> int:
    """The first (smallest-lr) setting among the best; inf everywhere picks the first."""
    return int(np.argmin(scores)) if np.isfinite(scores).any() else 0


# -------------------------------------------------------------------------------------- race
@dataclass
class RaceEntry:
    label: str
    method: str
    params: dict[str, Any]              # as run (tuned values included)
    runs: MethodRuns                    # the chosen setting's rows only
    sweep: TuningSweep | None = None


@dataclass
class Race:
    entries: list[RaceEntry]
    budget: Budget
    starts: np.ndarray
    f_star: float
    f_star_source: str                  # "known minimum" or "best value reached by any run"
    f_tol: float
    criterion: str
    dim: int
    notes: list[str] = field(default_factory=list)

    @property
    def start_gap(self) -> float:
        """The median f − f* at the starts: a run that ends above it moved away from the minimum."""
        return _median(_gaps(self.entries[0].runs.values[:, 0], self.f_star)) if self.entries else math.inf

    @property
    def resolution(self) -> float:
        """Gaps f − f* at or below this count as 0 (and sit on the figures' floor)."""
        return gap_resolution(self.f_star)

    def levels(self, n: int = 101) -> np.ndarray:
        return np.linspace(0.0, float(self.budget.amount), n)

    def bands(self, n: int = 101) -> list[dict[str, np.ndarray]]:
        """Per entry: budget levels and the 25 %, 50 % and 75 % quantiles of f − f* over the starts."""
        levels = self.levels(n)
        out = []
        for entry in self.entries:
            gaps = _gaps(values_at(entry.runs, levels), self.f_star)
            with np.errstate(all="ignore"):
                q25, q50, q75 = (np.array([_quantile(gaps[:, j], q) for j in range(levels.size)]) for q in (0.25, 0.5, 0.75))
            out.append(dict(label=entry.label, levels=levels, q25=q25, median=q50, q75=q75))
        return out

    def table(self) -> list[dict[str, Any]]:
        """One row per method: tuned parameters, success rate, median and worst f − f*, median spent."""
        rows = []
        for entry in self.entries:
            runs = entry.runs
            gaps = _gaps(values_at(runs, np.array([float(self.budget.amount)]))[:, 0], self.f_star)
            reach = spent_to_reach(runs, self.f_star, self.f_tol, self.budget)
            tuned = entry.sweep.best_setting if entry.sweep is not None else {}
            rows.append({
                "method": entry.label,
                "tuned": ", ".join(f"{k}={v:.3g}" for k, v in tuned.items()) if tuned else "",
                "success rate": float(np.mean(np.isfinite(reach))),
                "median f − f*": _median(gaps),
                "worst f − f*": float(np.max(gaps)),
                f"median {self.budget.kind} to tol": _median(reach),
                "diverged": int(np.sum(runs.status == "diverged")),
                "starts": runs.n_starts,
            })
        return rows

    def winner(self) -> int | None:
        """The entry with the best success rate, then the smallest median f − f* (None if all fail)."""
        rows = self.table()
        keys = [(-r["success rate"], r["median f − f*"]) for r in rows]
        best = min(range(len(rows)), key=lambda i: keys[i])
        return best if rows[best]["success rate"] > 0 or math.isfinite(rows[best]["median f − f*"]) else None


def _quantile(x: np.ndarray, q: float) -> float:
    x = np.sort(x)
    if x.size == 0:
        return math.inf
    pos = q * (x.size - 1)
    lo, hi = x[int(math.floor(pos))], x[int(math.ceil(pos))]
    if math.isinf(hi) or math.isinf(lo):
        return float(hi if pos - math.floor(pos) > 0 else lo)
    return float(lo + (hi - lo) * (pos - math.floor(pos)))


def _label(method: str, params: dict[str, Any]) -> str:
    return METHODS[method].label


def race(obj, methods: Sequence[tuple[str, dict[str, Any]]], starts, budget: Budget, *, tune: bool = False,
         criterion: str = "gap", f_star: float | None = None, f_tol: float | None = None, tol: float = 1e-8,
         n_lrs: int = 48, on_progress: Progress = None) -> Race:
    """Run every method from every start to the same budget; with ``tune``, first pick each method's
    lr (and momentum) by a sweep scored by ``criterion`` over the same starts and budget.

    ``f_star`` is the known minimum value; without it, the best value any run reached stands in
    (and the result says so). ``f_tol`` (default 1e-6 relative to max(1, |f*|)) defines success.
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(CRITERIA)}, got {criterion!r}")
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    if starts.shape[1] != obj.dim:
        raise ValueError(f"starts have {starts.shape[1]} coordinates, the formula has {obj.dim} variables")
    if not methods:
        raise ValueError("a race needs at least one method")
    for method, _ in methods:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}")
    report = on_progress or (lambda fraction, text: None)

    all_runs: list[tuple[MethodRuns, list[dict[str, Any]]]] = []
    for i, (method, params) in enumerate(methods):
        report(i / len(methods), f"{'tuning' if tune else 'running'} {METHODS[method].label}")
        settings = tuning_settings(method, n_lrs) if tune else [{}]
        fixed = {k: v for k, v in params.items() if not (tune and k in settings[0])}
        all_runs.append((_run_rows(obj, method, starts, settings, fixed, budget, tol), settings))
    report(1.0, "done")

    source = "known minimum"
    if f_star is None:
        finite = [r.values[np.isfinite(r.values)] for r, _ in all_runs]
        finite = np.concatenate(finite) if finite else np.array([])
        f_star = float(finite.min()) if finite.size else 0.0
        source = "best value reached by any run"
    f_tol = float(f_tol) if f_tol is not None else 1e-6 * max(1.0, abs(f_star))

    entries = []
    for (method, params), (runs, settings) in zip(methods, all_runs):
        sweep = None
        best = 0
        if tune:
            scores = score_settings(runs, criterion, f_star, f_tol, budget)
            best = _argmin_first(scores)
            sweep = TuningSweep(method, settings, scores, criterion, best)
        rows = runs.setting_rows(best)
        chosen = MethodRuns(method, [settings[best]], runs.n_starts, runs.values[rows], runs.spent[rows],
                            runs.status[rows], runs.final_points[rows], runs.params)
        entries.append(RaceEntry(_label(method, params), method, {**runs.params, **settings[best]}, chosen, sweep))
    _number_duplicates(entries)

    notes = []
    for entry in entries:
        cap = budget.iteration_cap(entry.method)
        if budget.kind in ("f", "hess") and cap > budget.amount:
            notes.append(f"{entry.label} uses no {BUDGET_KINDS[budget.kind]} here: it stopped at the "
                         f"{cap:,}-iteration cap")
    return Race(entries, budget, starts, f_star, source, f_tol, criterion, obj.dim, notes)


def _number_duplicates(entries: list[RaceEntry]) -> None:
    """The same method twice (two fixed learning rates) gets its position in front of its name."""
    labels = [e.label for e in entries]
    for i, e in enumerate(entries):
        if labels.count(labels[i]) > 1:
            e.label = f"{i + 1}. {labels[i]}"
