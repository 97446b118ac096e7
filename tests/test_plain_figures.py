"""Figures that reach the browser without plotly.py's validation (`PlainFigure`) and the contour
background remembered across reruns: what the browser receives must be exactly what a validated
figure would give, and a learning-rate change must not redraw the background picture."""
from __future__ import annotations

import base64
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import optcore
from optcore.figures import base
from optcore.figures import trajectory as figs
from optcore.figures.grid import value_grid


def _decoded(value):
    """JSON with plotly's typed arrays ({"dtype", "bdata"}) turned back into lists of numbers."""
    if isinstance(value, dict):
        if set(value) >= {"dtype", "bdata"}:
            return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def _validated_json(fig: base.PlainFigure) -> dict:
    """The same figure as an ordinary go.Figure gives it (reading `.data` validates a PlainFigure)."""
    assert fig.data is not None
    return _decoded(json.loads(pio.to_json(go.Figure.to_dict(fig), validate=False)))


@pytest.fixture(scope="module")
def bowl():
    obj = optcore.parse("x^2 + 3y^2 + x*y")
    window = [(-2.0, 2.0), (-2.0, 2.0)]
    xs, ys, Z = value_grid(obj, window, 80)
    runs = {lr: optcore.run(obj, "gd", [1.5, 1.5], steps=60, tol=1e-12, lr=lr) for lr in (0.02, 0.05, 0.1)}
    return obj, xs, ys, Z, runs


def _contour(bowl, lr=0.05, **kw):
    obj, xs, ys, Z, runs = bowl
    t = runs[lr]
    path = figs.path_from_points(t.points, "gd", figs.default_color(0), values=t.values)
    return figs.contour_paths_figure(xs, ys, Z, [path], minima=[(0.0, 0.0)], **kw)


def _builders(bowl):
    obj, xs, ys, Z, runs = bowl
    t = runs[0.05]
    k = np.arange(t.iterations + 1)
    xs1 = np.linspace(-2, 2, 101)
    curve_path = figs.path_from_points(t.points[:, :1], "gd", "#d62728", values=t.points[:, 0] ** 2)
    return {
        "contour animated": lambda: _contour(bowl),
        "contour static": lambda: _contour(bowl, animate=False),
        "curve": lambda: figs.curve_figure(xs1, xs1 ** 2, [curve_path], minima=[0.0], minima_values=[0.0]),
        "convergence": lambda: figs.convergence_figure([dict(name="f", x=k, y=t.values, color="#d62728")],
                                                       y_title="f"),
        "convergence, two series": lambda: figs.convergence_figure(
            [dict(name="a", x=k, y=t.values), dict(name="b", x=k, y=t.grad_norms, diverged=True)], y_title="g"),
    }


@pytest.mark.parametrize("which", ["contour animated", "contour static", "curve", "convergence",
                                   "convergence, two series"])
def test_plain_figure_sends_what_a_validated_figure_sends(bowl, which):
    make = _builders(bowl)[which]
    plain = make()
    assert isinstance(plain, base.PlainFigure) and base.plain_spec(plain) is not None
    sent = _decoded(json.loads(pio.to_json(plain, validate=False)))   # what st.plotly_chart does
    assert base.plain_spec(plain) is not None, "sending a figure must not validate it"
    assert sent == _validated_json(make())


def test_plain_figure_becomes_an_ordinary_figure_when_read(bowl):
    fig = _contour(bowl)
    n = len(base.plain_spec(fig)["data"])
    assert len(fig.data) == n and base.plain_spec(fig) is None
    fig.update_layout(title="edited")   # and edits reach the browser
    assert json.loads(pio.to_json(fig, validate=False))["layout"]["title"]["text"] == "edited"
    assert fig.frames and fig.frames[-1].data[0].type == "scatter"


def test_click_styling_and_meta_without_validation(bowl):
    fig = _contour(bowl, click_axes=(0, 1))
    assert base.layout_meta(fig) == {"click_axes": [0, 1]}
    base.keep_unselected_visible(fig)
    spec = base.plain_spec(fig)
    assert spec is not None
    scatter = [t for t in spec["data"] if t.get("type") == "scatter"]
    assert scatter and all(t["unselected"]["marker"]["opacity"] == t["selected"]["marker"]["opacity"]
                           for t in scatter)
    grid = next(t for t in scatter if t["name"] == "click grid")
    assert grid["unselected"]["marker"]["opacity"] == 0   # the invisible grid stays invisible


def test_background_is_drawn_once_for_a_learning_rate_change(bowl, monkeypatch):
    drawn = []
    real = figs.banded_raster
    monkeypatch.setattr(figs, "banded_raster", lambda *a, **k: drawn.append(1) or real(*a, **k))
    monkeypatch.setattr(figs, "_contour_cache", type(figs._contour_cache)())
    pictures = [json.loads(pio.to_json(_contour(bowl, lr=lr)))["layout"]["images"][0]["source"]
                for lr in (0.02, 0.05, 0.1)]
    assert len(drawn) == 1, "η changed, the background did not: one picture, reused"
    assert len(set(pictures)) == 1
    obj, xs, ys, Z, runs = bowl
    figs.contour_paths_figure(xs, ys, Z * 2, [], minima=())     # another function: drawn afresh
    assert len(drawn) == 2


def test_background_cache_is_bounded_and_returns_copies(bowl, monkeypatch):
    monkeypatch.setattr(figs, "_contour_cache", type(figs._contour_cache)())
    obj, xs, ys, Z, runs = bowl
    for i in range(figs.CONTOUR_CACHE_SIZE + 5):
        figs._contour_parts(xs, ys, Z + i)
    assert len(figs._contour_cache) == figs.CONTOUR_CACHE_SIZE
    image, bar = figs._contour_parts(xs, ys, Z)
    bar["marker"]["opacity"] = 1
    assert figs._contour_parts(xs, ys, Z)[1]["marker"]["opacity"] == 0


def test_contour_picture_holds_exactly_the_band_colours_and_transparent_gaps():
    """The picture is written as a palette PNG directly: every visible pixel is one of the bands'
    colours or its darker level-line shade, nan cells are transparent, and both shades occur."""
    import io

    from PIL import Image
    xs = np.linspace(-2, 2, 60)
    X, Y = np.meshgrid(xs, xs)
    Z = np.where(X > 1.5, np.nan, X ** 2 + 3 * Y ** 2)
    bands = 12
    uri = base.banded_raster(Z, 0.0, float(np.nanmax(Z)), bands=bands, upsample=2)
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",")[1]))).convert("RGBA")).astype(int)
    lut = base.colorscale_lut()
    centers = ((np.arange(bands) + 0.5) / bands * 255).round().astype(int)
    fill = {tuple(c) for c in lut[centers].astype(int)}
    lines = {tuple(c) for c in (lut[centers] * 0.72).round().astype(int)}
    visible = img[img[..., 3] == 255][:, :3]
    seen = {tuple(c) for c in visible}
    assert seen <= fill | lines and seen & fill and seen & lines
    assert (img[:, -10:, 3] == 0).all() and (img[:, :50, 3] == 255).all()   # x > 1.5 is nan: transparent


def test_refined_grid_is_row_by_row_linear_interpolation_and_keeps_values_beside_gaps():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(7, 9))
    Z[2, 4] = np.nan
    for factor in (2, 3):
        fine = np.arange((Z.shape[1] - 1) * factor + 1) / factor
        expected = np.array([np.interp(fine, np.arange(Z.shape[1]), row) for row in Z])
        got = base._refined(Z, factor)
        assert got.shape == expected.shape
        assert np.array_equal(np.isnan(got), np.isnan(expected))   # the grid's own values stay beside the gap
        assert np.allclose(got[~np.isnan(got)], expected[~np.isnan(expected)], rtol=0, atol=1e-12)
