"""Presets: every example function of the source material, plus the classic test functions.

A preset is plain data: the formula as a person would type it, where to look (window), where to
start, what is known about it (minima), and which runs show its point. Nothing here is computed on
import; `tests/test_presets.py` checks every number against the derivatives and against SciPy.

    >>> from optcore.presets import PRESETS
    >>> p = PRESETS["textbook-x2"]
    >>> p.formula, p.start, p.runs[0]
    ('x^2', (10.0,), ('gd', {'lr': 0.2}))

Minima are exact where the literature or a closed form gives them (written as expressions below,
e.g. `log(2)/3 - 1`); otherwise they are roots of ∇f = 0 solved to 30 digits and rounded to double.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SOURCES = ("textbook", "blog", "course notes", "second-order notes", "classic")
PAGES = ("playground", "compare", "race", "curvature", "lr_lab", "basins", "preconditioning", "newton_model")

# Page settings a preset may fix (`Preset.view`), with the value a page uses when the preset does not.
VIEW_DEFAULTS: dict[str, Any] = {
    "angle": 45,         # preconditioning: θ in degrees the "three paths" panel opens at
    "steps_cap": 2000,   # preconditioning: step limit of the iteration chart and of the paths panel alike
    "basin_steps": 200,  # basins: steps per run
    "basin_panels": 3,   # basins: methods side by side (the preset's first runs)
}


@dataclass(frozen=True)
class Preset:
    """One gallery entry. Field meanings are in docs/architecture.md (Presets).

    `view` fixes page settings the preset's picture depends on; its keys are those of
    VIEW_DEFAULTS, and `view_setting(name)` gives the preset's value or the page default. E.g. the
    badly scaled quadratic opens its preconditioning paths at θ = 0 (where dividing by diag H works)
    with the chart's 2000-step limit; Rastrigin's basin maps need 500 steps per run so that momentum
    and Adam settle in a dent.
    """

    key: str
    name: str
    formula: str
    variables: tuple[str, ...]
    window: tuple[tuple[float, float], ...]
    start: tuple[float, ...]
    minima: tuple[tuple[float, ...], ...]
    source: str
    look_for: str
    runs: tuple[tuple[str, dict], ...]
    steps: int
    extra_starts: tuple[tuple[float, ...], ...] = ()
    page: str = "playground"
    view: Mapping[str, Any] = field(default_factory=dict)

    def view_setting(self, name: str) -> Any:
        """The preset's value of a page setting (a key of VIEW_DEFAULTS), else the page default."""
        return self.view.get(name, VIEW_DEFAULTS[name])

    def __post_init__(self) -> None:
        # Shape mistakes in a hand-written table are easy to make and confusing to meet in a plot.
        d = len(self.variables)
        for label, point in [("start", self.start), *(("minimum", m) for m in self.minima),
                             *(("extra start", s) for s in self.extra_starts)]:
            if len(point) != d:
                raise ValueError(f"preset {self.key!r}: {label} {point} has {len(point)} coordinates, "
                                 f"expected {d}")
        if len(self.window) != d or any(lo >= hi for lo, hi in self.window):
            raise ValueError(f"preset {self.key!r}: window {self.window} does not fit {d} variable(s)")
        if self.source not in SOURCES:
            raise ValueError(f"preset {self.key!r}: unknown source {self.source!r}")
        if self.page not in PAGES:
            raise ValueError(f"preset {self.key!r}: unknown page {self.page!r}")
        if not self.runs or self.steps < 1:
            raise ValueError(f"preset {self.key!r}: needs at least one run and one step")
        unknown = set(self.view) - set(VIEW_DEFAULTS)
        if unknown:
            raise ValueError(f"preset {self.key!r}: unknown view setting(s) {sorted(unknown)}")


PI = math.pi

# x·cos(0.15πx): f'(x) = cos(cx) − cx·sin(cx) has no closed-form roots; these are solved to 30 digits.
_XCOS_MINIMA = (-26.834132913247668, -13.660371004955635, -1.8256845786723395,
                7.269388146311475, 20.221875666520315)


def _inside(points: tuple[float, ...], lo: float, hi: float) -> tuple[tuple[float, ...], ...]:
    return tuple((p,) for p in points if lo < p < hi)


_GALLERY: tuple[Preset, ...] = (
    # ---------------------------------------------------------------- textbook, one dimension
    Preset(
        key="textbook-x2",
        name="x² (textbook, η = 0.2)",
        formula="x^2",
        variables=("x",),
        window=((-10.5, 10.5),),
        start=(10.0,),
        minima=((0.0,),),
        source="textbook",
        look_for="Each step multiplies x by 1 − 2η = 0.6, so ten steps bring 10 down to about 0.06.",
        runs=(("gd", {"lr": 0.2}),),
        steps=10,
    ),
    Preset(
        key="textbook-x2-small-lr",
        name="x² (textbook, η = 0.05)",
        formula="x^2",
        variables=("x",),
        window=((-10.5, 10.5),),
        start=(10.0,),
        minima=((0.0,),),
        source="textbook",
        look_for="Too small a step: the factor 0.9 per step leaves x near 3.5 after ten steps.",
        runs=(("gd", {"lr": 0.05}),),
        steps=10,
    ),
    Preset(
        key="textbook-x2-divergent",
        name="x² (textbook, η = 1.1 against 0.2 and 0.05)",
        formula="x^2",
        variables=("x",),
        window=((-65.0, 65.0),),
        start=(10.0,),
        minima=((0.0,),),
        source="textbook",
        look_for="With η = 1.1 the factor is −1.2: x jumps across the minimum and grows to about 62.",
        runs=(("gd", {"lr": 1.1}), ("gd", {"lr": 0.2}), ("gd", {"lr": 0.05})),
        steps=10,
        page="lr_lab",
    ),
    Preset(
        key="textbook-xcos",
        name="x·cos(0.15πx) (textbook, η = 2)",
        formula="x cos(0.15 pi x)",
        variables=("x",),
        window=((-10.5, 10.5),),
        start=(10.0,),
        minima=_inside(_XCOS_MINIMA, -10.5, 10.5),
        source="textbook",
        look_for="A huge step throws x past the deep minimum near 7.3; it ends rattling in the shallow one "
                 "near −1.8.",
        runs=(("gd", {"lr": 2.0}), ("gd", {"lr": 0.2})),
        steps=10,
    ),
    Preset(
        key="textbook-cosh",
        name="cosh(0.5x) (textbook, Newton)",
        formula="cosh(0.5x)",
        variables=("x",),
        window=((-10.5, 10.5),),
        start=(10.0,),
        minima=((0.0,),),
        source="textbook",
        look_for="Far out Newton moves about 2 per step; near 0 the error squares each step (0.53, 0.012, "
                 "1.4e-7, 1.9e-22): it stops at step 8 here, and with tolerance 0, as in the textbook, hits 0 "
                 "exactly at step 9.",
        runs=(("newton", {"lr": 1.0}), ("gd", {"lr": 0.2})),
        steps=10,
        page="newton_model",
    ),
    Preset(
        key="textbook-xcos-newton",
        name="x·cos(0.15πx) (textbook, Newton η = 1 and 0.5)",
        formula="x cos(0.15 pi x)",
        variables=("x",),
        window=((-5.0, 30.0),),
        start=(10.0,),
        minima=_inside(_XCOS_MINIMA, -5.0, 30.0),
        source="textbook",
        look_for="Full Newton steps jump 10 → 5 → 25, where f'' < 0, and the run settles on the maximum "
                 "near 26.8; with η = 0.5 it reaches the minimum near 7.27 instead.",
        runs=(("newton", {"lr": 1.0}), ("newton", {"lr": 0.5}), ("newton_abs", {"lr": 1.0})),
        steps=10,
        page="newton_model",
    ),
    Preset(
        key="textbook-log-exp",
        name="log(eˣ + e^(−2x−3)) (textbook exercise, line search)",
        formula="log(exp(x) + exp(-2x - 3))",
        variables=("x",),
        window=((-4.0, 3.0),),
        start=(2.5,),
        minima=((math.log(2) / 3 - 1,),),
        source="textbook",
        look_for="Nearly straight on both sides, curved only near x = ln(2)/3 − 1: an exact line search "
                 "lands "
                 "there in one step, a fixed step walks down at its own pace.",
        runs=(("gd", {"line_search": "exact"}), ("gd", {"lr": 0.1}), ("gd", {"lr": 0.5})),
        steps=30,
        page="compare",
    ),
    # ---------------------------------------------------------------- textbook, two dimensions
    Preset(
        key="textbook-2d",
        name="x1² + 2x2² (textbook, η = 0.1)",
        formula="x1^2 + 2x2^2",
        variables=("x1", "x2"),
        window=((-5.5, 1.0), (-3.0, 1.0)),
        start=(-5.0, -2.0),
        minima=((0.0, 0.0),),
        source="textbook",
        look_for="x2 shrinks by 0.6 per step, x1 only by 0.8: the path bends and creeps along x1 to the "
                 "origin.",
        runs=(("gd", {"lr": 0.1}), ("newton", {"lr": 1.0})),
        steps=20,
    ),
    Preset(
        key="textbook-badly-scaled",
        name="x² + 100y² (textbook exercise, slow gradient descent)",
        formula="x^2 + 100y^2",
        variables=("x", "y"),
        window=((-6.0, 6.0), (-2.5, 2.5)),
        start=(-5.0, -2.0),
        minima=((0.0, 0.0),),
        source="textbook",
        look_for="κ = 100: even at its best step 2/202 gradient descent needs 991 steps; dividing by diag H "
                 "needs 1, until the axes turn: at 45° diagonal Newton needs 991 too.",
        runs=(("gd", {"lr": 0.009}), ("diag_newton", {"lr": 1.0}), ("newton", {"lr": 1.0})),
        steps=100,
        page="preconditioning",
        view={"angle": 0, "steps_cap": 2000},
    ),
    # ---------------------------------------------------------------- blog post
    Preset(
        key="blog-paraboloid",
        name="x0² + x1² (blog, paraboloid)",
        formula="x0^2 + x1^2",
        variables=("x0", "x1"),
        window=((-4.0, 4.0), (-4.0, 4.0)),
        start=(-3.0, -3.0),
        minima=((0.0, 0.0),),
        source="blog",
        look_for="Newton's step (3, 3) lands on the minimum at once; a gradient step with η = 1 bounces "
                 "between (−3, −3) and (3, 3) forever.",
        runs=(("newton", {"lr": 1.0}), ("gd", {"lr": 1.0}), ("gd", {"lr": 0.25})),
        steps=10,
        page="newton_model",
    ),
    Preset(
        key="blog-squished",
        name="x0² − x0·x1/2 + (x1/3)² (blog, squished paraboloid)",
        formula="x0^2 - x0*x1/2 + (x1/3)^2",
        variables=("x0", "x1"),
        window=((-5.0, 5.0), (-12.0, 12.0)),
        start=(-3.0, -3.0),
        minima=((0.0, 0.0),),
        source="blog",
        look_for="The downhill direction (4.5, −0.83) misses the origin, yet the Newton step (3, 3) hits it "
                 "in one.",
        runs=(("newton", {"lr": 1.0}), ("gd", {"lr": 0.5})),
        steps=30,
        page="newton_model",
    ),
    Preset(
        key="blog-sin-saddle",
        name="sin²x0 + sin(10 + x0x1/2)·cos x0 from (3.1, 1.3) (blog)",
        formula="sin(x0)^2 + sin(10 + x1*x0/2)*cos(x0)",
        variables=("x0", "x1"),
        window=((1.0, 5.0), (-1.0, 7.5)),
        start=(3.1, 1.3),
        minima=((PI, 9 - 20 / PI), (PI, 13 - 20 / PI)),
        source="blog",
        look_for="det H < 0 at the start: Newton's step at η = 0.5, (−0.11, −0.44), climbs to f ≈ 0.97 "
                 "toward the saddle at (π, 0.63); gradient descent drops into the valley and rattles there.",
        runs=(("gd", {"lr": 0.5}), ("newton", {"lr": 0.5}), ("newton_abs", {"lr": 0.5})),
        steps=20,
        extra_starts=((3.1, 1.8),),
        page="curvature",
    ),
    Preset(
        key="blog-sin-convex-start",
        name="sin²x0 + sin(10 + x0x1/2)·cos x0 from (3.1, 1.8) (blog)",
        formula="sin(x0)^2 + sin(10 + x1*x0/2)*cos(x0)",
        variables=("x0", "x1"),
        window=((1.0, 5.0), (-1.0, 7.5)),
        start=(3.1, 1.8),
        minima=((PI, 9 - 20 / PI), (PI, 13 - 20 / PI)),
        source="blog",
        look_for="H is positive definite here, so the Newton direction points downhill, yet f rises after "
                 "the full and the half step: the full-step run ends in the next valley up, (π, 6.63).",
        runs=(("newton", {"lr": 1.0}), ("gd", {"lr": 0.5}),
              ("newton", {"lr": 1.0, "line_search": "backtracking"})),
        steps=20,
        extra_starts=((3.1, 1.3),),
        page="newton_model",
    ),
    # ---------------------------------------------------------------- course notes
    Preset(
        key="course-2w2",
        name="2w² (course notes, rate |1 − 4α|)",
        formula="2w^2",
        variables=("w",),
        window=((-1.5, 1.5),),
        start=(1.0,),
        minima=((0.0,),),
        source="course notes",
        look_for="α = 0.25 is exact in one step, α < 0.25 creeps, 0.25 < α < 0.5 zig-zags in, α > 0.5 blows "
                 "up.",
        runs=(("gd", {"lr": 0.25}), ("gd", {"lr": 0.1}), ("gd", {"lr": 0.45}), ("gd", {"lr": 0.55})),
        steps=20,
        page="lr_lab",
    ),
    Preset(
        key="course-quadratic",
        name="½(w1² + 4w2²) (course notes, α* = 0.4)",
        formula="0.5(w1^2 + 4w2^2)",
        variables=("w1", "w2"),
        window=((-1.5, 1.5), (-1.5, 1.5)),
        start=(1.0, 1.0),
        minima=((0.0, 0.0),),
        source="course notes",
        look_for="Eigenvalues 1 and 4: the best single step α* = 2/5 gives rate 3/5 in both directions; "
                 "α = 0.5 leaves w2 flipping sign forever.",
        runs=(("gd", {"lr": 0.4}), ("gd", {"lr": 0.2}), ("gd", {"lr": 0.5})),
        steps=30,
        page="lr_lab",
    ),
    # ---------------------------------------------------------------- classic test functions
    Preset(
        key="rosenbrock",
        name="Rosenbrock",
        formula="(1-x)^2 + 100(y-x^2)^2",
        variables=("x", "y"),
        window=((-2.0, 2.0), (-1.0, 3.0)),
        start=(-1.2, 1.0),
        minima=((1.0, 1.0),),
        source="classic",
        look_for="Gradient descent finds the curved valley in 2 steps, then crawls: after 500 steps it is "
                 "still 1.7 from (1, 1), momentum 0.09; BFGS needs 35 steps, Newton 6.",
        runs=(("gd", {"lr": 0.001}), ("momentum", {"lr": 0.001}), ("bfgs", {}), ("newton", {"lr": 1.0})),
        steps=500,
        page="compare",
    ),
    Preset(
        key="himmelblau",
        name="Himmelblau",
        formula="(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        variables=("x", "y"),
        window=((-5.0, 5.0), (-5.0, 5.0)),
        start=(0.0, 0.0),
        minima=((3.0, 2.0), (-2.805118086952745, 3.131312518250573),
                (-3.779310253377747, -3.2831859912861696), (3.5844283403304917, -1.8481265269644036)),
        source="classic",
        look_for="Four equal minima: which one a run reaches depends on where it starts, and Newton can stop "
                 "on the maximum near (−0.27, −0.92).",
        runs=(("gd", {"lr": 0.01}), ("newton", {"lr": 1.0}), ("newton_abs", {"lr": 1.0})),
        steps=100,
        extra_starts=((-1.0, -1.0), (1.0, -4.0), (-4.0, 1.0)),
        page="basins",
    ),
    Preset(
        key="beale",
        name="Beale",
        formula="(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        variables=("x", "y"),
        window=((-4.5, 4.5), (-4.5, 4.5)),
        start=(1.0, 1.5),
        minima=((3.0, 0.5),),
        source="classic",
        look_for="A flat, narrow floor between steep walls: gradient descent crawls at η = 0.01 and "
                 "explodes at 0.05; Adam at η = 0.1 ends over 10× lower; BFGS reaches (3, 0.5) in 25 steps.",
        runs=(("gd", {"lr": 0.01}), ("gd", {"lr": 0.05}), ("adam", {"lr": 0.1}), ("bfgs", {})),
        steps=300,
        page="compare",
    ),
    Preset(
        key="booth",
        name="Booth",
        formula="(x + 2y - 7)^2 + (2x + y - 5)^2",
        variables=("x", "y"),
        window=((-10.0, 10.0), (-10.0, 10.0)),
        start=(-8.0, 8.0),
        minima=((1.0, 3.0),),
        source="classic",
        look_for="A tilted bowl with eigenvalues 2 and 18: gradient descent is stable only for η < 1/9 "
                 "(0.1 converges, 0.12 blows up), Newton needs one step.",
        runs=(("gd", {"lr": 0.1}), ("gd", {"lr": 0.12}), ("newton", {"lr": 1.0})),
        steps=100,
        page="lr_lab",
    ),
    Preset(
        key="matyas",
        name="Matyas",
        formula="0.26(x^2 + y^2) - 0.48xy",
        variables=("x", "y"),
        window=((-10.0, 10.0), (-10.0, 10.0)),
        start=(-8.0, 4.0),
        minima=((0.0, 0.0),),
        source="classic",
        look_for="A long diagonal valley (curvatures 1 and 0.04): gradient descent needs ~200 steps at any "
                 "angle; turned by 45° the valley lies along an axis and diagonal Newton needs one step.",
        runs=(("gd", {"lr": 1.0}), ("cg", {}), ("newton", {"lr": 1.0})),
        steps=200,
        page="preconditioning",
        view={"angle": 45},
    ),
    Preset(
        key="three-hump-camel",
        name="Three-hump camel",
        formula="2x^2 - 1.05x^4 + x^6/6 + xy + y^2",
        variables=("x", "y"),
        window=((-2.5, 2.5), (-2.5, 2.5)),
        start=(-2.0, 2.0),
        minima=((0.0, 0.0), (1.7475523458302888, -0.8737761729151444),
                (-1.7475523458302888, 0.8737761729151444)),
        source="classic",
        look_for="Two side dips (f ≈ 0.30) trap gradient descent and Newton from the corners (−2, 2) and "
                 "(2, −2); only the middle one (f = 0) is global: it drains 56 % of GD's basin map.",
        runs=(("gd", {"lr": 0.05}), ("newton", {"lr": 1.0}), ("bfgs", {})),
        steps=200,
        extra_starts=((2.0, -2.0), (1.0, 1.0)),
        page="basins",
    ),
    Preset(
        key="six-hump-camel",
        name="Six-hump camel",
        formula="(4 - 2.1x^2 + x^4/3)x^2 + xy + (4y^2 - 4)y^2",
        variables=("x", "y"),
        window=((-2.0, 2.0), (-1.2, 1.2)),
        start=(-1.5, -1.0),
        minima=((0.08984201310031806, -0.7126564030207396), (-0.08984201310031806, 0.7126564030207396),
                (1.703606714969981, -0.7960835686726251), (-1.703606714969981, 0.7960835686726251),
                (1.6071047529201972, 0.5686514548841314), (-1.6071047529201972, -0.5686514548841314)),
        source="classic",
        look_for="Two global minima (f ≈ −1.0316) and four local ones: on the basin maps about 59 % of "
                 "gradient descent's starts reach a global one, 41 % of Newton-with-|H|'s.",
        runs=(("gd", {"lr": 0.03}), ("newton_abs", {"lr": 1.0}), ("bfgs", {})),
        steps=200,
        extra_starts=((1.5, 1.0), (-0.5, 0.3), (1.0, -1.0)),
        page="basins",
    ),
    Preset(
        key="rastrigin",
        name="Rastrigin",
        formula="20 + x^2 - 10cos(2pi x) + y^2 - 10cos(2pi y)",
        variables=("x", "y"),
        window=((-5.12, 5.12), (-5.12, 5.12)),
        start=(2.6, 3.4),
        minima=((0.0, 0.0),),
        source="classic",
        look_for="A bowl of 121 dents: from (2.6, 3.4) every method stops in the dent near (2.98, 2.98), "
                 "f ≈ 17.9; the global minimum's basin covers about 1 % of the window.",
        runs=(("gd", {"lr": 0.002}), ("momentum", {"lr": 0.002, "beta": 0.8}), ("adam", {"lr": 0.05})),
        steps=500,
        page="basins",
        view={"basin_steps": 500},
    ),
    Preset(
        key="ackley",
        name="Ackley",
        formula="-20exp(-0.2sqrt(0.5(x^2 + y^2))) - exp(0.5(cos(2pi x) + cos(2pi y))) + e + 20",
        variables=("x", "y"),
        window=((-5.0, 5.0), (-5.0, 5.0)),
        start=(3.3, 2.7),
        minima=((0.0, 0.0),),
        source="classic",
        look_for="Ripples on a cone: from (3.3, 2.7) all three methods stop in the nearest ripple, f ≈ 9 at "
                 "(2.98, 2.98); the minimum (0, 0) is a sharp tip where ∇f is undefined.",
        runs=(("adam", {"lr": 0.05}), ("gd", {"lr": 0.01}), ("momentum", {"lr": 0.01, "beta": 0.9})),
        steps=300,
        page="compare",
    ),
    Preset(
        key="goldstein-price",
        name="Goldstein–Price",
        formula="(1 + (x + y + 1)^2(19 - 14x + 3x^2 - 14y + 6xy + 3y^2))"
                "(30 + (2x - 3y)^2(18 - 32x + 12x^2 + 48y - 36xy + 27y^2))",
        variables=("x", "y"),
        window=((-2.0, 2.0), (-2.0, 2.0)),
        start=(-0.5, 1.5),
        minima=((0.0, -1.0), (-0.6, -0.4), (1.8, 0.2), (1.2, 0.8)),
        source="classic",
        look_for="f runs from 3 to 10⁶: a step safe on the steep slope (η = 10⁻⁶) leaves gradient descent "
                 "at f ≈ 750 after 300 steps; BFGS reaches f = 3 at (0, −1), Newton with |H| the local f = 30.",
        runs=(("bfgs", {}), ("gd", {"lr": 1e-6}), ("newton_abs", {"lr": 1.0})),
        steps=300,
        page="compare",
    ),
    Preset(
        key="rotated-quadratic",
        name="Rotated ill-conditioned quadratic (κ = 10)",
        formula="5.5x^2 - 9xy + 5.5y^2",
        variables=("x", "y"),
        window=((-5.0, 5.0), (-5.0, 5.0)),
        start=(-4.0, -2.0),
        minima=((0.0, 0.0),),
        source="classic",
        look_for="The bowl's axes sit at 45°: diag H = (11, 11), so diagonal Newton is plain GD with "
                 "η = 1/11 (86 steps, κ = 10); turn the axes by 45° and it needs 1; Newton needs 1 at any angle.",
        runs=(("gd", {"lr": 0.09}), ("diag_newton", {"lr": 1.0}), ("newton", {"lr": 1.0})),
        steps=100,
        page="preconditioning",
        view={"angle": 0},
    ),
)

PRESETS: dict[str, Preset] = {preset.key: preset for preset in _GALLERY}
if len(PRESETS) != len(_GALLERY):  # a duplicated key would silently hide a preset
    raise RuntimeError("duplicate preset key in optcore.presets")
