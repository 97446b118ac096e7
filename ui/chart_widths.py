"""Charts drawn once, at their width: the browser reports the charts' widths, the next figures carry them.

Streamlit mounts a new Plotly chart element on every change (the element's id includes the figure),
and a chart whose figure has no `layout.width` is drawn twice: hidden, before its column has been
measured, then again at the column's width. Plotly's second drawing cost as much as the first
(~100-200 ms of the browser's main thread on this 2-core machine), and the student saw the new path
only after it. A figure that already holds the width Streamlit is about to give it is drawn once,
visibly. So a small in-page script (an `st.components.v2` component, no iframe) reads the width
Streamlit gave each keyed chart (`layout.width` of its plot) and reports the widths once per session,
when the first charts are on screen (and again after the window is resized), not while the app runs
or an animation plays. A report is a component state value, so it costs one run; Streamlit sends
the address with a run only as the server last wrote it, so nothing cheaper reaches the server.
The values come from the browser: only key-like names and widths within bounds are kept.
"""
from __future__ import annotations

import functools

import streamlit as st

STATE_KEY = "_chart_widths"
REPORTER = "chart_widths_reporter"
MIN_WIDTH, MAX_WIDTH = 150, 4000   # Streamlit's smallest chart width; wider than any screen
MAX_CHARTS = 32

JS = r"""
// Report the width Streamlit gave each keyed Plotly chart of the page, once per session (the server
// knows none yet) and after a resize of the window: the next figures are drawn once, at that width
// (ui/chart_widths.py). Not while the app runs or a chart animates: the run a report causes draws
// the charts anew.
export default function (component) {
  const known = (component.data && component.data.widths) || {};
  const { setStateValue } = component;
  window.__chartWidthsKnown = Object.keys(known).length > 0;   // nothing to report (tests wait on these)
  let stopped = false;
  let resized = false;
  const onResize = () => { resized = true; };
  window.addEventListener("resize", onResize);
  function keyOf(el) {
    const holder = el.closest('[class*="st-key-"]');
    const name = holder && Array.from(holder.classList).find((c) => c.startsWith("st-key-"));
    return name ? name.slice(7) : null;
  }
  function busy(gd) {
    const t = gd._transitionData;
    return Boolean(gd._transitioning || (t && t._animationRaf));
  }
  function measure() {
    if (stopped || (Object.keys(known).length && !resized)) return;
    const app = document.querySelector('[data-testid="stApp"]');
    if (app && app.getAttribute("data-test-script-state") === "running") return;
    const seen = {};
    for (const gd of document.querySelectorAll('[class*="st-key-"] .js-plotly-plot')) {
      if (busy(gd)) return;
      const key = keyOf(gd), w = gd.layout && gd.layout.width;
      if (key && typeof w === "number" && w > 0 && gd.style.visibility !== "hidden") seen[key] = Math.round(w);
    }
    if (!Object.entries(seen).some(([k, w]) => known[k] !== w)) { resized = false; return; }
    stopped = true;   // the run this causes mounts the script again
    window.__chartWidthsReported = (window.__chartWidthsReported || 0) + 1;
    setStateValue("widths", Object.entries(Object.assign({}, known, seen)).map(([k, w]) => k + ":" + w).join(","));
  }
  const timer = setInterval(measure, 300);
  return () => { stopped = true; clearInterval(timer); window.removeEventListener("resize", onResize); };
}
"""


@functools.cache
def _component():
    return st.components.v2.component("optimization_explorer.chart_widths", js=JS)


def _clean(reported: str) -> dict[str, int]:
    """`key:width,...` as the page reported it, kept only where it makes sense (the browser is untrusted)."""
    out: dict[str, int] = {}
    if not isinstance(reported, str) or len(reported) > MAX_CHARTS * 48:
        return out
    for item in reported.split(",")[:MAX_CHARTS]:
        key, _, width = item.partition(":")
        if (0 < len(key) <= 40 and key.replace("_", "").replace("-", "").isalnum() and width.isdigit()
                and MIN_WIDTH <= int(width) <= MAX_WIDTH):
            out[key] = int(width)
    return out


def reporter() -> None:
    """Mount the width reporter (once per full run, after the page)."""
    _component()(key=REPORTER, data={"widths": st.session_state.get(STATE_KEY, {})}, on_widths_change=_on_report)


def _on_report() -> None:
    state = st.session_state.get(REPORTER)
    reported = state.get("widths") if isinstance(state, dict) else getattr(state, "widths", None)
    st.session_state[STATE_KEY] = _clean(reported)


def width_of(key: str) -> int | None:
    """The width Streamlit last gave the chart with this key in this session, if the browser said."""
    return st.session_state.get(STATE_KEY, {}).get(key)
