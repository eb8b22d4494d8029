"""Short clips in the codecs editors hand over: H.264 GOP 1 s / 2 s, 4K HEVC 10-bit, ProRes 422 HQ, DNxHR HQ.

Each re-encodes the real sample clips (as footage.py does, so decoders do real work), with PyAV's
encoders: libx264, libx265 (Main 10), prores_ks (profile 3 = 422 HQ) and dnxhd (dnxhr_hq).
Files are cached by recipe name, one per folder (the indexer takes folders).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from tests.bench.footage import FPS, _source_frames, make_textured

# kind -> (file name, encoder, width, height, pix_fmt, options, bit rate)
RECIPES: dict[str, tuple[str, str, int, int, str, dict[str, str], int | None]] = {
    "hevc10_4k_gop1": (
        "hevc10_2160p_gop1_{s}s.mp4",
        "libx265",
        3840,
        2160,
        "yuv420p10le",
        {"preset": "ultrafast", "x265-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0:bframes=3:log-level=error"},
        40_000_000,
    ),
    "prores_hq_1080p": ("prores422hq_1080p_{s}s.mov", "prores_ks", 1920, 1080, "yuv422p10le", {"profile": "3"}, None),
    "dnxhr_hq_1080p": ("dnxhrhq_1080p_{s}s.mov", "dnxhd", 1920, 1080, "yuv422p", {"profile": "dnxhr_hq"}, None),
}
KINDS = ("h264_1080p_gop1", "h264_1080p_gop2", *RECIPES)


def make_clip(out: Path, kind: str, seconds: int, frames: list[Any] | None = None) -> Path:
    """Write (or reuse) one clip of ``kind`` (see KINDS) in its own folder under ``out``."""
    import av

    if kind.startswith("h264_1080p_gop"):
        gop = float(kind.rsplit("gop", 1)[1])
        return make_textured(out / kind, "1080p", gop=gop, seconds=seconds, frames=frames)
    name, encoder, width, height, pix_fmt, options, rate = RECIPES[kind]
    target = out / kind / name.format(s=seconds)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    frames = frames if frames is not None else _source_frames()
    tmp = target.with_name("part-" + target.name)
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream(encoder, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if rate:
            stream.bit_rate = rate
        stream.options = dict(options)
        for i in range(seconds * FPS):
            frame = frames[i % len(frames)].reformat(width=width, height=height, format=pix_fmt)
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            frame.pict_type = av.video.frame.PictureType.NONE
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.rename(target)
    return target


def codec_clips(out: Path, seconds: int, kinds: tuple[str, ...] = KINDS) -> list[Path]:
    """All the clips (cached), in KINDS order."""
    frames = _source_frames()
    return [
        make_clip(out, k, seconds if not k.startswith("hevc10_4k") else max(4, seconds // 2), frames) for k in kinds
    ]


if __name__ == "__main__":
    import sys

    for p in codec_clips(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 10):
        print(p)
