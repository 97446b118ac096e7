"""Figures for the analysis views: curvature maps, vector fields, Newton's model, rates, sweeps,
basins of attraction and the preconditioning lab.

Pure builders: arrays (or `optcore.analysis` results) in, `go.Figure` out. Nothing here evaluates
the objective; the pages compute with `optcore.analysis` and pass the results.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..analysis.basins import coordinates_text
from .base import END_MARKER, START_MARKER, method_color, narrow_chart, styled, styled_legend_on_top
from .thinning import MAX_POINTS, thin_indices, thin_series

# Negative (saddle-shaped / concave) purple, zero white, positive (convex) green: both stay clear
# of the warm colours used for paths.
DIVERGING_SCALE = [[0.0, "#6a2c7a"], [0.25, "#a983c2"], [0.5, "#f7f7f7"], [0.75, "#8cc98a"], [1.0, "#2a7f3b"]]
CLASS_COLORS = {1: "#8fd19e", 0: "#c9a8dc", -1: "#8ab6d6"}
CLASS_LABELS = {1: "convex: all eigenvalues ≥ 0", 0: "saddle-shaped: mixed signs", -1: "concave: all eigenvalues ≤ 0"}
KIND_MARKERS = {
    "min": dict(symbol="star", size=15, color="#ffd400", line=dict(color="black", width=1)),
    "max": dict(symbol="triangle-up", size=13, color="#ffffff", line=dict(color="black", width=1.5)),
    "saddle": dict(symbol="x", size=12, color="#111111", line=dict(color="white", width=1)),
    "degenerate": dict(symbol="diamond", size=11, color="#bbbbbb", line=dict(color="black", width=1)),
}
KIND_NAMES = {"min": "minimum", "max": "maximum", "saddle": "saddle point", "degenerate": "degenerate point"}
KIND_PLURALS = {"min": "minima", "max": "maxima", "saddle": "saddle points", "degenerate": "degenerate points"}
ARROW_SCALE = "Viridis"
# Categorical colours for basins (one per attractor); diverged is black, not converged grey.
BASIN_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#d62728", "#8c564b", "#e377c2",
                "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173")
DIVERGED_COLOR = "#222222"
NOT_CONVERGED_COLOR = "#c8c8c8"


# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------
def f32(a) -> np.ndarray:
    """Grids travel as base64 float32: half the bytes of float64, far more than a screen resolves."""
    return np.asarray(a, dtype=np.float32)


def contour_lines(xs, ys, F, n: int = 18, color: str = "rgba(40,40,40,0.55)", name: str = "contours of f",
                  showlegend: bool = False, **kwargs) -> go.Contour:
    """Contour lines of f, spaced evenly in log(1 + f − min f): the same curves as f's own level
    sets, but with lines in the valleys as well as on the walls."""
    F = np.asarray(F, dtype=float)
    finite = np.isfinite(F)
    Z = np.full(F.shape, np.nan)
    if finite.any():
        Z[finite] = np.log1p(F[finite] - F[finite].min())
    return go.Contour(x=f32(xs), y=f32(ys), z=f32(Z), ncontours=n, contours=dict(coloring="none"), showscale=False,
                      line=dict(color=color, width=1), hoverinfo="skip", name=name, showlegend=showlegend,
                      **kwargs)


def _symmetric_range(Z, quantile: float = 98.0) -> float:
    finite = np.abs(np.asarray(Z, dtype=float))
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 1.0
    # A little headroom: a constant field (a quadratic's det H) sits clearly inside the scale, and
    # the contour lines stay readable on it.
    m = 1.25 * float(np.percentile(finite, quantile))
    return m if m > 0 else float(finite.max()) or 1.0


def critical_point_traces(points: Sequence, axes: tuple[int, int] = (0, 1), legend: bool = True,
                          **kwargs) -> list[go.Scatter]:
    """One marker trace per kind (min ★, max ▲, saddle ×, degenerate ◆) for `CriticalPoint`s."""
    traces = []
    for kind, marker in KIND_MARKERS.items():
        pts = [c for c in points if c.kind == kind]
        if not pts:
            continue
        P = np.array([c.point for c in pts])
        text = [f"{KIND_NAMES[kind]}<br>f = {c.value:.6g}<br>λ = "
                + ", ".join(f"{v:.4g}" for v in c.eigenvalues) for c in pts]
        traces.append(go.Scatter(x=P[:, axes[0]], y=P[:, axes[1]] if P.shape[1] > 1 else [c.value for c in pts],
                                 mode="markers", marker=marker, name=KIND_PLURALS[kind], text=text,
                                 hovertemplate="%{text}<extra></extra>", showlegend=legend,
                                 legendgroup=kind, **kwargs))
    return traces


def _drawn(points, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of a path's points worth drawing (all of a short path; see `thinning`)."""
    P = np.asarray(points, dtype=float)
    return thin_indices(P, max_points) if len(P) else np.arange(0)


def path_traces(paths: Mapping[str, np.ndarray], axes: tuple[int, int] = (0, 1), legend: bool = True,
                **kwargs) -> list[go.Scatter]:
    """A line-and-dots trace per labelled path (k+1, d), a white start marker, an end cross."""
    traces = []
    for i, (label, P) in enumerate(paths.items()):
        P = np.asarray(P, dtype=float)
        if P.ndim != 2 or len(P) == 0:
            continue
        color = method_color(i)
        keep = _drawn(P[:, list(axes)])
        traces.append(go.Scatter(x=P[keep, axes[0]], y=P[keep, axes[1]], customdata=keep, name=label,
                                 mode="lines+markers" if len(keep) == len(P) else "lines",
                                 line=dict(color=color, width=2.5), marker=dict(size=5, color=color),
                                 legendgroup=f"path{i}", showlegend=legend,
                                 hovertemplate=f"{label}<br>step %{{customdata}}: (%{{x:.4g}}, %{{y:.4g}})"
                                               "<extra></extra>", **kwargs))
        traces.append(go.Scatter(x=[P[-1, axes[0]]], y=[P[-1, axes[1]]], mode="markers",
                                 marker={**END_MARKER, "color": color}, legendgroup=f"path{i}",
                                 showlegend=False, hoverinfo="skip", **kwargs))
    starts = np.array([np.asarray(P)[0] for P in paths.values() if len(P)])
    if len(starts):
        traces.append(go.Scatter(x=starts[:, axes[0]], y=starts[:, axes[1]], mode="markers", marker=START_MARKER,
                                 name="start", showlegend=False, hovertemplate="start (%{x:.4g}, %{y:.4g})"
                                 "<extra></extra>", **kwargs))
    return traces


def _axes_titles(fig: go.Figure, names: Sequence[str], rows: int = 1, cols: int = 1) -> None:
    for c in range(1, cols + 1):
        fig.update_xaxes(title_text=names[0], row=rows, col=c)
    if len(names) > 1:
        fig.update_yaxes(title_text=names[1], row=1, col=1)


def _window_axes(fig: go.Figure, xs, ys, **kwargs) -> None:
    fig.update_xaxes(range=[float(xs[0]), float(xs[-1])], constrain="domain", **kwargs)
    fig.update_yaxes(range=[float(ys[0]), float(ys[-1])], constrain="domain", **kwargs)


# --------------------------------------------------------------------------------------------
# Curvature maps
# --------------------------------------------------------------------------------------------
def has_zero_line(Z) -> bool:
    """Whether the zero contour of Z exists in the window: Z takes both signs there. A legend entry
    "det H = 0" for a line that is not drawn would send the student looking for it."""
    z = np.asarray(Z, dtype=float)
    z = z[np.isfinite(z)]
    return bool(z.size and z.min() < 0 < z.max())


def _map_figure(xs, ys, heat: go.Heatmap, F, names, critical, paths, zero_contour_of, title,
                zero_name: str = "det H = 0") -> go.Figure:
    fig = go.Figure(heat)
    fig.add_trace(contour_lines(xs, ys, F))
    if zero_contour_of is not None and has_zero_line(zero_contour_of):
        fig.add_trace(go.Contour(x=f32(xs), y=f32(ys), z=f32(zero_contour_of), contours=dict(coloring="none", start=0, end=0,
                                 size=1), line=dict(color="black", width=2.5, dash="dash"), showscale=False,
                                 hoverinfo="skip", name=zero_name, showlegend=True))
    for t in critical_point_traces(critical or []):
        fig.add_trace(t)
    for t in path_traces(paths or {}):
        fig.add_trace(t)
    _window_axes(fig, xs, ys)
    fig.update_layout(xaxis_title=names[0], yaxis_title=names[1], meta={"view": "curvature"})
    return styled_legend_on_top(fig, title, height=620)


def det_hessian_figure(xs, ys, det, F, names=("x", "y"), critical=None, paths=None,
                       title: str | None = "det H (H the Hessian of f) under the contour lines of f") -> go.Figure:
    """Heatmap of det H on a diverging scale centred at 0 (green > 0: bowl or dome, purple < 0:
    saddle-shaped), f's contour lines, the dashed zero contour of det H, critical points and paths."""
    m = _symmetric_range(det)
    heat = go.Heatmap(x=f32(xs), y=f32(ys), z=f32(det), colorscale=DIVERGING_SCALE, zmid=0.0, zmin=-m, zmax=m, name="det H",
                      colorbar=dict(title=dict(text="det H", side="right"), thickness=14),
                      hovertemplate=f"{names[0]}=%{{x:.4g}}, {names[1]}=%{{y:.4g}}<br>det H = %{{z:.4g}}"
                                    "<extra></extra>")
    return _map_figure(xs, ys, heat, F, names, critical, paths, det, title)


def min_eigenvalue_figure(xs, ys, lam_min, F, names=("x", "y"), critical=None, paths=None,
                          title: str | None = "smallest Hessian eigenvalue λ<sub>min</sub>") -> go.Figure:
    """λ_min on the diverging scale centred at 0: green where f curves up in every direction."""
    m = _symmetric_range(lam_min)
    heat = go.Heatmap(x=f32(xs), y=f32(ys), z=f32(lam_min), colorscale=DIVERGING_SCALE, zmid=0.0, zmin=-m, zmax=m,
                      name="λ_min", colorbar=dict(title=dict(text="λ<sub>min</sub>", side="right"), thickness=14),
                      hovertemplate=f"{names[0]}=%{{x:.4g}}, {names[1]}=%{{y:.4g}}<br>λ<sub>min</sub> = %{{z:.4g}}"
                                    "<extra></extra>")
    return _map_figure(xs, ys, heat, F, names, critical, paths, lam_min, title, zero_name="λ<sub>min</sub> = 0")


def curvature_class_figure(xs, ys, classes, F, names=("x", "y"), critical=None, paths=None,
                           title: str | None = "where f is convex, saddle-shaped or concave") -> go.Figure:
    """Three discrete colours (codes +1 / 0 / −1 from `curvature_class_grid`) with a legend."""
    scale = []
    for k, code in enumerate((-1, 0, 1)):
        scale += [[k / 3, CLASS_COLORS[code]], [(k + 1) / 3, CLASS_COLORS[code]]]
    heat = go.Heatmap(x=f32(xs), y=f32(ys), z=f32(classes), zmin=-1.5, zmax=1.5, colorscale=scale, showscale=False,
                      name="curvature",
                      hovertemplate=f"{names[0]}=%{{x:.4g}}, {names[1]}=%{{y:.4g}}<br>class %{{z}}"
                                    "<br>(1 convex, 0 saddle-shaped, −1 concave)<extra></extra>")
    fig = _map_figure(xs, ys, heat, F, names, critical, paths, None, title)
    for code in (1, 0, -1):   # legend entries: a heatmap has none of its own
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=CLASS_LABELS[code],
                                 marker=dict(symbol="square", size=14, color=CLASS_COLORS[code],
                                             line=dict(color="#666", width=1))))
    return fig


def curvature_1d_figure(xs, f, f2, critical=None, paths=None, name: str = "x",
                        title: str | None = "f and its curvature f''") -> go.Figure:
    """f (top) and f'' (bottom) for a function of one variable; concave stretches (f'' < 0) shaded."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.6, 0.4])
    fig.add_trace(go.Scatter(x=xs, y=f, mode="lines", name="f", line=dict(color="#1b3a6b", width=2.5)), 1, 1)
    fig.add_trace(go.Scatter(x=xs, y=f2, mode="lines", name="f''", line=dict(color="#762a83", width=2)), 2, 1)
    fig.add_hline(y=0, line=dict(color="#888", width=1, dash="dot"), row=2, col=1)
    for lo, hi in _intervals(xs, np.asarray(f2) < 0):
        fig.add_vrect(x0=lo, x1=hi, fillcolor=CLASS_COLORS[0], opacity=0.35, line_width=0, layer="below")
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="f'' < 0 (concave)",
                             marker=dict(symbol="square", size=14, color=CLASS_COLORS[0])), 1, 1)
    for c in critical or []:
        marker = KIND_MARKERS[c.kind]
        fig.add_trace(go.Scatter(x=[c.point[0]], y=[c.value], mode="markers", marker=marker,
                                 name=KIND_NAMES[c.kind], legendgroup=c.kind, showlegend=False,
                                 hovertemplate=f"{KIND_NAMES[c.kind]}<br>x = %{{x:.6g}}<br>f = %{{y:.6g}}"
                                               "<extra></extra>"), 1, 1)
    for i, (label, (px, pf)) in enumerate((paths or {}).items()):
        px, pf = np.asarray(px, dtype=float), np.asarray(pf, dtype=float)
        keep = _drawn(np.column_stack([px, pf]))
        fig.add_trace(go.Scatter(x=px[keep], y=pf[keep], mode="lines+markers" if len(keep) == len(px) else "lines",
                                 name=label, line=dict(color=method_color(i), width=2), marker=dict(size=7)), 1, 1)
    fig.update_xaxes(title_text=name, row=2, col=1)
    fig.update_yaxes(title_text="f", row=1, col=1)
    fig.update_yaxes(title_text="f''", row=2, col=1)
    # "normal" order: with legend groups in the figure (the stationary points') plotly.js stacks a
    # horizontal legend's entries in a column, five rows above the plot instead of one or two
    fig.update_layout(meta={"view": "curvature_1d", "click_axes": [0]}, legend_traceorder="normal")
    return styled_legend_on_top(fig, title, height=600, legend_rows=2 if paths else 1)


def _intervals(xs, mask) -> list[tuple[float, float]]:
    """Contiguous stretches of xs where mask holds, as (start, end) pairs."""
    xs = np.asarray(xs, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    out, start = [], None
    for x, m in zip(xs, mask):
        if m and start is None:
            start = x
        elif not m and start is not None:
            out.append((start, x))
            start = None
    if start is not None:
        out.append((start, xs[-1]))
    return out


# --------------------------------------------------------------------------------------------
# Vector fields
# --------------------------------------------------------------------------------------------
def arrow_trace(X, V, cell: tuple[float, float], coloraxis: str, name: str, fill: float = 0.8) -> go.Scatter:
    """One scatter trace of arrows: a segment per point (None-separated) drawn at a fixed length of
    `fill` grid cells, an arrow-head marker at the tip (oriented along the segment on screen), the
    head's colour = log₁₀ of the vector's true length. Points with a non-finite vector are skipped."""
    X = np.asarray(X, dtype=float).reshape(-1, 2)
    V = np.asarray(V, dtype=float).reshape(-1, 2)
    ok = np.isfinite(V).all(axis=1) & (np.linalg.norm(V, axis=1) > 0)
    X, V = X[ok], V[ok]
    hx, hy = cell
    length = np.linalg.norm(V, axis=1)
    cell_len = np.hypot(V[:, 0] / hx, V[:, 1] / hy)
    tips = X + V * (fill / cell_len)[:, None]
    n = len(X)
    xs = np.empty(3 * n, dtype=object)
    ys = np.empty(3 * n, dtype=object)
    xs[0::3], xs[1::3], xs[2::3] = X[:, 0], tips[:, 0], None
    ys[0::3], ys[1::3], ys[2::3] = X[:, 1], tips[:, 1], None
    logs = np.log10(length)
    color = np.repeat(logs, 3)
    size = np.tile([0.0, 9.0, 0.0], n)
    text = np.repeat([f"‖v‖ = {v:.3g}" for v in length], 3) if n else []
    return go.Scatter(x=list(xs), y=list(ys), mode="lines+markers", name=name, showlegend=False,
                      line=dict(color="rgba(60,60,60,0.55)", width=1.2),
                      marker=dict(symbol="arrow", angleref="previous", size=size, color=color,
                                  coloraxis=coloraxis, line=dict(width=0)),
                      text=list(text), hovertemplate="%{text}<extra>" + name + "</extra>")


def vector_fields_figure(xs, ys, F, XY, newton, gradient, det=None, names=("x", "y"),
                         starts: np.ndarray | None = None, paths: Mapping[str, np.ndarray] | None = None,
                         title: str | None = "Newton step −H⁻¹∇f beside steepest descent −∇f",
                         width: int | None = None) -> go.Figure:
    """Two panels on the same window: the Newton-step field and the negative-gradient field, as
    arrows of equal drawn length coloured by log₁₀ of their true length, over f's contour lines and
    the dashed det H = 0 curve (where the Newton step blows up and turns around).
    `width` (px, when the page knows it): a chart narrower than `NARROW_CHART_PX` (a phone) puts the
    Newton panel above the gradient panel, each with its colour bar beside it."""
    stacked = narrow_chart(width)
    titles = ("Newton step  −H⁻¹∇f", "negative gradient  −∇f")
    if stacked:   # side by side on a phone each panel was ~130 px wide, one colour bar over the other panel
        gap = 0.12
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=gap, subplot_titles=titles)
    else:
        fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.1, subplot_titles=titles)

    def cell(panel: int) -> tuple[int, int]:
        return (panel, 1) if stacked else (1, panel)

    XY = np.asarray(XY, dtype=float)
    cell_size = (float(XY[0, 1, 0] - XY[0, 0, 0]), float(XY[1, 0, 1] - XY[0, 0, 1]))
    for panel, (field, axis, label) in enumerate(((newton, "coloraxis", "Newton step"),
                                                  (gradient, "coloraxis2", "−∇f")), start=1):
        fig.add_trace(contour_lines(xs, ys, F), *cell(panel))
        if det is not None and has_zero_line(det):
            fig.add_trace(go.Contour(x=f32(xs), y=f32(ys), z=f32(det), contours=dict(coloring="none", start=0, end=0, size=1),
                                     line=dict(color="#762a83", width=2, dash="dash"), showscale=False,
                                     hoverinfo="skip", name="det H = 0", showlegend=panel == 1), *cell(panel))
        fig.add_trace(arrow_trace(XY, field, cell_size, axis, label), *cell(panel))
        for t in path_traces(paths or {}, legend=panel == 1):
            fig.add_trace(t, *cell(panel))
        if starts is not None and len(starts):
            S = np.asarray(starts, dtype=float).reshape(-1, 2)
            fig.add_trace(go.Scatter(x=S[:, 0], y=S[:, 1], mode="markers", marker=START_MARKER, name="start",
                                     showlegend=False, hovertemplate="(%{x:.4g}, %{y:.4g})<extra>start</extra>"),
                          *cell(panel))
    bar = dict(thickness=12, len=0.9, title=dict(text="log₁₀‖v‖", side="right"))
    if stacked:   # each bar beside its own panel: the top one over [1/2 + gap/2, 1], the bottom one below
        half = (1 - gap) / 2
        bars = ({**bar, "x": 1.0, "len": half, "y": 1 - half / 2}, {**bar, "x": 1.0, "len": half, "y": half / 2})
    else:
        bars = ({**bar, "x": 0.45}, {**bar, "x": 1.0})
    fig.update_layout(coloraxis=dict(colorscale=ARROW_SCALE, colorbar=bars[0]),
                      coloraxis2=dict(colorscale=ARROW_SCALE, colorbar=bars[1]),
                      meta={"view": "vector_fields"})
    _window_axes(fig, xs, ys)
    if stacked:
        fig.update_xaxes(title_text=names[0], row=2, col=1)
        fig.update_yaxes(title_text=names[1])
        height = 2 * max(260, width - 80) + 160
    else:
        fig.update_xaxes(title_text=names[0])
        fig.update_yaxes(title_text=names[1], row=1, col=1)
        height = 540
    return styled_legend_on_top(fig, title, height=height, panel_titles=True)


# --------------------------------------------------------------------------------------------
# Newton's model
# --------------------------------------------------------------------------------------------
def _levels(F, count: int = 16) -> dict:
    finite = np.asarray(F, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return dict(start=0, end=1, size=1)
    lo, hi = np.percentile(finite, [1, 90])
    if hi <= lo:
        hi = lo + 1.0
    return dict(start=float(lo), end=float(hi), size=float((hi - lo) / count))


def taylor_model_figure(xs, ys, F, models: Mapping[str, np.ndarray], x_k, landings: Mapping[str, object],
                        path: np.ndarray | None = None, names=("x", "y"),
                        title: str | None = None) -> go.Figure:
    """f's contours with the path so far (left), then one panel per quadratic model at x_k
    (true Hessian; BFGS's approximation, ...) drawn with the same contour levels over faint lines
    of f, with the Newton step from x_k to the model's stationary point.

    `landings[label]` is (point or None, kind) with kind from `quadratic_model_kind`.
    """
    labels = list(models)
    fig = make_subplots(rows=1, cols=1 + len(labels), shared_yaxes=True, horizontal_spacing=0.05,
                        subplot_titles=["f and the path so far"] + [f"model: {lab}" for lab in labels])
    levels = _levels(F)
    x_k = np.asarray(x_k, dtype=float)
    fig.add_trace(go.Contour(x=f32(xs), y=f32(ys), z=f32(F), contours=dict(coloring="lines", **levels), showscale=False,
                             colorscale="Viridis", line=dict(width=1.3), name="f",
                             hovertemplate="f = %{z:.4g}<extra></extra>"), 1, 1)
    if path is not None and len(path):
        P = np.asarray(path, dtype=float)
        P = P[_drawn(P[:, :2])]
        fig.add_trace(go.Scatter(x=P[:, 0], y=P[:, 1], mode="lines+markers", name="path",
                                 line=dict(color=method_color(0), width=2.5), marker=dict(size=5)), 1, 1)
    shown_kinds: set[str] = set()
    for col, label in enumerate(labels, start=2):
        fig.add_trace(contour_lines(xs, ys, F, color="rgba(120,120,120,0.35)"), 1, col)
        fig.add_trace(go.Contour(x=f32(xs), y=f32(ys), z=f32(models[label]), contours=dict(coloring="lines", **levels),
                                 showscale=False, colorscale="Viridis", line=dict(width=1.6, dash="solid"),
                                 name=f"model ({label})", hovertemplate="model = %{z:.4g}<extra></extra>"), 1, col)
        point, kind = landings.get(label, (None, "degenerate"))
        if point is not None:
            point = np.asarray(point, dtype=float)
            fig.add_trace(go.Scatter(x=[x_k[0], point[0]], y=[x_k[1], point[1]], mode="lines+markers",
                                     line=dict(color=method_color(1), width=2.5),
                                     marker=dict(symbol="arrow", angleref="previous", size=[0, 14],
                                                 color=method_color(1)),
                                     name="Newton step", showlegend=col == 2, legendgroup="step",
                                     hoverinfo="skip"), 1, col)
            fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", marker=KIND_MARKERS[kind],
                                     name=f"model's {KIND_NAMES[kind]}", legendgroup=f"land{kind}",
                                     showlegend=kind not in shown_kinds,
                                     hovertemplate=f"stationary point of the model ({KIND_NAMES[kind]})<br>"
                                                   "(%{x:.4g}, %{y:.4g})<extra></extra>"), 1, col)
            shown_kinds.add(kind)
    for col in range(1, len(labels) + 2):
        fig.add_trace(go.Scatter(x=[x_k[0]], y=[x_k[1]], mode="markers", marker=START_MARKER, name="x_k",
                                 showlegend=col == 1, legendgroup="xk",
                                 hovertemplate="x_k = (%{x:.4g}, %{y:.4g})<extra></extra>"), 1, col)
    _window_axes(fig, xs, ys)
    fig.update_xaxes(title_text=names[0])
    fig.update_yaxes(title_text=names[1], row=1, col=1)
    fig.update_layout(height=480, legend=dict(orientation="h", yanchor="bottom", y=1.1, x=0),
                      meta={"view": "newton_model"})
    return styled(fig, title, margin=dict(t=110))


def taylor_model_1d_figure(xs, f, models: Mapping[str, np.ndarray], x_k: float, f_k: float,
                           landings: Mapping[str, object], path: tuple | None = None, name: str = "x",
                           title: str | None = None) -> go.Figure:
    """f and its quadratic model(s) at x_k on one axis, with the path so far and where each
    model's stationary point lies."""
    fig = go.Figure(go.Scatter(x=xs, y=f, mode="lines", name="f", line=dict(color="#1b3a6b", width=3)))
    finite = np.asarray(f, dtype=float)
    finite = finite[np.isfinite(finite)]
    span = (finite.max() - finite.min()) if finite.size else 1.0
    lo, hi = (finite.min() - 0.3 * span, finite.max() + 0.3 * span) if finite.size else (-1, 1)
    for i, (label, m) in enumerate(models.items(), start=1):
        fig.add_trace(go.Scatter(x=xs, y=m, mode="lines", name=f"model ({label})",
                                 line=dict(color=method_color(i), width=2, dash="dash")))
        point, kind = landings.get(label, (None, "degenerate"))
        if point is not None:
            p = float(np.ravel(point)[0])
            fig.add_vline(x=p, line=dict(color=method_color(i), width=1, dash="dot"))
            fig.add_trace(go.Scatter(x=[p], y=[float(np.interp(p, xs, m)) if xs[0] <= p <= xs[-1] else None],
                                     mode="markers", marker=KIND_MARKERS[kind],
                                     name=f"model's {KIND_NAMES[kind]}"))
    if path is not None:
        fig.add_trace(go.Scatter(x=path[0], y=path[1], mode="lines+markers", name="path",
                                 line=dict(color=method_color(0), width=2), marker=dict(size=6)))
    fig.add_trace(go.Scatter(x=[x_k], y=[f_k], mode="markers", marker=START_MARKER, name="x_k"))
    fig.update_layout(xaxis_title=name, yaxis_title="f", yaxis_range=[lo, hi], height=460,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0), meta={"view": "newton_model"})
    return styled(fig, title, margin=dict(t=80))


# --------------------------------------------------------------------------------------------
# Learning-rate lab
# --------------------------------------------------------------------------------------------
def rate_curve_figure(alphas, r, alpha_star: float, r_star: float, edge: float,
                      measured: Sequence[tuple[float, float]] = (), chosen: tuple[float, float] | None = None,
                      title: str | None = "contraction per step r(α) = max |1 − αλᵢ|") -> go.Figure:
    """r(α) with α* and r*, the stability edge 2/λ_max and r = 1, plus rates measured from runs."""
    fig = go.Figure(go.Scatter(x=alphas, y=r, mode="lines", name="r(α) from the eigenvalues",
                               line=dict(color="#1b3a6b", width=3)))
    fig.add_hline(y=1.0, line=dict(color="#999", dash="dot"), annotation_text="r = 1: no progress",
                  annotation_position="top left")
    if math.isfinite(edge):
        fig.add_vline(x=edge, line=dict(color="#d62728", dash="dash"), annotation_text=f"2/λmax = {edge:.4g}",
                      annotation_position="top right")
    if len(measured):
        M = np.asarray(measured, dtype=float)
        fig.add_trace(go.Scatter(x=M[:, 0], y=M[:, 1], mode="markers", name="measured from a run",
                                 marker=dict(symbol="circle-open", size=11, color=method_color(0),
                                             line=dict(width=2.5)),
                                 hovertemplate="α = %{x:.4g}<br>measured r = %{y:.4g}<extra></extra>"))
    if chosen is not None:
        # a ring drawn under the r* star: at α = α* (the slider's default) a dot hid the star
        fig.add_trace(go.Scatter(x=[chosen[0]], y=[chosen[1]], mode="markers",
                                 name=f"gradient descent at α = {chosen[0]:.4g}",
                                 marker=dict(symbol="circle-open", size=22, color=method_color(0),
                                             line=dict(width=3))))
    if math.isfinite(alpha_star):   # after the ring: drawn on top of it
        fig.add_vline(x=alpha_star, line=dict(color="#1b7837", dash="dash"),
                      annotation_text=f"α* = {alpha_star:.4g}", annotation_position="bottom right")
        fig.add_trace(go.Scatter(x=[alpha_star], y=[r_star], mode="markers", name=f"r* = {r_star:.4g}",
                                 marker=dict(symbol="star", size=16, color="#1b7837",
                                             line=dict(color="black", width=1))))
    ymax = 1.6
    fig.update_layout(xaxis_title="learning rate α", yaxis_title="error shrink factor per step",
                      yaxis_range=[0, ymax], height=440, meta={"view": "rate_curve"},
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    return styled(fig, title, margin=dict(t=90))


def sweep_figure(sweeps: Mapping[str, object], metric: str = "gap", edge: float | None = None,
                 title: str | None = None) -> go.Figure:
    """One curve per method against the learning rate (log axis): final f − f* (log axis, floored
    at 1e-16) or iterations to tolerance. Diverged runs are drawn as crosses along the top."""
    fig = go.Figure()
    top = 1.0
    for i, (label, sw) in enumerate(sweeps.items()):
        y = np.asarray(sw.gap if metric == "gap" else sw.iterations, dtype=float)
        if metric == "gap":
            y = np.where(np.isfinite(y), np.maximum(y, 1e-16), np.nan)
        if np.isfinite(y).any():
            top = max(top, float(np.nanmax(y)))
        fig.add_trace(go.Scatter(x=sw.values, y=y, mode="lines+markers", name=label,
                                 line=dict(color=method_color(i), width=2.5), marker=dict(size=6),
                                 customdata=np.asarray(sw.status, dtype=str),
                                 hovertemplate="lr = %{x:.4g}<br>%{y:.4g}<br>%{customdata}<extra>" + label
                                               + "</extra>"))
    for i, (label, sw) in enumerate(sweeps.items()):
        div = np.asarray(sw.status) == "diverged"
        if div.any():
            fig.add_trace(go.Scatter(x=np.asarray(sw.values)[div], y=np.full(div.sum(), top * (3 if metric == "gap"
                                     else 1.05)), mode="markers", name=f"{label}: diverged",
                                     marker=dict(symbol="x", size=9, color=method_color(i)), showlegend=False,
                                     hovertemplate="lr = %{x:.4g}: diverged<extra></extra>"))
    if edge is not None and math.isfinite(edge):
        fig.add_vline(x=edge, line=dict(color="#d62728", dash="dash"), annotation_text=f"2/λmax = {edge:.3g}")
    fig.update_xaxes(type="log", title_text="learning rate (log scale)")
    if metric == "gap":
        fig.update_yaxes(type="log", title_text="final f − f*  (log scale)", exponentformat="power")
    else:
        fig.update_yaxes(title_text="iterations to tolerance (missing: did not converge)")
    fig.update_layout(height=440, meta={"view": "sweep"}, legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    return styled(fig, title, margin=dict(t=80, l=LOG_AXIS_MARGIN_PX))


def param_heatmap_figure(hm, metric: str = "gap", edge_lrs: np.ndarray | None = None,
                         title: str | None = None) -> go.Figure:
    """Learning rate (log x) × second parameter (y) coloured by log₁₀ final gap or by iterations;
    `edge_lrs` (one learning rate per row) draws the quadratic stability edge."""
    if metric == "gap":
        z = np.log10(np.where(np.isfinite(hm.gap), np.maximum(hm.gap, 1e-16), np.nan))
        ctitle, fmt = "log₁₀(f − f*)", ".2f"
        scale = "Viridis"
    else:
        z = np.asarray(hm.iterations, dtype=float)
        ctitle, fmt = "iterations", ".0f"
        scale = "Viridis_r"
    fig = go.Figure(go.Heatmap(x=np.log10(hm.lrs), y=hm.second_values, z=z, colorscale=scale,
                               colorbar=dict(title=dict(text=ctitle, side="right")),
                               customdata=np.asarray(hm.status, dtype=str),
                               hovertemplate="log₁₀ lr = %{x:.3g}<br>" + hm.second_name + " = %{y:.3g}<br>%{z:"
                                             + fmt + "}<br>%{customdata}<extra></extra>"))
    if edge_lrs is not None:
        fig.add_trace(go.Scatter(x=np.log10(np.asarray(edge_lrs, dtype=float)), y=hm.second_values, mode="lines",
                                 line=dict(color="#d62728", width=3, dash="dash"),
                                 name="stability edge 2(1+β)/λmax"))
    ticks = [v for v in range(math.floor(np.log10(hm.lrs.min())), math.ceil(np.log10(hm.lrs.max())) + 1)]
    fig.update_xaxes(title_text="learning rate", tickvals=ticks, ticktext=[f"1e{t}" for t in ticks],
                     range=[float(np.log10(hm.lrs.min())), float(np.log10(hm.lrs.max()))])
    fig.update_yaxes(title_text=hm.second_name)
    fig.update_layout(height=440, meta={"view": "param_heatmap"},
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    return styled(fig, title, margin=dict(t=80))


def convergence_order_figure(errors: Mapping[str, np.ndarray], slopes: Mapping[str, float],
                             tails: Mapping[str, int] | None = None,
                             title: str | None = "log e<sub>k+1</sub> against log e<sub>k</sub>") -> go.Figure:
    """Scatter of consecutive errors on log–log axes per method with its fitted slope (the order
    of convergence) over the last pairs, and dotted reference lines of slope 1 and 2."""
    fig = go.Figure()
    lo, hi = math.inf, -math.inf
    for i, (label, e) in enumerate(errors.items()):
        e = np.asarray(e, dtype=float)
        if e.size < 2:
            continue
        a, b = np.log10(e[:-1]), np.log10(e[1:])
        lo, hi = min(lo, a.min(), b.min()), max(hi, a.max(), b.max())
        slope = slopes.get(label, math.nan)
        name = f"{label}: slope {slope:.2f}" if math.isfinite(slope) else f"{label}: slope n/a"
        fig.add_trace(go.Scatter(x=a, y=b, mode="lines+markers", name=name,
                                 line=dict(color=method_color(i), width=1.5), marker=dict(size=8),
                                 hovertemplate="log₁₀ e<sub>k</sub> = %{x:.3g}<br>log₁₀ e<sub>k+1</sub> = %{y:.3g}<extra></extra>"))
        t = (tails or {}).get(label, 3)
        if math.isfinite(slope) and len(a) >= 2:
            ta, tb = a[-t:], b[-t:]
            c = float(np.mean(tb - slope * ta))
            xx = np.array([ta.min(), ta.max()])
            fig.add_trace(go.Scatter(x=xx, y=slope * xx + c, mode="lines", showlegend=False, hoverinfo="skip",
                                     line=dict(color=method_color(i), width=5, dash="solid"), opacity=0.35))
    if math.isfinite(lo):
        for p, dash in ((1, "dot"), (2, "dashdot")):
            xx = np.array([lo, hi])
            fig.add_trace(go.Scatter(x=xx, y=p * xx + (hi - p * hi), mode="lines", name=f"slope {p}",
                                     line=dict(color="#999", dash=dash, width=1), hoverinfo="skip"))
        fig.update_xaxes(range=[lo - 0.5, hi + 0.5])
        fig.update_yaxes(range=[lo - 0.5, hi + 0.5])
    fig.update_layout(xaxis_title="log₁₀ e<sub>k</sub>", yaxis_title="log₁₀ e<sub>k+1</sub>", height=460,
                      meta={"view": "convergence_order"}, legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    return styled(fig, title, margin=dict(t=80))


def traces_1d_figure(xs, f, paths: Mapping[str, tuple[np.ndarray, np.ndarray]], name: str = "x",
                     title: str | None = None) -> go.Figure:
    """f(x) with the points (x_k, f(x_k)) of several runs, one colour per run (the textbook's
    traces for η too small, right and too large, on one plot)."""
    fig = go.Figure(go.Scatter(x=xs, y=f, mode="lines", name="f", line=dict(color="#1b3a6b", width=3)))
    for i, (label, (px, pf)) in enumerate(paths.items()):
        px, pf = np.asarray(px, dtype=float), np.asarray(pf, dtype=float)
        keep = _drawn(np.column_stack([px, pf]))
        fig.add_trace(go.Scatter(x=px[keep], y=pf[keep], customdata=keep, name=label,
                                 mode="lines+markers" if len(keep) == len(px) else "lines",
                                 line=dict(color=method_color(i), width=1.5),
                                 marker=dict(size=8, color=method_color(i), line=dict(color="white", width=1)),
                                 hovertemplate="step %{customdata}: x = %{x:.4g}, f = %{y:.4g}<extra>" + label
                                               + "</extra>"))
    fig.update_layout(xaxis_title=name, yaxis_title="f", height=440, meta={"view": "traces_1d"},
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    return styled(fig, title, margin=dict(t=80))


def value_history_figure(histories: Mapping[str, np.ndarray], f_star: float | None = None,
                         title: str | None = None) -> go.Figure:
    """f(x_k) − f* against k for several runs (log y when f* is known)."""
    fig = go.Figure()
    for i, (label, values) in enumerate(histories.items()):
        v = np.asarray(values, dtype=float)
        y = np.maximum(v - f_star, 1e-16) if f_star is not None else v
        k = thin_series(np.arange(len(v)), y, log_y=f_star is not None)
        fig.add_trace(go.Scatter(x=k, y=y[k], mode="lines+markers" if len(k) == len(v) else "lines", name=label,
                                 line=dict(color=method_color(i), width=2), marker=dict(size=5)))
    fig.update_xaxes(title_text="iteration k")
    if f_star is not None:
        fig.update_yaxes(type="log", title_text="f(x<sub>k</sub>) − f*  (log scale)", exponentformat="power")
    else:
        fig.update_yaxes(title_text="f(x<sub>k</sub>)")
    fig.update_layout(height=420, meta={"view": "value_history"},
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    return styled(fig, title, margin=dict(t=80, l=LOG_AXIS_MARGIN_PX))


# --------------------------------------------------------------------------------------------
# Basins of attraction
# --------------------------------------------------------------------------------------------
def _lighten(hex_color: str, t: float) -> str:
    h = hex_color.lstrip("#")
    rgb = [int(h[i:i + 2], 16) for i in (0, 2, 4)]
    mixed = [round(c + (255 - c) * t) for c in rgb]
    return f"rgb({mixed[0]},{mixed[1]},{mixed[2]})"


# Left margin of a chart whose y axis is logarithmic with power tick labels ("10⁻¹⁵" is wider than
# the template's 60 px leave beside the title, which plotly.js places without measuring the labels).
LOG_AXIS_MARGIN_PX = 85
MAX_LISTED_ATTRACTORS = 12  # more attractors than this: the basin legend is a summary
BASIN_LEGEND_ENTRY_PX = 220 # the room one legend entry ("saddle points (235, one colour each)") takes


# Mid tones, and with them every basin lightened at most MUTED_SHADE by iterations: paler ones, lightened
# as far as few strong colours are, left Rastrigin's maps nearly white, the borders between basins (the
# page's point) unseen, and the global minimum's blue washed out.
MUTED_COLORS = ("#a9c47a", "#d2b46e", "#86b8a4", "#c992a6", "#a99ad0", "#c7a57f")
MUTED_SHADE = 0.35


def _global_minimum(kinds, values) -> int | None:
    """Index of the one lowest minimum, or None (no values, no minimum, or several tied lowest)."""
    mins = [i for i, kind in enumerate(kinds) if kind == "min"]
    if values is None or not mins:
        return None
    low = min(float(values[i]) for i in mins)
    tied = [i for i in mins if float(values[i]) <= low + 1e-9 * max(1.0, abs(low))]
    return tied[0] if len(tied) == 1 else None


def _basin_legend(attractors, kinds, colors, values, many: bool) -> list[tuple[str, str]]:
    """(legend name, swatch colour) per outcome: every attractor when there are few; else the global
    minimum (lowest `values`) and one grey-less summary line per kind with its count."""
    if not many:
        return [(f"{KIND_NAMES[kind]} {coordinates_text(a)}", colors[i])
                for i, (a, kind) in enumerate(zip(attractors, kinds))]
    out, best = [], _global_minimum(kinds, values)
    if best is not None:
        a = attractors[best]
        out.append((f"global minimum {coordinates_text(a)}", colors[best]))
    for kind in KIND_NAMES:
        members = [i for i, kd in enumerate(kinds) if kd == kind and i != best]
        if len(members) > 1:
            other = "other " if kind == "min" and best is not None else ""
            # "one colour each" was untrue past the palette's few tones: they repeat
            palette = MUTED_COLORS if best is not None else BASIN_COLORS   # as basin_figure colours them
            shades = "one colour each" if len(members) <= len(palette) else "a few colours, repeated"
            out.append((f"{other}{KIND_PLURALS[kind]} ({len(members)}, {shades})", colors[members[0]]))
        elif members:
            a = attractors[members[0]]
            out.append((f"{KIND_NAMES[kind]} {coordinates_text(a)}", colors[members[0]]))
    return out


def basin_figure(xs, ys, labels: Sequence[np.ndarray], iterations: Sequence[np.ndarray], titles: Sequence[str],
                 attractors: np.ndarray, kinds: Sequence[str], F=None, names=("x", "y"),
                 max_shade: float = 0.75, title: str | None = None, values: Sequence[float] | None = None,
                 width: int | None = None) -> go.Figure:
    """One panel per method over the same grid: each start coloured by the attractor it reached
    (shared colours across panels: pass labels from `align_basin_labels`), black if it diverged,
    grey if it ran out of steps; lighter = more iterations. One heatmap per panel whose colour scale
    has a band per outcome, so the picture is a single compact array.

    Beyond MAX_LISTED_ATTRACTORS the legend is a summary ("global minimum (0, 0)", "other minima
    (120)", "saddle points (…)") and the markers shrink: Rastrigin's 121 minima listed one by one
    squashed the maps into a strip and the stars hid the colours. `values` (f at each attractor)
    names the global minimum.

    `F`: f on the maps' grid, or (xs, ys, F) on a grid of its own (a coarser one draws the same level
    lines), for white level lines over each map.
    `width` (px, when the page knows it): a chart narrower than `NARROW_CHART_PX` (a phone) puts the
    panels one under the other, and the legend rows are counted for that width."""
    k = len(attractors)
    many = k > MAX_LISTED_ATTRACTORS
    cats = k + 2                                      # attractors, diverged, not converged
    base = [BASIN_COLORS[i % len(BASIN_COLORS)] for i in range(k)] + [DIVERGED_COLOR, NOT_CONVERGED_COLOR]
    best = _global_minimum(kinds, values)
    muted = many and best is not None
    if muted:   # the global basin in strong blue, the other dents in muted tones
        base[:k] = [BASIN_COLORS[0] if i == best else MUTED_COLORS[i % len(MUTED_COLORS)] for i in range(k)]
    scale = []
    for c, color in enumerate(base):
        lo, hi = c / cats, (c + 1) / cats
        shade = (min(max_shade, MUTED_SHADE) if muted else max_shade) if c < k else 0.0
        scale += [[lo, _lighten(color, 0.0)], [hi, _lighten(color, shade)]]
    lines = F if isinstance(F, tuple) else (xs, ys, F)   # level lines of f: on the maps' grid or their own
    panels = len(labels)
    stacked = narrow_chart(width) and panels > 1
    if stacked:   # three maps side by side on a phone were ~100 px wide each, their titles on top of each other
        fig = make_subplots(rows=panels, cols=1, shared_xaxes=True, vertical_spacing=0.35 / panels,
                            subplot_titles=list(titles))
    else:
        fig = make_subplots(rows=1, cols=panels, shared_yaxes=True, horizontal_spacing=0.03,
                            subplot_titles=list(titles))

    def cell(col: int) -> tuple[int, int]:
        return (col, 1) if stacked else (1, col)

    for col, (lab, its) in enumerate(zip(labels, iterations), start=1):
        lab = np.asarray(lab)
        its = np.asarray(its, dtype=float)
        code = np.where(lab >= 0, lab, np.where(lab == -1, k, k + 1)).astype(float)
        converged = lab >= 0
        top = float(its[converged].max()) if converged.any() else 1.0
        frac = np.where(converged, its / max(top, 1.0), 0.0)
        z = code + 0.999 * frac
        fig.add_trace(go.Heatmap(x=f32(xs), y=f32(ys), z=f32(z), zmin=0, zmax=cats, colorscale=scale, showscale=False,
                                 customdata=f32(its), name=titles[col - 1],
                                 hovertemplate=f"start ({names[0]}=%{{x:.3g}}, {names[1]}=%{{y:.3g}})<br>"
                                               "iterations: %{customdata:.0f}<extra></extra>"), *cell(col))
        if F is not None:
            fig.add_trace(contour_lines(*lines, n=12, color="rgba(255,255,255,0.5)"), *cell(col))
        for a, kind in zip(attractors, kinds):
            marker = dict(KIND_MARKERS[kind], size=6, line=dict(width=0.5, color="black")) if many else KIND_MARKERS[kind]
            fig.add_trace(go.Scatter(x=[a[0]], y=[a[1]], mode="markers", marker=marker,
                                     showlegend=False,
                                     hovertemplate=f"{KIND_NAMES[kind]} (%{{x:.4g}}, %{{y:.4g}})<extra></extra>"),
                          *cell(col))
    for name, color in _basin_legend(attractors, kinds, base, values, many):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                 marker=dict(symbol="square", size=14, color=color)))
    for color, text in ((DIVERGED_COLOR, "diverged"), (NOT_CONVERGED_COLOR, "not converged")):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=text,
                                 marker=dict(symbol="square", size=14, color=color)))
    _window_axes(fig, xs, ys)
    if stacked:
        fig.update_xaxes(title_text=names[0], row=panels, col=1)
        fig.update_yaxes(title_text=names[1])
        height = panels * max(260, width - 60) + 120
    else:
        fig.update_xaxes(title_text=names[0])
        fig.update_yaxes(title_text=names[1], row=1, col=1)
        height = max(420, int(900 / max(1, panels)) + 120)
    fig.update_layout(meta={"view": "basins"})
    entries = sum(1 for t in fig.data if t.showlegend is not False)
    # entries of up to ~220 px per row: four across the page, fewer where the chart is narrow
    per_row = max(1, min(4, (width - 40) // BASIN_LEGEND_ENTRY_PX)) if width else 4
    return styled_legend_on_top(fig, title, height=height + 20 * (rows := -(-entries // per_row)),
                                panel_titles=True, legend_rows=rows)


# --------------------------------------------------------------------------------------------
# Preconditioning lab
# --------------------------------------------------------------------------------------------
TIED_LINE_STYLES = ((6, "solid", "circle", 11), (3.5, "dash", "square", 7), (1.5, "dot", "diamond", 4))


def preconditioning_figure(study, steps: int, title: str | None = None) -> go.Figure:
    """Iterations to tolerance against the rotation θ (left, scale fixed) and the scale of the first
    variable (right, log axis, θ fixed), one curve per method; runs that did not reach a minimum within
    `steps` (or stopped at a saddle or maximum) are drawn as crosses on the dotted step-limit line.
    With no angles (one variable: nothing to rotate) only the scale panel is drawn, not an empty one."""
    panels = [(f"stretch the first variable (θ = {math.degrees(study.fixed_theta):g}°)", study.scales,
               study.by_scale, "scale of the first variable (log)", "log")]
    if len(study.thetas):
        panels.insert(0, (f"rotate by θ (scale {study.fixed_scale:g})", np.degrees(study.thetas), study.by_theta,
                          "rotation θ (degrees)", "linear"))
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=[p[0] for p in panels])
    for i, label in enumerate(study.by_scale):
        color = method_color(i)
        # methods often tie (Newton and diagonal Newton unrotated; all three with one variable): each
        # later line is thinner, dashed and with smaller markers, so the one drawn first still shows
        width, dash, symbol, size = TIED_LINE_STYLES[i % len(TIED_LINE_STYLES)]
        for col, (_, x, by, _, _) in enumerate(panels, 1):
            y = np.asarray(by[label], dtype=float)
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=label, legendgroup=label,
                                     showlegend=col == 1, line=dict(color=color, width=width, dash=dash),
                                     marker=dict(size=size, symbol=symbol),
                                     hovertemplate="%{x:.4g}: %{y:.0f} iterations<extra>" + label + "</extra>"),
                          1, col)
            miss = ~np.isfinite(y)
            if miss.any():
                # each method's crosses a little higher: on one row, the last drawn hid the others
                fig.add_trace(go.Scatter(x=np.asarray(x)[miss], y=np.full(miss.sum(), steps * 1.2 ** i), mode="markers",
                                         marker=dict(symbol="x", size=10, color=color), legendgroup=label,
                                         showlegend=False, hovertemplate="%{x:.4g}: no minimum reached<extra>"
                                                                         + label + "</extra>"), 1, col)
    for col, (_, _, _, x_title, x_type) in enumerate(panels, 1):
        fig.add_hline(y=steps, line=dict(color="#999", dash="dot"), row=1, col=col)
        fig.update_xaxes(title_text=x_title, type=x_type, row=1, col=col)
    # Say what the dotted line and the crosses on it are, in the legend: a note by the line sat on the
    # crosses. The axis always runs from 1 iteration to above the limit, so a row of crosses alone (no
    # run reached a minimum: abs(x) + abs(y)) is not clipped at the top of an axis with no ticks.
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines+markers", name=f"did not reach a minimum in {steps:g} steps",
                             line=dict(color="#999", dash="dot", width=1.5),
                             marker=dict(symbol="x", size=10, color="#777")), 1, 1)
    fig.update_yaxes(type="log", dtick=1, exponentformat="none",   # the panels share the axis
                     range=[math.log10(0.7), math.log10(steps) + 0.35])
    fig.update_yaxes(title_text="iterations to tolerance (log)", row=1, col=1)
    fig.update_layout(height=460, meta={"view": "preconditioning"},
                      legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0))
    return styled(fig, title, margin=dict(t=100))


__all__ = [
    "DIVERGING_SCALE", "arrow_trace", "basin_figure", "contour_lines", "convergence_order_figure",
    "critical_point_traces", "curvature_1d_figure", "curvature_class_figure", "det_hessian_figure",
    "min_eigenvalue_figure", "param_heatmap_figure", "path_traces", "preconditioning_figure",
    "rate_curve_figure", "sweep_figure", "taylor_model_1d_figure", "taylor_model_figure", "traces_1d_figure",
    "value_history_figure", "vector_fields_figure",
]
