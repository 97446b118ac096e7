"""GIF frames drawn with Pillow: frame schedule, what every frame shows, 1-D and 2-D."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import optcore
from optcore.figures.gif import MAX_FRAMES, MIN_FRAMES, frame_times, render_gif


def frames_of(gif: bytes) -> list[Image.Image]:
    im = Image.open(io.BytesIO(gif))
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append(im.convert("RGB"))
    return out


def test_long_runs_get_early_steps_denser():
    ks = frame_times(5000, 60)
    assert len(ks) == 60 and ks[0] == 0 and ks[-1] == 5000
    gaps = np.diff(ks)
    assert gaps[:10].mean() < gaps[-10:].mean() / 5
    assert np.all(gaps > 0)


@pytest.mark.parametrize("longest", [1, 6, 29, 30, 89, 90, 500])
def test_frame_count_stays_in_range(longest):
    ts = frame_times(longest)
    assert MIN_FRAMES <= len(ts) <= MAX_FRAMES + 1
    assert ts[0] == 0 and ts[-1] == longest
    # every step is shown when the run is short
    if longest < MIN_FRAMES:
        assert set(range(longest + 1)) <= set(np.round(ts, 9))


def test_frame_zero_shows_the_starts_and_the_last_the_result():
    obj = optcore.parse("x^2 + 3y^2")
    runs = {"gd": optcore.run(obj, "gd", [2.0, 1.5], steps=40, lr=0.1),
            "newton": optcore.run(obj, "newton", [-2.0, -1.0], steps=40)}
    frames = frames_of(render_gif(obj, runs, [(-3, 3), (-3, 3)], width=960, height=600))
    first, last = frames[0], frames[-1]
    # the geometry of the plot area (see _Canvas): left 70, top 58, right 960-290-16, bottom 600-52
    left, top, right, bottom = 70, 58, 960 - 290 - 16, 600 - 52

    def pixel(img, x, y):
        px = left + (x + 3) / 6 * (right - left - 1)
        py = top + (1 - (y + 3) / 6) * (bottom - top - 1)
        return np.array(img.getpixel((int(round(px)), int(round(py)))))

    for start in ([2.0, 1.5], [-2.0, -1.0]):  # white start markers in frame 0
        assert pixel(first, *start).min() > 230
    # the paths are drawn by the last frame: the midpoint of newton's single jump is path-coloured
    mid = pixel(last, -1.0, -0.5)
    assert abs(int(mid[0]) - 0xd6) < 40 and abs(int(mid[1]) - 0x27) < 40  # the second run's colour #d62728
    # the title strip (formula) and the legend are in every frame
    for img in frames:
        strip = np.asarray(img.crop((16, 14, 300, 36)))
        assert strip.min() < 100
        legend = np.asarray(img.crop((960 - 290, top, 960, top + 120)))
        assert legend.min() < 100


def test_one_variable_curve_gif():
    obj = optcore.parse("x cos(0.15 pi x)")
    runs = {"newton": optcore.run(obj, "newton", [10.0], steps=10), "gd": optcore.run(obj, "gd", [10.0], steps=10, lr=2.0)}
    gif = render_gif(obj, runs, [(-15, 15)])
    assert MIN_FRAMES <= Image.open(io.BytesIO(gif)).n_frames <= MAX_FRAMES + 1


def test_three_variables_are_refused():
    obj = optcore.parse("x^2 + y^2 + z^2")
    with pytest.raises(ValueError, match="1 or 2"):
        render_gif(obj, {"gd": optcore.run(obj, "gd", [1, 1, 1], steps=3)}, [(-1, 1)] * 3)


def test_diverged_and_far_points_do_not_break_drawing():
    obj = optcore.parse("x^2 + y^2")
    runs = {"gd lr=1.5": optcore.run(obj, "gd", [1.0, 1.0], steps=200, lr=1.5)}
    assert runs["gd lr=1.5"].status == "diverged"
    gif = render_gif(obj, runs, [(-2, 2), (-2, 2)])
    assert Image.open(io.BytesIO(gif)).n_frames >= MIN_FRAMES


def test_a_run_that_ends_on_the_minimum_leaves_the_star_visible():
    """GD on x^2 + 3y^2 converges onto the known minimum (0, 0): the last frame shows the star's
    yellow at the minimum and the run's colour in a ring around it (the end disk used to cover
    the star)."""
    obj = optcore.parse("x^2 + 3y^2")
    runs = {"gd": optcore.run(obj, "gd", [2.0, 1.5], steps=100, lr=0.1)}
    assert runs["gd"].status == "converged"
    last = frames_of(render_gif(obj, runs, [(-3, 3), (-3, 3)], minima=[[0.0, 0.0]], width=960, height=600))[-1]
    left, top, right, bottom = 70, 58, 960 - 290 - 16, 600 - 52
    cx, cy = left + 0.5 * (right - left - 1), top + 0.5 * (bottom - top - 1)
    box = np.asarray(last.crop((int(cx) - 20, int(cy) - 20, int(cx) + 21, int(cy) + 21))).astype(int)
    yy, xx = np.mgrid[-20:21, -20:21]
    radius = np.hypot(xx, yy)

    def share(rgb, where, tol=45):
        return float((np.abs(box[where] - np.array(rgb)).max(axis=-1) < tol).mean())

    assert share((255, 212, 0), radius <= 3) > 0.5            # the star's yellow at its centre
    orange = (0xff, 0x7f, 0x0e)                                  # the first run's colour
    assert share(orange, (radius >= 11) & (radius <= 14)) > 0.2  # the ring around it
    assert share(orange, radius <= 6) < 0.1                      # ... and no disk over the star


def test_gif_legend_colours_follow_the_method_and_say_the_start_and_an_honest_end():
    """Compare's GIF with two methods from several starts: colours cycled per run (gradient descent from
    start 1 and the next method's start 1 both orange), the legend's names were cut before "· start k",
    and a Newton run that ended on Himmelblau's maximum read "converged at step 4"."""
    from optcore.figures.gif import STATUS_TEXT, _legend_text, _method_colors
    names = ["1. Gradient descent η=0.01 · start 1", "1. Gradient descent η=0.01 · start 2",
             "2. Newton's method η=1 · start 1", "2. Newton's method η=1 · start 2"]
    colors = _method_colors(names)
    assert colors[0] == colors[1] and colors[2] == colors[3] and colors[0] != colors[2]
    assert _legend_text(names[1]) == "start 2 · 1. Gradient descent η=0.01"
    assert _legend_text("Gradient descent") == "Gradient descent"
    obj = optcore.parse("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    to_max = optcore.run(obj, "newton", [0.0, 0.0], steps=100, lr=1.0)
    assert to_max.status == "converged" and to_max.stopped_at == "maximum"
    assert "maximum" in STATUS_TEXT[to_max.stopped_at] and "converged" not in STATUS_TEXT[to_max.stopped_at]
    gif = render_gif(obj, {names[2]: to_max, names[0]: optcore.run(obj, "gd", [1.0, 1.0], steps=50, lr=0.01)},
                     [(-5, 5), (-5, 5)], width=640, height=400)
    assert len(frames_of(gif)) >= MIN_FRAMES
