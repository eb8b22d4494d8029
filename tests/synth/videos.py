"""Real video files of generated scenes with known time ranges, and a JSON manifest for them."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from tests.synth.scenes import (
    BACKGROUNDS,
    COLOURS,
    MOTIONS,
    SHAPES,
    Scene,
    all_triples,
    canonical_caption,
    is_heldout_pair,
    random_scene,
    render_frame,
    stable_seed,
)

# name -> (container extension, encoder, pixel format)
CODECS: dict[str, tuple[str, str, str]] = {
    "h264": ("mp4", "libx264", "yuv420p"),
    "hevc": ("mkv", "libx265", "yuv420p"),
    "vp9": ("webm", "libvpx-vp9", "yuv420p"),
    "prores": ("mov", "prores_ks", "yuv422p10le"),
    "av1": ("mkv", "libsvtav1", "yuv420p"),
    "mpeg4": ("avi", "mpeg4", "yuv420p"),
}
# Fast settings: these files are test fixtures, written on two busy cores. x265 keeps CTU geometry in
# process-wide globals: without a fixed ctu/min-cu-size, a second encoder at another frame size in the
# same process corrupts the heap (seen with 96x64 then 48x64).
_ENCODER_OPTIONS: dict[str, dict[str, str]] = {
    "libx264": {"preset": "veryfast", "crf": "23"},
    "libx265": {
        "preset": "ultrafast",
        "crf": "26",
        "x265-params": "log-level=error:ctu=32:min-cu-size=8:pools=1:frame-threads=1",
    },
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8", "crf": "32", "b": "0"},
    "prores_ks": {"profile": "0"},
    "libsvtav1": {"preset": "12", "crf": "40", "svtav1-params": "lp=1"},
    "mpeg4": {"qscale": "4"},
}
# Library frame sizes cycle through these (landscape 16:9 and 4:3, square, portrait).
LIBRARY_SIZES: tuple[tuple[int, int], ...] = ((256, 144), (192, 144), (160, 160), (144, 192))


@dataclass(frozen=True)
class SceneSpec:
    """One scene of a video: a single object over a background from `start` to `end` seconds."""

    colour: str
    shape: str
    background: str
    motion: str
    start: float
    end: float

    def caption(self) -> str:
        """The canonical full caption, e.g. 'a red circle on grass'."""
        return canonical_caption(self.colour, self.shape, self.background)

    @property
    def triple(self) -> tuple[str, str, str]:
        """(colour, shape, background), unique within a library."""
        return (self.colour, self.shape, self.background)

    @property
    def heldout(self) -> bool:
        """Whether the colour-shape pair was kept out of the test model's training."""
        return is_heldout_pair(self.colour, self.shape)


@dataclass(frozen=True)
class VideoSpec:
    """A written video file and the scenes it contains."""

    path: Path
    scenes: tuple[SceneSpec, ...]
    codec: str
    fps: float
    width: int
    height: int
    duration: float

    def scene_at(self, t: float) -> SceneSpec:
        """The scene shown at time t (seconds)."""
        for scene in self.scenes:
            if scene.start <= t < scene.end:
                return scene
        if t >= self.duration:
            return self.scenes[-1]
        raise ValueError(f"time {t} is outside {self.path.name} (0-{self.duration} s)")


def _validate_scenes(scenes: Sequence[SceneSpec]) -> None:
    if not scenes:
        raise ValueError("a video needs at least one scene")
    if abs(scenes[0].start) > 1e-9:
        raise ValueError(f"the first scene must start at 0, not {scenes[0].start}")
    for prev, cur in itertools.pairwise(scenes):
        if abs(cur.start - prev.end) > 1e-6:
            raise ValueError(f"scenes must be contiguous: one ends at {prev.end}, the next starts at {cur.start}")
    for s in scenes:
        if s.end <= s.start:
            raise ValueError(f"scene {s.caption()!r} ends ({s.end}) before it starts ({s.start})")
        if s.colour not in COLOURS or s.shape not in SHAPES or s.background not in BACKGROUNDS:
            raise ValueError(f"unknown attribute in {s}")
        if s.motion not in MOTIONS:
            raise ValueError(f"unknown motion {s.motion!r}; expected one of {MOTIONS}")


def scene_for_spec(spec: SceneSpec, seed: int) -> Scene:
    """The drawable scene (placement, size, texture) behind a SceneSpec, fixed by the seed."""
    rng = np.random.default_rng(stable_seed(seed, spec.colour, spec.shape, spec.background, spec.start))
    return random_scene(rng, spec.colour, spec.shape, spec.background, spec.motion)


def write_video(
    path: str | os.PathLike[str],
    scenes: Sequence[SceneSpec],
    *,
    codec: str = "h264",
    fps: float = 12,
    width: int = 256,
    height: int = 144,
    seed: int = 0,
    gop: int | None = None,
) -> VideoSpec:
    """Encode contiguous scenes into a real video file with PyAV.

    Args:
        path: Output file; its extension should match the codec's container (see CODECS).
        scenes: Contiguous scenes starting at 0 s.
        codec: A key of CODECS.
        fps: Frame rate.
        width: Frame width (even for 4:2:0 codecs).
        height: Frame height (even).
        seed: Fixes object placement and textures.
        gop: Keyframe interval in frames (encoder default when None).

    Returns:
        The VideoSpec describing the file.
    """
    import av

    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}; expected one of {sorted(CODECS)}")
    if width % 2 or height % 2 or width < 32 or height < 32:
        raise ValueError(f"frame size {width}x{height} must be even and at least 32x32")
    if fps <= 0:
        raise ValueError(f"fps must be positive, not {fps}")
    _validate_scenes(scenes)
    _, encoder, pix_fmt = CODECS[codec]
    if encoder == "libsvtav1":
        os.environ.setdefault("SVT_LOG", "1")  # the encoder prints banners to stderr otherwise
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    duration = scenes[-1].end
    n_frames = max(1, round(duration * fps))
    drawn = [scene_for_spec(s, seed) for s in scenes]
    rng = np.random.default_rng(stable_seed(seed, path.name))
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(encoder, rate=rate, options=dict(_ENCODER_OPTIONS[encoder]))
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if gop is not None:
            stream.codec_context.gop_size = gop
        k = 0
        for i in range(n_frames):
            t = min(i / fps, duration - 1e-6)
            while k + 1 < len(scenes) and t >= scenes[k].end:
                k += 1
            spec = scenes[k]
            progress = (t - spec.start) / (spec.end - spec.start)
            frame = av.VideoFrame.from_ndarray(render_frame(drawn[k], progress, width, height, rng), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return VideoSpec(path, tuple(scenes), codec, float(fps), width, height, float(duration))


def _differs_fully(a: tuple[str, str, str], b: tuple[str, str, str]) -> bool:
    return all(x != y for x, y in zip(a, b, strict=True))


def plan_library(
    n_videos: int,
    scenes_per_video: tuple[int, int],
    scene_seconds: tuple[float, float],
    *,
    fps: float,
    seed: int,
    heldout_share: float,
) -> list[list[SceneSpec]]:
    """Scene lists for a library: unique (colour, shape, background) triples, neighbours fully different.

    Scene boundaries fall on whole frames; about `heldout_share` of the scenes use colour-shape pairs
    that the test model never saw in training.
    """
    rng = np.random.default_rng(seed)
    lo, hi = scenes_per_video
    if not 1 <= lo <= hi:
        raise ValueError(f"scenes_per_video must be (min, max) with 1 <= min <= max, not {scenes_per_video}")
    if not 0 < scene_seconds[0] <= scene_seconds[1]:
        raise ValueError(f"scene_seconds must be (min, max) with 0 < min <= max, not {scene_seconds}")
    counts = [int(rng.integers(lo, hi + 1)) for _ in range(n_videos)]
    total = sum(counts)
    triples = all_triples()
    if total > len(triples):
        raise ValueError(
            f"{total} scenes asked for, but only {len(triples)} distinct (colour, shape, background) exist"
        )
    order = rng.permutation(len(triples))
    trained = [triples[i] for i in order if not is_heldout_pair(*triples[i][:2])]
    heldout = [triples[i] for i in order if is_heldout_pair(*triples[i][:2])]
    n_heldout = min(len(heldout), round(total * heldout_share))
    wants_heldout = set(rng.choice(total, size=n_heldout, replace=False).tolist()) if n_heldout else set()
    plans: list[list[SceneSpec]] = []
    slot = 0
    for count in counts:
        specs: list[SceneSpec] = []
        t = 0.0
        for _ in range(count):
            primary, other = (heldout, trained) if slot in wants_heldout else (trained, heldout)
            prev = specs[-1].triple if specs else None
            pool = next((p for p in (primary, other) if any(prev is None or _differs_fully(prev, x) for x in p)), None)
            if pool is None:
                raise ValueError("ran out of distinct scenes; ask for fewer videos or scenes")
            pick = next(x for x in pool if prev is None or _differs_fully(prev, x))
            pool.remove(pick)
            frames = max(1, round(float(rng.uniform(*scene_seconds)) * fps))
            end = round(t + frames / fps, 6)
            specs.append(SceneSpec(*pick, str(rng.choice(MOTIONS)), t, end))
            t = end
            slot += 1
        plans.append(specs)
    return plans


def make_library(
    root: str | os.PathLike[str],
    *,
    n_videos: int = 20,
    scenes_per_video: tuple[int, int] = (3, 4),
    scene_seconds: tuple[float, float] = (3.0, 5.0),
    codecs: Sequence[str] = ("h264", "hevc", "vp9", "prores"),
    seed: int = 0,
    width: int | None = None,
    height: int | None = None,
    fps: float = 10,
    heldout_share: float = 0.15,
    gop: int | None = None,
) -> list[VideoSpec]:
    """Write a library of generated videos where every full caption has exactly one right answer.

    Every scene in the library has a unique (colour, shape, background) triple; consecutive scenes
    differ in all three. Codecs go round-robin, frame sizes cycle through LIBRARY_SIZES unless
    width and height are given.

    Args:
        root: Folder to write into (created if missing).
        n_videos: Number of files.
        scenes_per_video: (min, max) scenes per file.
        scene_seconds: (min, max) scene length in seconds.
        codecs: Codec names (keys of CODECS), used in turn.
        seed: Fixes everything about the library.
        width: Frame width for every file (with height), instead of cycling sizes.
        height: Frame height for every file (with width).
        fps: Frame rate of every file.
        heldout_share: Rough share of scenes using colour-shape pairs held out of training.
        gop: Keyframe interval in frames (encoder default when None).

    Returns:
        One VideoSpec per file, in order.
    """
    unknown = [c for c in codecs if c not in CODECS]
    if unknown or not codecs:
        raise ValueError(f"unknown codecs {unknown}; expected some of {sorted(CODECS)}")
    if (width is None) != (height is None):
        raise ValueError("give both width and height, or neither")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    plans = plan_library(n_videos, scenes_per_video, scene_seconds, fps=fps, seed=seed, heldout_share=heldout_share)
    videos = []
    for i, specs in enumerate(plans):
        codec = codecs[i % len(codecs)]
        w, h = (width, height) if width and height else LIBRARY_SIZES[i % len(LIBRARY_SIZES)]
        ext = CODECS[codec][0]
        videos.append(
            write_video(
                root / f"clip_{i:03d}_{codec}.{ext}",
                specs,
                codec=codec,
                fps=fps,
                width=w,
                height=h,
                seed=stable_seed(seed, i),
                gop=gop,
            )
        )
    return videos


def save_manifest(videos: Sequence[VideoSpec], path: str | os.PathLike[str]) -> None:
    """Write the library description as JSON; file paths are stored relative to the manifest."""
    path = Path(path)
    base = path.parent.resolve()
    out = []
    for v in videos:
        p = v.path.resolve()
        rel = p.relative_to(base).as_posix() if p.is_relative_to(base) else str(p)
        out.append(
            {
                "path": rel,
                "codec": v.codec,
                "fps": v.fps,
                "width": v.width,
                "height": v.height,
                "duration": v.duration,
                "scenes": [
                    {
                        "colour": s.colour,
                        "shape": s.shape,
                        "background": s.background,
                        "motion": s.motion,
                        "start": s.start,
                        "end": s.end,
                        "caption": s.caption(),
                        "heldout": s.heldout,
                    }
                    for s in v.scenes
                ],
            }
        )
    path.write_text(json.dumps({"version": 1, "videos": out}, indent=1))


def load_manifest(path: str | os.PathLike[str]) -> list[VideoSpec]:
    """Read a manifest written by save_manifest; relative paths resolve against its folder."""
    path = Path(path)
    data = json.loads(path.read_text())
    if data.get("version") != 1:
        raise ValueError(f"{path}: unsupported manifest version {data.get('version')!r}")
    videos = []
    for v in data["videos"]:
        p = Path(v["path"])
        scenes = tuple(
            SceneSpec(s["colour"], s["shape"], s["background"], s["motion"], float(s["start"]), float(s["end"]))
            for s in v["scenes"]
        )
        videos.append(
            VideoSpec(
                p if p.is_absolute() else path.parent / p,
                scenes,
                v["codec"],
                float(v["fps"]),
                int(v["width"]),
                int(v["height"]),
                float(v["duration"]),
            )
        )
    return videos
