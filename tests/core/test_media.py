"""Tests for reelseek.core.media on clips generated with PyAV in every supported codec, and real clips."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from reelseek.core import media
from reelseek.core.media import MediaError, TruncatedMediaError
from tests.footage import real_clip

os.environ.setdefault("SVT_LOG", "1")  # keep libsvtav1's banner out of the test output

GREY = 128
BITS = 10  # frame index encoded as 10 black/white blocks: up to 1024 frames


# ---------------------------------------------------------------------------------------------
# Generated clips
# ---------------------------------------------------------------------------------------------


def code_frame(index: int, width: int, height: int) -> np.ndarray:
    """Grey frame whose centre square shows ``index`` as a 4x3 grid of black/white blocks."""
    rgb = np.full((height, width, 3), GREY, np.uint8)
    side = min(width, height)
    x0, y0 = (width - side) // 2, (height - side) // 2
    for bit in range(BITS):
        row, col = divmod(bit, 4)
        value = 255 if (index >> bit) & 1 else 0
        bx0, bx1 = x0 + col * side // 4, x0 + (col + 1) * side // 4
        by0, by1 = y0 + row * side // 3, y0 + (row + 1) * side // 3
        rgb[by0:by1, bx0:bx1] = value
    return rgb


def read_code(rgb: np.ndarray) -> int:
    """Inverse of code_frame on any scaled copy of the frame (or its centre crop)."""
    height, width = rgb.shape[:2]
    side = min(width, height)
    x0, y0 = (width - side) / 2, (height - side) / 2
    index = 0
    for bit in range(BITS):
        row, col = divmod(bit, 4)
        cx, cy = int(x0 + (col + 0.5) * side / 4), int(y0 + (row + 0.5) * side / 3)
        r = max(1, side // 24)
        if rgb[cy - r : cy + r + 1, cx - r : cx + r + 1].mean() > GREY:
            index |= 1 << bit
    return index


def quadrant_frame(width: int, height: int) -> np.ndarray:
    """Red, green / blue, orange quadrants (colour checks)."""
    rgb = np.empty((height, width, 3), np.uint8)
    h2, w2 = height // 2, width // 2
    rgb[:h2, :w2] = (220, 30, 30)
    rgb[:h2, w2:] = (30, 200, 40)
    rgb[h2:, :w2] = (30, 40, 210)
    rgb[h2:, w2:] = (230, 150, 40)
    return rgb


QUADRANT_COLOURS = {(0, 0): (220, 30, 30), (0, 1): (30, 200, 40), (1, 0): (30, 40, 210), (1, 1): (230, 150, 40)}


def marker_frame(width: int, height: int) -> np.ndarray:
    """Grey frame with the top-left quadrant red (rotation checks)."""
    rgb = np.full((height, width, 3), GREY, np.uint8)
    rgb[: height // 2, : width // 2] = (255, 0, 0)
    return rgb


@dataclass
class Clip:
    path: Path
    times: list[float]  # presentation time of frame i, seconds from the first frame
    fps: float
    gop_s: float

    @property
    def duration(self) -> float:
        return self.times[-1] + (self.times[-1] - self.times[-2])


def make_clip(
    path: Path,
    codec: str,
    *,
    size: tuple[int, int] = (192, 144),
    fps: int = 15,
    seconds: float = 4.0,
    gop: int = 15,
    pix_fmt: str = "yuv420p",
    options: dict[str, str] | None = None,
    times: list[float] | None = None,
    start: float = 0.0,
    rotation: int = 0,
    sar: Fraction | None = None,
    frame_fn: Callable[[int, int, int], np.ndarray] = code_frame,
    container_options: dict[str, str] | None = None,
) -> Clip:
    """Encode a clip with PyAV; ``times`` gives variable frame times (ms precision)."""
    width, height = size
    n = len(times) if times is not None else round(seconds * fps)
    tb = Fraction(1, 1000) if times is not None or start else Fraction(1, fps)
    with av.open(str(path), "w", options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.gop_size = gop
        stream.codec_context.time_base = tb
        if options:
            stream.options = options
        if sar is not None:
            stream.codec_context.sample_aspect_ratio = sar
        if rotation:
            stream.set_display_rotation(-rotation)  # PyAV takes counter-clockwise degrees
        for i in range(n):
            t = times[i] if times is not None else i / fps
            frame = av.VideoFrame.from_ndarray(frame_fn(i, width, height), format="rgb24")
            frame.pts = round((start + t) / tb)
            frame.time_base = tb
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    clip_times = list(times) if times is not None else [i / fps for i in range(n)]
    return Clip(path, clip_times, fps, gop / fps)


X264 = {"preset": "ultrafast", "bf": "3", "crf": "18"}
# x265 keeps CTU geometry in process-wide globals: fixed ctu/min-cu-size keeps encoders at several
# frame sizes in one test process from corrupting the heap (see tests/synth/videos.py).
X265 = {"preset": "ultrafast", "x265-params": "log-level=none:bframes=3:ctu=32:min-cu-size=8:pools=1:frame-threads=1"}
CODEC_CLIPS: dict[str, dict] = {
    "h264.mp4": {"codec": "libx264", "options": X264},
    "hevc.mkv": {"codec": "libx265", "options": X265},
    "vp9.webm": {"codec": "libvpx-vp9", "options": {"deadline": "realtime", "cpu-used": "8", "crf": "20"}},
    "prores.mov": {"codec": "prores_ks", "pix_fmt": "yuv422p10le", "options": {"profile": "3"}},
    "av1.mkv": {"codec": "libsvtav1", "options": {"preset": "10", "crf": "20"}},
    "h264-opengop.mkv": {"codec": "libx264", "options": {**X264, "x264-params": "open-gop=1"}},
    "h264-longgop.mp4": {"codec": "libx264", "options": X264, "gop": 45, "seconds": 6.0},
    "h264-start.ts": {"codec": "libx264", "options": X264},  # MPEG-TS starts at 1.4 s
    "h264-start5.mkv": {"codec": "libx264", "options": X264, "start": 5.0},
    "h264-odd.mp4": {"codec": "libx264", "options": X264, "size": (317, 243), "pix_fmt": "yuv444p"},
}
# Variable frame rate: runs of 10 frames at 30 fps and at 8 fps.
VFR_TIMES = [float(x) for x in np.cumsum([0.0] + [1 / 30 if (i // 10) % 2 == 0 else 1 / 8 for i in range(59)])]


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Clip]:
    folder = tmp_path_factory.mktemp("clips")
    made = {name: make_clip(folder / name, **kwargs) for name, kwargs in CODEC_CLIPS.items()}
    made["vfr.mkv"] = make_clip(folder / "vfr.mkv", "libx264", options=X264, times=VFR_TIMES)
    made["vfr.mp4"] = make_clip(folder / "vfr.mp4", "libx264", options=X264, times=VFR_TIMES)
    return made


@pytest.fixture(scope="session")
def big_clip(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    """A few MB, so that reads are still under way when the test tampers with the file."""
    folder = tmp_path_factory.mktemp("big")
    noisy = {**X264, "crf": "0"}

    def noise(i: int, w: int, h: int) -> np.ndarray:
        rgb = code_frame(i, w, h)
        rng = np.random.default_rng(i)
        rgb[:16] = rng.integers(0, 255, (16, w, 3), dtype=np.uint8)  # incompressible strip
        return rgb

    return make_clip(folder / "big.mp4", "libx264", size=(640, 360), seconds=8.0, options=noisy, frame_fn=noise)


def index_at(clip: Clip, t: float) -> int:
    return int(np.argmin(np.abs(np.asarray(clip.times) - t)))


def assert_frames_match(clip: Clip, frames: list[media.SampledFrame], every: float, max_gap: float) -> None:
    """Each frame's pixels are the true frame at its t; times increase and cover the file."""
    assert frames, "no frames"
    ts = [f.t for f in frames]
    assert ts == sorted(ts) and len(set(ts)) == len(ts)
    for frame in frames:
        assert frame.pixels.shape == (224, 224, 3) and frame.pixels.dtype == np.uint8
        shown = read_code(frame.pixels)
        expected = index_at(clip, frame.t)
        assert shown == expected, f"t={frame.t:.3f}: pixels show frame {shown}, t says frame {expected}"
        # t is the frame's own time, not a rounded target.
        assert abs(clip.times[expected] - frame.t) < 2e-3
    frame_dur = clip.duration - clip.times[-1]
    assert ts[0] <= 0.5 * every + 1e-6
    assert ts[-1] >= clip.duration - every - frame_dur - 1e-6
    gaps = np.diff(ts)
    assert gaps.max() <= max_gap * every + 2 * frame_dur, f"gap {gaps.max():.2f}s in {ts}"


# ---------------------------------------------------------------------------------------------
# probe
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt", "depth", "intra"),
    [
        ("h264.mp4", "h264", "yuv420p", 8, False),
        ("hevc.mkv", "hevc", "yuv420p", 8, False),
        ("vp9.webm", "vp9", "yuv420p", 8, False),
        ("prores.mov", "prores", "yuv422p10le", 10, True),
        ("av1.mkv", None, "yuv420p", 8, False),
    ],
)
def test_probe_codecs(clips: dict[str, Clip], name: str, codec: str | None, pix_fmt: str, depth: int, intra: bool):
    info = media.probe(clips[name].path)
    assert info.duration == pytest.approx(4.0, abs=0.07)
    assert (info.width, info.height, info.rotation) == (192, 144, 0)
    assert info.fps == pytest.approx(15, rel=0.02)
    assert not info.vfr
    if codec:
        assert info.codec == codec
    assert info.pix_fmt == pix_fmt and info.bit_depth == depth
    assert info.intra_only is intra
    assert info.keyframe_interval == pytest.approx(1 / 15 if intra else 1.0, rel=0.05)
    assert info.container == Path(name).suffix.lstrip(".")
    assert not info.has_audio
    assert info.creation_time is None


def test_probe_odd_size_nonsquare_start_and_vfr(clips: dict[str, Clip], tmp_path: Path):
    odd = media.probe(clips["h264-odd.mp4"].path)
    assert (odd.width, odd.height, odd.pix_fmt) == (317, 243, "yuv444p")

    sar = make_clip(tmp_path / "sar.mp4", "libx264", options=X264, sar=Fraction(4, 3))
    assert (media.probe(sar.path).width, media.probe(sar.path).height) == (256, 144)

    for name in ("h264-start.ts", "h264-start5.mkv"):
        info = media.probe(clips[name].path)
        assert info.duration == pytest.approx(4.0, abs=0.1), name  # from the first frame, not from 0

    for name in ("vfr.mkv", "vfr.mp4"):
        info = media.probe(clips[name].path)
        assert info.vfr, name
        assert info.duration == pytest.approx(clips[name].duration, abs=0.15)
    assert not media.probe(clips["h264.mp4"].path).vfr


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_probe_rotation_swaps_display_size(tmp_path: Path, rotation: int):
    clip = make_clip(tmp_path / "rot.mp4", "libx264", size=(320, 240), options=X264, rotation=rotation)
    info = media.probe(clip.path)
    assert info.rotation == rotation
    assert (info.width, info.height) == ((240, 320) if rotation in (90, 270) else (320, 240))


def test_probe_creation_time_audio_and_start_offset(tmp_path: Path):
    path = tmp_path / "meta.mkv"
    with av.open(str(path), "w") as out:
        out.metadata["creation_time"] = "2023-05-01T10:20:30.000000Z"
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = out.add_stream("aac", rate=44100)
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(code_frame(i, 64, 48), format="rgb24")
            frame.pts = i + 5  # the picture starts 0.5 s after the sound
            out.mux(video.encode(frame))
        out.mux(video.encode())
        for i in range(50):
            samples = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            samples.sample_rate, samples.pts = 44100, i * 1024
            out.mux(audio.encode(samples))
        out.mux(audio.encode())
    info = media.probe(path)
    assert info.has_audio
    assert info.creation_time is not None and info.creation_time.startswith("2023-05-01T10:20:30")
    assert info.start_offset == pytest.approx(0.5, abs=0.03)
    assert info.duration == pytest.approx(1.0, abs=0.05)
    first = next(iter(media.sample_frames(path)))
    assert first.t == 0.0 and read_code(first.pixels) == 0
    assert media.probe(real_clip("cockatoo.mp4")).start_offset == 0.0


def test_max_every_trades_density_for_keyframes(clips: dict[str, Clip]):
    info = media.probe(clips["h264-longgop.mp4"].path)  # a keyframe every 3 s
    assert media.effective_every(info, 1.0) == 1.0
    assert media.effective_every(info, 1.0, max_every=2.0) == 1.0  # 3 s is too sparse
    assert media.effective_every(info, 1.0, max_every=3.5) == pytest.approx(3.0)
    assert media.effective_every(media.probe(clips["h264.mp4"].path), 1.0, max_every=3.0) == 1.0  # dense enough
    frames = list(media.sample_frames(clips["h264-longgop.mp4"].path, every=1.0, max_every=3.5))
    assert [f.t for f in frames] == pytest.approx([0.0, 3.0], abs=1e-3)  # the keyframes only


def test_choose_strategy(clips: dict[str, Clip]):
    h264 = media.probe(clips["h264.mp4"].path)  # keyframe every 1 s
    assert media.choose_strategy(h264, 1.0) == "keyframes"
    assert media.choose_strategy(h264, 0.5) == "sequential"
    assert media.choose_strategy(media.probe(clips["h264-longgop.mp4"].path), 1.0) == "sequential"
    assert media.choose_strategy(media.probe(clips["prores.mov"].path), 1.0) == "seek"


# ---------------------------------------------------------------------------------------------
# sample_frames
# ---------------------------------------------------------------------------------------------

MAX_GAP = {"keyframes": 1.6, "sequential": 1.45, "seek": 1.05}


@pytest.mark.parametrize("strategy", ["keyframes", "sequential", "seek"])
@pytest.mark.parametrize("name", [*CODEC_CLIPS, "vfr.mkv", "vfr.mp4"])
def test_every_strategy_returns_the_true_frame_at_t(clips: dict[str, Clip], name: str, strategy: str):
    clip = clips[name]
    every = 0.5 if strategy != "keyframes" else 1.0
    frames = list(media.sample_frames(clip.path, every=every, strategy=strategy))
    if strategy == "keyframes" and clip.gop_s > 1.5 * every:
        # Forced on a long GOP, keyframes alone leave gaps: in-GOP decoding fills them.
        assert_frames_match(clip, frames, every, max_gap=1.6)
    else:
        assert_frames_match(clip, frames, every, max_gap=MAX_GAP[strategy])


@pytest.mark.parametrize("name", ["h264-opengop.mkv", "hevc.mkv"])
@pytest.mark.parametrize("every", [0.45, 0.95])
def test_open_gop_leading_pictures_are_never_garbage(clips: dict[str, Clip], name: str, every: float):
    # Targets just before a keyframe, after the rest of the GOP was skipped: the B-frames shown
    # before an open-GOP keyframe reference that skipped GOP and must not be decoded or picked.
    for strategy in ("sequential", "keyframes"):
        frames = list(media.sample_frames(clips[name].path, every=every, strategy=strategy))
        # Forced keyframes on a 1 s GOP may leave a 1 s gap (2.2x `every`): allowed here.
        assert_frames_match(clips[name], frames, every, max_gap=1.45 if strategy == "sequential" else 2.3)


@pytest.mark.parametrize("every", [0.25, 1.0, 2.5])
def test_auto_strategy_covers_the_file(clips: dict[str, Clip], every: float):
    for name in ("h264.mp4", "h264-longgop.mp4", "prores.mov", "vfr.mp4"):
        clip = clips[name]
        frames = list(media.sample_frames(clip.path, every=every))
        assert_frames_match(clip, frames, every, max_gap=1.6)
        expected = clip.duration / every
        # One extra frame near the end keeps the last sample within `every` of it.
        assert expected * 0.6 - 1 <= len(frames) <= expected + 2, (name, len(frames))


@pytest.mark.parametrize("name", ["h264.mp4", "hevc.mkv", "h264-longgop.mp4"])
def test_sequential_lands_on_exact_frames(clips: dict[str, Clip], name: str):
    # Non-reference frames are skipped while decoding into a GOP, except the one at each target:
    # on a constant frame rate every sample is exactly on the grid (5 frames apart here).
    clip = clips[name]
    frames = list(media.sample_frames(clip.path, every=1 / 3, strategy="sequential"))
    assert [f.t for f in frames] == pytest.approx([k / 3 for k in range(len(frames))], abs=2e-3)
    assert len(frames) == round(clip.duration * 3)


def test_seek_decodes_exact_targets_on_constant_rate(clips: dict[str, Clip]):
    frames = list(media.sample_frames(clips["h264-longgop.mp4"].path, every=1.0, strategy="seek"))
    assert [f.t for f in frames] == pytest.approx([0, 1, 2, 3, 4, 5], abs=1e-6)


def test_start_time_is_reported_from_stream_start(clips: dict[str, Clip]):
    for name in ("h264-start.ts", "h264-start5.mkv"):
        frames = list(media.sample_frames(clips[name].path, every=1.0))
        assert frames[0].t == pytest.approx(0.0, abs=1e-3)
        assert read_code(frames[0].pixels) == 0


def test_recording_cut_mid_gop(clips: dict[str, Clip], tmp_path: Path):
    # A transport stream cut at an arbitrary packet (as a camera or a capture card leaves it)
    # starts with frames whose keyframe is gone: they are skipped, times stay consistent.
    data = clips["h264-start.ts"].path.read_bytes()
    cut = (len(data) * 2 // 5) // 188 * 188
    path = tmp_path / "cut.ts"
    path.write_bytes(data[cut:])
    info = media.probe(path)
    assert (info.width, info.height) == (192, 144)
    for strategy in ("keyframes", "sequential", "seek"):
        frames = list(media.sample_frames(path, every=0.5, strategy=strategy, info=info))
        assert frames and frames[-1].t > info.duration - 1.0
        offsets = {read_code(f.pixels) - round(f.t * 15) for f in frames}
        assert len(offsets) == 1, (strategy, [(f.t, read_code(f.pixels)) for f in frames])


def test_thumbnail_keeps_aspect_and_matches(clips: dict[str, Clip]):
    frames = list(media.sample_frames(clips["h264-odd.mp4"].path, every=1.0, thumb_width=160))
    for frame in frames:
        assert frame.thumb is not None and frame.thumb.shape == (round(160 * 243 / 317), 160, 3)
        assert read_code(frame.thumb) == read_code(frame.pixels)
    big = next(iter(media.sample_frames(clips["h264.mp4"].path, thumb_width=400)))
    assert big.thumb is not None and big.thumb.shape == (300, 400, 3)  # upscaled from the frame itself
    none = next(iter(media.sample_frames(clips["h264.mp4"].path)))
    assert none.thumb is None


@pytest.mark.parametrize(("rotation", "quadrant"), [(0, (0, 0)), (90, (0, 1)), (180, (1, 1)), (270, (1, 0))])
def test_rotation_is_applied(tmp_path: Path, rotation: int, quadrant: tuple[int, int]):
    # The marker is the coded top-left quadrant; turned clockwise by `rotation` for display.
    clip = make_clip(
        tmp_path / "rot.mp4",
        "libx264",
        size=(320, 240),
        options=X264,
        rotation=rotation,
        frame_fn=lambda i, w, h: marker_frame(w, h),
    )
    frame = next(iter(media.sample_frames(clip.path, thumb_width=160)))
    assert frame.thumb is not None
    assert frame.thumb.shape == ((213, 160, 3) if rotation in (90, 270) else (120, 160, 3))
    for image in (frame.pixels, frame.thumb):
        h, w = image.shape[:2]
        for row, col in [(0, 0), (0, 1), (1, 0), (1, 1)]:
            y, x = int((row + 0.5) * h / 2), int((col + 0.5) * w / 2)
            red = image[y, x, 0] > 200 and image[y, x, 1] < 60
            assert red == ((row, col) == quadrant), (rotation, (row, col), image[y, x])
    shown = media.read_frame(clip.path, 0.0)
    assert shown.shape == ((320, 240, 3) if rotation in (90, 270) else (240, 320, 3))


def test_nonsquare_pixels_are_stretched(tmp_path: Path):
    # 4:3 pixels: the coded 192x144 frame is shown 256x144; the centre crop sees the middle 144x144
    # of the displayed picture, i.e. the middle 108 coded columns.
    clip = make_clip(
        tmp_path / "sar.mp4", "libx264", options=X264, sar=Fraction(4, 3), frame_fn=lambda i, w, h: quadrant_frame(w, h)
    )
    frame = next(iter(media.sample_frames(clip.path, thumb_width=256)))
    assert frame.thumb is not None and frame.thumb.shape == (144, 256, 3)
    assert media.read_frame(clip.path, 0.0).shape == (144, 256, 3)


@pytest.mark.parametrize(("codec", "suffix", "pix_fmt", "options"), [
    ("prores_ks", ".mov", "yuv422p10le", {"profile": "3"}),
    ("libx264", ".mp4", "yuv420p", X264),
    ("libx265", ".mkv", "yuv422p10le", X265),
])  # fmt: skip
def test_colours_survive_decoding(tmp_path: Path, codec: str, suffix: str, pix_fmt: str, options: dict[str, str]):
    clip = make_clip(
        tmp_path / f"colours{suffix}", codec, size=(256, 192), pix_fmt=pix_fmt, options=options, seconds=1.0,
        frame_fn=lambda i, w, h: quadrant_frame(w, h),
    )  # fmt: skip
    frame = next(iter(media.sample_frames(clip.path, thumb_width=256)))
    assert frame.thumb is not None
    for image in (frame.pixels, frame.thumb):
        h, w = image.shape[:2]
        for (row, col), colour in QUADRANT_COLOURS.items():
            patch = image[
                int((row + 0.3) * h / 2) : int((row + 0.7) * h / 2), int((col + 0.3) * w / 2) : int((col + 0.7) * w / 2)
            ]
            assert np.abs(patch.reshape(-1, 3).mean(axis=0) - colour).max() < 8, (
                pix_fmt,
                (row, col),
                patch.mean(axis=(0, 1)),
            )


def test_ten_bit_values_are_not_read_as_eight_bit(tmp_path: Path):
    # Limited-range 10-bit: Y=940 is white, Y=64 black; read as 8-bit they would be garbage.
    path = tmp_path / "tenbit.mov"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("prores_ks", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv422p10le"
        for i, luma in enumerate((940, 64, 502)):
            frame = av.VideoFrame(64, 48, "yuv422p10le")
            for plane, value in zip(frame.planes, (luma, 512, 512), strict=True):
                data = np.frombuffer(plane, np.uint16)
                data[:] = value
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    frames = list(media.sample_frames(path, every=0.1, size=32))
    means = [f.pixels.mean() for f in frames]
    assert means[0] > 250 and means[1] < 5 and 120 < means[2] < 135


def test_sampling_is_thread_safe(clips: dict[str, Clip]):
    names = ["h264.mp4", "hevc.mkv", "prores.mov", "vfr.mp4"]
    expected = {n: [(f.t, f.pixels.tobytes()) for f in media.sample_frames(clips[n].path, every=0.5)] for n in names}
    results: dict[str, list] = {}

    def work(name: str) -> None:
        results[name] = [(f.t, f.pixels.tobytes()) for f in media.sample_frames(clips[name].path, every=0.5)]

    threads = [threading.Thread(target=work, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == expected


def test_cancel_stops_quietly(clips: dict[str, Clip]):
    cancel = threading.Event()
    got = []
    for frame in media.sample_frames(clips["h264.mp4"].path, every=0.25, cancel=cancel):
        got.append(frame)
        cancel.set()
    assert 1 <= len(got) <= 3


def test_bad_arguments(clips: dict[str, Clip]):
    with pytest.raises(ValueError, match="strategy"):
        next(media.sample_frames(clips["h264.mp4"].path, strategy="fastest"))
    with pytest.raises(ValueError, match="every"):
        next(media.sample_frames(clips["h264.mp4"].path, every=0))


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


def _error(path: Path) -> str:
    """The MediaError text from probe and from sample_frames (they must agree and never leak av errors)."""
    with pytest.raises(MediaError) as from_probe:
        media.probe(path)
    with pytest.raises(MediaError) as from_sample:
        list(media.sample_frames(path))
    for exc in (from_probe.value, from_sample.value):
        assert not isinstance(exc, av.error.FFmpegError)
    assert str(from_probe.value) == str(from_sample.value)
    return str(from_probe.value)


def test_empty_file(tmp_path: Path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert _error(tmp_path / "empty.mp4") == "empty file (0 bytes)"


def test_random_bytes(tmp_path: Path):
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    message = _error(path)
    assert message.startswith(("cannot open: invalid data found", "not a video file")), message


def test_missing_file_and_folder(tmp_path: Path):
    assert _error(tmp_path / "gone.mp4").startswith("file not found")
    (tmp_path / "x.mp4").mkdir()
    assert _error(tmp_path / "x.mp4") == "not a file (it is a folder)"


def test_audio_only(tmp_path: Path):
    path = tmp_path / "voice.mp4"
    with av.open(str(path), "w") as out:
        audio = out.add_stream("aac", rate=44100)
        for i in range(20):
            samples = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            samples.sample_rate, samples.pts = 44100, i * 1024
            out.mux(audio.encode(samples))
        out.mux(audio.encode())
    assert _error(path) == "not a video file (no video stream; audio only)"


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clips: dict[str, Clip]):
    path = tmp_path / "locked.mp4"
    shutil.copy(clips["h264.mp4"].path, path)
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: simulate the refusal where we open the file
        real_open = os.open

        def refusing_open(p, *args, **kwargs):  # type: ignore[no-untyped-def]
            if os.fspath(p) == os.fspath(path):
                raise PermissionError(13, "Permission denied", os.fspath(p))
            return real_open(p, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    assert _error(path) == "permission denied"
    with pytest.raises(MediaError, match="permission denied"):
        media.read_frame(path, 0.0)


def test_truncated_without_index(tmp_path: Path, clips: dict[str, Clip]):
    data = clips["h264.mp4"].path.read_bytes()  # moov at the end: cut in half, no index left
    path = tmp_path / "half.mp4"
    path.write_bytes(data[: len(data) // 2])
    assert _error(path).startswith("cannot open")


@pytest.mark.parametrize("name", ["faststart.mp4", "cut.mkv"])
def test_truncated_yields_then_raises(tmp_path: Path, name: str):
    source = make_clip(
        tmp_path / f"full-{name}", "libx264", seconds=8.0, options=X264,
        container_options={"movflags": "faststart"} if name.endswith(".mp4") else None,
    )  # fmt: skip
    data = source.path.read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    info = media.probe(path)
    assert info.duration == pytest.approx(8.0, abs=0.1)  # the header still says 8 s
    got: list[media.SampledFrame] = []
    with pytest.raises(TruncatedMediaError) as caught:
        got.extend(media.sample_frames(path, every=0.5, strategy="sequential"))
    assert str(caught.value).startswith("truncated: decoding stopped at ")
    assert str(caught.value).endswith(" s of 8.0 s")
    assert 2.0 < caught.value.stopped_at < 6.0 and 0.25 < caught.value.fraction < 0.75
    assert got and all(read_code(f.pixels) == index_at(source, f.t) for f in got)
    assert got[-1].t <= caught.value.stopped_at


def test_corrupt_middle_never_hangs(tmp_path: Path, big_clip: Clip):
    data = bytearray(big_clip.path.read_bytes())
    rng = np.random.default_rng(3)
    start = len(data) // 3
    data[start : start + len(data) // 3] = rng.integers(0, 256, len(data) // 3, dtype=np.uint8).tobytes()
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(bytes(data))
    got = []
    try:
        for frame in media.sample_frames(path, every=0.5, strategy="sequential"):
            got.append(frame)
    except MediaError as exc:
        assert str(exc).startswith(("truncated", "damaged"))
    assert got and got[0].t == 0.0


def test_file_cut_short_while_reading(tmp_path: Path, big_clip: Clip):
    path = tmp_path / "shrinking.mp4"
    shutil.copy(big_clip.path, path)
    got = []
    with pytest.raises(MediaError):
        for frame in media.sample_frames(path, every=0.5, strategy="sequential"):
            got.append(frame)
            if len(got) == 1:
                os.truncate(path, path.stat().st_size // 4)
    assert got


def test_file_deleted_while_reading(tmp_path: Path, clips: dict[str, Clip]):
    path = tmp_path / "deleted.mp4"
    shutil.copy(clips["h264.mp4"].path, path)
    got = []
    for frame in media.sample_frames(path, every=0.5):
        got.append(frame)
        if path.exists():
            path.unlink()  # POSIX keeps the open file readable: nothing is lost
    assert len(got) == 8


def test_non_utf8_and_long_names(tmp_path: Path, clips: dict[str, Clip]):
    weird = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9-\xff.mp4")))
    try:
        shutil.copy(clips["h264.mp4"].path, weird)
    except (OSError, UnicodeError):
        pytest.skip("file system refuses non-UTF-8 names")
    assert media.probe(weird).duration == pytest.approx(4.0, abs=0.07)
    assert len(list(media.sample_frames(weird, every=1.0))) == 4
    assert media.read_frame(weird, 1.0).shape == (144, 192, 3)

    long_name = tmp_path / ("é" * 120 + ".mp4")  # 244 bytes: allowed
    shutil.copy(clips["h264.mp4"].path, long_name)
    assert media.probe(long_name).width == 192
    assert _error(tmp_path / ("x" * 300 + ".mp4")).startswith(("file name too long", "file not found"))


# ---------------------------------------------------------------------------------------------
# read_frame, thumbnails, stills
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["h264.mp4", "hevc.mkv", "prores.mov", "vfr.mp4", "h264-start.ts", "h264-longgop.mp4"])
def test_read_frame_is_exact(clips: dict[str, Clip], name: str):
    clip = clips[name]
    for t in (0.0, 0.4, 1.73, 2.5, clip.duration - 0.01):
        rgb = media.read_frame(clip.path, t)
        assert rgb.shape == (144, 192, 3)
        expected = max(i for i, ft in enumerate(clip.times) if ft <= t + 1e-3)
        assert read_code(rgb) == expected, (name, t)
    assert read_code(media.read_frame(clip.path, 999.0)) == len(clip.times) - 1  # past the end: last frame


def test_read_frame_width(clips: dict[str, Clip]):
    assert media.read_frame(clips["h264-odd.mp4"].path, 1.0, max_width=100).shape == (77, 100, 3)
    assert media.read_frame(clips["h264.mp4"].path, 1.0, max_width=4000).shape == (144, 192, 3)  # never upscaled


def test_thumbnail_jpeg(clips: dict[str, Clip]):
    from PIL import Image

    data = media.thumbnail_jpeg(clips["h264-odd.mp4"].path, 2.0, width=160)
    assert data[:2] == b"\xff\xd8"
    import io

    image = Image.open(io.BytesIO(data))
    assert image.size == (160, 123)
    assert read_code(np.asarray(image)) == 30


def test_encode_jpeg_round_trip():
    rgb = quadrant_frame(64, 48)
    import io

    from PIL import Image

    back = np.asarray(Image.open(io.BytesIO(media.encode_jpeg(rgb, quality=95))))
    assert back.shape == rgb.shape and np.abs(back.astype(int) - rgb).mean() < 4


def test_to_model_input_sizes():
    for h, w in [(243, 317), (1080, 1920), (100, 50), (1, 1), (224, 224)]:
        out = media.to_model_input(np.zeros((h, w, 3), np.uint8), 224)
        assert out.shape == (224, 224, 3) and out.dtype == np.uint8
    grey = media.to_model_input(np.full((50, 80), 200, np.uint8), 32)
    assert grey.shape == (32, 32, 3) and abs(int(grey.mean()) - 200) <= 1
    code = media.to_model_input(code_frame(613, 640, 480), 224)
    assert read_code(code) == 613


def test_to_model_input_matches_pil_reference():
    """The swscale path must look like the reference PIL preprocessing (bicubic resize + crop)."""
    from PIL import Image

    path = real_clip("cockatoo.mp4")
    rgb = media.read_frame(path, 3.0, max_width=1280)
    ours = media.to_model_input(rgb, 224).astype(np.float32)
    image = Image.fromarray(rgb)
    w, h = image.size
    scale = 224 / min(w, h)
    resized = image.resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC)
    left, top = (resized.width - 224) // 2, (resized.height - 224) // 2
    reference = np.asarray(resized.crop((left, top, left + 224, top + 224))).astype(np.float32)
    assert np.abs(ours - reference).mean() < 3.0
    a, b = ours.ravel() - ours.mean(), reference.ravel() - reference.mean()
    assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.99


def test_video_frame_and_still_share_preprocessing(clips: dict[str, Clip], tmp_path: Path):
    frame = next(iter(media.sample_frames(clips["h264-odd.mp4"].path, thumb_width=317)))
    assert frame.thumb is not None
    from_still = media.to_model_input(frame.thumb, 224)
    assert np.abs(from_still.astype(int) - frame.pixels).mean() < 3


def test_load_image_exif_orientation_and_formats(tmp_path: Path):
    from PIL import Image

    base = Image.fromarray(marker_frame(320, 240))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    base.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    out = media.load_image(tmp_path / "rotated.jpg", 224)
    assert out.shape == (224, 224, 3)
    assert out[40, 180, 0] > 200 and out[40, 180, 1] < 60  # marker moved to the top-right
    assert out[40, 40, 0] < 160

    Image.fromarray(code_frame(77, 300, 200)).save(tmp_path / "code.png")
    Image.fromarray(code_frame(77, 300, 200)).save(tmp_path / "code.webp", lossless=True)
    rgba = Image.fromarray(code_frame(77, 300, 200)).convert("RGBA")
    rgba.save(tmp_path / "alpha.png")
    for name in ("code.png", "code.webp", "alpha.png"):
        assert read_code(media.load_image(tmp_path / name, 224)) == 77, name


def test_load_image_bad_input(tmp_path: Path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not an image")
    with pytest.raises(MediaError, match="empty file"):
        media.load_image(tmp_path / "empty.jpg", 224)
    with pytest.raises(MediaError, match="not an image file"):
        media.load_image(tmp_path / "text.jpg", 224)
    with pytest.raises(MediaError, match="file not found"):
        media.load_image(tmp_path / "gone.png", 224)
    from PIL import Image

    Image.fromarray(code_frame(1, 300, 200)).save(tmp_path / "whole.jpg")
    data = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "half.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match="cannot read image"):
        media.load_image(tmp_path / "half.jpg", 224)


def test_is_video_candidate():
    assert media.is_video_candidate(Path("A.MP4")) and media.is_video_candidate(Path("x.MTS"))
    assert media.is_video_candidate(Path("clip.mxf")) and media.is_video_candidate(Path("a.b.webm"))
    assert not media.is_video_candidate(Path("notes.txt")) and not media.is_video_candidate(Path("mp4"))
    assert {".mp4", ".mov", ".mkv", ".avi", ".m2ts", ".dv", ".ogv", ".3gp"} <= media.VIDEO_EXTENSIONS


# ---------------------------------------------------------------------------------------------
# Real footage
# ---------------------------------------------------------------------------------------------


def test_real_cockatoo():
    path = real_clip("cockatoo.mp4")
    info = media.probe(path)
    assert (info.width, info.height, info.codec, info.pix_fmt) == (1280, 720, "h264", "yuv444p")
    assert info.duration == pytest.approx(14.0, abs=0.1) and info.fps == pytest.approx(20.0)
    assert info.has_audio and not info.vfr
    frames = list(media.sample_frames(path, every=1.0, info=info, thumb_width=320))
    assert 12 <= len(frames) <= 15
    assert frames[0].t == 0.0 and frames[-1].t >= 12.9
    assert all(f.thumb is not None and f.thumb.shape == (180, 320, 3) for f in frames)
    # Real content: frames differ from each other and are not blank.
    stds = [float(f.pixels.std()) for f in frames]
    assert min(stds) > 10
    assert np.abs(frames[0].pixels.astype(int) - frames[-1].pixels).mean() > 5


def test_real_bigbuckbunny_strategies_agree():
    path = real_clip("bigbuckbunny.mp4")
    info = media.probe(path)
    assert (info.width, info.height) == (1280, 720) and info.duration == pytest.approx(5.28, abs=0.05)
    runs = {s: list(media.sample_frames(path, every=1.0, strategy=s, info=info)) for s in ("sequential", "seek")}
    assert [f.t for f in runs["sequential"]] == [f.t for f in runs["seek"]]
    for a, b in zip(runs["sequential"], runs["seek"], strict=True):
        # Same frame decoded by two routes (NONREF skipping vs full decode): identical pixels.
        assert np.abs(a.pixels.astype(int) - b.pixels).mean() < 1.0
    exact = media.to_model_input(media.read_frame(path, runs["seek"][3].t, max_width=1280), 224)
    assert np.abs(exact.astype(int) - runs["seek"][3].pixels).mean() < 3


def test_real_nonsquare_pixels():
    path = real_clip("carphone_pristine.mp4")  # 176x144 with 128:117 pixels
    info = media.probe(path)
    assert (info.width, info.height) == (193, 144)
    frame = next(iter(media.sample_frames(path, thumb_width=193)))
    assert frame.thumb is not None and frame.thumb.shape == (144, 193, 3)
