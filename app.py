"""Optimization explorer: type an objective, watch optimization methods walk across it.

    streamlit run app.py

This is the shared frame: page config, the sidebar every page reads (formula, gallery, start,
window), navigation, and the share link kept in the URL.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import streamlit as st

from ui import frame

HERE = Path(__file__).parent

# (file, title, icon, url path) — analysis pages appear once their files exist.
EXPLORE = [("pages/playground.py", "Playground", ":material/route:", "playground"),
           ("pages/compare.py", "Compare methods", ":material/compare:", "compare")]
ANALYSE = [("pages/curvature.py", "Curvature", ":material/landscape:", "curvature"),
           ("pages/newton_model.py", "Newton's model", ":material/functions:", "newton_model"),
           ("pages/lr_lab.py", "Learning-rate lab", ":material/speed:", "lr_lab"),
           ("pages/basins.py", "Basins of attraction", ":material/water:", "basins"),
           ("pages/preconditioning.py", "Preconditioning", ":material/transform:", "preconditioning")]

st.set_page_config(page_title="Optimization explorer", page_icon=":material/insights:", layout="wide")


def requested_path() -> str | None:
    """The page path in the browser's address (`/curvature` -> "curvature"), or None at the root."""
    path = urlparse(st.context.url or "").path.strip("/")
    return path.rsplit("/", 1)[-1] if path else None


def default_view() -> str:
    """The page served at "/" (see frame.default_view)."""
    available = [path for file, _, _, path in EXPLORE + ANALYSE if (HERE / file).exists()]
    return frame.default_view(available, st.query_params.get("view"), requested_path())


def pages(entries, default: str) -> dict:
    return {path: st.Page(str(HERE / file), title=title, icon=icon, url_path=path, default=(path == default))
            for file, title, icon, path in entries if (HERE / file).exists()}


def main() -> None:
    default = default_view()
    explore, analyse = pages(EXPLORE, default), pages(ANALYSE, default)
    all_pages = {**explore, **analyse}
    sections = {"Explore": list(explore.values())}
    if analyse:
        sections["Analyse"] = list(analyse.values())

    frame.init(view_paths=tuple(all_pages))
    page = st.navigation(sections)
    st.sidebar.title("Optimization explorer")
    frame.sidebar()

    view = next((path for path, p in all_pages.items() if p == page), "playground")
    target = frame.pending_switch()
    if target in all_pages and target != view:
        st.switch_page(all_pages[target])

    notices = frame.url_notices()
    if notices:
        st.info("Some values in the link were changed to safe ones:\n\n" + "\n".join(f"- {n}" for n in notices),
                icon=":material/link:")
    page.run()
    frame.sync_url(view)


# A fresh server asked for a page URL runs that page alone first; the frame guard in ui.frame
# then runs this script instead (see ui.frame.running_frame).
with frame.running_frame():
    main()
