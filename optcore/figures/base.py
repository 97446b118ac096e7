"""Shared look of every figure: one small template, the method palette, marker styles.

The template is written out by hand (not plotly's default) because the default template is ~8 kB
of JSON repeated in every figure, and an animated figure should carry data, not styling.
"""
from __future__ import annotations

import plotly.graph_objects as go

FONT = "Inter, Source Sans Pro, Helvetica, Arial, sans-serif"

# Warm, distinct, colour-blind-friendly-ish path colours that stand out on the cool contour scale.
METHOD_COLORS = ("#ff7f0e", "#d62728", "#e377c2", "#17becf", "#8c564b", "#bcbd22", "#7f7f7f", "#9467bd")

# Contour/surface scale: dark valleys (low f) to light ridges, so warm paths read on top.
CONTOUR_SCALE = [[0.0, "#1b3a6b"], [0.2, "#2f5f98"], [0.45, "#6f9ccb"], [0.7, "#b7d0e8"], [1.0, "#f4f7fb"]]

START_MARKER = dict(symbol="circle", size=12, color="white", line=dict(color="black", width=2))
END_MARKER = dict(symbol="x", size=12, line=dict(color="black", width=1))
MINIMUM_MARKER = dict(symbol="star", size=16, color="#ffd400", line=dict(color="black", width=1))

TEMPLATE = go.layout.Template(layout=go.Layout(
    font=dict(family=FONT, size=13, color="#262730"),
    paper_bgcolor="white", plot_bgcolor="white",
    margin=dict(l=60, r=20, t=50, b=50),
    xaxis=dict(showgrid=True, gridcolor="#e6e9ef", zeroline=False, linecolor="#bbb", ticks="outside"),
    yaxis=dict(showgrid=True, gridcolor="#e6e9ef", zeroline=False, linecolor="#bbb", ticks="outside"),
    legend=dict(bgcolor="rgba(255,255,255,0.85)", bordercolor="#ddd", borderwidth=1),
    hoverlabel=dict(font=dict(family=FONT)),
    colorway=list(METHOD_COLORS),
))


def method_color(i: int) -> str:
    return METHOD_COLORS[i % len(METHOD_COLORS)]


def styled(fig: go.Figure, title: str | None = None, **layout) -> go.Figure:
    """Apply the shared template (and an optional title) to a figure."""
    fig.update_layout(template=TEMPLATE, **layout)
    if title:
        fig.update_layout(title=dict(text=title, x=0.01, xanchor="left", font=dict(size=16)))
    return fig


def keep_unselected_visible(fig: go.Figure) -> go.Figure:
    """After a click in 'points' selection mode Plotly fades every unselected point; keep paths
    and markers as they were (the click is a command, not a selection to highlight)."""
    for trace in fig.data:
        if trace.type == "scatter":
            trace.unselected = dict(marker=dict(opacity=trace.marker.opacity if trace.marker.opacity
                                                is not None else 1.0))
            trace.selected = dict(marker=dict(opacity=trace.marker.opacity if trace.marker.opacity
                                              is not None else 1.0))
    return fig
