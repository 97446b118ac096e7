"""The page registry: every view of the app in one table, read by app.py's navigation, by preset
and share-link handling (which view a key names, which method picker it opens on) and by the tests.

Adding a page = one script in ui/pages/ + one row here (+ optionally a test row)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent / "pages"
SECOND_ORDER = ("newton", "newton_abs", "newton_reg", "bfgs")


@dataclass(frozen=True)
class PageEntry:
    key: str                # url path (/curvature) and the `view=` of a share link
    title: str
    icon: str
    section: str            # the navigation's heading
    picker: str = "m0"      # key of the page's main method picker
    # The methods of a preset's runs this page's own picker takes (the first run when empty), and
    # the method it opens on otherwise. Newton's model has its own picker: with the shared "m0" it
    # opened on whatever the other pages last used (gradient descent after Himmelblau), not Newton.
    picker_prefers: tuple[str, ...] = ()
    picker_default: str = "gd"

    @property
    def file(self) -> Path:
        return PAGES_DIR / f"{self.key}.py"


PAGES: tuple[PageEntry, ...] = (
    PageEntry("playground", "Playground", ":material/route:", "Explore"),
    PageEntry("compare", "Compare methods", ":material/compare:", "Explore"),
    PageEntry("curvature", "Curvature", ":material/landscape:", "Analyse"),
    PageEntry("newton_model", "Newton's model", ":material/functions:", "Analyse",
              picker="nm", picker_prefers=SECOND_ORDER, picker_default="newton"),
    PageEntry("lr_lab", "Learning-rate lab", ":material/speed:", "Analyse"),
    PageEntry("basins", "Basins of attraction", ":material/water:", "Analyse"),
    PageEntry("preconditioning", "Preconditioning", ":material/transform:", "Analyse"),
)
KEYS: tuple[str, ...] = tuple(p.key for p in PAGES)
HOME = "playground"
BY_KEY = {p.key: p for p in PAGES}


def own_pickers() -> list[PageEntry]:
    """Pages whose method picker is not the shared "m0"."""
    return [p for p in PAGES if p.picker != "m0"]


def default_view(available: Sequence[str], view: str | None, asked: str | None) -> str:
    """Which page st.navigation serves at "/": the view named in the link (a share link may point
    at any page, even through "/"), else the playground. Streamlit serves the default page only at
    "/", so when the address itself is `/<page>` that page must not be the default, or the browser
    gets "Page not found" (every link copied from an analysis page looked like that)."""
    available = list(available)
    fallback = HOME if HOME in available else (available[0] if available else HOME)
    chosen = view if view in available else fallback
    if asked in available and asked == chosen and len(available) > 1:
        return next(p for p in available if p != asked)
    return chosen
