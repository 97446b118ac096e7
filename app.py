"""Optimization explorer: type an objective, watch optimization methods walk across it.

    streamlit run app.py

The entry point: page config, the shared sidebar (ui.sidebar), navigation over the page registry
(ui.registry), and the share link kept in the URL (ui.link). Every page runs inside this script.

Why the page scripts live in ui/pages/ and not in a pages/ folder beside this file: Streamlit
decides once per server process, when the first session starts, whether the main script sits
beside a `pages/` folder (runtime/pages_manager.py, `PagesManager.uses_pages_directory`). If it
does, every run goes through the legacy routing (`_mpa_v1` in the script runner), which serves a
deep link such as /curvature by running that page's script alone, without this entry point, until
some session has called st.navigation. With no `pages/` folder here, every run, deep links into a
fresh server included, starts in this script and st.navigation picks the page.
"""
from __future__ import annotations

from urllib.parse import urlparse

import streamlit as st

from ui import chart_widths, link, preload, registry, sidebar, state

st.set_page_config(page_title="Optimization explorer", page_icon="📉", layout="wide")


def requested_path() -> str | None:
    """The page path in the browser's address (`/curvature` -> "curvature"), or None at the root."""
    path = urlparse(st.context.url or "").path.strip("/")
    return path.rsplit("/", 1)[-1] if path else None


def main() -> None:
    default = registry.default_view(registry.KEYS, st.query_params.get("view"), requested_path())
    pages = {p.key: st.Page(str(p.file), title=p.title, icon=p.icon, url_path=p.key, default=p.key == default)
             for p in registry.PAGES}
    sections: dict[str, list] = {}
    for p in registry.PAGES:
        sections.setdefault(p.section, []).append(pages[p.key])

    link.init()
    page = st.navigation(sections)
    st.sidebar.title("Optimization explorer")
    reset_note = sidebar.sidebar()

    view = next(key for key, p in pages.items() if p == page)
    target = state.pending_switch()
    if target in pages and target != view:
        st.switch_page(pages[target])

    notices = link.url_notices()
    if notices:
        st.info("Some values in the link were changed to safe ones:\n\n" + "\n".join(f"- {n}" for n in notices),
                icon=":material/link:")
    hidden = sidebar.compact_bar(reset_note)   # formula and start on a phone, where the sidebar is collapsed
    with hidden:   # in-page scripts, out of sight
        preload.plotly()   # plotly.js loads while the page computes its charts (see ui/preload.py)
        chart_widths.reporter()   # charts drawn once, at their width (see ui/chart_widths.py)
    page.run()
    link.sync_url(view)


main()
