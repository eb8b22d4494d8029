"""Clips with text drawn by PIL (slates, lower thirds, signs) at known times over textured backgrounds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np

DEJAVU = "/usr/share/fonts/truetype/dejavu"
FONTS: dict[str, str] = {
    "sans": f"{DEJAVU}/DejaVuSans.ttf",
    "sans-bold": f"{DEJAVU}/DejaVuSans-Bold.ttf",
    "serif": f"{DEJAVU}/DejaVuSerif.ttf",
    "mono": f"{DEJAVU}/DejaVuSansMono.ttf",
    "cjk": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "cjk-serif": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
}


@dataclass(frozen=True)
class TextOverlay:
    """``text`` drawn from ``start`` to ``end`` seconds at (x, y) as fractions of the frame."""

    text: str
    start: float
    end: float
    font: str = "sans-bold"
    size: int = 48  # pixels at the clip's height
    x: float = 0.08
    y: float = 0.1
    box: bool = False  # a dark band behind it (a lower third)


@cache
def _font(name: str, size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    return ImageFont.truetype(FONTS[name], size)


PAN_PX_PER_S = 12  # a slow pan: the picture really changes from second to second


def textured_background(w: int, h: int, seed: int, t: float = 0.0) -> np.ndarray:
    """Noise, gradients, lines and rings: the edges OCR detectors mistake for text; pans with ``t``."""
    strip = _texture(w, h, seed)
    x = round(t * PAN_PX_PER_S) % (strip.shape[1] - w)
    return strip[:, x : x + w]


@cache
def _texture(w: int, h: int, seed: int) -> np.ndarray:
    """One wide textured strip per (size, seed); frames are windows into it (fast to render)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    sw = w + 60 * PAN_PX_PER_S
    yy, xx = np.mgrid[0:h, 0:sw].astype(np.float32)
    base = 90 + 60 * np.sin(xx / (23 + seed % 7)) * np.cos(yy / (31 + seed % 5))
    img = np.stack([base * 0.9, base * 0.7 + 30, base * 0.5 + 50], axis=-1)
    img += rng.normal(0, 18, (h, sw, 3))
    pic = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(pic)
    for _ in range(14 * sw // w):  # branches, window frames, fence posts
        x0, y0 = int(rng.integers(0, sw)), int(rng.integers(0, h))
        dx, dy = int(rng.integers(-w // 3, w // 3)), int(rng.integers(-h // 3, h // 3))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.line([(x0, y0), (x0 + dx, y0 + dy)], fill=colour, width=int(rng.integers(1, 5)))
    for _ in range(6 * sw // w):  # rings read as "O" by a careless reader
        x0, y0, r = int(rng.integers(0, sw)), int(rng.integers(0, h)), int(rng.integers(8, 40))
        draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], outline=(240, 240, 230), width=2)
    strip = np.asarray(pic)
    strip.flags.writeable = False
    return strip


def render(w: int, h: int, t: float, overlays: Sequence[TextOverlay], seed: int = 1, moving: bool = True) -> np.ndarray:
    from PIL import Image, ImageDraw

    pic = Image.fromarray(np.ascontiguousarray(textured_background(w, h, seed, t if moving else 0.0)))
    draw = ImageDraw.Draw(pic)
    for o in overlays:
        if not o.start <= t < o.end:
            continue
        font = _font(o.font, max(8, round(o.size * h / 720)))
        x, y = round(o.x * w), round(o.y * h)
        if o.box:
            left, top, right, bottom = draw.textbbox((x, y), o.text, font=font)
            draw.rectangle([left - 12, top - 8, right + 12, bottom + 8], fill=(20, 24, 40))
        draw.text((x, y), o.text, font=font, fill=(250, 250, 245), stroke_width=1, stroke_fill=(0, 0, 0))
    return np.asarray(pic)


def write_text_clip(
    path: Path,
    overlays: Sequence[TextOverlay],
    *,
    duration: float,
    size: tuple[int, int] = (960, 540),
    fps: int = 5,
    seed: int = 1,
    moving: bool = True,
) -> None:
    """An H.264 clip of a textured (optionally panning) background with ``overlays`` drawn on it."""
    import av

    w, h = size
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"preset": "ultrafast", "crf": "20", "g": str(fps * 2)}
        for k in range(round(duration * fps)):
            frame = av.VideoFrame.from_ndarray(render(w, h, k / fps, overlays, seed, moving), format="rgb24")
            frame.pts = k
            frame.time_base = Fraction(1, fps)
            out.mux(v.encode(frame))
        out.mux(v.encode(None))


# The set the tests and the benchmark read: slates, a lower third, signs in several fonts/sizes.
STANDARD_OVERLAYS: tuple[TextOverlay, ...] = (
    TextOverlay("SC 12 TK 3", 1.0, 5.0, font="sans-bold", size=72, x=0.1, y=0.12),
    TextOverlay("MARGARET HOLLOWAY", 6.0, 10.0, font="sans", size=40, x=0.08, y=0.78, box=True),
    TextOverlay("OPEN 24 HOURS", 11.0, 15.0, font="serif", size=56, x=0.3, y=0.4),
    TextOverlay("ROLL A017 CAM B", 16.0, 20.0, font="mono", size=44, x=0.12, y=0.2),
    TextOverlay("東京駅", 21.0, 25.0, font="cjk", size=64, x=0.4, y=0.3),
)
