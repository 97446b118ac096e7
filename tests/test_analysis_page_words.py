"""The analysis pages after the split of ui/views.py (issue 11) and the #10 leftovers on them: the
basins and preconditioning tolerance and scale can be typed exactly (and travel in the share link),
the curvature legend lists "det H = 0" only when that line is drawn, and the Newton-model caption
says what the actual settings do to the jump."""
from __future__ import annotations

import json

import numpy as np
import pytest

import optcore
from optcore import analysis
from optcore.figures import analysis as afigs
from tests.test_app import _app, _run

pytestmark = pytest.mark.slow


def _specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _by_view(at, view: str) -> dict:
    return next(s for s in _specs(at) if (s["layout"].get("meta") or {}).get("view") == view)


def _names(spec: dict) -> list[str]:
    return [t.get("name") or "" for t in spec["data"]]


def _link(at, key: str) -> str | None:
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


# ------------------------------------------------------------------ typed tolerance and scale
def test_basins_tolerance_can_be_typed_exactly_and_goes_into_the_link():
    at = _app(view="basins", f="x^2 + 3y^2", x0="1,1", win="-2,2;-2,2", **{"o.basin_n": "20", "o.basin_panels": "1"})
    box = at.number_input(key="basin_tol")
    assert box.value == 1e-6 and at.session_state["basin_tol.slide"] == 1e-6
    box.set_value(3e-7)
    _run(at)
    assert at.number_input(key="basin_tol").value == 3e-7          # not a ladder value: typed exactly
    assert at.session_state["basin_tol.slide"] == 3e-7              # the slider under it follows
    assert float(_link(at, "o.basin_tol")) == 3e-7
    assert _link(at, "o.basin_n") == "20" and _link(at, "o.basin_panels") == "1"


def test_basins_slider_sets_the_typed_box():
    at = _app(view="basins", f="x^2 + 3y^2", x0="1,1", win="-2,2;-2,2", **{"o.basin_n": "20", "o.basin_panels": "1"})
    at.select_slider(key="basin_tol.slide").set_value(1e-8)
    _run(at)
    assert at.number_input(key="basin_tol").value == 1e-8 and float(_link(at, "o.basin_tol")) == 1e-8


@pytest.mark.parametrize("text,expect,changed", [("1e-06", 1e-6, False),       # a ladder value of the old slider
                                                 ("2.5e-9", 2.5e-9, False),
                                                 ("0.5", 1e-3, True),           # clamped, with a note
                                                 ("nan", 1e-6, True)])
def test_basins_link_values_open(text, expect, changed):
    at = _app(view="basins", f="x^2 + 3y^2", x0="1,1", win="-2,2;-2,2",
              **{"o.basin_n": "20", "o.basin_panels": "1", "o.basin_tol": text})
    assert at.number_input(key="basin_tol").value == pytest.approx(expect)
    assert any("The link's value was changed" in c.value for c in at.caption) == changed


def test_preconditioning_tolerance_scales_and_angles_typed_from_a_link():
    at = _app(view="preconditioning", f="x^2 + 3y^2", x0="1,1", win="-2,2;-2,2",
              **{"o.pc_tol": "3e-7", "o.pc_scale": "7.5", "o.pc_view_scale": "12.5", "o.pc_view_theta": "37.5",
                 "o.pc_steps": "300"})
    assert at.number_input(key="pc_tol").value == 3e-7
    assert at.number_input(key="pc_scale").value == 7.5 and at.number_input(key="pc_view_scale").value == 12.5
    assert at.number_input(key="pc_view_theta").value == 37.5 and at.number_input(key="pc_steps").value == 300
    titles = [s["layout"]["title"]["text"] for s in _specs(at) if (s["layout"].get("title") or {}).get("text")]
    assert any("R(37.5°)·diag(12.5, 1)" in t for t in titles), titles
    at.number_input(key="pc_view_scale").set_value(3.3)
    _run(at)
    assert float(_link(at, "o.pc_view_scale")) == 3.3
    at.select_slider(key="pc_theta.slide").set_value(20.0)         # the angle's slider sets its box
    _run(at)
    assert at.number_input(key="pc_theta").value == 20.0 and float(_link(at, "o.pc_theta")) == 20.0
    titles = [s["layout"]["title"]["text"] for s in _specs(at) if (s["layout"].get("title") or {}).get("text")]
    assert any("diag(3.3, 1)" in t for t in titles), titles


# --------------------------------------------------------------------- the det H = 0 legend
def test_curvature_legend_lists_det_zero_only_when_the_line_exists():
    convex = _app(view="curvature", f="x^2 + 3y^2 + x*y", x0="1,1", win="-2,2;-2,2")
    spec = _by_view(convex, "curvature")
    assert "det H = 0" not in _names(spec)                 # det H = 11 everywhere: no such line
    assert "det H = 0" not in _names(_by_view(convex, "vector_fields"))
    assert not any("det H = 0" in c.value for c in convex.caption)
    saddle = _app(view="curvature", f="x^3 - 3x + y^2", x0="1,1", win="-2,2;-2,2")   # det H = 12x: zero on x = 0
    assert "det H = 0" in _names(_by_view(saddle, "curvature"))
    assert "det H = 0" in _names(_by_view(saddle, "vector_fields"))
    assert any("Dashed black line: det H = 0" in c.value for c in saddle.caption)


def test_zero_line_follows_the_sign_of_the_grid():
    xs = ys = np.linspace(-1, 1, 5)
    F = np.zeros((5, 5))
    assert "det H = 0" not in [t.name for t in afigs.det_hessian_figure(xs, ys, np.ones((5, 5)), F).data]
    det = np.add.outer(ys, 0 * xs)                          # changes sign at y = 0
    assert "det H = 0" in [t.name for t in afigs.det_hessian_figure(xs, ys, det, F).data]
    assert "λ<sub>min</sub> = 0" in [t.name for t in afigs.min_eigenvalue_figure(xs, ys, det, F).data]


# ----------------------------------------------------------------- the Newton-model caption
def _moved_caption(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("The run actually moved"))


@pytest.mark.parametrize("link,words,not_words", [
    ("newton(lr=1,line_search=none)", "the full jump to where the model is flat", "learning rate"),
    ("newton(lr=0.5,line_search=none)", "the learning rate η = 0.5 scales the jump", "full jump"),
    ("newton_reg(lr=1,lambda0=1,line_search=none)", "it adds the damping λI to H", "learning rate"),
])
def test_newton_model_caption_is_true_for_the_settings(link, words, not_words):
    at = _app(view="newton_model", f="x^4 + y^4 + x*y + 2x^2 + y^2", x0="1.5,1", win="-2,2;-2,2", **{"m.nm": link})
    text = _moved_caption(at)
    assert words in text and not_words not in text, text


def test_newton_step_note_agrees_with_runs():
    obj = optcore.parse("x^4 + y^4 + x*y + 2x^2 + y^2")
    x0 = np.array([1.5, 1.0])
    landing = analysis.newton_landing_point(*analysis.taylor_model(obj, x0)[1:], x0)
    for method, params in [("newton", {"lr": 1.0}), ("newton", {"lr": 0.5}), ("newton", {"line_search": "backtracking"}),
                           ("newton_abs", {}), ("newton_reg", {}), ("diag_newton", {})]:
        t = optcore.run(obj, method, x0, steps=1, **params)
        settings = {**{p.name: p.default for p in optcore.METHODS[method].params}, **params}
        note = analysis.newton_step_note(method, settings, t.points[1], landing)
        full = np.allclose(t.points[1], landing, rtol=1e-9, atol=1e-12)
        assert ("full jump" in note) == full, (method, params, note)


def test_a_finished_heavy_job_leaves_no_progress_bar_behind():
    """The job box (progress bar and Cancel) was cleared with `container.empty()`, which adds an
    empty element inside the box instead: a finished basin map kept "Basin maps: method 1 of 3 33 %"
    and a Cancel button above its chart."""
    at = _app(view="basins", f="x^2 + 3y^2", x0="1,1", win="-2,2;-2,2", **{"o.basin_n": "20", "o.basin_panels": "1"})
    assert _by_view(at, "basins")
    assert not at.get("progress") and not [b for b in at.button if b.label == "Cancel"]


def test_even_grid_keeps_the_typed_value():
    from ui import widgets
    assert widgets.even_grid(0.0, 90.0, 5.0)[:3] == [0.0, 5.0, 10.0] and widgets.even_grid(0.0, 90.0, 5.0)[-1] == 90.0
    assert 37.5 in widgets.even_grid(0.0, 90.0, 5.0, 37.5) and 120.0 not in widgets.even_grid(0.0, 90.0, 5.0, 120.0)
