"""Plotly loaded while the server computes: the page starts loading Streamlit's chart module (plotly.js,
~4.7 MB of script) as soon as the sidebar is drawn, instead of when the first chart arrives.

Streamlit loads its Plotly chart module only when a chart element reaches the page, so on a fresh
page the browser first waited for the script run to produce the chart (a new Compare link: ~1.4 s of
runs) and then spent ~300-500 ms fetching and compiling plotly.js before drawing it. A small in-page
script (an `st.components.v2` component, no iframe) mounted with the sidebar imports that same module
right away: the browser's module map keeps it, so the chart's own import finds it ready.
The module's file name carries a hash that changes with Streamlit's version: it is looked up in the
installed package once; if it is not found, nothing is preloaded and charts load as before.
"""
from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

JS = r"""
// Import Streamlit's Plotly chart module now (the same URL its loader uses, next to the main bundle),
// so plotly.js is fetched and compiled while the server still computes the page's first chart.
export default function (component) {
  const name = component.data && component.data.module;
  if (!name || window.__plotlyPreload) return;
  const main = document.querySelector('script[type="module"][src*="/static/js/index."]');
  if (!main) return;
  window.__plotlyPreload = import(new URL(name, main.src).href).then(
    () => { window.__plotlyPreloaded = true; }, () => { window.__plotlyPreloaded = false; });
}
"""


@functools.cache
def _component():
    return st.components.v2.component("optimization_explorer.plotly_preload", js=JS)


@functools.cache
def plotly_module() -> str | None:
    """The file name of Streamlit's Plotly chart module (`PlotlyChart.<hash>.js`), or None."""
    js = Path(st.__file__).parent / "static" / "static" / "js"
    found = sorted(p.name for p in js.glob("PlotlyChart.*.js"))
    return found[0] if len(found) == 1 else None


def plotly() -> None:
    """Mount the preload (in the sidebar: drawn before the page's charts are computed)."""
    module = plotly_module()
    if module is not None:
        _component()(key="plotly_preload", data={"module": module})
