"""Streamlit UI helpers: the shared frame (`ui.frame`) every page reads its inputs from."""
