"""Procedural test scenes: attributes, frame rendering at any size, and captions."""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (245, 135, 20),
    "yellow": (245, 225, 35),
    "green": (40, 200, 60),
    "blue": (30, 70, 235),
    "purple": (145, 45, 205),
    "white": (245, 245, 245),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "cross", "ring")
BACKGROUNDS: tuple[str, ...] = ("plain", "sky", "grass", "sand", "noise", "night")
MOTIONS: tuple[str, ...] = ("still", "left", "right", "up", "down")

# Colour-shape pairs never shown in training, one per colour, so tests can check that the
# model composes attributes it learnt separately.
HELDOUT_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {
        ("red", "star"),
        ("orange", "ring"),
        ("yellow", "square"),
        ("green", "triangle"),
        ("blue", "cross"),
        ("purple", "circle"),
        ("white", "triangle"),
    }
)

_DIRECTIONS = {"still": (0.0, 0.0), "left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0)}
# Furthest extent of each shape's outline in units of its radius (stars and triangles poke out).
_EXTENT = {"circle": 1.05, "square": 1.3, "triangle": 1.2, "star": 1.25, "cross": 1.2, "ring": 1.05}
_SUPERSAMPLE = 2


@dataclass(frozen=True)
class SceneObject:
    """One flat shape; positions and radius are fractions of the frame's central square."""

    colour: str
    shape: str
    radius: float = 0.22
    x: float = 0.5
    y: float = 0.5
    angle: float = 0.0


@dataclass(frozen=True)
class Scene:
    """A background with one or two objects that all move the same way over the scene."""

    background: str
    objects: tuple[SceneObject, ...]
    motion: str = "still"
    travel: float = 0.25
    seed: int = 0
    tint: tuple[int, int, int] = field(default=(0, 0, 0))

    def __post_init__(self) -> None:
        if self.background not in BACKGROUNDS:
            raise ValueError(f"unknown background {self.background!r}; expected one of {BACKGROUNDS}")
        if self.motion not in MOTIONS:
            raise ValueError(f"unknown motion {self.motion!r}; expected one of {MOTIONS}")
        if not self.objects:
            raise ValueError("a scene needs at least one object")
        for obj in self.objects:
            if obj.colour not in COLOURS:
                raise ValueError(f"unknown colour {obj.colour!r}; expected one of {tuple(COLOURS)}")
            if obj.shape not in SHAPES:
                raise ValueError(f"unknown shape {obj.shape!r}; expected one of {SHAPES}")

    @property
    def colour(self) -> str:
        """Colour of the main (first) object."""
        return self.objects[0].colour

    @property
    def shape(self) -> str:
        """Shape of the main (first) object."""
        return self.objects[0].shape


def is_heldout_pair(colour: str, shape: str) -> bool:
    """Whether this colour-shape pair is kept out of training."""
    return (colour, shape) in HELDOUT_PAIRS


def all_triples() -> list[tuple[str, str, str]]:
    """Every (colour, shape, background) combination, in a fixed order."""
    return [(c, s, b) for c in COLOURS for s in SHAPES for b in BACKGROUNDS]


def stable_seed(*parts: object) -> int:
    """A seed derived from values, stable across processes (unlike hash())."""
    return zlib.crc32("|".join(map(str, parts)).encode("utf-8", "surrogateescape"))


def random_scene(
    rng: np.random.Generator,
    colour: str,
    shape: str,
    background: str,
    motion: str | None = None,
    *,
    second: tuple[str, str] | None = None,
) -> Scene:
    """Random placement, size and motion for the given attributes, kept inside the central square.

    Args:
        rng: Source of randomness.
        colour: Main object's colour.
        shape: Main object's shape.
        background: Background name.
        motion: One of MOTIONS, random when None.
        second: Optional (colour, shape) of a second, smaller object (training variety).

    Returns:
        A Scene whose objects stay in the central square for the whole motion.
    """
    motion = motion if motion is not None else str(rng.choice(MOTIONS))
    dx, dy = _DIRECTIONS[motion]
    specs = [(colour, shape)] + ([second] if second else [])
    margin = 0.03
    radii = [float(rng.uniform(0.14, 0.28) if not second else rng.uniform(0.11, 0.16)) for _ in specs]
    exts = [r * _EXTENT[s] for r, (_, s) in zip(radii, specs, strict=True)]
    # Big objects travel less, so the whole path stays inside the square.
    room = min(1.0 - 2 * (e + margin) for e in exts)
    travel = min(float(rng.uniform(0.15, 0.3)), room) if motion != "still" else 0.0
    # Two objects sit in opposite halves across the motion, so they never overlap.
    split_axis = 1 if dx != 0 else 0
    objects = []
    for k, ((c, s), radius, ext) in enumerate(zip(specs, radii, exts, strict=True)):
        lo, hi = ext + margin, 1.0 - ext - margin
        pos = [0.5, 0.5]
        for axis, moves in enumerate((dx != 0, dy != 0)):
            a, b = (lo + travel / 2, hi - travel / 2) if moves else (lo, hi)
            if second and axis == split_axis:
                a, b = (lo, 0.5 - ext - 0.005) if k == 0 else (0.5 + ext + 0.005, hi)
            pos[axis] = float(rng.uniform(a, max(a, b)))
        angle = float(rng.uniform(-15, 15)) if s not in ("circle", "ring") else 0.0
        objects.append(SceneObject(c, s, radius, pos[0], pos[1], angle))
    tint = (int(rng.integers(-12, 13)), int(rng.integers(-12, 13)), int(rng.integers(-12, 13)))
    return Scene(background, tuple(objects), motion, travel, int(rng.integers(0, 2**31)), tint)


def object_centre(scene: Scene, obj: SceneObject, t: float) -> tuple[float, float]:
    """Centre of an object at progress t in [0, 1], in central-square coordinates."""
    dx, dy = _DIRECTIONS[scene.motion]
    off = (min(max(t, 0.0), 1.0) - 0.5) * scene.travel
    return obj.x + dx * off, obj.y + dy * off


def object_extent(obj: SceneObject) -> float:
    """Furthest reach of an object's outline from its centre, in central-square units."""
    return obj.radius * _EXTENT[obj.shape]


# ---------------------------------------------------------------------------------------------
# Rendering


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell_y: float, cell_x: float) -> np.ndarray:
    """Value noise in [-1, 1] with the given cell size in pixels, bilinearly upsampled."""
    gh, gw = max(2, math.ceil(h / cell_y) + 1), max(2, math.ceil(w / cell_x) + 1)
    grid = rng.uniform(-1, 1, size=(gh, gw)).astype(np.float32)
    img = Image.fromarray(grid, mode="F").resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(img)


@functools.lru_cache(maxsize=64)
def _static_background(kind: str, w: int, h: int, seed: int, tint: tuple[int, int, int]) -> np.ndarray:
    """The part of a background that does not change over time, as read-only uint8 (h, w, 3)."""
    rng = np.random.default_rng(seed)
    side = min(w, h)  # texture scales with the central square so every frame size looks alike
    yy = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    tint_arr = np.array(tint, dtype=np.float32)
    if kind == "plain":
        grey = rng.uniform(105, 165)
        img = np.full((h, w, 3), grey, np.float32) + tint_arr * 0.5
    elif kind == "sky":
        top = np.array([60, 120, 215], np.float32) + tint_arr
        bottom = np.array([175, 215, 245], np.float32) + tint_arr * 0.5
        img = np.broadcast_to(top + (bottom - top) * yy, (h, w, 3)).copy()
    elif kind == "grass":
        base = np.array([55, 115, 35], np.float32) + tint_arr * 0.6
        blades = _smooth_noise(rng, h, w, side / 6, side / 60) * 0.22
        fine = _smooth_noise(rng, h, w, side / 30, side / 120) * 0.12
        img = base * (1.0 + blades + fine)[..., None]
    elif kind == "sand":
        base = np.array([212, 186, 132], np.float32) + tint_arr * 0.6
        phase = rng.uniform(0, 2 * np.pi)
        xx = np.linspace(0.0, w / side, w, dtype=np.float32)[None, :]
        ripples = 0.05 * np.sin(2 * np.pi * (yy[..., 0] * h / side * 7 + 0.4 * np.sin(xx * 5 + phase)))
        speckle = rng.uniform(-0.07, 0.07, size=(h, w)).astype(np.float32)
        img = base * (1.0 + ripples + speckle)[..., None]
    elif kind == "night":
        top = np.array([8, 10, 30], np.float32)
        bottom = np.array([25, 28, 62], np.float32)
        img = np.broadcast_to(top + (bottom - top) * yy, (h, w, 3)).copy()
        n_stars = int(40 * w * h / side**2)
        ys, xs = rng.integers(0, h, n_stars), rng.integers(0, w, n_stars)
        r = max(1, round(side / 200))
        for y, x in zip(ys, xs, strict=True):
            img[max(0, y - r) : y + r, max(0, x - r) : x + r] = rng.uniform(150, 255)
    elif kind == "noise":
        img = np.zeros((h, w, 3), np.float32)  # drawn per frame
    else:
        raise ValueError(f"unknown background {kind!r}")
    out = np.clip(img, 0, 255).astype(np.uint8)
    out.flags.writeable = False
    return out


def _background(scene: Scene, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    if scene.background == "noise":
        # Television static: new grains every frame, grain size relative to the frame.
        side = min(w, h)
        cell = max(1, round(side / 90))
        gh, gw = -(-h // cell), -(-w // cell)
        grain = rng.integers(35, 221, size=(gh, gw), dtype=np.uint8)
        img = Image.fromarray(grain, "L").resize((gw * cell, gh * cell), Image.Resampling.NEAREST)
        return np.asarray(img.crop((0, 0, w, h)).convert("RGB"))
    return _static_background(scene.background, w, h, scene.seed, scene.tint)


def _polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if shape == "square":
        pts = [(a, r * math.sqrt(2) * 0.9) for a in (45, 135, 225, 315)]
    elif shape == "triangle":
        pts = [(a, r * 1.15) for a in (-90, 30, 150)]
    elif shape == "star":
        pts = [(-90 + 36 * i, r * (1.2 if i % 2 == 0 else 0.5)) for i in range(10)]
    elif shape == "cross":
        a, b = r * 0.34, r * 1.1
        xy = [
            (-a, -b),
            (a, -b),
            (a, -a),
            (b, -a),
            (b, a),
            (a, a),
            (a, b),
            (-a, b),
            (-a, a),
            (-b, a),
            (-b, -a),
            (-a, -a),
        ]
        pts = [(math.degrees(math.atan2(y, x)), math.hypot(x, y)) for x, y in xy]
    else:
        raise ValueError(shape)
    return [
        (cx + d * math.cos(math.radians(deg + angle)), cy + d * math.sin(math.radians(deg + angle))) for deg, d in pts
    ]


def _draw_object(img: Image.Image, obj: SceneObject, cx: float, cy: float, r: float, tint: tuple[int, ...]) -> None:
    # Masks cover only the object's box: full-frame masks would dominate the rendering time.
    width = max(2, round(r * 0.12))
    reach = r * _EXTENT[obj.shape] + 2 * width + 2
    x0, y0 = max(0, int(cx - reach)), max(0, int(cy - reach))
    x1, y1 = min(img.width, int(cx + reach) + 1), min(img.height, int(cy + reach) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    cx, cy = cx - x0, cy - y0
    fill = Image.new("L", (x1 - x0, y1 - y0), 0)
    edge = Image.new("L", (x1 - x0, y1 - y0), 0)
    df, de = ImageDraw.Draw(fill), ImageDraw.Draw(edge)
    # The dark edge is the shape grown by `width`; the fill is pasted over it, leaving a rim.
    if obj.shape in ("circle", "ring"):
        df.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        re_ = r + width
        de.ellipse((cx - re_, cy - re_, cx + re_, cy + re_), fill=255)
        if obj.shape == "ring":
            hole = r * 0.5
            df.ellipse((cx - hole - width, cy - hole - width, cx + hole + width, cy + hole + width), fill=0)
            de.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=0)
    else:
        pts = _polygon(obj.shape, cx, cy, r, obj.angle)
        df.polygon(pts, fill=255)
        de.polygon(pts, fill=255)
        de.line([*pts, pts[0]], fill=255, width=2 * width, joint="curve")
    colour = tuple(int(np.clip(v + t * 0.6, 0, 255)) for v, t in zip(COLOURS[obj.colour], tint, strict=True))
    img.paste((22, 22, 22), (x0, y0, x1, y1), mask=edge)
    img.paste(colour, (x0, y0, x1, y1), mask=fill)


def render_frame(scene: Scene, t: float, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Render one frame of a scene.

    The image is drawn at twice the size and box-filtered down, which antialiases edges. Object
    positions are relative to the central square (side = min(width, height)), so a centre crop of
    that square, which is what CLIP preprocessing keeps, always contains every object.

    Args:
        scene: What to draw.
        t: Progress through the scene in [0, 1] (drives the motion).
        width: Output width in pixels.
        height: Output height in pixels.
        rng: Randomness for per-frame effects (television static).

    Returns:
        An (height, width, 3) uint8 RGB array.
    """
    if width < 8 or height < 8:
        raise ValueError(f"frame size {width}x{height} is too small (minimum 8x8)")
    w, h = width * _SUPERSAMPLE, height * _SUPERSAMPLE
    bg = _background(scene, w, h, rng)
    img = Image.fromarray(bg, "RGB").copy() if not bg.flags.writeable else Image.fromarray(bg, "RGB")
    side = min(w, h)
    ox, oy = (w - side) / 2, (h - side) / 2
    for obj in scene.objects:
        x, y = object_centre(scene, obj, t)
        _draw_object(img, obj, ox + x * side, oy + y * side, obj.radius * side, scene.tint)
    return np.asarray(img.reduce(_SUPERSAMPLE))


# ---------------------------------------------------------------------------------------------
# Captions

_COLOUR_WORDS = {
    "red": ["red", "crimson"],
    "orange": ["orange"],
    "yellow": ["yellow", "golden"],
    "green": ["green"],
    "blue": ["blue"],
    "purple": ["purple", "violet"],
    "white": ["white"],
}
_SHAPE_WORDS = {
    "circle": ["circle", "round disc", "disc", "dot", "ball"],
    "square": ["square", "box", "block"],
    "triangle": ["triangle", "triangular shape"],
    "star": ["star", "five-pointed star"],
    "cross": ["cross", "plus sign"],
    "ring": ["ring", "donut", "hoop"],
}
# (preposition phrase, noun phrase) pairs; the first entry of each list is the canonical wording.
_BG_PHRASES = {
    "plain": [
        ("on a plain background", "a plain background"),
        ("on a plain grey background", "a plain grey background"),
        ("against a flat grey backdrop", "a flat grey backdrop"),
    ],
    "sky": [
        ("in the sky", "the sky"),
        ("against a blue sky", "a blue sky"),
        ("in front of a clear sky", "a clear sky"),
    ],
    "grass": [("on grass", "grass"), ("over a green lawn", "a green lawn"), ("on a grassy field", "a grassy field")],
    "sand": [("on sand", "sand"), ("on a sandy beach", "a sandy beach"), ("in the desert", "the desert")],
    "noise": [
        ("on static noise", "static noise"),
        ("over tv static", "tv static"),
        ("on a noisy background", "a noisy background"),
    ],
    "night": [
        ("at night", "the night"),
        ("in the dark", "the dark"),
        ("against a dark background at night", "a dark background at night"),
    ],
}
_MOTION_WORDS = {
    "still": ["standing still", "not moving"],
    "left": ["moving left", "moving to the left"],
    "right": ["moving right", "moving to the right"],
    "up": ["moving up", "rising"],
    "down": ["moving down", "falling"],
}
# The search wraps queries in prompt templates ("a photo of {}.", "a video frame of {}.", "a film still
# of {}."), so training sees those wrappers and trailing full stops too.
_PREFIXES = [
    "",
    "",
    "",
    "a photo of ",
    "a video of ",
    "a picture of ",
    "footage of ",
    "a clip of ",
    "a video frame of ",
    "a film still of ",
    "an image of ",
]
# Full-description templates. {obj} is "<colour> <shape>" with an article, {bg} a preposition phrase,
# {bgn} a noun phrase. Held-out templates only reorder words the training templates use, so every
# token they contain has been trained.
_TRAIN_TEMPLATES = [
    "{obj} {bg}",
    "{obj} {bg}",
    "{objn} {bg}",
    "{obj} {mot} {bg}",
    "{a_shape} that is {colour}, {bg}",
    "there is {obj} {bg}",
    "{obj} with {bgn} behind it",
    "{obj} and {bgn}",
]
_HELDOUT_TEMPLATES = [
    "{bg} there is {obj}",
    "{bgn} with {obj}",
    "{bgn} and {obj} {mot}",
    "{objn}, {bgn}",
    "{bg}, {a_shape} that is {colour}",
]


def article(phrase: str) -> str:
    """Prefix 'a' or 'an' to a noun phrase."""
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def canonical_caption(colour: str, shape: str, background: str) -> str:
    """The one plain caption of a scene, e.g. 'a red circle on grass'."""
    return f"{article(colour + ' ' + shape)} {_BG_PHRASES[background][0][0]}"


def _fill(template: str, colour: str, shape: str, background: str, motion: str, choice: int) -> str:
    # `choice` walks through synonyms deterministically so captions() can enumerate them.
    cw = _COLOUR_WORDS[colour][choice % len(_COLOUR_WORDS[colour])]
    sw = _SHAPE_WORDS[shape][(choice // 2) % len(_SHAPE_WORDS[shape])]
    bg, bgn = _BG_PHRASES[background][(choice // 3) % len(_BG_PHRASES[background])]
    mot = _MOTION_WORDS[motion][choice % 2]
    return template.format(
        obj=article(f"{cw} {sw}"), objn=f"{cw} {sw}", a_shape=article(sw), colour=cw, bg=bg, bgn=bgn, mot=mot
    )


def captions(scene: Scene, split: str = "train") -> list[str]:
    """Full descriptions of a scene's main object and background.

    Args:
        scene: The scene.
        split: "train" (every phrasing used in training), "test" (a few everyday phrasings from the
            training templates, canonical first) or "heldout" (phrasings never used in training,
            built only from trained words, for benchmarks).

    Returns:
        Distinct captions; for "test" the first is the canonical one.
    """
    c, s, b, m = scene.colour, scene.shape, scene.background, scene.motion
    if split == "test":
        out = [canonical_caption(c, s, b)] + [_fill(t, c, s, b, m, k) for k, t in enumerate(_TRAIN_TEMPLATES[2:5])]
    elif split in ("train", "heldout"):
        templates = _TRAIN_TEMPLATES if split == "train" else _HELDOUT_TEMPLATES
        out = [_fill(t, c, s, b, m, k) for t in templates for k in range(6)]
        if split == "train":
            out = [p + x for x in out for p in sorted(set(_PREFIXES))]
    else:
        raise ValueError(f"unknown split {split!r}; expected 'train', 'test' or 'heldout'")
    return list(dict.fromkeys(out))


def sample_training_caption(
    rng: np.random.Generator, colour: str, shape: str, background: str, motion: str, *, full_bias: float = 0.4
) -> tuple[str, tuple[str | None, str | None, str | None]]:
    """A random caption for one object of a training frame, possibly describing only part of it.

    Args:
        rng: Source of randomness.
        colour: The described object's colour.
        shape: The described object's shape.
        background: The frame's background.
        motion: The frame's motion (motion words are noise: one frame cannot show direction).
        full_bias: Probability of a full (colour, shape, background) description.

    Returns:
        The caption and the attributes it states as (colour, shape, background), None when unstated.
    """
    choice = int(rng.integers(0, 1 << 16))
    prefix = _PREFIXES[int(rng.integers(len(_PREFIXES)))]
    cw = _COLOUR_WORDS[colour][choice % len(_COLOUR_WORDS[colour])]
    sw = _SHAPE_WORDS[shape][(choice >> 2) % len(_SHAPE_WORDS[shape])]
    bg, bgn = _BG_PHRASES[background][(choice >> 5) % len(_BG_PHRASES[background])]
    mot = (" " + _MOTION_WORDS[motion][(choice >> 7) % 2]) if rng.random() < 0.15 else ""
    stop = "." if rng.random() < 0.3 else ""
    if rng.random() < full_bias:
        text = _fill(str(rng.choice(_TRAIN_TEMPLATES)), colour, shape, background, motion, choice)
        text = text if text.startswith("there") else prefix + text
        return text + stop, (colour, shape, background)
    kind = int(rng.integers(6))
    if kind == 0:
        text, attrs = article(f"{cw} {sw}") + mot, (colour, shape, None)
    elif kind == 1:
        text = rng.choice([f"{article(cw)} object{mot} {bg}", f"something {cw}{mot} {bg}"])
        attrs = (colour, None, background)
    elif kind == 2:
        text, attrs = f"{article(sw)}{mot} {bg}", (None, shape, background)
    elif kind == 3:
        text, attrs = str(rng.choice([f"{article(cw)} object{mot}", f"something {cw}", cw])), (colour, None, None)
    elif kind == 4:
        text, attrs = article(sw) + mot, (None, shape, None)
    else:
        text, attrs = bgn, (None, None, background)
    return prefix + str(text) + stop, attrs


def caption_vocabulary() -> list[str]:
    """Every string the training captions can contain (to find the token rows a model uses)."""
    words = [w for ws in _COLOUR_WORDS.values() for w in ws] + [w for ws in _SHAPE_WORDS.values() for w in ws]
    words += [p for ps in _BG_PHRASES.values() for pair in ps for p in pair]
    words += [w for ws in _MOTION_WORDS.values() for w in ws] + _PREFIXES + _TRAIN_TEMPLATES
    words += ["object", "something", "an", "a"]
    return words
