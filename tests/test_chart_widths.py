"""Charts drawn once at their width (ui/chart_widths.py): what the browser reports is checked, and the
figure Streamlit draws carries the width and the modes while the figure itself (exports) does not."""
from __future__ import annotations

import numpy as np

from optcore.figures import trajectory as figs
from optcore.figures.base import plain_spec
from ui import chart_widths, charts


def test_only_key_like_names_and_sane_widths_are_kept_from_the_report():
    reported = "pg_chart:719,cmp-conv:980," + "x" * 41 + ":500,bad key!:500,tiny:10,huge:999999,neg:-300,text:abc,:500,alone"
    assert chart_widths._clean(reported) == {"pg_chart": 719, "cmp-conv": 980}
    assert chart_widths._clean("") == {} and chart_widths._clean(None) == {}
    assert chart_widths._clean(",".join(f"k{i}:300" for i in range(30))) == {f"k{i}": 300 for i in range(30)}
    assert len(chart_widths._clean(",".join(f"k{i}:300" for i in range(40)))) == chart_widths.MAX_CHARTS
    assert chart_widths._clean("a:300," * 10_000) == {}   # too long to read at all


def _contour():
    xs = ys = np.linspace(-2, 2, 30)
    Z = xs[None, :] ** 2 + 3 * ys[:, None] ** 2
    path = figs.path_from_points(np.array([[1.5, 1.5], [1.0, 0.5], [0.2, 0.1]]), "gd", figs.default_color(0))
    return figs.contour_paths_figure(xs, ys, Z, [path])


def test_the_drawn_figure_carries_the_reported_width_and_the_figure_keeps_its_own(monkeypatch):
    fig = _contour()
    monkeypatch.setattr(chart_widths, "width_of", lambda key: {"pg_chart": 719}.get(key))
    drawn = plain_spec(charts._as_drawn(fig, "pg_chart", True))["layout"]
    assert drawn["width"] == 719
    # what Streamlit sets on a selectable chart after mounting it (else plotly.js draws it again)
    assert (drawn["clickmode"], drawn["hovermode"], drawn["dragmode"]) == ("event+select", "closest", "pan")
    own = plain_spec(fig)["layout"]
    assert "width" not in own and "clickmode" not in own and own["dragmode"] is False   # exports unchanged

    other = plain_spec(charts._as_drawn(fig, "never_reported", False))["layout"]
    assert "width" not in other and "clickmode" not in other   # unknown width: Streamlit's own sizing


def test_a_new_session_uses_the_widths_its_browser_kept_and_its_own_once_known(monkeypatch):
    """The cookie (the browser's last session) counts only until this session's page has said."""
    from urllib.parse import quote

    class Context:
        cookies = {chart_widths.COOKIE: quote("pg_chart:700,cmp_multiples:980")}

    state: dict = {}
    monkeypatch.setattr(chart_widths.st, "context", Context())
    monkeypatch.setattr(chart_widths.st, "session_state", state)
    assert chart_widths.width_of("pg_chart") == 700 and chart_widths.width_of("other") is None
    state[chart_widths.REPORTER] = {"widths": "pg_chart:719"}
    assert chart_widths.width_of("pg_chart") == 719 and chart_widths.width_of("cmp_multiples") is None
    Context.cookies = {chart_widths.COOKIE: quote("pg_chart:5,bad key:700")}   # out of bounds: ignored
    state.clear()
    assert chart_widths.width_of("pg_chart") is None


def test_a_validated_figure_is_drawn_at_its_width_too_and_keeps_its_own_layout(monkeypatch):
    """Analysis pages build plotly.py figures (arrow fields, race bands): they get the width as well."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 0, 2], name="path"), layout=dict(height=400))
    fig.frames = [go.Frame(data=[go.Scatter(x=[0, 1], y=[1, 0])], name="1")]
    monkeypatch.setattr(chart_widths, "width_of", lambda key: {"race_bands": 980}.get(key))
    drawn = charts._as_drawn(fig, "race_bands", False).to_dict()
    assert drawn["layout"]["width"] == 980 and drawn["layout"]["height"] == 400
    assert list(drawn["data"][0]["y"]) == [1, 0, 2] and len(drawn["frames"]) == 1
    assert fig.layout.width is None   # the figure (exports) keeps its own layout


def test_a_phone_chart_has_no_toolbar_over_its_title_and_a_long_title_wraps_inside_it(monkeypatch):
    """On a touch screen Plotly's toolbar is always shown, ~220 px wide in the title's band: it covered
    the titles of a 358 px chart, and a long title was cut at the chart's right edge."""
    from optcore.figures.analysis import det_hessian_figure
    xs = ys = np.linspace(-2, 2, 30)
    F = xs[None, :] ** 2 - ys[:, None] ** 2
    fig = det_hessian_figure(xs, ys, np.full_like(F, -4.0), F)
    title = plain_spec(fig)["layout"]["title"]["text"] if plain_spec(fig) else fig.layout.title.text
    assert len(title) * charts.PHONE_TITLE_CHAR_PX > 358 - 24, "a title too long for a phone, as on the page"
    monkeypatch.setattr(chart_widths, "width_of", lambda key: {"curv_map_chart": 358, "wide": 980}.get(key))
    drawn = charts._as_drawn(fig, "curv_map_chart", False)
    spec = plain_spec(drawn) or drawn.to_dict()
    lines = spec["layout"]["title"]["text"].split("<br>")
    assert len(lines) == 2 and " ".join(lines) == title                    # the same words, on two lines
    assert all(len(line) * charts.PHONE_TITLE_CHAR_PX <= 358 - 24 for line in lines)
    assert charts._config("curv_map_chart")["displayModeBar"] is False
    # a desktop chart keeps its toolbar and its title as built
    assert "displayModeBar" not in charts._config("wide")
    wide = charts._as_drawn(fig, "wide", False)
    assert (plain_spec(wide) or wide.to_dict())["layout"]["title"]["text"] == title


def test_side_by_side_panels_go_one_per_row_on_a_narrow_chart(monkeypatch):
    """Three panels across a 358 px chart ran their titles into each other; a phone whose browser
    does not say it is one (or a narrow window) is known by the chart's reported width."""
    from ui import comparison
    monkeypatch.setattr(chart_widths, "layout_width", lambda key: 358 if key == "cmp_multiples" else None)
    assert comparison.panel_layout(3)["cols"] == 1
    monkeypatch.setattr(chart_widths, "layout_width", lambda key: 980 if key == "cmp_multiples" else None)
    assert comparison.panel_layout(3)["cols"] == 3 and comparison.panel_layout(2)["cols"] == 2
