"""Plot windows and start points: frame the stationary points, shrink toward where f is defined,
and find a start where f has a value. Pure NumPy on an Objective (anything with `.value(X)`)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Window = tuple[tuple[float, float], ...]

UNDEFINED_SHARE = 0.45   # shrink an automatic window when f is undefined on about half of it or more
MIN_WINDOW = 1.0         # ... but never below this width per variable (nor a tenth of the window)


MIN_ASPECT = 0.6   # an automatic window's narrowest axis, at least this share of its widest


def window_around(points: np.ndarray) -> Window:
    """A plot window that frames the stationary points: a margin of a third of their spread (at
    least 0.5, and 2 around a single point), rounded outwards to halves. A fixed margin of 2 made
    x^4 - 3x^2 + x, whose features lie in [-1.3, 1.1], show [-4, 4], where f climbs to 200 and the
    two dips look flat."""
    P = np.asarray(points, dtype=float).reshape(len(points), -1)
    lo, hi = P.min(axis=0), P.max(axis=0)
    spread = hi - lo
    widest = float(spread.max()) if spread.size else 0.0
    if widest < 1e-9:
        pad = np.full_like(spread, 2.0)
    else:
        pad = np.maximum.reduce([spread / 3.0, np.full_like(spread, widest / 6.0), np.full_like(spread, 0.5)])
        # no axis much narrower than the widest: x^4 - 3x^2 + y^2 (every point on y = 0) showed
        # [-2.5, 2.5] x [-0.5, 0.5], contours as vertical stripes and the saddle unseen
        extent = spread + 2 * pad
        pad = np.maximum(pad, (MIN_ASPECT * extent.max() - spread) / 2)
    return tuple((float(np.floor(2 * (a - p)) / 2), float(np.ceil(2 * (b + p)) / 2)) for a, b, p in zip(lo, hi, pad))


def _samples(W: np.ndarray) -> tuple[np.ndarray, int]:
    """Points covering the window and the number of samples per axis: a fine line in 1-D, a grid in
    2-D, random points beyond (a grid would be too big)."""
    d = len(W)
    if d == 1:
        return np.linspace(W[0, 0], W[0, 1], 401)[:, None], 401
    if d == 2:
        g = [np.linspace(lo, hi, 61) for lo, hi in W]
        return np.stack(np.meshgrid(*g, indexing="ij"), axis=-1).reshape(-1, 2), 61
    rng = np.random.default_rng(0)
    return W[:, 0] + rng.random((4000, d)) * (W[:, 1] - W[:, 0]), 40


def defined_window(obj, window: Sequence[tuple[float, float]]) -> Window:
    """`window` shrunk toward where f is finite, when f is undefined (nan/inf) on about half of it
    or more: log(x) + y^2 in [-3, 3]^2 showed an empty left half. f is sampled on a coarse grid
    (random points beyond two variables); the finite samples' bounding box is padded by a grid step
    and 5 %, rounded outwards, kept inside the window and at least MIN_WINDOW (or a tenth of the
    window) wide. Unchanged when f is finite almost everywhere or nowhere."""
    W = np.array([[float(lo), float(hi)] for lo, hi in window], dtype=float)
    unchanged = tuple((float(lo), float(hi)) for lo, hi in W)
    if len(W) == 0 or not np.all(np.isfinite(W)) or np.any(W[:, 0] >= W[:, 1]):
        return unchanged
    X, n = _samples(W)
    try:
        with np.errstate(all="ignore"):
            values = np.asarray(obj.value(X), dtype=float).reshape(-1)
    except Exception:
        return unchanged
    finite = np.isfinite(values)
    if not finite.any() or 1.0 - finite.mean() < UNDEFINED_SHARE:
        return unchanged
    F = X[finite]
    width = W[:, 1] - W[:, 0]
    lo, hi = F.min(axis=0), F.max(axis=0)
    pad = width / (n - 1) + 0.05 * (hi - lo)
    lo, hi = np.maximum(lo - pad, W[:, 0]), np.minimum(hi + pad, W[:, 1])
    smallest = np.minimum(np.maximum(MIN_WINDOW, width / 10), width)
    short = (hi - lo) < smallest
    centre = (lo + hi) / 2
    lo = np.where(short, np.clip(centre - smallest / 2, W[:, 0], W[:, 1] - smallest), lo)
    hi = np.where(short, lo + smallest, hi)
    out = []
    for a, b, (wlo, whi) in zip(lo, hi, W):
        unit = 10.0 ** np.floor(np.log10(b - a)) / 10  # 0.1 for a width of 1 to 10
        a2, b2 = max(np.floor(a / unit) * unit, wlo), min(np.ceil(b / unit) * unit, whi)
        out.append((float(np.round(a2, 10)), float(np.round(b2, 10))))
    return tuple(out)


def default_start(window: tuple[float, float], index: int = 0) -> float:
    """The start coordinate a new variable gets: 80 % of the way across its window for the first,
    a little less for each next one (0.8, 0.72, 0.64, ...), rounded. Equal coordinates would start
    x^2 + y^2 + z^2 on a symmetry line, where a slice shows the path as a motionless dot."""
    lo, hi = window
    share = 0.8 - 0.08 * (index % 5)
    return float(np.round(lo + share * (hi - lo), 3))


def informative_start(obj, start: Sequence[float], window: Sequence[tuple[float, float]]) -> list[float]:
    """`start` for a newly typed formula, with the coordinates kept from the last formula at an exact
    0 (a zero of symmetry: 2xyzw from (0, 0, 0, 0) "converged in 0 steps at a saddle") replaced by
    the default, and the default start whenever the gradient vanishes at the start."""
    out = [default_start(w, i) if float(v) == 0.0 else float(v) for i, (v, w) in enumerate(zip(start, window))]
    try:
        with np.errstate(all="ignore"):
            g = np.asarray(obj.grad(np.array([out])), dtype=float).reshape(-1)
        if np.all(np.isfinite(g)) and float(np.abs(g).max()) == 0.0:
            out = [default_start(w, i) for i, w in enumerate(window)]
    except Exception:
        pass
    return out


def finite_start(obj, start: Sequence[float], window: Sequence[tuple[float, float]]) -> list[float]:
    """`start` if f has a finite value there, else the first point of the window where it does
    (log(x) + y^2 typed while the start is at x = 0 would otherwise stop before the first step)."""
    candidates = [np.asarray(start, dtype=float), np.array([default_start(w) for w in window])]
    for t in (0.8, 0.6, 0.9, 0.7, 0.55, 0.95, 0.3, 0.1):
        candidates.append(np.array([lo + t * (hi - lo) for lo, hi in window]))
    try:
        with np.errstate(all="ignore"):
            values = np.asarray(obj.value(np.array(candidates)), dtype=float)
    except Exception:
        return [float(v) for v in start]
    for i, (point, value) in enumerate(zip(candidates, values)):
        if np.isfinite(value):
            return [float(v) if i == 0 else float(np.round(v, 3)) for v in point]
    return [float(v) for v in start]


FAR = 2.5          # a run's points further than this many window widths outside the window are clipped
RUN_MARGIN = 0.08  # margin around the starts and paths, as a share of the view's width
EDGE_SHARE = 0.03  # a start or path point closer than this share of the width to the edge is drawn cut


def _nice_outwards(lo: float, hi: float) -> tuple[float, float]:
    """[lo, hi] rounded outwards to a tenth of its width's decade (3.27 .. 10.4 -> 3.2 .. 10.5)."""
    unit = 10.0 ** np.floor(np.log10(max(hi - lo, 1e-300))) / 10
    return float(np.round(np.floor(lo / unit) * unit, 12)), float(np.round(np.ceil(hi / unit) * unit, 12))


def window_with_runs(window: Sequence[tuple[float, float]], paths: Sequence[np.ndarray]
                     ) -> tuple[Window, list[bool]]:
    """The view that shows `window` (the stationary points) and every run drawn in it: the union of
    the window and the starts and path points, with a margin of RUN_MARGIN around them, rounded
    outwards. A diverging run would squash the picture to a line, so points more than FAR
    window-widths beyond the window (around the starts) are left out. Returns (view, per path:
    whether some of it lies outside the view) so the page can say where a run went. `paths` are
    arrays (n_k, d) whose row 0 is the start.

    x^2 from x0 = 10 with η = 0.2, 0.05, 1.1 showed [-2, 2]: the start and two runs off the chart.
    x^2 + 3y^2 from (2, 1) showed [-2, 2]^2 with the start marker cut in half on the edge: a point
    within EDGE_SHARE of the edge widens the view too. The view is only what is drawn: the window
    in the sidebar, the start and the share link stay as they are."""
    W = np.array([[float(lo), float(hi)] for lo, hi in window], dtype=float)
    d = len(W)
    paths = [np.asarray(p, dtype=float).reshape(-1, d) for p in paths if np.size(p)]
    unchanged = tuple((float(a), float(b)) for a, b in W)
    if d == 0 or not paths:
        return unchanged, [False] * len(paths)
    starts = np.array([p[0] for p in paths if np.all(np.isfinite(p[0]))]).reshape(-1, d)
    base_lo = np.minimum(W[:, 0], starts.min(axis=0)) if len(starts) else W[:, 0]
    base_hi = np.maximum(W[:, 1], starts.max(axis=0)) if len(starts) else W[:, 1]
    reach = FAR * (base_hi - base_lo)
    outside, shown = [], [starts]
    for p in paths:
        finite = np.all(np.isfinite(p), axis=1)
        near = finite & np.all((p >= base_lo - reach) & (p <= base_hi + reach), axis=1)
        outside.append(bool((~near).any()))
        shown.append(p[near])
    shown = np.concatenate(shown, axis=0)
    if not len(shown):
        return unchanged, outside
    lo, hi = shown.min(axis=0), shown.max(axis=0)
    edge = EDGE_SHARE * (W[:, 1] - W[:, 0])
    if np.all(lo >= W[:, 0] + edge) and np.all(hi <= W[:, 1] - edge):
        return unchanged, outside   # everything well inside the window
    pad = RUN_MARGIN * (np.maximum(hi, W[:, 1]) - np.minimum(lo, W[:, 0]))
    view = tuple(_nice_outwards(a, b) for a, b in zip(np.minimum(lo - pad, W[:, 0]), np.maximum(hi + pad, W[:, 1])))
    return view, outside


def starts_outside(window: Sequence[tuple[float, float]], starts: np.ndarray) -> list[int]:
    """Indices of the starts that lie outside `window` (a fixed window does not follow them)."""
    W = np.array(window, dtype=float)
    S = np.asarray(starts, dtype=float).reshape(-1, len(W))
    return [i for i, s in enumerate(S) if np.any(s < W[:, 0]) or np.any(s > W[:, 1])]


def zoom_window(window: Sequence[tuple[float, float]], centre: Sequence[float]) -> Window:
    """A window half as wide as `window` around `centre`."""
    return tuple((float(centre[i] - 0.25 * (hi - lo)), float(centre[i] + 0.25 * (hi - lo)))
                 for i, (lo, hi) in enumerate(window))


def _coordinate(v: float) -> str:
    return "0" if abs(v) < 1e-12 else f"{v:.6g}"   # float noise around 0 printed as 0


def leaving_caption(view: Sequence[tuple[float, float]], arrays: Sequence[np.ndarray]) -> str | None:
    """Where runs (arrays of points, start first) leave `view`: those that end outside it (or
    overflow) with the point they ended at, apart from those that only pass outside on the way and
    end inside. Himmelblau said "3 run(s) leave the view ...; last finite point: (-2.8, 3.13)" of
    runs that ended inside at a minimum. None when every run stays inside."""
    V = np.array(view, dtype=float)

    def out(p) -> bool:
        return bool(np.any(~np.isfinite(p)) or np.any((p < V[:, 0]) | (p > V[:, 1])))

    ends, passing = [], 0
    for a in arrays:
        if not out(a):
            continue
        finite = np.all(np.isfinite(a), axis=1)
        if finite.all() and not out(a[-1]):
            passing += 1
            continue
        last = a[finite][-1] if finite.any() else None
        where = "(" + ", ".join(_coordinate(float(v)) for v in last) + ")" if last is not None else None
        ends.append("overflow" if where is None else where if finite.all() else f"overflow after {where}")
    parts = []
    if ends:
        parts.append(f"{len(ends)} run(s) leave the view and end outside it, at " + "; ".join(ends))
    if passing:
        parts.append(f"{passing} path(s) pass outside the view on the way (cut at its edge) but end inside it")
    return ("; ".join(parts) + ".") if parts else None


UNDERFLOW = 1e-150   # |f| below this everywhere in a window: an exponential's tail, not a flat function
SEARCH_BOX = (-5.0, 5.0)
DYNAMIC_RANGE = 1e8  # |f| spanning more than this (5 % to 95 % of the samples) is an exponential's scale


def visible_window(obj, window: Sequence[tuple[float, float]] | None) -> Window | None:
    """The automatic window, checked: None (no useful stationary points) when f underflows all over
    it, and for a function without stationary points whose values span many orders of magnitude,
    the region where |f| stays within a factor 1000 of its median over [-5, 5]^d. exp(100x) got
    [-5.5, -4], where e^(100x) is 0 to double precision and a "stationary point" was found; it now
    gets about [-0.1, 0.1], where the curve bends. Otherwise `window` unchanged."""
    d = obj.dim
    if window is not None:
        X, _ = _samples(np.array(window, dtype=float))
        with np.errstate(all="ignore"):
            f = np.asarray(obj.value(X), dtype=float).reshape(-1)
        finite = f[np.isfinite(f)]
        if finite.size == 0 or np.abs(finite).max() >= UNDERFLOW:
            return tuple((float(a), float(b)) for a, b in window)
    X, _ = _samples(np.array([SEARCH_BOX] * d, dtype=float))
    with np.errstate(all="ignore"):
        f = np.abs(np.asarray(obj.value(X), dtype=float).reshape(-1))
    ok = np.isfinite(f)
    if not ok.any():
        return None
    median = float(np.median(f[ok]))
    low, high = np.quantile(f[ok], [0.05, 0.95])
    if median <= 0 or high <= DYNAMIC_RANGE * low:
        return None   # no huge dynamic range: the ordinary default window shows it
    near = ok & (f >= median / 1000) & (f <= median * 1000)
    if not near.any():
        return None
    P = X[near]
    lo, hi = P.min(axis=0), P.max(axis=0)
    pad = np.maximum(0.25 * (hi - lo), 1e-3)
    return tuple(_nice_outwards(a, b) for a, b in zip(lo - pad, hi + pad))
