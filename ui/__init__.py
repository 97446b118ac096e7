"""Streamlit UI: the shared frame around every page (session state, share link, sidebar, widgets,
charts, one cache), the page registry, and the page scripts in ui/pages/."""
