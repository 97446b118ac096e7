"""Charts drawn once, at their width: the page keeps the charts' widths where the next run reads them.

Streamlit mounts a new Plotly chart element on every change (the element's id includes the figure),
and a chart whose figure has no `layout.width` is drawn twice: hidden, before its column has been
measured, then again at the column's width, after the first drawing's promise (which waits for the
browser's other work: ~150-200 ms on this 2-core machine). A figure that already holds the width
Streamlit is about to give it is drawn once, visibly.

So a small in-page script (an `st.components.v2` component, no iframe) reads the width Streamlit gave
each keyed chart (`layout.width` of its plot) and writes the widths into its own component state
*silently*: as Streamlit's widgets do when the server set their value (`fromUser: false`), which
stores the value without asking for a run. The next run the student causes carries it to the server
with every other widget value, so the figures of that run hold their widths. (A plain
`setStateValue` would cost a run of its own: that cleared one-shot notices and raced a first edit.)
The component API hands a script only `setStateValue`, so the script finds Streamlit's widget manager
in the React context its element is mounted in; if a later Streamlit moves it, no width is reported
and charts are drawn as before (hidden, then at their width).
The widths are also kept in a cookie, so a new session of the same browser (a share link opened
later) draws its first charts once too; a window resized since then draws them at the old width
first, then at the new one.
A chart measured on the other side of `NARROW_CHART_PX` than its layout assumed (a narrow window's
first visit, with no phone in its User-Agent: three panels side by side at 358 px) asks for one run,
which lays it out again for its width: after a quiet second (no run, no typing), and not at all once
the student has pressed or typed anything (their own run carries the widths). Asked for at once, that
full run raced a method picked in the first second, and the pick was lost.
The values come from the browser: only key-like names and widths within bounds are kept.
"""
from __future__ import annotations

import functools
from urllib.parse import unquote

import streamlit as st

from optcore.figures.base import NARROW_CHART_PX

REPORTER = "chart_widths_reporter"
COOKIE = "oe_chart_widths"   # the widths for this browser's next session
MIN_WIDTH, MAX_WIDTH = 150, 4000   # Streamlit's smallest chart width; wider than any screen
MAX_CHARTS = 32

JS = r"""
// Keep the width Streamlit gave each keyed Plotly chart of the page in this component's state, without
// asking for a run: the next run (whatever the student does) carries it, and its figures are drawn
// once, at that width (ui/chart_widths.py).
export default function (component) {
  const COOKIE = (component.data && component.data.cookie) || "";
  const NARROW = (component.data && component.data.narrow) || 0;     // figures.base.NARROW_CHART_PX
  const PHONE = Boolean(component.data && component.data.phone);     // the server took the page for a phone's
  const MARGIN = 40;
  const host = component.parentElement instanceof ShadowRoot ? component.parentElement.host
                                                               : component.parentElement;
  // The context Streamlit mounts a v2 component in: its widget manager and the component's widget id.
  function streamlitContext() {
    for (let el = host; el; el = el.parentElement) {
      const fiberKey = Object.keys(el).find((k) => k.startsWith("__reactFiber$"));
      for (let f = fiberKey && el[fiberKey], i = 0; f && i < 80; f = f.return, i++) {
        const v = f.memoizedProps && f.memoizedProps.value;
        if (v && v.widgetMgr && typeof v.widgetMgr.setJsonValue === "function" && typeof v.id === "string"
            && typeof v.getWidgetValue === "function") return v;
      }
      if (fiberKey) return null;
    }
    return null;
  }
  const ctx = streamlitContext();
  window.__chartWidthsChannel = Boolean(ctx);   // tests and the benchmark read it
  if (!ctx) return;
  function keyOf(el) {
    const holder = el.closest('[class*="st-key-"]');
    const name = holder && Array.from(holder.classList).find((c) => c.startsWith("st-key-"));
    return name ? name.slice(7) : null;
  }
  function parseWidths(text) {   // "key:width,..." -> {key: width}
    const out = {};
    for (const item of String(text || "").split(",")) {
      const [k, w] = item.split(":");
      if (k && w) out[k] = Number(w);
    }
    return out;
  }
  function cookieWidths() {
    const found = document.cookie.split("; ").find((c) => c.startsWith(COOKIE + "="));
    return parseWidths(found ? decodeURIComponent(found.slice(COOKIE.length + 1)) : "");
  }
  let last = "";
  let pendingSince = null;   // when a chart was first seen laid out for the other side of NARROW
  let touched = false;       // the student pressed or typed something on this page
  const QUIET_MS = 1000;
  const touch = () => { touched = true; };
  window.addEventListener("pointerdown", touch, true);
  window.addEventListener("keydown", touch, true);
  function measure() {
    window.__chartWidthsMeasured = (window.__chartWidthsMeasured || 0) + 1;   // tests wait for a look
    const seen = {};
    for (const gd of document.querySelectorAll('[class*="st-key-"] .js-plotly-plot')) {
      const key = keyOf(gd), w = gd.layout && gd.layout.width;
      if (key && typeof w === "number" && w > 0 && gd.style.visibility !== "hidden") seen[key] = Math.round(w);
    }
    let current = {};
    try { current = ctx.getWidgetValue() || {}; } catch (e) { current = {}; }
    const known = parseWidths(current.widths);
    // What the server laid the charts out for (chart_widths.layout_width): the widths this session
    // reported, else the cookie's, else a phone's or a wide chart. A chart on the other side of NARROW
    // (a narrow window's first visit: three panels squeezed side by side) needs a run now.
    // Once per page load, and only well past the line: a width that moves with the page's scroll bar
    // (±15 px) must not flip the layout back and forth.
    const basis = current.widths ? known : cookieWidths();
    const crossed = NARROW > 0 && Object.entries(seen).some(([k, w]) => {
      const wasNarrow = basis[k] !== undefined ? basis[k] < NARROW : PHONE;
      return wasNarrow ? w > NARROW + MARGIN : w < NARROW - MARGIN;
    });
    const merged = Object.assign({}, known, seen);
    const text = Object.entries(merged).slice(-32).map(([k, w]) => k + ":" + w).join(",");
    if (text !== last && text !== current.widths) {
      // fromUser: false stores the value without a run (what Streamlit does for values the server set)
      ctx.widgetMgr.setJsonValue(ctx.id, Object.assign({}, current, { widths: text }),
                                 { formId: ctx.formId, fragmentId: ctx.fragmentId, fromUser: false });
      // and for this browser's next session (sent with its first request; a month, this site only)
      document.cookie = COOKIE + "=" + encodeURIComponent(text) + "; path=/; max-age=2592000; samesite=lax";
      window.__chartWidthsReported = (window.__chartWidthsReported || 0) + 1;
    }
    last = text;
    // The run that lays a crossed chart out again waits for a quiet page: a second with no run and no
    // input. Started while the student picked a method, a full run raced that widget's own (fragment)
    // run and the pick was lost. Once the student has pressed or typed anything (a box takes either to
    // focus) their own next run carries the widths (stored above), so none is asked for.
    if (touched || window.__chartWidthsRelaidOut) pendingSince = null;
    else if (crossed && pendingSince === null) pendingSince = performance.now();
    const idle = document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]');
    const due = pendingSince !== null && idle && performance.now() - pendingSince >= QUIET_MS;
    if (due) pendingSince = null;
    window.__chartWidthsPending = pendingSince !== null;
    if (!due) return;
    ctx.widgetMgr.setJsonValue(ctx.id, Object.assign({}, current, { widths: text }),
                               { formId: ctx.formId, fragmentId: ctx.fragmentId, fromUser: true });
    window.__chartWidthsRelaidOut = (window.__chartWidthsRelaidOut || 0) + 1;
    window.__chartWidthsRelaidAt = performance.now();   // tests wait for the run that follows
  }
  const timer = setInterval(measure, 250);
  return () => {
    clearInterval(timer);
    window.removeEventListener("pointerdown", touch, true);
    window.removeEventListener("keydown", touch, true);
  };
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
    """Mount the width keeper (once per full run)."""
    _component()(key=REPORTER, data={"cookie": COOKIE, "narrow": NARROW_CHART_PX, "phone": phone_asked()})


def width_of(key: str) -> int | None:
    """The width Streamlit last gave the chart with this key in this session, if the page said; in
    a session's first runs, the width this browser's last session kept (its cookie), if any."""
    state = st.session_state.get(REPORTER)
    reported = state.get("widths") if isinstance(state, dict) else getattr(state, "widths", None)
    if not reported:
        try:
            reported = unquote(st.context.cookies.get(COOKIE) or "")
        except Exception:  # noqa: BLE001 - no request context (AppTest, bare mode): no cookie
            reported = ""
    return _clean(reported).get(key)


PHONE_WIDTH = 358   # a chart's width on a 390 px phone screen
PHONE_HINTS = ("Mobi", "iPhone", "Android")


def phone_asked() -> bool:
    """The browser says it is a phone (its User-Agent): known from a session's first run, before any
    chart has reported its width."""
    try:
        agent = (st.context.headers or {}).get("User-Agent", "") or ""
    except Exception:  # noqa: BLE001 - no request context (AppTest, bare mode)
        agent = ""
    return any(hint in agent for hint in PHONE_HINTS)


def layout_width(key: str) -> int | None:
    """The width to lay a chart out for: `width_of(key)`, else, on a phone (`phone_asked`: a first
    visit), a phone's chart width."""
    width = width_of(key)
    if width is not None:
        return width
    return PHONE_WIDTH if phone_asked() else None

