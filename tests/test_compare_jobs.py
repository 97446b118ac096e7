"""Compare and the exports as heavy jobs (issue 14): a cheap comparison draws at once, a heavy one shows
its estimate and waits for "Run", then goes through the server's one-job gate; runs already cached
(by any session) cost nothing; a picture export waits its turn at the same gate. Plus the pieces
that make the page fast (issue 9): figures sent without plotly.py's deep copy give the same JSON."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

import optcore
from optcore.figures import trajectory as figs
from optcore.figures.grid import value_grid
from ui import comparison, jobs

APP = str(Path(__file__).resolve().parents[1] / "app.py")
ROSENBROCK = "(1-x)^2 + 100(y-x^2)^2"


def _run(at: AppTest) -> AppTest:
    at._finished_page_script_hash = ""   # through app.py each time (see tests/test_app.py)
    at.run(timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    for k, v in query.items():
        at.query_params[k] = v
    return _run(at)


def _buttons(at) -> list[str]:
    return [b.key for b in at.button]


def _infos(at) -> str:
    return " ".join(i.value for i in at.info)


# ---------------------------------------------------------------------------------- the estimate
def test_heavy_settings_are_priced_past_the_threshold_and_the_benchmark_case_is_not():
    obj = optcore.parse(ROSENBROCK)
    four = [("gd", {"lr": 1e-3}), ("momentum", {"lr": 1e-3, "beta": 0.9}), ("adam", {"lr": 0.02}), ("bfgs", {})]
    assert jobs.estimate_runs(obj, four, 5000).work <= comparison.AUTO_WORK       # issue 9's case: at once
    six = [(m, {}) for m in comparison.DEFAULTS]
    assert jobs.estimate_runs(obj, six, 5000).work > comparison.AUTO_WORK         # 6 methods at the limit
    assert jobs.estimate_runs(obj, [("newton", {"line_search": "exact"})], 5000).work > comparison.AUTO_WORK
    assert jobs.estimate_runs(obj, [("gd", {})] * 16, 5000).work > comparison.AUTO_WORK   # many starts
    # an exact line search costs more per step than a fixed step; the method's default search counts
    plain = jobs.run_cost(obj, "newton", {})
    assert jobs.run_cost(obj, "newton", {"line_search": "exact"}) > 10 * plain
    assert jobs.run_cost(obj, "cg", {}) == jobs.run_cost(obj, "cg", {"line_search": "exact"})


# ---------------------------------------------------------------------------------- in the app
def test_a_cheap_compare_draws_at_once_without_a_button():
    at = _app(view="compare", f="x^2 + 3y^2", x0="2,1")
    assert "cmp_go" not in _buttons(at)
    assert "heavy" not in _infos(at)
    assert len(at.get("plotly_chart")) >= 2 and at.dataframe


def _record_gate_entries(monkeypatch) -> list:
    """The owners of every job that enters the server's gate from now on (the gate still runs it)."""
    entered = []
    real_enter = jobs.GATE.enter

    def enter(owner, *args, **kwargs):
        entered.append(owner)
        return real_enter(owner, *args, **kwargs)
    monkeypatch.setattr(jobs.GATE, "enter", enter)
    return entered


def test_a_heavy_compare_waits_for_its_button_then_runs_through_the_gate(monkeypatch):
    entered = _record_gate_entries(monkeypatch)
    # six methods at the step limit (Newton with an exact line search among them), a start no test used
    query = {"view": "compare", "f": "x^2 + 3y^2 + 0.1x^4", "x0": "1.9,0.7", "steps": "5000", "o.n_methods": "6",
             "m.m4": "newton(line_search=exact)"}
    at = _app(**query)
    assert "cmp_go" in _buttons(at)
    assert "heavy" in _infos(at) and "operations" in _infos(at)
    assert not at.get("plotly_chart") and not at.dataframe       # nothing computed while it waits
    assert entered == []

    at.button(key="cmp_go").click()
    _run(at)
    assert len(entered) == 1                                       # the job went through the gate
    assert len(at.get("plotly_chart")) >= 2 and len(at.dataframe[0].value) == 6
    assert jobs.GATE.snapshot() == (0, 0)                          # and gave its slot back

    # another session opening the same link finds the runs cached: no button, no job
    again = _app(**query)
    assert "cmp_go" not in _buttons(again) and again.get("plotly_chart")
    assert len(entered) == 1


def test_a_heavy_compare_queues_behind_another_sessions_job():
    """While someone else's heavy job holds the server's slot, the Run waits in the queue (visible to
    the gate as a waiting ticket) and draws once the slot is free."""
    query = {"view": "compare", "f": "x^2 + 2y^2 + 0.05x^4", "x0": "1.7,-0.9", "steps": "5000",
             "o.n_methods": "6"}
    at = _app(**query)
    other = jobs.GATE.enter("another student")
    seen = []

    def release_when_queued():
        for _ in range(12_000):            # up to 2 minutes on a loaded machine
            if jobs.GATE.snapshot() == (1, 1):
                seen.append("queued")
                break
            threading.Event().wait(0.01)
        jobs.GATE.leave(other)
    helper = threading.Thread(target=release_when_queued)
    helper.start()
    try:
        at.button(key="cmp_go").click()
        _run(at)
    finally:
        helper.join(60)
        jobs.GATE.leave(other)
    assert seen == ["queued"]
    assert at.get("plotly_chart") and jobs.GATE.snapshot() == (0, 0)


def test_turning_on_the_scrub_opens_the_overlay_with_its_slider():
    at = _app(view="compare", f="x^2 + 3y^2", x0="1.5,1.5", **{"m.m0": "gd(lr=0.05)", "o.n_methods": "2"})
    at.toggle(key="cmp_scrub").set_value(True)
    _run(at)
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any("scrub" in ((s.get("layout") or {}).get("meta") or {}) for s in specs)


def test_picture_export_goes_through_the_gate(monkeypatch):
    entered = _record_gate_entries(monkeypatch)
    at = _app(view="compare", f="x^2 + 3y^2", x0="2,1", steps="30", **{"o.n_methods": "1"})
    assert "cmp_export.make.gif" in _buttons(at)
    at.button(key="cmp_export.make.gif").click()
    _run(at)
    assert entered, "the GIF was built outside the job gate"
    assert jobs.GATE.snapshot() == (0, 0)
    labels = [b.label for b in at.get("download_button")]
    assert any(label.startswith("GIF") for label in labels), labels
    assert "cmp_export.make.gif" not in _buttons(at), "the download takes the Make button's place"


# ----------------------------------------------------------------------------------- the figures
@pytest.fixture(scope="module")
def compare_figures():
    obj = optcore.parse(ROSENBROCK)
    runs = [optcore.run(obj, m, [-1.2, 1.0], steps=600, tol=1e-8, **kw)
            for m, kw in (("gd", {"lr": 1e-3}), ("adam", {"lr": 0.02}), ("bfgs", {}))]
    paths = [figs.path_from_points(t.points, f"{i + 1}. {t.method}", figs.default_color(i)) for i, t in enumerate(runs)]
    grid = value_grid(obj, ((-2.0, 2.0), (-1.0, 3.0)), 60)
    series = [dict(name=p["name"], x=np.arange(len(t.values)), y=t.values, color=p["color"]) for p, t in zip(paths, runs)]
    return [figs.small_multiples_figure(*grid, [(p["name"], [p]) for p in paths], minima=[(1.0, 1.0)]),
            figs.contour_paths_figure(*grid, paths, minima=[(1.0, 1.0)]),
            figs.convergence_figure(series, y_title="f")]


def test_figures_sent_without_a_deep_copy_hold_the_same_json_and_stay_intact(compare_figures):
    for fig in compare_figures:
        before = pio.to_json(go.Figure.to_dict(fig), validate=False)   # plotly.py's own (deep-copying) path
        assert pio.to_json(fig.to_dict(), validate=False) == before
        assert pio.to_json(fig.to_dict(), validate=False) == before   # sending twice changes nothing
        go.Figure(fig.to_dict())                                       # and plotly.py still accepts it


def test_the_small_multiples_share_one_contour_picture(compare_figures):
    images = compare_figures[0].layout.images
    assert len(images) == 3 and len({im.source for im in images}) == 1
    assert [im.xref for im in images] == ["x", "x2", "x3"]


def test_panel_titles_drop_the_methods_parenthesis():
    assert comparison.short_title(1, "momentum", {"lr": 0.001}) == "2. Momentum η=0.001"
    assert comparison.short_title(0, "gd", {"lr": 0.1, "line_search": "backtracking"}) == \
        "1. Gradient descent (backtracking)"


def test_progress_shown_inside_a_cached_run_is_not_replayed_on_the_next_hit(monkeypatch):
    """The job's progress bar is updated from inside the engine's loop, and that loop runs inside
    `st.cache_data` (ui/cache.py). Streamlit records the elements a cached function touches and replays
    them on every later hit. On a loaded machine (CI) a run outlasted the update interval, its bar update
    was recorded with the run, and the next page that hit the cache replayed it onto a bar that no
    longer existed: "This app has encountered an error" in place of the comparison."""
    monkeypatch.setattr(jobs, "UPDATE_EVERY_S", 0.0)   # every check inside the loop redraws the bar
    query = {"view": "compare", "f": "x^2 + 2y^2 + 0.05x^4 + 0.01y^4", "x0": "1.3,-0.7", "steps": "5000",
             "o.n_methods": "6"}
    at = _app(**query)
    at.button(key="cmp_go").click()
    _run(at)
    assert at.get("plotly_chart")
    again = _app(**query)   # another session: every run is cached now, so the page draws at once
    assert again.get("plotly_chart") and "cmp_go" not in _buttons(again)
    _run(again)             # and once more in the same session
    assert again.get("plotly_chart")
