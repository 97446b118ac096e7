"""Figures of a fair race: median f − f* with its interquartile band against the budget, and the
tuning sweep of each method with the chosen learning rate marked.

Pure builders: arrays and small dicts in (from `optcore.race.Race.bands()` and `TuningSweep.curve()`),
`go.Figure` out.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from .base import AXIS_TITLE_PX, LEGEND_ROW_PX, bottom_legend, method_color, styled

# log axes cannot show 0: values at or below the floor are drawn on it. The race counts gaps below
# its resolution (optcore.race.gap_resolution, 1e-14 when |f*| ≤ 1) as 0, so the default floor is that.
FLOOR = 1e-14


def _fill(color: str, alpha: float = 0.18) -> str:
    c = color.lstrip("#")
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _on_log_axis(y: np.ndarray, floor: float = FLOOR) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    return np.where(np.isfinite(y), np.maximum(y, floor), np.nan)


def _band_top(bands: Sequence[dict], floor: float = FLOOR) -> float:
    """The top of the y axis: a thousand times the largest finite median (or 25th percentile)."""
    values = np.concatenate([np.asarray(b[k], dtype=float) for b in bands for k in ("median", "q25")] or [[1.0]])
    values = values[np.isfinite(values) & (values > 0)]
    return float(max(values.max(), floor) * 1e3) if values.size else 1.0


def _band_bottom(bands: Sequence[dict], floor: float = FLOOR) -> float:
    values = np.concatenate([np.asarray(b["q25"], dtype=float) for b in bands] or [[1.0]])
    values = np.maximum(values[np.isfinite(values)], floor)
    return float(values.min()) if values.size else floor


def race_bands_figure(bands: Sequence[dict], *, x_title: str, height: int = 380,
                      title: str | None = None, floor: float = FLOOR) -> go.Figure:
    """One line per method (median over the starts) inside its 25–75 % band, on a log y axis.

    Each band: {"label", "levels", "q25", "median", "q75"} as returned by ``Race.bands()``. Where
    more than half the starts have diverged the median is infinite and the line breaks. ``floor``:
    the race's resolution (``Race.resolution``), below which gaps count as 0.
    """
    fig = go.Figure()
    top = _band_top(bands, floor)
    for i, band in enumerate(bands):
        color = method_color(i)
        x = np.asarray(band["levels"], dtype=float)
        lo, mid, hi = (_on_log_axis(band[k], floor) for k in ("q25", "median", "q75"))
        # a quarter of the starts diverging would stretch the axis to 1e30: the band stops at the top
        hi = np.where(np.isnan(hi) & np.isfinite(mid), top, np.minimum(hi, top))
        group = f"m{i}"
        fig.add_trace(go.Scatter(x=x, y=hi, mode="lines", line=dict(width=0, color=color), showlegend=False,
                                 legendgroup=group, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=lo, mode="lines", line=dict(width=0, color=color), fill="tonexty",
                                 fillcolor=_fill(color), showlegend=False, legendgroup=group, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=mid, mode="lines", name=band["label"], line=dict(color=color, width=2.5),
                                 legendgroup=group,
                                 hovertemplate=f"{band['label']}<br>{x_title} = %{{x:.4g}}<br>median f − f* = "
                                               "%{y:.3e}<extra></extra>"))
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text="f − f* (median, 25–75 % band)", type="log", exponentformat="power",
                     range=[np.log10(_band_bottom(bands, floor)) - 0.5, np.log10(top) + 0.2])
    return styled(fig, title, height=height, legend=bottom_legend(),
                  margin=dict(l=70, r=20, t=40 if title else 20, b=AXIS_TITLE_PX + LEGEND_ROW_PX))


def sweep_failures(curve: dict) -> tuple[np.ndarray, np.ndarray]:
    """Where a sweep's score failed, as two masks over its learning rates: infinite (diverged or never
    reached), and finite but above the curve's `ceiling` (the starts' median gap: the runs ended farther
    from the minimum than they started, e.g. blown up to 1e26 without tripping the divergence test)."""
    scores = np.asarray(curve["scores"], dtype=float)
    ceiling = curve.get("ceiling")
    away = np.isfinite(scores) & (scores > ceiling) if ceiling is not None and ceiling > 0 else np.zeros(scores.shape, bool)
    return ~np.isfinite(scores), away


def tuning_sweep_figure(curves: Sequence[dict], *, score_title: str, height: int = 340,
                        title: str | None = None, floor: float = FLOOR) -> go.Figure:
    """Score against learning rate for each tuned method, the chosen lr marked with a star.

    Each curve: {"label", "lrs", "scores", "best_lr", "best_score"} and optionally "ceiling"; failed
    scores (`sweep_failures`) are gaps in the line and crosses along the top of the plot, so a blown-up
    run does not stretch the axis over the scores that matter.
    """
    fig = go.Figure()
    failures = [sweep_failures(c) for c in curves]   # (infinite, away) masks per curve
    kept = [np.where(infinite | away, np.inf, np.asarray(c["scores"], dtype=float))
            for c, (infinite, away) in zip(curves, failures)]
    finite = np.concatenate([k[np.isfinite(k)] for k in kept] or [np.array([])])
    ceilings = [c["ceiling"] for c in curves if c.get("ceiling") is not None and np.isfinite(c["ceiling"])]
    top = float(max([*finite, *ceilings], default=1 / 3)) * 3
    # a row of crosses per method, ~5 % of the axis apart: methods failing at the same η hid each other
    decades = np.log10(max(top, floor)) - np.log10(max(float(np.min(finite, initial=top)), floor))
    row_step = 10 ** max(0.3, 0.05 * decades)
    for i, (c, scores, (infinite, away)) in enumerate(zip(curves, kept, failures)):
        color = method_color(i)
        lrs = np.asarray(c["lrs"], dtype=float)
        fig.add_trace(go.Scatter(x=lrs, y=_on_log_axis(scores, floor), mode="lines+markers", name=c["label"],
                                 line=dict(color=color, width=2), marker=dict(size=5), legendgroup=f"m{i}",
                                 hovertemplate=f"{c['label']}<br>η = %{{x:.3g}}<br>score %{{y:.3e}}<extra></extra>"))
        failed = infinite | away
        if failed.any():
            said = np.where(away, [f"ended farther from f* than it started (median f − f* = {v:.3g})"
                                   for v in np.asarray(c["scores"], dtype=float)], "diverged or never reached")
            fig.add_trace(go.Scatter(x=lrs[failed], y=np.full(failed.sum(), max(top, floor) * row_step ** i),
                                     mode="markers",
                                     marker=dict(symbol="x-thin", size=8, color=color, line=dict(width=2, color=color)),
                                     name=f"{c['label']}: failed", showlegend=False, legendgroup=f"m{i}",
                                     text=said[failed],
                                     hovertemplate=f"{c['label']}<br>η = %{{x:.3g}}: %{{text}}<extra></extra>"))
        if c.get("best_lr") is not None and np.isfinite(c.get("best_score", np.inf)):
            fig.add_trace(go.Scatter(x=[c["best_lr"]], y=_on_log_axis([c["best_score"]], floor), mode="markers",
                                     marker=dict(symbol="star", size=15, color=color, line=dict(color="black", width=1)),
                                     name=f"{c['label']}: tuned η = {c['best_lr']:.3g}", legendgroup=f"m{i}",
                                     showlegend=False,
                                     hovertemplate=f"{c['label']}: tuned η = {c['best_lr']:.3g}<extra></extra>"))
    if ceilings and curves:   # where the runs began: a score above it moved away from the minimum
        ends = np.concatenate([np.asarray(c["lrs"], dtype=float) for c in curves])
        fig.add_trace(go.Scatter(x=[ends.min(), ends.max()], y=[max(ceilings[0], floor)] * 2, mode="lines",
                                 name="at the starts", showlegend=False, line=dict(color="#888", width=1, dash="dot"),
                                 hovertemplate=f"median f − f* at the starts: {ceilings[0]:.3g}<extra></extra>"))
    fig.update_xaxes(title_text="learning rate η", type="log", exponentformat="power")
    fig.update_yaxes(title_text=score_title, type="log", exponentformat="power")
    return styled(fig, title, height=height, legend=bottom_legend(),
                  margin=dict(l=70, r=20, t=40 if title else 20, b=AXIS_TITLE_PX + LEGEND_ROW_PX))
