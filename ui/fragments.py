"""Rerun only the view: a page's controls and charts run as one `st.fragment`, so a knob on the page
reruns that page alone, not the sidebar and navigation.

What a fragment rerun does not do by itself, and `view_fragment` adds:
- the share link: app.py writes it at the end of a full run only; a fragment rerun writes it at its
  end, so the address bar follows the page's widgets;
- the link's record of the widgets drawn: reset at the fragment's start to what the full run drew
  outside the page, so a picker the page no longer draws (fewer methods) leaves the link;
- app-level state changed from inside the page (a click on the chart that moves the start, a page
  switch asked for): the sidebar must show it, so the whole app reruns.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui import link, state

BASE = "_fragment_base"   # view -> (pickers, options) the full run had recorded when the page began


def in_fragment_rerun() -> bool:
    """True while only a fragment runs (not the whole script)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def app_state() -> tuple:
    """What the sidebar shows that a page may change: formula, start, window, preset."""
    ss = st.session_state
    return ((ss.get(state.GOOD_FORMULA) or {}).get("text"), tuple(state.current_start().tolist()),
            state.current_window(), ss.get(state.ACTIVE_PRESET), ss.get(state.SWITCH_TO))


def view_fragment(view: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Decorator for a page's body: run it as a fragment keyed by the view; see the module doc."""
    def decorate(body: Callable[[], None]) -> Callable[[], None]:
        @functools.wraps(body)
        def run() -> None:
            ss = st.session_state
            if not in_fragment_rerun():   # full run: remember what the page starts from
                ss[BASE] = {**ss.get(BASE, {}), view: (dict(ss[link.RUN_PICKERS]), dict(ss[link.RUN_OPTIONS]),
                                                       app_state())}
                body()
                return
            pickers, options, before = ss.get(BASE, {}).get(view, ({}, {}, None))
            if app_state() != before:     # e.g. a click on the contour moved the start
                st.rerun(scope="app")
            ss[link.RUN_PICKERS], ss[link.RUN_OPTIONS] = dict(pickers), dict(options)
            body()
            if app_state() != before:
                st.rerun(scope="app")
            link.sync_url(view)
        return st.fragment(run)
    return decorate
