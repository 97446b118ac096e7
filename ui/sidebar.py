"""The sidebar every page shares: the example gallery, the formula, the start point, the plot
window and the formula's derivatives in LaTeX."""
from __future__ import annotations

import streamlit as st

from optcore import share
from optcore import window as windows
from ui import state

MAX_START_INPUTS = 6   # beyond this many variables the start is one text box
SOURCE_ORDER = ("textbook", "blog", "course notes", "second-order notes", "classic")


def gallery_label(preset) -> str:
    """"x² (textbook, η = 0.2)", not "textbook · x² (textbook, η = 0.2)": the sidebar is narrow and
    the source was named twice."""
    return preset.name if preset.source in preset.name else f"{preset.source} · {preset.name}"


def _source_rank(source: str) -> int:
    return SOURCE_ORDER.index(source) if source in SOURCE_ORDER else len(SOURCE_ORDER)


def _latex_name(name: str) -> str:
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    return f"{head}_{{{tail}}}" if tail and head else name


def _on_preset_select() -> None:
    key = st.session_state.get(state.PRESET_SELECT)
    if key:
        state.apply_preset(key)


def _on_formula_submit() -> None:
    text = st.session_state.get(state.FORMULA_INPUT, "")
    preset = state.current_preset()
    if preset is not None and text.strip() == preset.formula.strip():
        return  # unchanged
    state.apply_typed_formula(text)


def _on_start_text() -> None:
    text = st.session_state.get("x0.all", "")
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        return
    if len(values) == state.current_objective().dim:
        state.set_start(values)


def sidebar() -> str | None:
    """The shared inputs: formula, preset gallery, start, window, and the formula in LaTeX. Returns
    the note on what a new formula reset (said once), for the phone's bar to repeat."""
    ss = st.session_state
    state.restore_carried()   # the start and window a page switch dropped
    sb = st.sidebar
    presets = state.presets()
    keys = [""] + sorted(presets, key=lambda k: (_source_rank(presets[k].source), list(presets).index(k)))
    if ss.get(state.PRESET_SELECT) not in keys:
        ss[state.PRESET_SELECT] = ""
    sb.selectbox("Example gallery", keys, key=state.PRESET_SELECT, on_change=_on_preset_select,
                 format_func=lambda k: gallery_label(presets[k]) if k else "— your own formula —",
                 help="Every example of the course material and the classic test functions. "
                      "Choosing one sets the formula, start, window and suggested methods.")
    if state.FORMULA_INPUT not in ss:
        ss[state.FORMULA_INPUT] = (ss.get(state.GOOD_FORMULA) or {}).get("text", state.default_text())
    sb.text_input("f(x) =", key=state.FORMULA_INPUT, on_change=_on_formula_submit,
                  placeholder="e.g. x^2 + 3y^2, sin(x)cos(y), (1-x)^2 + 100(y-x^2)^2",
                  help="Press Enter to apply. Write powers as x^2, products as 3y or 3*y; "
                       "functions: sin cos tan exp log sqrt abs tanh max min … Variables are any names.")
    note = ss.pop(state.SLATE_NOTE, None)
    if note:
        sb.info(note, icon=":material/restart_alt:")
    error = state.formula_error()
    obj = state.current_objective()
    if error:
        sb.error(f"{error}\n\nStill showing: `{obj.text}`", icon=":material/warning:")
    for notice in getattr(obj, "notices", ()):  # how an ambiguous name was read (gamma(x), pix)
        sb.caption(f":material/info: {notice}")

    names = obj.variables
    window = state.current_window()
    sb.markdown(f"**Start point** ({', '.join(names)})")
    if obj.dim <= MAX_START_INPUTS:
        cols = sb.columns(min(obj.dim, 3))
        for i, name in enumerate(names):
            key = state.start_key(name)
            if ss.get(key) is None:
                ss[key] = windows.default_start(window[i], i)
            cols[i % len(cols)].number_input(name, key=key, step=0.1, format="%.4g")
    else:
        ss["x0.all"] = ", ".join(share.format_number(v) for v in state.current_start())
        sb.text_input("start (comma separated)", key="x0.all", on_change=_on_start_text,
                      help=f"{obj.dim} values, one per variable, in the order {', '.join(names)}")
    if obj.dim <= 2:
        where = "curve" if obj.dim == 1 else "contour plot"
        sb.caption(f"Tip: click anywhere on the {where} to start there.")
    # After the formula and the start, not between them and the gallery: above them it pushed the
    # formula box below a 900 px window's fold under the page links.
    preset = state.current_preset()
    if preset is not None:
        sb.info(f"**What to look for:** {preset.look_for}", icon=":material/search:")

    with sb.expander("Plot window", expanded=False):
        for i, name in enumerate(names[:MAX_START_INPUTS]):
            klo, khi = state.window_keys(name)
            if ss.get(klo) is None or ss.get(khi) is None:
                ss[klo], ss[khi] = window[i]
            c1, c2 = st.columns(2)
            c1.number_input(f"{name} from", key=klo, step=0.5, format="%.4g", on_change=state.fix_window)
            c2.number_input(f"{name} to", key=khi, step=0.5, format="%.4g", on_change=state.fix_window)
            if not ss[klo] < ss[khi]:
                st.warning(f"{name}: 'from' must be less than 'to'; using {state.DEFAULT_RANGE}")
        if state.window_fixed():
            st.caption("Fixed window: runs that leave it are cut off at its edge.")
        else:
            st.caption("Automatic: the charts widen this window to show the start(s) and the paths.")
        st.button("Fit to run (stationary points, start and path)", on_click=state.fit_to_run, key="auto_window",
                  help="forget a fixed window: frame the stationary points and let the view follow the runs")

    # Typesetting a big gradient or Hessian costs seconds: done only while the expander is open
    # (on_change="rerun" makes `.open` track it), once per objective (the engine keeps the LaTeX on the
    # shared Objective) and capped by size (the engine returns a short "too large" marker past it).
    latex_box = sb.expander("Formula, gradient, Hessian", expanded=False, key="sidebar_latex", on_change="rerun")
    if latex_box.open:
        with latex_box:
            st.latex(f"f({', '.join(_latex_name(n) for n in names)}) = {obj.latex}")
            st.latex(r"\nabla f = " + obj.gradient_latex)
            st.latex(r"\nabla^2 f = " + obj.hessian_latex)
    return note


# ------------------------------------------------------------------ the bar on narrow screens
# The bar is a container of fixed height 1 px (scrolling, no border: nothing shows) that a media
# query opens on narrow screens. It was open by default and closed by the media query on wide ones,
# but Streamlit puts a <style> element (st.html, st.markdown) into the page only when that
# element's code has loaded, after the bar was painted: on a desktop the bar showed for ~0.7 s at
# every first load. Closed by default, the wait only delays the bar on a phone.
NARROW_CSS = """<style>
.st-key-compact_bar_css { display: none; }
/* their layout wrappers too: each took a 16 px row gap above the page's title */
[data-testid="stLayoutWrapper"]:has(> .st-key-compact_bar_css) { display: none; }
@media (min-width: 768px) {
  .st-key-compact_bar { visibility: hidden; }  /* out of the tab order too */
  [data-testid="stLayoutWrapper"]:has(> .st-key-compact_bar) { display: none; }
}
@media (max-width: 767.98px) {
  .st-key-compact_bar { height: auto !important; max-height: none !important; overflow: visible !important; }
  [data-testid="stLayoutWrapper"]:has(> .st-key-compact_bar) { height: auto !important; flex: 0 0 auto !important; }
}
/* a small laptop (1024 px): the page's 5rem side margins left the controls beside a chart 125 px,
   "Gradient des…"; narrower margins, and controls columns (key controls_*) that keep method names whole */
@media (min-width: 768px) and (max-width: 1180px) {
  [data-testid="stMainBlockContainer"] { padding-left: 1.5rem !important; padding-right: 1.5rem !important; }
}
@media (min-width: 640px) {
  [data-testid="stColumn"]:has([class*="st-key-controls_"]) { min-width: 11.5rem; }
  /* the chart's column gives way instead of wrapping under the controls */
  [data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [class*="st-key-controls_"]) { flex-wrap: nowrap; }
  /* Compare's method boxes sit inside expanders, 2 x 1rem further in */
  [data-testid="stColumn"]:has(.st-key-controls_compare) { min-width: 16rem; }
}
</style>"""


def _on_bar_formula() -> None:
    text = st.session_state.get("bar_formula", "")
    state.apply_typed_formula(text)


def _on_bar_start() -> None:
    st.session_state["x0.all"] = st.session_state.get("bar_start", "")
    _on_start_text()


def compact_bar(note: str | None = None):
    """The formula and the start at the top of the main area, shown only on narrow screens (a
    phone, 390 px wide), where the sidebar starts collapsed and hides them; with the sidebar's
    `note` on what a new formula reset. Returns the hidden container that holds the bar's style:
    in-page scripts (`st.components.v2`) can live there too."""
    ss = st.session_state
    obj = state.current_objective()
    mirror = (ss.get(state.FORMULA_INPUT) or obj.text, ", ".join(share.format_number(v) for v in state.current_start()))
    # Only when the sidebar's values changed: a value set here is pushed into the page's box, and a run
    # that came for another reason erased what the student was typing there.
    if ss.get("_bar_mirror") != mirror or "bar_formula" not in ss or "bar_start" not in ss:
        ss["bar_formula"], ss["bar_start"] = mirror
        ss["_bar_mirror"] = mirror
    hidden = st.container(key="compact_bar_css")
    hidden.markdown(NARROW_CSS, unsafe_allow_html=True)
    with st.container(key="compact_bar", height=1, border=False), st.container(border=True):
        c1, c2 = st.columns([3, 2])
        c1.text_input("f(x) =", key="bar_formula", on_change=_on_bar_formula,
                      help="the same formula as in the sidebar (press Enter to apply)")
        c2.text_input(f"start ({', '.join(obj.variables)})", key="bar_start", on_change=_on_bar_start,
                      help="comma separated, one value per variable")
        error = state.formula_error()
        if error:   # as the sidebar says it: the chart below is still the last good formula's
            st.error(f"{error}\n\nStill showing: `{obj.text}`", icon=":material/warning:")
        if note:
            st.caption(f":material/restart_alt: {note}")
    return hidden
