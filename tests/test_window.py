"""optcore.window: plot windows that frame the stationary points, shrink toward where f is
defined, and start points where f has a value."""
from __future__ import annotations

import numpy as np
import pytest

import optcore
from optcore.window import default_start, defined_window, finite_start, window_around


def test_window_around_single_and_spread_points():
    assert window_around([[0.0, 0.0]]) == ((-2.0, 2.0), (-2.0, 2.0))
    (xlo, xhi), (ylo, yhi) = window_around([[-3.0, 0.0], [3.0, 0.0]])
    assert xlo <= -4 and xhi >= 4 and ylo <= -0.5 and yhi >= 0.5 and yhi - ylo < xhi - xlo


def test_window_around_keeps_no_axis_much_narrower_than_the_widest():
    """x^4 - 3x^2 + y^2: its stationary points all lie on y = 0, and the window was [-2.5, 2.5] x
    [-0.5, 0.5]: contours as vertical stripes, the saddle at the origin hidden under the start."""
    from optcore.window import MIN_ASPECT
    (xlo, xhi), (ylo, yhi) = window_around([[-1.2247, 0.0], [0.0, 0.0], [1.2247, 0.0]])
    assert (xlo, xhi) == (-2.5, 2.5) and yhi - ylo >= MIN_ASPECT * (xhi - xlo) and ylo < 0 < yhi
    rng = np.random.default_rng(5)
    for _ in range(20):
        P = rng.normal(scale=rng.uniform(0.1, 10, size=3), size=(rng.integers(2, 6), 3))
        extent = np.diff(np.array(window_around(P)), axis=1)[:, 0]
        assert extent.min() >= MIN_ASPECT * extent.max() - 1.0, extent   # less the rounding to halves


def test_window_around_contains_every_point_with_a_margin_on_half_steps():
    rng = np.random.default_rng(3)
    for _ in range(20):
        P = rng.normal(scale=rng.uniform(0.1, 10), size=(rng.integers(1, 6), 3))
        W = np.array(window_around(P))
        assert np.all(W[:, 0] < P.min(axis=0)) and np.all(W[:, 1] > P.max(axis=0))
        assert np.all(W * 2 == np.round(W * 2))       # rounded outwards to halves


def test_defined_window_keeps_a_minimum_size_and_whole_windows():
    (xlo, xhi), (ylo, yhi) = defined_window(optcore.parse("sqrt(0.01 - x^2 - y^2)"), [(-5, 5), (-5, 5)])
    assert xhi - xlo >= 1 and yhi - ylo >= 1 and xlo < 0 < xhi and ylo < 0 < yhi
    whole = ((-3.0, 3.0), (-3.0, 3.0))
    assert defined_window(optcore.parse("x^2 + y^2"), whole) == whole
    assert defined_window(optcore.parse("log(-1 - x^2) + y"), whole) == whole   # defined nowhere


@pytest.mark.parametrize("text,window", [("log(x) + y^2", [(-3, 3), (-3, 3)]), ("sqrt(x - 1)", [(-4, 4)]),
                                         ("log(x1) + x2^2 + x3^2", [(-3, 3)] * 3)])
def test_defined_window_shrinks_to_where_f_has_values(text, window):
    obj = optcore.parse(text)
    shrunk = defined_window(obj, window)
    (lo, hi), (wlo, whi) = shrunk[0], window[0]
    assert wlo <= lo < hi <= whi and lo >= -0.5           # the undefined half x < 0 (x < 1) is cut
    X = np.array([np.linspace(a, b, 7) for a, b in shrunk]).T
    assert np.isfinite(obj.value(X[1:-1])).all()          # its inside is where f is defined


def test_finite_start_keeps_a_good_start_and_moves_a_bad_one():
    obj = optcore.parse("log(x) + y^2")
    assert finite_start(obj, [1.5, -2.0], [(-3, 3), (-3, 3)]) == [1.5, -2.0]
    moved = finite_start(obj, [-1.0, 0.5], [(-3, 3), (-3, 3)])
    assert np.isfinite(obj.value(np.array(moved)))
    assert finite_start(optcore.parse("log(-1 - x^2)"), [0.5], [(-3, 3)]) == [0.5]   # nowhere: unchanged


def test_default_start_is_four_fifths_across():
    assert default_start((-3.0, 3.0)) == 1.8
    assert default_start((0.0, 1.0)) == 0.8


def _gd_path(x0: float, lr: float, steps: int = 60) -> np.ndarray:
    """Gradient descent on x^2 by hand: x_{k+1} = (1 - 2 lr) x_k."""
    return (x0 * (1 - 2 * lr) ** np.arange(steps + 1))[:, None]


def test_view_holds_the_start_and_converging_runs():
    from optcore.window import window_with_runs
    paths = [_gd_path(10, 0.2), _gd_path(10, 0.05), _gd_path(10, 1.1)]
    (view,), outside = window_with_runs([(-2.0, 2.0)], paths)
    assert view[0] < -2 and view[1] > 10           # widened to the start, with a margin
    for p, out in zip(paths[:2], outside[:2]):
        assert view[0] <= p.min() and p.max() <= view[1] and not out
    assert outside[2]                                # the diverging run is clipped, and said to be
    assert view[1] - view[0] < 200                   # ... without squashing the picture to a line


def test_view_in_2d_and_unchanged_when_everything_fits():
    from optcore.window import window_with_runs
    path = np.array([[-5.0, -2.0], [-1.0, -0.5], [0.0, 0.0]])
    view, _ = window_with_runs([(-2.0, 2.0), (-2.0, 2.0)], [path])
    assert view[0][0] < -5 and view[1][0] <= -2 and view[0][1] >= 2
    assert window_with_runs([(-6.0, 6.0), (-3.0, 3.0)], [path])[0] == ((-6.0, 6.0), (-3.0, 3.0))


def test_starts_outside_a_fixed_window():
    from optcore.window import starts_outside
    assert starts_outside([(-2, 2), (-2, 2)], np.array([[0, 0], [-5, -2], [1, 3]])) == [1, 2]


def test_exponential_gets_a_window_where_it_bends():
    """exp(100x) has no stationary point; a window where e^(100x) underflows (where a search 'finds'
    one) is refused, and the one chosen shows f varying over orders of magnitude, not 0 to 1e-150."""
    from optcore.window import visible_window
    obj = optcore.parse("exp(100x)")
    for given in ([(-5.5, -4.0)], None):
        (lo, hi), = visible_window(obj, given)
        f_lo, f_hi = obj.value(np.array([[lo], [hi]]))
        assert f_lo > 1e-6 and f_hi / f_lo > 100, (lo, hi)
    ordinary = optcore.parse("x^2 + y^2")
    assert visible_window(ordinary, [(-2.0, 2.0), (-1.0, 1.0)]) == ((-2.0, 2.0), (-1.0, 1.0))
    assert visible_window(ordinary, None) is None


def test_view_keeps_a_margin_around_a_start_on_the_edge():
    """x^2 + 3y^2 from (2, 1): the stationary points' window is [-2, 2]^2 and the start sat on its
    edge, its marker cut in half. The view now holds every start and path point with a margin of
    at least 5 % of its width; a start well inside leaves the window as it was."""
    from optcore.window import window_with_runs
    obj = optcore.parse("x^2 + 3y^2")
    window = window_around([[0.0, 0.0]])
    path = optcore.run(obj, "gd", [2.0, 1.0], steps=30, lr=0.1).points
    view, outside = window_with_runs(window, [path])
    V = np.array(view)
    width = V[:, 1] - V[:, 0]
    assert np.all(path.min(axis=0) - V[:, 0] >= 0.05 * width) and np.all(V[:, 1] - path.max(axis=0) >= 0.05 * width)
    assert np.all(V[:, 0] <= -2) and np.all(V[:, 1] >= 2) and outside == [False]
    inner = optcore.run(obj, "gd", [1.0, 0.5], steps=30, lr=0.1).points
    assert window_with_runs(window, [inner])[0] == window
