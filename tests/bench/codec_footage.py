"""Short clips in the codecs editors hand over: H.264 GOP 1 s / 2 s, 4K HEVC 10-bit, ProRes 422 HQ, DNxHR HQ.

Each re-encodes the real sample clips (tests/footage.py: cockatoo, Big Buck Bunny, bikes), scaled
and looped, so decoders do work on real pictures, with PyAV's encoders: libx264 (footage.py),
libx265 Main 10 at its fastest preset, FFmpeg's ``prores`` encoder (profile 3 = 422 HQ; prores_ks
writes the same profile about 5x slower) and dnxhd (dnxhr_hq). The 4K HEVC clip is shorter: x265
encodes 4K at about one frame per second here, and decoding cost per video-second does not
depend on the length. Files are cached by recipe name (a new recipe gets a new name), one per
folder named after the file (the indexer takes folders), so a rerun reuses them.

Runs asking for more than ``BASE_SECONDS`` (the overlap figure needs files long enough for the
pipeline to reach its steady state) get the base clip repeated by remuxing its packets with
shifted timestamps (``loop_clip``): no re-encoding, so a minute of 4K HEVC costs seconds to
write, and every repeat starts on a keyframe (each recipe's GOP divides its length), so the
decoder does per second exactly the work it does on the base clip.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from tests.bench.footage import FPS, _source_frames, make_textured, textured_name


@dataclass(frozen=True)
class Recipe:
    name: str  # file name; {s} = seconds
    encoder: str
    width: int
    height: int
    pix_fmt: str
    options: dict[str, str] = field(default_factory=dict)
    seconds: int | None = None  # fixed length (None: the run's --seconds)


RECIPES: dict[str, Recipe] = {
    "hevc10_4k_gop1": Recipe(
        "hevc10_2160p_gop1_ultrafast_{s}s.mp4",
        "libx265",
        3840,
        2160,
        "yuv420p10le",
        {
            "preset": "ultrafast",
            "crf": "16",
            "x265-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0:bframes=3:log-level=error",
        },
        seconds=4,
    ),
    "prores_hq_1080p": Recipe("prores422hq_1080p_{s}s.mov", "prores", 1920, 1080, "yuv422p10le", {"profile": "3"}),
    "dnxhr_hq_1080p": Recipe("dnxhrhq_1080p_{s}s.mov", "dnxhd", 1920, 1080, "yuv422p", {"profile": "dnxhr_hq"}),
}
KINDS = ("h264_1080p_gop1", "h264_1080p_gop2", *RECIPES)
# What each kind must decode as (codec name, profile, pixel format): checked by the tests.
EXPECTED: dict[str, tuple[str, str | None, str]] = {
    "h264_1080p_gop1": ("h264", "High", "yuv420p"),
    "h264_1080p_gop2": ("h264", "High", "yuv420p"),
    "hevc10_4k_gop1": ("hevc", "Main 10", "yuv420p10le"),
    "prores_hq_1080p": ("prores", "HQ", "yuv422p10le"),
    "dnxhr_hq_1080p": ("dnxhd", "DNXHR HQ", "yuv422p"),
}


BASE_SECONDS = 10  # longer runs loop the base clip (loop_clip) instead of encoding more


def clip_seconds(kind: str, seconds: int) -> int:
    """The length a kind is encoded at for a run asking for ``seconds`` (see ``looped_seconds``)."""
    recipe = RECIPES.get(kind)
    if recipe is not None and recipe.seconds is not None:
        return recipe.seconds
    return min(seconds, BASE_SECONDS)


def looped_seconds(kind: str, seconds: int) -> int:
    """The length of the file a run asking for ``seconds`` indexes: whole repeats of the base clip."""
    base = clip_seconds(kind, seconds)
    return base * max(1, round(seconds / base)) if seconds > BASE_SECONDS else base


def loop_clip(base: Path, target: Path, repeats: int) -> Path:
    """Write ``base`` ``repeats`` times over into ``target`` by remuxing its packets (no re-encoding).

    Each repeat's timestamps are shifted by the base clip's length, so the result plays as one
    continuous clip; the base clips start on a keyframe and have closed GOPs, so every repeat
    decodes on its own.
    """
    import av

    with av.open(str(base)) as probe:
        s = probe.streams.video[0]
        rate = s.average_rate or Fraction(FPS)
        frames = sum(1 for p in probe.demux(s) if p.size)
        span = round(Fraction(frames) / Fraction(rate) / s.time_base)  # the clip's length, stream units
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name("part-" + target.name)
    with av.open(str(tmp), "w") as out:
        for k in range(repeats):
            with av.open(str(base)) as inp:
                s_in = inp.streams.video[0]
                if k == 0:
                    s_out = out.add_stream_from_template(s_in)
                for packet in inp.demux(s_in):
                    if not packet.size:
                        continue  # the demuxer's end marker
                    packet.pts = packet.pts + k * span if packet.pts is not None else None
                    packet.dts = packet.dts + k * span if packet.dts is not None else None
                    packet.stream = s_out
                    out.mux(packet)
    tmp.rename(target)
    return target


def write_clip(
    target: Path, recipe: Recipe, seconds: int, frames: list[Any], size: tuple[int, int] | None = None
) -> Path:
    """Encode ``seconds`` of ``frames`` (looped) with ``recipe``; ``size`` overrides its frame size (tests)."""
    import av

    width, height = size or (recipe.width, recipe.height)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name("part-" + target.name)
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream(recipe.encoder, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, recipe.pix_fmt
        stream.options = dict(recipe.options)
        for i in range(seconds * FPS):
            frame = frames[i % len(frames)].reformat(width=width, height=height, format=recipe.pix_fmt)
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            frame.pict_type = av.video.frame.PictureType.NONE  # source I-frames must not force keyframes
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.rename(target)
    return target


def clip_path(out: Path, kind: str, seconds: int) -> Path:
    """Where ``kind`` is cached for a run asking for ``seconds`` (the name encodes the recipe).

    Each file gets a folder of its own, named after it: the indexer takes folders, so a clip of
    another length (or an older recipe) must never sit beside it and be indexed with it.
    """
    base = clip_seconds(kind, seconds)
    if kind.startswith("h264_1080p_gop"):
        name = textured_name("1080p", float(kind.rsplit("gop", 1)[1]), base)
    else:
        name = RECIPES[kind].name.format(s=base)
    total = looped_seconds(kind, seconds)
    if total != base:
        stem, ext = name.rsplit(".", 1)
        name = f"{stem}_x{total // base}.{ext}"
    return out / Path(name).stem / name


def make_clip(out: Path, kind: str, seconds: int, frames: list[Any] | None = None) -> Path:
    """Write (or reuse) one clip of ``kind`` (see KINDS) in its own folder under ``out``."""
    target = clip_path(out, kind, seconds)
    if target.exists():
        return target
    base_seconds = clip_seconds(kind, seconds)
    if looped_seconds(kind, seconds) != base_seconds:
        base = make_clip(out, kind, base_seconds, frames)
        return loop_clip(base, target, looped_seconds(kind, seconds) // base_seconds)
    frames = frames if frames is not None else _source_frames()
    if kind.startswith("h264_1080p_gop"):
        gop = float(kind.rsplit("gop", 1)[1])
        return make_textured(target.parent, "1080p", gop=gop, seconds=base_seconds, frames=frames)
    return write_clip(target, RECIPES[kind], base_seconds, frames)


def codec_clips(out: Path, seconds: int, kinds: tuple[str, ...] = KINDS) -> list[Path]:
    """All the clips (cached), in ``kinds`` order; the sample clips are decoded only if one is missing."""
    from tests.bench.common import log

    frames = None
    if not all(clip_path(out, k, clip_seconds(k, seconds)).exists() for k in kinds):
        frames = _source_frames()
    paths = []
    for k in kinds:
        t0 = time.perf_counter()
        cached = clip_path(out, k, seconds).exists()
        paths.append(make_clip(out, k, seconds, frames=frames))
        others = [p for p in paths[-1].parent.iterdir() if p != paths[-1]]
        if others:  # the indexer would index them with the clip
            raise RuntimeError(f"{paths[-1].parent} holds more than the clip: {others}")
        if not cached:
            log(f"codec footage: wrote {paths[-1].name} in {time.perf_counter() - t0:.0f} s")
    return paths


def describe(path: Path) -> dict[str, Any]:
    """Codec, profile, pixel format, size, GOP and bit rate of a clip, as its container says."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        duration = float(container.duration or 0) / 1e6
        keys = [float(p.pts * p.time_base) for p in container.demux(stream) if p.is_keyframe and p.pts is not None]
    return {
        "codec": cc.name,
        "profile": cc.profile,
        "pix_fmt": stream.format.name if stream.format else None,
        "width": cc.width,
        "height": cc.height,
        "duration_s": duration,
        "keyframes": len(keys),
        "gop_s": (keys[-1] - keys[0]) / (len(keys) - 1) if len(keys) > 1 else None,
        "mbit_per_s": path.stat().st_size * 8 / 1e6 / duration if duration else None,
    }


if __name__ == "__main__":
    import sys

    for p in codec_clips(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 10):
        print(p, describe(p))
