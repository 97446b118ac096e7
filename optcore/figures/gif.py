"""Animated GIFs of runs, drawn with Pillow: no browser, a few seconds for thousands of steps.

The contour (or, for one variable, the curve) of f, the axes, the formula and the legend are drawn
once; each frame copies that picture and draws the paths up to its step, the current points, the
step counter and each run's status. Frames are spread over the run with early steps denser (most
happens there); a short run is animated step by step, each step's move drawn over a few frames.
The first frame shows the starts alone and lingers; the last one pauses before the loop restarts.

    render_gif(obj, {"gd": traj, "newton": traj2}, window, on_progress=print) -> bytes
"""
from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .base import CONTOUR_SCALE, METHOD_COLORS, colorscale_lut

MIN_FRAMES, MAX_FRAMES, DEFAULT_FRAMES = 30, 90, 60
FRAME_MS = 110  # a long run: ~6.5 s for 60 frames
FIRST_FRAME_MS = 900  # look at the starts
LAST_FRAME_MS = 3000  # look at the result before the loop restarts
BANDS = 24
_FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf",
               "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", "Arial.ttf")
_BOLD_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf",
               "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf", "Arial Bold.ttf")
INK, MUTED, GRID = (38, 39, 48), (100, 104, 115), (200, 204, 212)
STAR_R = 10           # a known minimum's star (outer radius, px)
RING_NEAR_STAR = 14   # a run's marker this close to a star (px) is a ring around it, not a disk over it
STATUS_TEXT = {"converged": "converged at step {k}", "max_steps": "stopped after {k} steps",
               "diverged": "diverged at step {k}",
               "still moving": "∇f < tol at step {k}, still moving",   # ∇f small on the way to an infimum
               # ∇f ≈ 0 is not a success there (the page warns; the GIF said "converged")
               "saddle point": "at a saddle point, step {k}", "maximum": "at a local maximum, step {k}",
               "flat point": "∇f ≈ 0 where ∇²f is singular, step {k}"}
START_SEP = " · start "   # how Compare names the runs of one method from several starts


def _legend_text(name: str) -> str:
    """"start 2 · 1. Gradient descent η=0.01": the start first, where the cut at the legend's edge
    does not reach it ("1. Gradient descent η=0.01 · s…" hid which start a line was)."""
    method, sep, start = str(name).partition(START_SEP)
    return f"start {start} · {method}" if sep else str(name)


def _method_colors(names: Sequence[str]) -> list[str]:
    """One colour per method, as the app draws them (its starts share it): the colours cycled per run."""
    methods = [str(n).partition(START_SEP)[0] for n in names]
    order = list(dict.fromkeys(methods))
    return [METHOD_COLORS[order.index(m) % len(METHOD_COLORS)] for m in methods]


def _font(size: int, bold: bool = False):
    for path in (_BOLD_FILES if bold else _FONT_FILES):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))


def frame_times(longest: int, frames: int = DEFAULT_FRAMES) -> np.ndarray:
    """Where in the run each frame is, in steps (floats: a short run's moves are drawn over several
    frames). Long runs: `frames` distinct steps, quadratically denser early, 0 and the end kept."""
    frames = int(np.clip(frames, MIN_FRAMES, MAX_FRAMES))
    if longest <= 0:
        return np.zeros(1)
    if longest + 1 < frames:  # short: every step, each move over a few frames
        per_step = max(1, math.ceil((frames - 1) / longest))
        return np.linspace(0.0, float(longest), longest * per_step + 1)
    m = frames
    while True:
        ks = np.unique(np.round(longest * np.linspace(0.0, 1.0, m) ** 2).astype(int))
        if len(ks) >= frames or m > 20 * frames:
            break
        m += max(1, (frames - len(ks)) // 2)
    if len(ks) > frames:  # keep 0, the end and an even pick of the rest
        keep = np.unique(np.round(np.linspace(0, len(ks) - 1, frames)).astype(int))
        ks = ks[keep]
    return ks.astype(float)


def _nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    span = hi - lo
    if not (np.isfinite(span) and span > 0):
        return [lo]
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step) + 1)]


def _tick_text(v: float) -> str:
    return f"{v:.4g}".replace("-", "−")


class _Canvas:
    """Pixel geometry: the plot area inside the frame and the data window it shows."""

    def __init__(self, width: int, height: int, xr: tuple[float, float], yr: tuple[float, float],
                 legend_width: int, top: int, bottom: int) -> None:
        self.left, self.top = 70, top
        self.right = width - legend_width - 16
        self.bottom = height - bottom
        self.xr, self.yr = xr, yr

    @property
    def size(self) -> tuple[int, int]:
        return self.right - self.left, self.bottom - self.top

    def pixels(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(n, 2) pixel coordinates inside the plot image (origin at its top left), clipped."""
        return _to_pixels(x, y, self.xr, self.yr, self.size)


def _to_pixels(x, y, xr, yr, size: tuple[int, int]) -> np.ndarray:
    """Data coordinates -> (n, 2) pixels of a `size` picture showing `xr` x `yr`; nan and far-off
    points are clipped (Pillow needs finite, moderate coordinates)."""
    w, h = size
    with np.errstate(all="ignore"):
        px = (np.asarray(x, dtype=float) - xr[0]) / (xr[1] - xr[0]) * (w - 1)
        py = (1.0 - (np.asarray(y, dtype=float) - yr[0]) / (yr[1] - yr[0])) * (h - 1)
    return np.clip(np.nan_to_num(np.column_stack([px, py]), nan=-1e4), -1e4, 1e4)


def _contour_image(obj, window, size: tuple[int, int]) -> Image.Image:
    """Banded filled contour of f at the plot's pixel size, level lines darker, undefined grey."""
    from .grid import value_grid
    try:
        from .trajectory import display_values
    except ImportError:  # pragma: no cover - a rename elsewhere; plain values still draw
        display_values = lambda Z: (Z, "f", False)  # noqa: E731
    xs, ys, Z = value_grid(obj, window, n=180)
    Zc, _, _ = display_values(np.asarray(Z, dtype=float))
    finite = Zc[np.isfinite(Zc)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    with np.errstate(all="ignore"):
        t = np.clip((Zc - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    t = np.where(np.isfinite(t), t, -1.0)[::-1].astype(np.float32)  # row 0 is the top
    w, h = size
    t = np.asarray(Image.fromarray(t, mode="F").resize((w, h), Image.Resampling.BILINEAR))
    undefined = t < -0.01
    band = np.minimum((np.clip(t, 0, 1) * BANDS).astype(int), BANDS - 1)
    lut = colorscale_lut(CONTOUR_SCALE)
    centers = ((np.arange(BANDS) + 0.5) / BANDS * 255).round().astype(int)
    rgb = lut[centers[band]].astype(float)
    edge = np.zeros(band.shape, dtype=bool)
    edge[:-1, :] |= band[:-1, :] != band[1:, :]
    edge[:, :-1] |= band[:, :-1] != band[:, 1:]
    rgb[edge] *= 0.72
    rgb[undefined] = (225, 225, 225)
    return Image.fromarray(rgb.round().astype(np.uint8), "RGB")


def _curve_image(obj, window, size: tuple[int, int], yr: tuple[float, float]) -> Image.Image:
    from .grid import value_grid
    xs, _, fx = value_grid(obj, window, n=600)
    img = Image.new("RGB", size, (250, 251, 253))
    pts = _to_pixels(xs, fx, (float(xs[0]), float(xs[-1])), yr, size)
    draw = ImageDraw.Draw(img)
    ok = np.isfinite(np.asarray(fx, dtype=float))
    run: list[tuple[float, float]] = []
    for p, good in zip(pts, ok):
        if good:
            run.append((float(p[0]), float(p[1])))
        elif run:
            draw.line(run, fill=(27, 58, 107), width=3)
            run = []
    if len(run) > 1:
        draw.line(run, fill=(27, 58, 107), width=3)
    return img


def _star(draw: ImageDraw.ImageDraw, x: float, y: float, r: float, fill, outline) -> None:
    pts = []
    for i in range(10):
        a = -math.pi / 2 + i * math.pi / 5
        rr = r if i % 2 == 0 else r * 0.45
        pts.append((x + rr * math.cos(a), y + rr * math.sin(a)))
    draw.polygon(pts, fill=fill, outline=outline)


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def render_gif(obj, trajectories: Mapping[str, object], window: Sequence[tuple[float, float]], *,
               minima: Sequence[Sequence[float]] = (), caption: Sequence[str] = (), frames: int = DEFAULT_FRAMES,
               width: int = 960, height: int = 600, colors: Sequence[str] | None = None,
               on_progress: Callable[[float, str], None] | None = None) -> bytes:
    """The GIF bytes. `trajectories`: name -> Trajectory (1 or 2 variables); `window`: the plot range
    per variable; `caption`: lines drawn at the bottom (e.g. settings and optcore's version)."""
    d = len(obj.variables)
    if d not in (1, 2):
        raise ValueError(f"a GIF shows 1 or 2 variables; this formula has {d}")
    if not trajectories:
        raise ValueError("no runs to animate")
    names = list(trajectories)
    runs = [trajectories[n] for n in names]
    colors = list(colors) if colors else _method_colors(names)
    longest = max(int(t.iterations) for t in runs)
    times = frame_times(longest, frames)

    title_font, font, small, bold = _font(19, bold=True), _font(15), _font(13), _font(15, bold=True)
    legend_width = 290
    top, bottom = 58, 52 + 17 * len(caption)
    xr = (float(window[0][0]), float(window[0][1]))
    if d == 2:
        yr = (float(window[1][0]), float(window[1][1]))
        paths_xy = [np.asarray(t.points, dtype=float)[:, :2] for t in runs]
    else:
        paths_xy = [np.column_stack([np.asarray(t.points, dtype=float)[:, 0], np.asarray(t.values, dtype=float)])
                    for t in runs]
        yr = _curve_range(obj, window, paths_xy)
    canvas = _Canvas(width, height, xr, yr, legend_width, top, bottom)
    pw, ph = canvas.size

    # -- the picture every frame starts from ------------------------------------------------
    base = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(base)
    plot_bg = _contour_image(obj, window, (pw, ph)) if d == 2 else _curve_image(obj, window, (pw, ph), yr)
    base.paste(plot_bg, (canvas.left, canvas.top))
    draw.rectangle([canvas.left - 1, canvas.top - 1, canvas.right, canvas.bottom], outline=(150, 150, 150))
    for v in _nice_ticks(*xr):
        px = canvas.left + canvas.pixels([v], [yr[0]])[0, 0]
        draw.line([(px, canvas.bottom), (px, canvas.bottom + 5)], fill=MUTED)
        draw.text((px, canvas.bottom + 7), _tick_text(v), font=small, fill=MUTED, anchor="mt")
    for v in _nice_ticks(*yr):
        py = canvas.top + canvas.pixels([xr[0]], [v])[0, 1]
        draw.line([(canvas.left - 5, py), (canvas.left, py)], fill=MUTED)
        draw.text((canvas.left - 8, py), _tick_text(v), font=small, fill=MUTED, anchor="rm")
    draw.text(((canvas.left + canvas.right) / 2, canvas.bottom + 24), obj.variables[0], font=font, fill=INK, anchor="mt")
    y_label = obj.variables[1] if d == 2 else f"f({obj.variables[0]})"
    draw.text((12, (canvas.top + canvas.bottom) / 2), y_label, font=font, fill=INK, anchor="lm")
    formula = f"f({', '.join(obj.variables)}) = {' '.join(obj.text.split())}"
    draw.text((16, 14), _fit(draw, formula, title_font, width - 260), font=title_font, fill=INK)
    for i, line in enumerate(caption):
        draw.text((16, height - 12 - 17 * (len(caption) - i)), _fit(draw, line, small, width - 32), font=small, fill=MUTED)
    legend_x = width - legend_width + 4
    # Rows of 46 px (name, then status); many runs get tighter rows and no status line.
    row = int(max(20, min(46, (canvas.bottom - top - 90) // len(names))))
    show_status = row >= 40
    draw.text((legend_x, top), "runs", font=bold, fill=INK)
    for i, (name, color) in enumerate(zip(names, colors)):
        y = top + 28 + row * i
        draw.line([(legend_x, y + 9), (legend_x + 26, y + 9)], fill=_rgb(color), width=4)
        draw.ellipse([legend_x + 8, y + 4, legend_x + 18, y + 14], fill=_rgb(color), outline=(0, 0, 0))
        draw.text((legend_x + 34, y), _fit(draw, _legend_text(name), font, legend_width - 44), font=font, fill=INK)
    mark_y = top + 34 + row * len(names)
    draw.ellipse([legend_x + 8, mark_y, legend_x + 20, mark_y + 12], fill="white", outline=(0, 0, 0), width=2)
    draw.text((legend_x + 34, mark_y - 1), "start", font=small, fill=MUTED)
    if minima:
        _star(draw, legend_x + 14, mark_y + 27, 8, (255, 212, 0), (0, 0, 0))
        draw.text((legend_x + 34, mark_y + 19), "known minimum", font=small, fill=MUTED)

    # -- paths in plot pixels; consecutive iterates on the same pixel drawn once ----------------
    pixel_paths = [canvas.pixels(p[:, 0], p[:, 1]) for p in paths_xy]
    markers_layer = Image.new("RGBA", (pw, ph), (0, 0, 0, 0))  # the starts, on top of every path
    mdraw = ImageDraw.Draw(markers_layer)
    # The minima go on top of the run's markers too: a run that converged ended on the star, and its
    # filled end disk hid it. Now that end is a ring around the star (see RING_NEAR_STAR).
    stars_layer = Image.new("RGBA", (pw, ph), (0, 0, 0, 0))
    sdraw = ImageDraw.Draw(stars_layer)
    star_pixels = []
    for m in minima:
        point = canvas.pixels([m[0]], [m[1] if d == 2 else _value(obj, m)])[0]
        _star(sdraw, point[0], point[1], STAR_R, (255, 212, 0), (0, 0, 0))
        star_pixels.append(point)
    star_pixels = np.array(star_pixels, dtype=float).reshape(-1, 2)
    for pix in pixel_paths:
        x, y = pix[0]
        mdraw.ellipse([x - 7, y - 7, x + 7, y + 7], fill="white", outline=(0, 0, 0), width=2)
    drawn = [_pixel_distinct(pix) for pix in pixel_paths]
    dots = longest <= 150

    palette = _palette(base, colors)
    images: list[Image.Image] = []
    durations: list[int] = []
    # Paths only grow: each frame adds its new segments to `trail` (drawing every path from step 0
    # in every frame cost ~10 s for 8 runs of 3000 wandering steps).
    trail = plot_bg.copy()
    tdraw = ImageDraw.Draw(trail)
    drawn_upto = [0] * len(runs)
    for j, tau in enumerate(times):
        frame = base.copy()
        heads = []
        partial = []
        for i, (pix, (kept, kept_points), traj, color) in enumerate(zip(pixel_paths, drawn, runs, colors)):
            last = min(int(traj.iterations), len(pix) - 1)
            upto = min(tau, float(last))
            k = int(math.floor(upto))
            done = drawn_upto[i]
            if k > done:
                a = int(np.searchsorted(kept, done, side="right"))
                b = int(np.searchsorted(kept, k, side="right"))
                segment = [tuple(pix[done]), *kept_points[a:b]]
                if kept[b - 1] != k:
                    segment.append(tuple(pix[k]))
                if len(segment) > 1:
                    tdraw.line(segment, fill=_rgb(color), width=3)
                if dots:
                    for p in pix[done + 1: k + 1]:
                        tdraw.ellipse([p[0] - 2.5, p[1] - 2.5, p[0] + 2.5, p[1] + 2.5], fill=_rgb(color))
                drawn_upto[i] = k
            head = tuple(pix[k])
            frac = upto - k
            if frac > 1e-9 and k + 1 < len(pix):  # the move under way
                head = tuple(pix[k] + frac * (pix[k + 1] - pix[k]))
                partial.append(([tuple(pix[k]), head], color))
            heads.append((head, color, tau >= last and j > 0, traj))
        plot = trail.copy()
        pdraw = ImageDraw.Draw(plot)
        for segment, color in partial:
            pdraw.line(segment, fill=_rgb(color), width=3)
        plot.paste(markers_layer, (0, 0), markers_layer)
        for (x, y), color, finished, traj in heads:
            r = 7
            if j == 0:  # the starts: white, ringed in the colour of the run that leaves from there
                pdraw.ellipse([x - 9, y - 9, x + 9, y + 9], fill="white", outline=_rgb(color), width=4)
            elif finished and traj.status != "converged":
                pdraw.line([(x - r, y - r), (x + r, y + r)], fill=(0, 0, 0), width=5)
                pdraw.line([(x - r, y + r), (x + r, y - r)], fill=(0, 0, 0), width=5)
                pdraw.line([(x - r, y - r), (x + r, y + r)], fill=_rgb(color), width=3)
                pdraw.line([(x - r, y + r), (x + r, y - r)], fill=_rgb(color), width=3)
            elif len(star_pixels) and np.hypot(*(star_pixels - (x, y)).T).min() < RING_NEAR_STAR:
                R = STAR_R + 4   # a ring around the star it ended on: both stay visible
                pdraw.ellipse([x - R, y - R, x + R, y + R], outline=(0, 0, 0), width=6)
                pdraw.ellipse([x - R + 1, y - R + 1, x + R - 1, y + R - 1], outline=_rgb(color), width=4)
            else:
                pdraw.ellipse([x - r, y - r, x + r, y + r], fill=_rgb(color), outline=(0, 0, 0), width=2)
        plot.paste(stars_layer, (0, 0), stars_layer)
        frame.paste(plot, (canvas.left, canvas.top))
        fdraw = ImageDraw.Draw(frame)
        step_now = int(math.floor(tau))
        counter = f"step {step_now} of {longest}" if j else "start"
        fdraw.text((width - 16, 16), counter, font=title_font, fill=INK, anchor="ra")
        for i, traj in enumerate(runs if show_status else ()):
            y = top + 28 + row * i + 20
            last = int(traj.iterations)
            if j and tau >= last:
                stopped_at = getattr(traj, "stopped_at", "")
                status = stopped_at if traj.status == "converged" and stopped_at in STATUS_TEXT else traj.status
                text, fill = STATUS_TEXT.get(status, status + " at {k}").format(k=last), INK
            else:
                text, fill = (f"step {min(step_now, last)}" if j else "at its start"), MUTED
            fdraw.text((legend_x + 34, y), text, font=small, fill=fill)
        images.append(frame.quantize(palette=palette, dither=Image.Dither.NONE))
        durations.append(FIRST_FRAME_MS if j == 0 else FRAME_MS)
        if on_progress:
            on_progress(0.9 * (j + 1) / len(times), f"drew frame {j + 1} of {len(times)}")
    if longest + 1 < MIN_FRAMES:  # short runs: slower moves, about 4 s in all
        durations[1:] = [max(FRAME_MS, 4000 // max(1, len(times) - 1))] * (len(times) - 1)
    durations[-1] = LAST_FRAME_MS
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0,
                   optimize=False)
    if on_progress:
        on_progress(1.0, f"GIF ready: {len(images)} frames, {buf.tell() / 1e6:.1f} MB")
    return buf.getvalue()


def _pixel_distinct(pix: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Indices and points of a pixel path without the iterates that land within a pixel of the
    last one kept: thousands of tiny steps draw as one line, found once for all frames."""
    kept = [0]
    qx, qy = pix[0]
    for i in range(1, len(pix)):
        x, y = pix[i]
        if abs(x - qx) >= 0.75 or abs(y - qy) >= 0.75:
            kept.append(i)
            qx, qy = x, y
    index = np.array(kept)
    return index, [(float(pix[i, 0]), float(pix[i, 1])) for i in kept]


def _value(obj, point) -> float:
    with np.errstate(all="ignore"):
        return float(obj.value(np.asarray(point, dtype=float).reshape(1, -1))[0])


def _curve_range(obj, window, paths_xy) -> tuple[float, float]:
    from .grid import value_grid
    _, _, fx = value_grid(obj, window, n=600)
    values = np.concatenate([np.asarray(fx, dtype=float).ravel(), *[p[:, 1] for p in paths_xy]])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return (-1.0, 1.0)
    lo, hi = np.percentile(values, [0, 98])
    pad = 0.06 * (hi - lo) if hi > lo else 1.0
    return float(lo - pad), float(hi + pad)


def _palette(base: Image.Image, colors: Sequence[str]) -> Image.Image:
    """One palette for every frame: the static picture's colours plus the paths' and markers'."""
    quantized = base.quantize(colors=200, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    entries = quantized.getpalette()[: 200 * 3]
    extra = [(0, 0, 0), (255, 255, 255), (255, 212, 0), INK, MUTED, GRID]
    for c in colors:
        r, g, b = _rgb(c)
        extra += [(r, g, b), ((r + 255) // 2, (g + 255) // 2, (b + 255) // 2), (r // 2, g // 2, b // 2)]
    for rgb in extra[: 56]:
        entries += list(rgb)
    entries += [0] * (768 - len(entries))
    palette = Image.new("P", (1, 1))
    palette.putpalette(entries)
    return palette

