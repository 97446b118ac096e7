"""The race figures draw what the race computed (optcore.figures.race)."""
from __future__ import annotations

import numpy as np

import optcore
from optcore.figures.race import race_bands_figure, tuning_sweep_figure
from optcore.race import Budget, race, random_starts


def test_bands_show_each_method_and_a_diverging_quarter_does_not_stretch_the_axis():
    obj = optcore.parse("(1-x)^2 + 100(y-x^2)^2")
    starts = random_starts([(-2, 2), (-1, 3)], 8, seed=1, first=[-1.2, 1.0])
    result = race(obj, [("gd", {"lr": 2e-3}), ("bfgs", {})], starts, Budget("grad", 100), f_star=0.0)
    fig = race_bands_figure(result.bands(), x_title="gradient evaluations")
    medians = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in medians] == ["Gradient descent", "BFGS"]
    lo, hi = fig.layout.yaxis.range
    finite = np.concatenate([np.asarray(t.y, dtype=float) for t in medians])
    finite = finite[np.isfinite(finite)]
    assert 10 ** hi >= finite.max() and 10 ** lo <= finite.min()
    assert hi <= np.log10(finite.max()) + 3.5   # diverged starts (1e30) are not what sets the scale
    for t in fig.data:
        assert np.nanmax(np.asarray(t.y, dtype=float)) <= 10 ** hi


def test_sweep_marks_the_tuned_rate_and_the_failures():
    curves = [dict(label="GD", lrs=[1e-3, 1e-2, 1e-1], scores=[0.5, 0.01, np.inf], best_lr=1e-2, best_score=0.01)]
    fig = tuning_sweep_figure(curves, score_title="median f − f*")
    names = [t.name for t in fig.data]
    assert "GD: tuned η = 0.01" in names and "GD: failed" in names
    star = fig.data[names.index("GD: tuned η = 0.01")]
    assert list(star.x) == [1e-2] and list(star.y) == [0.01]
    assert list(fig.data[names.index("GD: failed")].x) == [1e-1]


def test_sweep_scores_above_the_starts_are_crosses_and_the_caption_says_only_what_is_drawn():
    """A run that blew up to 1e26 without tripping the divergence test scored 1e26: drawn as a point, it
    stretched the log axis over 30 decades. Above the starts' median gap it is a cross on the top line."""
    from ui.race_table import sweep_caption
    blown = dict(label="GD", lrs=[1e-3, 1e-2, 1e-1, 1.0], scores=[0.5, 0.01, 5e26, np.inf], best_lr=1e-2,
                 best_score=0.01, ceiling=20.0)
    fig = tuning_sweep_figure([blown], score_title="median f − f*")
    by_name = {t.name: t for t in fig.data}
    line = np.asarray(by_name["GD"].y, dtype=float)
    assert list(np.isnan(line)) == [False, False, True, True]
    crosses = by_name["GD: failed"]
    assert list(crosses.x) == [1e-1, 1.0] and min(crosses.y) > 20.0 and max(crosses.y) < 1e3
    assert "ended farther from f* than it started" in crosses.text[0] and crosses.text[1] == "diverged or never reached"
    assert list(by_name["at the starts"].y) == [20.0, 20.0]
    assert sweep_caption([blown]).endswith(
        "Crosses along the top: diverged or never reached or ended farther from f* than it started.")
    calm = dict(blown, scores=[0.5, 0.01, 3.0, 19.0])
    fig = tuning_sweep_figure([calm], score_title="median f − f*")
    assert "GD: failed" not in [t.name for t in fig.data]
    assert "Crosses" not in sweep_caption([calm])
    # the time-to-tolerance score has no "farther than the start": no ceiling, no dotted line
    reach = dict(calm, ceiling=None)
    assert "at the starts" not in [t.name for t in tuning_sweep_figure([reach], score_title="steps").data]
    assert "dotted" not in sweep_caption([reach])
