"""Charts drawn once, at their width: the browser reports each chart's width, the next figures carry it.

Streamlit mounts a new Plotly chart element on every change (the element's id includes the figure),
and a chart whose figure has no `layout.width` is drawn twice: hidden, before its column has been
measured, then again at the column's width. Plotly's second drawing cost as much as the first
(~100-200 ms of the browser's main thread on this 2-core machine), and the student saw the new path
only after it. A figure that already holds the width Streamlit is about to give it is drawn once,
visibly. So a small in-page script (an `st.components.v2` component, no iframe) reads the width
Streamlit gave each keyed chart (`layout.width` of its plot) and reports the widths when they change
(first view, a resized window), not while the app runs or an animation plays: one extra run then,
none afterwards. The values come from the browser: only key-like names and widths within bounds are
kept.
"""
from __future__ import annotations

import functools

import streamlit as st

STATE_KEY = "_chart_widths"
MIN_WIDTH, MAX_WIDTH = 150, 4000   # Streamlit's smallest chart width; wider than any screen
MAX_CHARTS = 32

JS = r"""
// Report the width Streamlit gave each keyed Plotly chart of the page, when it differs from what the
// server knows (component.data.widths): the next figures carry it and are drawn once (ui/chart_widths.py).
export default function (component) {
  const known = (component.data && component.data.widths) || {};
  const { setStateValue } = component;
  let stopped = false;
  function keyOf(el) {
    const holder = el.closest('[class*="st-key-"]');
    const name = holder && Array.from(holder.classList).find((c) => c.startsWith("st-key-"));
    return name ? name.slice(7) : null;
  }
  function busy(gd) {   // an animation playing: the run a report causes would draw the chart anew
    const t = gd._transitionData;
    return Boolean(gd._transitioning || (t && t._animationRaf));
  }
  function measure() {
    if (stopped) return;
    const app = document.querySelector('[data-testid="stApp"]');
    if (app && app.getAttribute("data-test-script-state") === "running") return;
    const seen = {};
    for (const gd of document.querySelectorAll('[class*="st-key-"] .js-plotly-plot')) {
      if (busy(gd)) return;
      const key = keyOf(gd), w = gd.layout && gd.layout.width;
      if (key && typeof w === "number" && w > 0 && gd.style.visibility !== "hidden") seen[key] = Math.round(w);
    }
    if (Object.entries(seen).some(([k, w]) => known[k] !== w)) {
      stopped = true;   // one report per run: the run it causes mounts this script again
      setStateValue("widths", Object.assign({}, known, seen));
    }
  }
  const timer = setInterval(measure, 400);
  return () => { stopped = true; clearInterval(timer); };
}
"""


@functools.cache
def _component():
    return st.components.v2.component("optimization_explorer.chart_widths", js=JS)


def _clean(reported) -> dict[str, int]:
    """The widths the browser reported, kept only where they make sense (the browser is untrusted)."""
    if not isinstance(reported, dict):
        return {}
    out = {}
    for key, width in list(reported.items())[:MAX_CHARTS]:
        if (isinstance(key, str) and 0 < len(key) <= 40 and key.replace("_", "").replace("-", "").isalnum()
                and isinstance(width, (int, float)) and MIN_WIDTH <= width <= MAX_WIDTH):
            out[key] = int(width)
    return out


def reporter() -> None:
    """Mount the width reporter (once per full run, after the page)."""
    ss = st.session_state
    result = _component()(key="chart_widths_reporter", data={"widths": ss.get(STATE_KEY, {})},
                          on_widths_change=_on_report)
    if result is not None and getattr(result, "widths", None) is not None and STATE_KEY not in ss:
        ss[STATE_KEY] = _clean(result.widths)


def _on_report() -> None:
    state = st.session_state.get("chart_widths_reporter")
    widths = getattr(state, "widths", None) if state is not None else None
    if widths is None and isinstance(state, dict):
        widths = state.get("widths")
    st.session_state[STATE_KEY] = _clean(widths)


def width_of(key: str) -> int | None:
    """The width Streamlit last gave the chart with this key in this session, if the browser said."""
    return st.session_state.get(STATE_KEY, {}).get(key)
