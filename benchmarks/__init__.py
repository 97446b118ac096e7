"""Benchmarks that drive the whole app (a Streamlit server and headless Chromium); they live
outside the engine package, which imports no UI code. `python -m benchmarks` prints the engine's
rows (optcore.bench) and the browser rows in one table."""
