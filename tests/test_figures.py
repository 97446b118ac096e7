"""Figure builders: the contour is drawn once, frames carry only the moving path traces, and an
animated comparison stays small and quick to build."""
from __future__ import annotations

import json

import numpy as np
import pytest

import optcore
from optcore.figures import trajectory as figs
from optcore.figures.grid import value_grid

FORMULA = "(1-x)^2 + 100(y-x^2)^2"
WINDOW = [(-2.0, 2.0), (-1.0, 3.0)]


@pytest.fixture(scope="module")
def setting():
    obj = optcore.parse(FORMULA)
    xs, ys, Z = value_grid(obj, WINDOW, 200)
    runs = [optcore.run(obj, m, [-1.2, 1.0], steps=200, tol=0, **p)
            for m, p in (("gd", {"lr": 0.001}), ("momentum", {"lr": 0.001}), ("adam", {"lr": 0.02}))]
    paths = [figs.path_from_points(t.points, t.method, figs.default_color(i)) for i, t in enumerate(runs)]
    return obj, xs, ys, Z, runs, paths


def _moving(frame) -> list[int]:
    """The traces a frame gives data to (the others it names with an empty update)."""
    return [i for i, t in zip(frame.traces, frame.data) if t.x is not None]


def _path_trace_indices(fig) -> set[int]:
    return {i for i, t in enumerate(fig.data) if t.type == "scatter" and t.mode in ("lines+markers", "markers")
            and t.name not in ("f", "click grid", "known minimum", "start") and not t.name.endswith(" end")}


def test_grid_shape_and_values(setting):
    obj, xs, ys, Z, *_ = setting
    assert Z.shape == (200, 200)
    assert Z[0, 0] == pytest.approx(float(obj.value([xs[0], ys[0]])))
    assert Z[5, 7] == pytest.approx(float(obj.value([xs[7], ys[5]])))


def test_contour_drawn_once_and_frames_carry_only_paths(setting):
    _, xs, ys, Z, _, paths = setting
    fig = figs.contour_paths_figure(xs, ys, Z, paths, minima=[(1.0, 1.0)])
    # One filled-contour picture (layout image) and no contour trace anywhere.
    assert len(fig.layout.images) == 1
    assert not any(t.type == "contour" for t in fig.data)
    assert fig.frames
    allowed = _path_trace_indices(fig)
    for frame in fig.frames:
        moving = _moving(frame)
        assert moving and set(moving) <= allowed
        assert all(t.type == "scatter" for t in frame.data)
        assert len(moving) == 2 * len(paths)  # path so far + its head, per run
        assert len(frame.traces) == len(frame.data)
    js = fig.to_json()
    assert js.count('"type":"contour"') == 0
    assert js.count("base64,") == 1


def test_frames_use_plain_lists_not_typed_arrays(setting):
    """plotly.js does not decode base64 typed arrays inside frames (the animation breaks)."""
    _, xs, ys, Z, _, paths = setting
    fig = figs.contour_paths_figure(xs, ys, Z, paths)
    frames = json.loads(fig.to_json())["frames"]
    for frame in frames[:5] + frames[-5:]:
        moving = [t for t in frame["data"] if set(t) != {"type"}]  # static traces: empty updates
        assert len(moving) == 2 * len(paths)
        for trace in moving:
            assert isinstance(trace["x"], list) and isinstance(trace["y"], list)


@pytest.mark.parametrize("builder", ["contour", "multiples", "curve"])
def test_frames_name_every_static_scatter_trace_with_an_empty_update(setting, builder):
    """plotly.animate recomputes every trace but redraws only those a frame names: a trace left
    out loses its drawing node and the next click-to-select throws in plotly.js (after Play, a click
    on the contour did nothing). Every scatter trace must be named, the static ones with no data."""
    _, xs, ys, Z, runs, paths = setting
    if builder == "contour":
        fig = figs.contour_paths_figure(xs, ys, Z, paths, minima=[(1.0, 1.0)])
    elif builder == "multiples":
        fig = figs.small_multiples_figure(xs[::4], ys[::4], Z[::4, ::4], [(p["name"], [p]) for p in paths],
                                          minima=[(1.0, 1.0)])
    else:
        one = optcore.parse("x^2")
        traj = optcore.run(one, "gd", [3.0], steps=10, lr=0.2)
        xline = np.linspace(-4, 4, 50)
        fig = figs.curve_figure(xline, one.value(xline[:, None]),
                                [figs.path_from_points(traj.points, "gd", "#f00", values=traj.values)],
                                minima=[0.0], minima_values=[0.0])
    scatter = {i for i, t in enumerate(fig.data) if t.type == "scatter"}
    moving = set(_moving(fig.frames[0]))
    for frame in (fig.frames[0], fig.frames[-1]):
        assert set(frame.traces) == scatter, (builder, frame.traces, scatter)
        for i, t in zip(frame.traces, frame.data):
            if i not in moving:
                assert t.x is None and t.y is None and t.marker.size is None, (builder, i)
    payload = json.loads(fig.to_json())["frames"][0]["data"]
    assert all(set(t) == {"type"} for i, t in zip(fig.frames[0].traces, payload) if i not in moving)


def test_last_frame_shows_whole_paths(setting):
    _, xs, ys, Z, runs, paths = setting
    fig = figs.contour_paths_figure(xs, ys, Z, paths)
    last = fig.frames[-1]
    assert len(last.data[0].x) == len(runs[0].points)
    assert fig.frames[0].data[0].x[0] == pytest.approx(-1.2)
    assert len(fig.frames[0].data[0].x) == 1


def _bowl_paths(steps: int, starts=((2.5, 1.5),), lr: float = 0.001):
    obj = optcore.parse("x^2 + 10y^2")
    xs, ys, Z = value_grid(obj, [(-3.0, 3.0), (-2.0, 2.0)], 60)
    runs = [optcore.run(obj, "gd", list(s), steps=steps, tol=1e-15, lr=lr) for s in starts]
    paths = [figs.path_from_points(t.points, f"gd {i}", figs.default_color(i), values=t.values)
             for i, t in enumerate(runs)]
    return xs, ys, Z, runs, paths


def _frame_modes(fig, line: int) -> list:
    """The mode each frame gives the path line at index `line` (None: the one in `fig.data`)."""
    return [next(t.mode for i, t in zip(f.traces, f.data) if i == line) for f in fig.frames]


def test_a_long_dotted_path_plays_as_a_line_and_ends_with_its_dots():
    """plotly.js re-styles every marker of a trace a frame names: a 200-step run drawn with a dot
    per iterate cost ~5 ms more per frame than its line. While it plays the line grows with its
    head marker on the iterate; the last frame (where Play stops) shows the dots again, as at rest."""
    xs, ys, Z, runs, paths = _bowl_paths(200)
    fig = figs.contour_paths_figure(xs, ys, Z, paths, minima=[(0.0, 0.0)])
    line = next(i for i, t in enumerate(fig.data) if t.name == "gd 0")
    assert fig.data[line].mode == "lines+markers" and len(fig.data[line].x) == len(runs[0].points)
    modes = _frame_modes(fig, line)
    assert modes[-1] == "lines+markers"
    assert set(modes[:-1]) == {"lines"}
    head = fig.data[line + 1]
    assert head.mode == "markers" and head.name == "gd 0 now"
    for f in (fig.frames[0], fig.frames[len(fig.frames) // 2]):   # the head still marks iterate k
        moving = dict(zip(f.traces, f.data))
        assert moving[line + 1].x[0] == moving[line].x[-1] and len(moving[line + 1].x) == 1
    dots = sum(len(d.x) for f in fig.frames[:-1] for i, d in zip(f.traces, f.data)
               if i == line and d.mode != "lines")
    assert dots == 0


def test_short_runs_keep_their_dots_while_they_play():
    """A few iterates (a zigzag of 20 steps) are what the student watches: their dots stay in every frame."""
    xs, ys, Z, runs, paths = _bowl_paths(20, starts=((2.5, 1.5), (-2.0, 1.0)), lr=0.09)
    fig = figs.contour_paths_figure(xs, ys, Z, paths)
    assert sum(len(p["x"]) for p in paths) <= figs.FRAME_DOTS
    for name in ("gd 0", "gd 1"):
        line = next(i for i, t in enumerate(fig.data) if t.name == name)
        assert fig.data[line].mode == "lines+markers"
        assert set(_frame_modes(fig, line)) == {None}   # the figure's own mode: dots at every iterate


def test_thinned_paths_are_lines_in_every_frame(setting):
    """Long runs are drawn thinned as lines (no dots) at rest: their frames set no mode at all."""
    _, xs, ys, Z, _, paths = setting
    long = [dict(p, x=np.repeat(p["x"], 3), y=np.repeat(p["y"], 3)) for p in paths[:1]]
    fig = figs.contour_paths_figure(xs, ys, Z, long)
    line = next(i for i, t in enumerate(fig.data) if t.name == long[0]["name"])
    assert fig.data[line].mode == "lines"
    assert set(_frame_modes(fig, line)) == {None}


def test_the_click_grid_carries_the_colour_bar():
    """One trace fewer on the clickable contour (plotly.js recomputes every trace on every frame):
    the colour bar sits on the invisible click grid, whose hover label stays white."""
    xs, ys, Z, _, paths = _bowl_paths(50)
    fig = figs.contour_paths_figure(xs, ys, Z, paths, minima=[(0.0, 0.0)])
    scaled = [t for t in fig.data if t.marker.showscale]
    assert [t.name for t in scaled] == ["click grid"]
    grid = scaled[0]
    assert grid.marker.opacity == 0 and grid.marker.maxdisplayed == figs.CLICK_GRID_DRAWN
    assert grid.hoverlabel.bgcolor == "white"
    assert grid.marker.colorbar.title.text == "f"
    assert grid.marker.cmin < grid.marker.cmax
    assert "f" not in [t.name for t in fig.data]
    assert len(grid.x) == len(grid.customdata) == 45 * 45   # still a click target everywhere
    # without a click grid the colour bar keeps its own invisible point
    plain = figs.contour_paths_figure(xs, ys, Z, paths, clickable=False)
    assert [t.name for t in plain.data if t.marker.showscale] == ["f"]
    assert grid.marker.colorbar == plain.data[0].marker.colorbar
    assert (grid.marker.cmin, grid.marker.cmax) == (plain.data[0].marker.cmin, plain.data[0].marker.cmax)


def test_animation_controls(setting):
    _, xs, ys, Z, _, paths = setting
    fig = figs.contour_paths_figure(xs, ys, Z, paths)
    buttons = fig.layout.updatemenus[0].buttons
    labels = [b.label for b in buttons]
    assert any("Play" in label for label in labels) and any("Pause" in label for label in labels)
    assert len(labels) >= 4  # three speeds and pause
    for b in buttons:
        assert b.args[1]["frame"]["redraw"] is False
    slider = fig.layout.sliders[0]
    assert len(slider.steps) == len(fig.frames)


def test_frame_counter_names_the_last_step(setting):
    """plotly.js labels every n-th slider step from the first, so a row of tick labels stopped short
    of the end (97 of 100): the labels are hidden and the counter says which step is the last."""
    _, xs, ys, Z, _, paths = setting
    fig = figs.contour_paths_figure(xs, ys, Z, paths)
    slider = fig.layout.sliders[0]
    last = slider.steps[-1].label
    assert int(last) == max(len(p["x"]) for p in paths) - 1
    assert slider.currentvalue.suffix == f" of {last}"
    assert slider.font.color == "rgba(0,0,0,0)"
    assert slider.currentvalue.font.color not in (None, slider.font.color)   # the counter stays visible


def test_size_budget(setting):
    """3 methods x 200 steps on a 200 x 200 grid: <= 1.5 MB of JSON (build time: optcore.bench)."""
    _, xs, ys, Z, _, paths = setting
    fig = figs.contour_paths_figure(xs, ys, Z, paths)
    size = len(fig.to_json())
    assert size <= 1_500_000, size


def test_small_multiples_share_one_timeline(setting):
    _, xs, ys, Z, runs, paths = setting
    panels = [(t.method, [p]) for t, p in zip(runs, paths)]
    fig = figs.small_multiples_figure(xs[::2], ys[::2], Z[::2, ::2], panels)
    assert len(fig.layout.images) == len(panels)  # one contour picture per panel
    assert fig.frames and all(len(_moving(f)) == 2 * len(panels) for f in fig.frames)
    axes = {(fig.data[i].xaxis, fig.data[i].yaxis) for i in _moving(fig.frames[0])}
    assert len(axes) == len(panels)  # every panel moves in the same frame
    assert len(fig.to_json()) <= 1_500_000


def test_surface_curve_and_convergence(setting):
    obj, xs, ys, Z, runs, paths = setting
    for p, t in zip(paths, runs):
        p["z"] = t.values
    surface = figs.surface_figure(xs, ys, Z, paths)
    assert surface.data[0].type == "surface" and len(surface.data) == 1 + len(paths) + 1   # + the starts
    one = optcore.parse("x^2")
    traj = optcore.run(one, "gd", [3.0], steps=10, lr=0.2)
    xline = np.linspace(-4, 4, 50)
    curve = figs.curve_figure(xline, one.value(xline[:, None]),
                              [figs.path_from_points(traj.points, "gd", "#f00", values=traj.values)])
    assert curve.layout.meta["click_axes"] == [0]
    assert curve.frames and len(curve.frames[-1].data[0].x) == len(traj.points)
    conv = figs.convergence_figure([dict(name="a", x=np.arange(3), y=[1.0, 0.0, -1e-30], color="#000")],
                                   y_title="f − f*")
    assert conv.layout.yaxis.type == "log"
    assert min(conv.data[0].y) > 0


def test_display_values_switches_to_log_for_huge_ranges(setting):
    _, _, _, Z, *_ = setting
    _, label, is_log = figs.display_values(Z)
    assert is_log and "log" in label
    _, label, is_log = figs.display_values(np.add.outer(np.linspace(0, 1, 20), np.linspace(0, 1, 20)))
    assert not is_log


def test_nan_regions_do_not_break_the_picture():
    obj = optcore.parse("log(x) + y^2")
    xs, ys, Z = value_grid(obj, [(-1.0, 2.0), (-1.0, 1.0)], 60)
    assert np.isnan(Z).any()
    fig = figs.contour_paths_figure(xs, ys, Z, [])
    assert len(fig.layout.images) == 1 and not fig.frames


def test_convergence_legend_has_room_below_the_axis_title():
    """Twelve runs on the compare page: the legend used to sit on the x-axis title and be cut off."""
    def conv(n: int, name: str = "1. Gradient descent η=0.01 · start {i}"):
        return figs.convergence_figure([dict(name=name.format(i=i), x=np.arange(5), y=np.ones(5), color="#000")
                                        for i in range(n)], y_title="f − f*", height=340)
    one, twelve = conv(1), conv(12)
    assert one.layout.showlegend is False  # the axis title names the single line
    assert twelve.layout.showlegend is True
    plot_px = twelve.layout.height - twelve.layout.margin.t - twelve.layout.margin.b
    assert plot_px >= 250, "the plotting area keeps its size"
    assert twelve.layout.legend.yanchor == "top"
    assert -twelve.layout.legend.y * plot_px >= 50, "the legend starts below the x-axis title"
    assert twelve.layout.margin.b >= 50 + 12 * 18, "one line of room per legend entry"
    short = conv(6, name="run {i}")
    assert short.layout.margin.b < twelve.layout.margin.b


def test_convergence_range_ignores_a_diverged_run():
    """Nesterov η = 0.05 on Rosenbrock reaches f ≈ 1e25: its line must not stretch the log axis so
    the other runs are squashed; it is dashed and says "(diverged)"."""
    k = np.arange(50)
    fine = [dict(name="gd", x=k, y=10.0 ** (-0.2 * k), color="#000"),
            dict(name="bfgs", x=k, y=10.0 ** (1 - 0.3 * k), color="#111")]
    blown = dict(name="nesterov", x=np.arange(4), y=[1.0, 1e5, 1e15, 1e25], color="#f00", diverged=True)
    fig = figs.convergence_figure(fine + [blown], y_title="f − f*")
    lo, hi = fig.layout.yaxis.range
    assert fig.layout.yaxis.type == "log"
    assert 1.0 < hi < 2.0 and -15.0 < lo < -14.0, (lo, hi)  # 1e1 .. 1e-14.7 with a margin, not 1e25
    line = fig.data[2]
    assert line.name == "nesterov (diverged)" and line.line.dash == "dash"
    assert [t.name for t in fig.data[:2]] == ["gd", "bfgs"] and fig.data[0].line.dash is None
    # without a diverged run plotly's autorange is left alone
    assert figs.convergence_figure(fine, y_title="f − f*").layout.yaxis.range is None
    # only diverged runs: nothing to clip to
    assert figs.convergence_figure([blown], y_title="f − f*").layout.yaxis.range is None


def test_basin_legend_of_many_minima_is_a_summary():
    """121 minima (Rastrigin's grid) give a legend of a few lines naming the global minimum, not 121."""
    import numpy as np

    from optcore.figures.analysis import basin_figure
    g = np.arange(-5.0, 6.0)
    attractors = np.array([(a, b) for a in g for b in g])
    values = (attractors ** 2).sum(axis=1)
    labels = [np.arange(100).reshape(10, 10) % len(attractors)]
    fig = basin_figure(np.linspace(-5, 5, 10), np.linspace(-5, 5, 10), labels, [np.ones((10, 10))], ["GD"],
                       attractors, ["min"] * len(attractors), values=values)
    legend = [t.name for t in fig.data if t.type == "scatter" and t.showlegend is not False and t.name
              and len(t.x) == 1 and t.x[0] is None]
    assert len(legend) <= 5, legend
    assert any(name.startswith("global minimum (0, 0)") for name in legend)
    assert any("120" in name for name in legend)
    # 120 basins in a palette of a few tones: the legend does not claim one colour each
    assert not any("one colour each" in name for name in legend), legend


def test_many_basins_keep_colours_that_show_their_borders():
    """Rastrigin's 121 basins: pale tones lightened by iterations left the maps nearly white and the
    borders between basins unseen. Every basin's lightest shade keeps some colour."""
    import numpy as np

    from optcore.figures.analysis import basin_figure
    g = np.arange(-5.0, 6.0)
    attractors = np.array([(a, b) for a in g for b in g])
    labels = [np.arange(100).reshape(10, 10) % len(attractors)]
    its = [np.arange(100.0).reshape(10, 10)]   # lighter = more iterations, up to the lightest shade
    fig = basin_figure(np.linspace(-5, 5, 10), np.linspace(-5, 5, 10), labels, its, ["GD"],
                       attractors, ["min"] * len(attractors), values=(attractors ** 2).sum(axis=1))
    scale = fig.data[0].colorscale
    k = len(attractors)
    for stop, color in scale[: 2 * k]:
        rgb = [int(v) for v in color[4:-1].split(",")]
        assert min(rgb) <= 215, (stop, color)     # not near-white


# ------------------------------------------------------------------ legends clear of Plotly's toolbar
def _ellipse_runs(n: int = 1):
    obj = optcore.parse("x^2 + 3y^2")
    xs, ys, Z = value_grid(obj, [(-2.0, 2.0), (-2.0, 2.0)], 40)
    paths = []
    for i in range(n):
        t = optcore.run(obj, "gd", [1.5, 1.5 - 0.3 * i], steps=30, lr=0.1)
        paths.append(figs.path_from_points(t.points, f"run {i}", figs.default_color(i), values=t.values))
    return obj, xs, ys, Z, paths


def _legend_top_px(fig) -> float:
    """Pixels from the figure's top edge to the top of its legend (yref "container", anchor top)."""
    legend = fig.layout.legend
    assert legend.yref == "container" and legend.yanchor == "top", legend
    return round((1 - legend.y) * fig.layout.height, 6)


@pytest.mark.parametrize("kind", ["curve", "contour", "overlay", "titled", "surface", "multiples"])
def test_legends_start_below_the_modebar(kind):
    """Plotly's toolbar sits in a band of MODEBAR_PX at the top right; a legend placed at the top
    of the plot area reached into it (a compare overlay's long legend ran under its buttons). Every
    trajectory figure's legend starts below that band (and below a title), and the top margin
    holds one legend row so the plot area starts under it."""
    from optcore.figures.base import MODEBAR_PX
    obj, xs, ys, Z, paths = _ellipse_runs(8 if kind == "overlay" else 2)
    if kind == "curve":
        o1 = optcore.parse("x^2")
        x1 = np.linspace(-2, 2, 50)
        t = optcore.run(o1, "gd", [1.5], steps=20, lr=0.1)
        fig = figs.curve_figure(x1, o1.value(x1[:, None]), [figs.path_from_points(t.points, "gd", "#ff7f0e", values=t.values)])
    elif kind == "surface":
        fig = figs.surface_figure(xs, ys, Z, paths)
    elif kind == "multiples":
        fig = figs.small_multiples_figure(xs, ys, Z, [("a", paths[:1]), ("b", paths[1:])])
    else:
        fig = figs.contour_paths_figure(xs, ys, Z, paths, title="a slice" if kind == "titled" else None)
    top = _legend_top_px(fig)
    assert top >= MODEBAR_PX, (kind, top)
    if kind == "titled":
        title = fig.layout.title
        assert title.yref == "container" and (1 - title.y) * fig.layout.height < MODEBAR_PX  # beside the toolbar
        assert top >= MODEBAR_PX + 8
    assert fig.layout.margin.t >= top + 20, "a legend row fits above the plot area"
    assert fig.layout.legend.x == 0 and fig.layout.legend.xanchor == "left"   # the toolbar is on the right


def test_surface_paths_float_above_the_surface_and_it_lets_them_show():
    """The 3-D path used to be drawn exactly on the surface and vanished into it after a few
    points: now every path point is lifted above f by a small share of the surface's height range,
    the surface is see-through, the paths come after it in the trace order and hover shows the
    true f."""
    obj, xs, ys, Z, paths = _ellipse_runs(2)
    fig = figs.surface_figure(xs, ys, Z, paths, minima=[[0.0, 0.0]], minima_values=[0.0])
    surface, *rest = fig.data
    assert surface.type == "surface" and surface.opacity <= 0.7
    span = float(np.nanmax(surface.z) - np.nanmin(surface.z))
    for trace, _p in zip(rest, paths):
        assert trace.type == "scatter3d"
        lifted = np.asarray(trace.z, dtype=float) - np.asarray(trace.customdata, dtype=float)[:, 1]
        f_at_points = obj.value(np.column_stack([trace.x, trace.y]).astype(float))
        assert np.allclose(np.asarray(trace.customdata, dtype=float)[:, 1], f_at_points, rtol=1e-5, atol=1e-6)
        assert np.all(lifted > 0.005 * span) and np.all(lifted < 0.05 * span)   # above, but close
        assert "customdata[1]" in trace.hovertemplate
    minimum = rest[-1]
    assert minimum.name == "known minimum" and float(minimum.z[0]) > 0 and float(minimum.customdata[0]) == 0.0


def test_basin_panels_stack_on_a_phone_and_sit_side_by_side_on_a_desktop():
    """Three maps side by side in a 358 px chart were ~100 px wide each with their titles on top of
    each other: narrow charts put them one under the other, the legend counted in more rows."""
    from optcore.figures.analysis import basin_figure
    xs = ys = np.linspace(-2, 2, 12)
    labels = [np.zeros((12, 12), dtype=int)] * 3
    its = [np.ones((12, 12))] * 3
    args = (xs, ys, labels, its, ["GD", "Newton", "saddle-free"], np.array([[0.0, 0.0]]), ["min"])

    def panels(fig):
        lay = fig.layout
        return [(tuple(lay[f"xaxis{i or ''}"].domain), tuple(lay[f"yaxis{i or ''}"].domain)) for i in ("", 2, 3)]

    wide = panels(basin_figure(*args, width=980))
    assert len({y for _, y in wide}) == 1 and len({x for x, _ in wide}) == 3        # one row
    phone = basin_figure(*args, width=358)
    tall = panels(phone)
    assert len({x for x, _ in tall}) == 1 and len({y for _, y in tall}) == 3        # one column
    assert all(a[1][0] >= b[1][1] for a, b in zip(tall, tall[1:])), "first method on top, no overlap"
    assert phone.layout.height >= 3 * 260                                            # each map keeps a usable size


def test_convergence_panels_stack_on_a_phone_each_at_full_width_with_its_title_above():
    """Side by side on a 358 px phone chart each panel was ~170 px wide and the right one's tick
    labels sat inside the left one: stacked, each panel spans the width, one under the other."""
    k = np.arange(30)
    panels = [("f − f*", [dict(name="f − f*", x=k, y=0.5 ** k, color="#d62728")]),
              ("‖∇f‖", [dict(name="‖∇f‖", x=k, y=0.7 ** k, color="#1b3a6b")])]
    side = figs.convergence_panels_figure(panels, height=280, width_px=800).to_dict()["layout"]
    tall = figs.convergence_panels_figure(panels, height=280, width_px=358).to_dict()["layout"]
    assert side["xaxis"]["domain"][1] < side["xaxis2"]["domain"][0]                  # side by side
    assert tall["xaxis"]["domain"] == [0, 1] and tall["xaxis2"]["domain"] == [0, 1]
    top, below = tall["yaxis"]["domain"], tall["yaxis2"]["domain"]
    assert below[1] < top[0], "the second panel under the first, not overlapping"
    plot_px = tall["height"] - tall["margin"]["t"] - tall["margin"]["b"]
    assert (top[0] - below[1]) * plot_px >= 80, "room for tick labels, the x title and the next title"
    assert [a["y"] for a in tall["annotations"]] == [top[1], below[1]]                # each title above its panel


@pytest.mark.parametrize("width_px", [800, 358])
def test_convergence_panel_titles_sit_under_the_modebar(width_px):
    """The modebar, shown while the pointer is over the chart, covered the right panel's title."""
    from optcore.figures.base import MODEBAR_PX, PANEL_TITLE_PX
    k = np.arange(30)
    panels = [("f − f*", [dict(name="f − f*", x=k, y=0.5 ** k, color="#d62728")]),
              ("‖∇f‖", [dict(name="‖∇f‖", x=k, y=0.7 ** k, color="#1b3a6b")])]
    one = figs.convergence_panels_figure(panels[:1], height=280, width_px=width_px).to_dict()["layout"]
    lay = figs.convergence_panels_figure(panels, height=280, width_px=width_px).to_dict()["layout"]
    plot_px = lay["height"] - lay["margin"]["t"] - lay["margin"]["b"]
    for a in lay["annotations"]:
        title_top = lay["margin"]["t"] + (1 - a["y"]) * plot_px - a["yshift"] - 18   # 14 px text, its line
        assert title_top >= MODEBAR_PX, (a["text"], title_top)
    if width_px == 800:   # side by side, the plots keep the height they had
        assert plot_px == one["height"] - one["margin"]["t"] - one["margin"]["b"] - PANEL_TITLE_PX


def test_arrow_fields_stack_on_a_phone_each_colour_bar_beside_its_own_panel():
    """Side by side in a 358 px chart the two arrow fields were ~130 px wide and the Newton panel's
    colour bar sat over the gradient panel: narrow charts put the gradient panel under the Newton
    panel, each colour bar beside its panel's rows, both right of the plots."""
    from optcore.figures.analysis import vector_fields_figure
    xs = ys = np.linspace(-2, 2, 20)
    F = xs[None, :] ** 2 - ys[:, None] ** 2
    g = np.linspace(-2, 2, 6)
    XY = np.stack(np.meshgrid(g, g), axis=-1)
    args = (xs, ys, F, XY, -XY, -2 * XY)
    side = vector_fields_figure(*args, width=980).to_dict()["layout"]
    assert side["xaxis"]["domain"][1] < side["xaxis2"]["domain"][0]                   # one row
    tall = vector_fields_figure(*args, width=358).to_dict()["layout"]
    top, below = tall["yaxis"]["domain"], tall["yaxis2"]["domain"]
    assert tall["xaxis"]["domain"] == tall["xaxis2"]["domain"] and below[1] < top[0]  # Newton on top
    for bar, (lo, hi) in ((tall["coloraxis"]["colorbar"], top), (tall["coloraxis2"]["colorbar"], below)):
        assert bar["x"] >= tall["xaxis"]["domain"][1], "right of the plots, not over a panel"
        assert lo <= bar["y"] - bar["len"] / 2 + 1e-9 and bar["y"] + bar["len"] / 2 <= hi + 1e-9
    plot_px = tall["height"] - tall["margin"]["t"] - tall["margin"]["b"]
    assert (top[1] - top[0]) * plot_px >= 240, "each field keeps a usable size"


def test_colour_bar_writes_large_values_as_powers_of_ten():
    """From (1e6, 1e6) on x² + y² the colour bar read "0.5T 1T 1.5T" (plotly's SI suffixes)."""
    _, xs, ys, Z, paths = _ellipse_runs(1)
    fig = figs.contour_paths_figure(xs, ys, Z * 1e12, paths)
    bars = [t.marker.colorbar for t in fig.data if t.marker.showscale]
    assert bars and all(b.exponentformat == "power" for b in bars)


def test_a_runs_end_is_not_drawn_like_a_saddle_point():
    """Runs ended with a ✖ in their colour, the legend's symbol for saddle points (a student read the
    ends as saddles); no marker of the contour view shares a symbol with a critical-point kind."""
    from optcore.figures.analysis import KIND_MARKERS
    _, xs, ys, Z, paths = _ellipse_runs(2)
    fig = figs.contour_paths_figure(xs, ys, Z, paths, minima=[[0.0, 0.0]])
    ends = [t for t in fig.data if (t.name or "").endswith(" end")]
    assert len(ends) == len(paths)
    kinds = {m["symbol"] for m in KIND_MARKERS.values()}
    assert not {t.marker.symbol for t in ends} & kinds


def test_surface_marks_where_each_run_starts():
    """On the 3-D view a run seemed to start at a minimum lined up behind its first point: the
    start is marked as on the contour, at f of the start (lifted like the path)."""
    obj, xs, ys, Z, paths = _ellipse_runs(2)
    fig = figs.surface_figure(xs, ys, Z, paths, minima=[[0.0, 0.0]], minima_values=[0.0])
    start = next(t for t in fig.data if t.name == "start")
    assert len(start.x) == len(paths)
    for i, p in enumerate(paths):
        assert (float(start.x[i]), float(start.y[i])) == pytest.approx((p["x"][0], p["y"][0]))
        assert float(start.customdata[i]) == pytest.approx(float(obj.value([p["x"][0], p["y"][0]])), rel=1e-9)
        path = next(t for t in fig.data if t.name == p["name"])
        assert float(start.z[i]) == pytest.approx(float(path.z[0]), rel=1e-6)   # on the path's first point
