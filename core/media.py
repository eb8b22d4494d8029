"""Everything PyAV: probe, frame sampling, preprocessing to model input, thumbnails and stills.

Strategy in one paragraph (numbers in docs/media-notes.md): demuxing is ~50x cheaper than
decoding, so every strategy demuxes and chooses what the decoder sees. ``keyframes`` decodes
only keyframes when they are dense enough for the sampling interval (GOP <= 1.5x ``every``);
``sequential`` decodes from each keyframe only as far as the last sample inside that GOP,
skipping non-reference frames, and never decodes the rest of the GOP; ``seek`` seeks to each
sample and is used for intra-only codecs (ProRes, DNxHD, MJPEG...), where every frame decodes
on its own and reading the whole file would cost far more I/O than decoding.
"""

from __future__ import annotations

import contextlib
import io
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .media_io import (
    FrameConverter,
    MediaError,
    av_error_text,
    check_file,
    configure_decoder,
    frame_from_rgb,
    normalize_rotation,
    open_input,
    stream_sar,
    video_stream,
)
from .media_sampling import STRATEGIES, SampledFrame, TruncatedMediaError, sample

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "MediaError",
    "ProbeInfo",
    "SampledFrame",
    "TruncatedMediaError",
    "choose_strategy",
    "encode_jpeg",
    "is_video_candidate",
    "load_image",
    "probe",
    "read_frame",
    "sample_frames",
    "thumbnail_jpeg",
    "to_model_input",
]

VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".mxf", ".mts", ".m2ts", ".ts", ".m2t",
        ".mpg", ".mpeg", ".m2v", ".vob", ".mod", ".tod", ".wmv", ".asf", ".flv", ".f4v", ".3gp", ".3g2",
        ".dv", ".dif", ".ogv", ".ogm", ".y4m", ".rm", ".rmvb", ".divx", ".nut",
    }
)  # fmt: skip
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".jfif", ".avif", ".heic"}
)

# Probe reads packets from the start of the file until it has seen this much (cheap: no decoding).
_PROBE_MAX_SECONDS = 60.0
_PROBE_MAX_BYTES = 32 * 1024 * 1024
_PROBE_MAX_PACKETS = 3000
_PROBE_KEYFRAMES = 6  # enough keyframes over at least _PROBE_MIN_SPAN seconds to trust the GOP
_PROBE_MIN_SPAN = 10.0
_PROBE_INTRA_RUN = 24  # this many keyframes in a row from the start: intra-only
# Placeholder dates written by muxers that had no clock (Unix and QuickTime epochs).
_NO_DATE_PREFIXES = ("1970-01-01", "1904-01-01", "0000-00-00", "0001-01-01")


def is_video_candidate(path: Path) -> bool:
    """True if the file name has a known video extension (case-insensitive); nothing is read."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


@dataclass(frozen=True)
class ProbeInfo:
    """What probe() learns about a video file without decoding more than its first frame."""

    duration: float  # seconds from the first video frame (stream or container; best estimate)
    width: int  # DISPLAY size: pixel aspect ratio applied, 90/270 rotation swapped
    height: int
    rotation: int  # clockwise degrees to apply for display: 0/90/180/270
    fps: float | None  # average frame rate
    vfr: bool  # variable frame rate detected
    codec: str
    pix_fmt: str
    bit_depth: int
    container: str
    keyframe_interval: float | None  # estimated seconds between keyframes
    intra_only: bool  # every frame is a keyframe (ProRes, MJPEG, DNxHD...)
    creation_time: str | None  # ISO string from metadata if present
    has_audio: bool


def probe(path: Path) -> ProbeInfo:
    """Read a video file's properties (container header, ~10 s of packets and the first frame).

    Args:
        path: the file.

    Returns:
        ProbeInfo with display size, duration, rotation, frame rate, GOP estimate...

    Raises:
        MediaError: with a reason a user can act on (empty, not a video, damaged, no access...).
    """
    import av

    container = open_input(path)
    try:
        stream = video_stream(container)
        ctx = stream.codec_context
        tb = stream.time_base or Fraction(1, 90000)
        origin = stream.start_time if stream.start_time is not None else 0
        stats = _scan_packets(container, stream, float(tb), origin)
        frame = _first_frame(stream, stats.head)
        rotation = normalize_rotation(frame.rotation) if frame is not None else 0
        if rotation == 0 and "rotate" in stream.metadata:  # files tagged by older FFmpeg versions
            try:
                rotation = normalize_rotation(-float(stream.metadata["rotate"]))
            except ValueError:
                rotation = 0
        fmt = frame.format if frame is not None else None
        pix_fmt = fmt.name if fmt is not None else (ctx.pix_fmt or "unknown")
        bit_depth = _bit_depth(fmt) if fmt is not None else 8
        coded_w = frame.width if frame is not None else ctx.width
        coded_h = frame.height if frame is not None else ctx.height
        if not coded_w or not coded_h:
            raise MediaError("cannot decode: the video stream has no picture size (damaged file?)")
        display_w = max(1, round(coded_w * stream_sar(stream)))
        width, height = (coded_h, display_w) if rotation in (90, 270) else (display_w, coded_h)

        duration = _duration(container, stream, tb, origin, stats)
        if stats.eof:
            # Read to the end: frames past the header's duration (muxer quirks with B-frames and
            # variable rate) extend it; a shorter read does not shrink it (that is truncation).
            duration = max(duration, stats.end)
        fps = _rate(stream.average_rate) or _rate(stream.guessed_rate) or stats.fps
        intra_only = bool(ctx.codec.intra_only) or stats.all_keyframes
        return ProbeInfo(
            duration=duration,
            width=width,
            height=height,
            rotation=rotation,
            fps=fps,
            vfr=stats.vfr,
            codec=ctx.name,
            pix_fmt=pix_fmt,
            bit_depth=bit_depth,
            container=_container_name(container, path),
            keyframe_interval=(1.0 / fps if fps else None) if intra_only else stats.keyframe_interval(duration),
            intra_only=intra_only,
            creation_time=_creation_time(container, stream),
            has_audio=bool(container.streams.audio),
        )
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, MemoryError) as exc:
        raise MediaError(av_error_text(exc, when="cannot read")) from None
    finally:
        container.close()


class _PacketStats:
    """Timestamps and keyframe flags of the first packets of the video stream."""

    def __init__(self) -> None:
        self.head: list[Any] = []  # first packets, kept to decode the first frame
        self.pts: list[float] = []
        self.keyframes: list[float] = []
        self.count = 0
        self.eof = False
        self.end = 0.0  # end of the last packet seen, seconds from stream start
        self.all_keyframes = False

    @property
    def fps(self) -> float | None:
        deltas = self._deltas()
        return 1.0 / float(np.median(deltas)) if len(deltas) else None

    @property
    def vfr(self) -> bool:
        deltas = self._deltas()
        if len(deltas) < 8:
            return False
        median = float(np.median(deltas))
        # Rounded timestamps (e.g. 33/34 ms in Matroska) jitter by a tick; real VFR varies more.
        off = np.abs(deltas - median) > max(0.1 * median, 0.0021)
        return bool(off.mean() > 0.02)

    def _deltas(self) -> np.ndarray:
        if len(self.pts) < 2:
            return np.zeros(0)
        deltas = np.diff(np.unique(np.asarray(self.pts)))
        return deltas[deltas > 1e-6]

    def keyframe_interval(self, duration: float) -> float | None:
        if len(self.keyframes) >= 2:
            return (self.keyframes[-1] - self.keyframes[0]) / (len(self.keyframes) - 1)
        if len(self.keyframes) == 1:
            # One keyframe in everything read: the interval is at least what was read.
            return max(duration if self.eof else self.end, 0.0) or None
        return None


def _scan_packets(container: Any, stream: Any, tb: float, origin: int) -> _PacketStats:
    import av

    stats = _PacketStats()
    size = 0
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            stats.count += 1
            if len(stats.head) < 64:
                stats.head.append(packet)
            size += packet.size
            pts = packet.pts if packet.pts is not None else packet.dts
            if pts is not None:
                t = (pts - origin) * tb
                stats.pts.append(t)
                dur = packet.duration * tb if packet.duration else 0.0
                stats.end = max(stats.end, t + dur)
                if packet.is_keyframe:
                    stats.keyframes.append(t)
            if stats.count == _PROBE_INTRA_RUN and len(stats.keyframes) == stats.count:
                stats.all_keyframes = True
                break
            span = stats.keyframes[-1] - stats.keyframes[0] if stats.keyframes else 0.0
            if (len(stats.keyframes) > _PROBE_KEYFRAMES and span >= _PROBE_MIN_SPAN) or (
                stats.end >= _PROBE_MAX_SECONDS or size >= _PROBE_MAX_BYTES or stats.count >= _PROBE_MAX_PACKETS
            ):
                break
        else:
            stats.eof = True
    except av.error.FFmpegError:
        stats.eof = True  # damaged data early on; sample_frames reports how far it gets
    if not stats.eof and not (stream.duration or container.duration):
        # No duration in the header (raw or live-recorded streams): measure it by demuxing on;
        # still ~50x cheaper than decoding the file.
        try:
            for packet in container.demux(stream):
                pts = packet.pts if packet.pts is not None else packet.dts
                if packet.size and pts is not None:
                    dur = packet.duration * tb if packet.duration else 0.0
                    stats.end = max(stats.end, (pts - origin) * tb + dur)
        except av.error.FFmpegError:
            pass
        stats.eof = True
    if stats.count == 0:
        raise MediaError("cannot decode: no video data could be read (damaged or incomplete file?)")
    stats.all_keyframes = stats.all_keyframes or (stats.count >= 3 and len(stats.keyframes) == stats.count)
    return stats


def _first_frame(stream: Any, packets: list[Any]) -> Any:
    """Decode the first picture (gives rotation side data and the real pixel format)."""
    import av

    configure_decoder(stream, threads=1, thread_type="NONE")
    errors = 0
    for packet in [*packets, None]:
        try:
            frames = stream.codec_context.decode(packet)
        except av.error.FFmpegError as exc:
            if isinstance(exc, av.error.DecoderNotFoundError | av.error.PatchWelcomeError):
                raise MediaError(av_error_text(exc, when="cannot decode")) from None
            errors += 1
            continue
        if frames:
            return frames[0]
    raise MediaError(
        f"cannot decode: no picture in the first {len(packets)} video packets "
        f"({'damaged file' if errors else 'unsupported or empty stream'}?)"
    )


def _bit_depth(fmt: Any) -> int:
    try:
        return max(int(c.bits) for c in fmt.components) or 8
    except (AttributeError, ValueError):
        return 8


def _rate(rate: Any) -> float | None:
    try:
        value = float(rate) if rate else 0.0
    except (TypeError, ZeroDivisionError):
        return None
    return value if 0.5 <= value <= 1000.0 else None


def _duration(container: Any, stream: Any, tb: Fraction, origin: int, stats: _PacketStats) -> float:
    # The header's duration wins over what was read: a file cut short keeps its header, and
    # sample_frames compares the two to report truncation.
    if stream.duration and stream.duration > 0:
        return float(stream.duration * tb)
    if container.duration and container.duration > 0:
        total = container.duration / 1_000_000
        stream_start = float(origin * tb) if stream.start_time is not None else 0.0
        if "matroska" in container.format.name:
            # Matroska's segment duration counts from timestamp 0, not from the first frame.
            return max(0.0, total - stream_start)
        container_start = container.start_time / 1_000_000 if container.start_time is not None else 0.0
        return max(0.0, total - max(0.0, stream_start - container_start))
    return stats.end  # no header duration: at least what was read (all of it when stats.eof)


def _container_name(container: Any, path: Path) -> str:
    names = container.format.name.split(",")
    ext = Path(path).suffix.lower().lstrip(".")
    if ext in names:
        return ext
    # Demuxer names are FFmpeg's ("mov,mp4,m4a,...", "matroska,webm"): pick the one the file
    # calls itself, else a familiar short form.
    return {"matroska": "mkv"}.get(names[0], names[0])


def _creation_time(container: Any, stream: Any) -> str | None:
    keys = ("com.apple.quicktime.creationdate", "creation_time", "date", "DATE_RECORDED", "DATE")
    for metadata in (container.metadata, stream.metadata):
        for key in keys:
            value = str(metadata.get(key, "")).strip()
            if value and not value.startswith(_NO_DATE_PREFIXES):
                return value
    return None


def choose_strategy(info: ProbeInfo, every: float) -> str:
    """Cheapest correct way to get about one frame per ``every`` seconds from this file.

    Returns:
        "seek" for intra-only codecs (one small read and one decode per sample),
        "keyframes" when keyframes come at least every 1.5x ``every`` (decode keyframes only),
        "sequential" otherwise (decode each GOP only as far as its last sample).
    """
    if info.intra_only:
        return "seek"
    if info.keyframe_interval is not None and info.keyframe_interval <= 1.5 * every:
        return "keyframes"
    return "sequential"


def sample_frames(
    path: Path,
    *,
    every: float = 1.0,
    size: int = 224,
    thumb_width: int | None = None,
    strategy: str = "auto",
    info: ProbeInfo | None = None,
    cancel: threading.Event | None = None,
    threads: int = 2,
) -> Iterator[SampledFrame]:
    """Yield about one frame per ``every`` seconds covering the whole file, in increasing time.

    The first frame is near 0 and the last within ``every`` of the end. Times are the decoded
    frames' own presentation times (seconds from the start of the video stream), so they are
    exact even where a frame is not exactly on the ``every`` grid. All work happens while
    iterating (a generator), in the iterating thread, with its own container: safe to run
    several at once in worker threads.

    Args:
        path: video file.
        every: sampling interval in seconds.
        size: side of the square model input.
        thumb_width: also make a full-frame thumbnail this wide (display orientation).
        strategy: "auto" (choose_strategy), "keyframes", "sequential" or "seek".
        info: probe() result if the caller already has it.
        cancel: set it to stop early; the generator then simply ends.
        threads: decoder threads (2 suits a 2-core machine shared with the image encoder).

    Raises:
        MediaError: the file cannot be used (raised before anything is yielded).
        TruncatedMediaError: (a MediaError) after yielding what decoded, when the file stops
            part-way; ``stopped_at``, ``duration`` and ``fraction`` say how much did.
    """
    if not (every > 0 and math.isfinite(every)):
        raise ValueError(f"every must be a positive number of seconds, not {every!r}")
    if size < 1:
        raise ValueError(f"size must be positive, not {size!r}")
    if strategy != "auto" and strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; use 'auto' or one of {STRATEGIES}")
    if info is None:
        info = probe(path)
    if strategy == "auto":
        strategy = choose_strategy(info, every)
    yield from sample(
        path,
        info,
        every=every,
        size=size,
        thumb_width=thumb_width,
        strategy=strategy,
        cancel=cancel,
        threads=threads,
    )


def to_model_input(rgb: np.ndarray, size: int) -> np.ndarray:
    """Resize the short side to ``size`` and centre-crop, exactly as video frames are (swscale, AREA).

    Args:
        rgb: (h, w, 3) uint8 RGB (grey (h, w) and RGBA are accepted too).
        size: output side.

    Returns:
        (size, size, 3) uint8 RGB.
    """
    rgb = _as_rgb8(rgb)
    pixels, _ = FrameConverter().model_input(frame_from_rgb(rgb), size)
    return pixels


def _as_rgb8(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.dtype == np.uint16:
        array = (array >> 8).astype(np.uint8)
    elif array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"expected an (h, w, 3) RGB array, got shape {array.shape}")
    return np.ascontiguousarray(array[:, :, :3])


def load_image(path: Path, size: int) -> np.ndarray:
    """Load a still image (EXIF orientation applied) as (size, size, 3) uint8 model input.

    Uses the same resize and centre crop as video frames (to_model_input).

    Raises:
        MediaError: unreadable, not an image, damaged or absurdly large.
    """
    return to_model_input(_read_image(path, draft=size), size)


def _read_image(path: Path, draft: int | None = None) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    check_file(path)
    try:
        with Image.open(path) as img:
            if draft and img.format == "JPEG":
                # DCT-domain downscale while decoding: a 24 MP JPEG decodes ~8x faster and the
                # result stays at least twice the model size, so the final AREA resize sees no loss.
                img.draft("RGB", (2 * draft, 2 * draft))
            img = ImageOps.exif_transpose(img)
            if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                array = np.asarray(img, dtype=np.float64)
                array = array * (255.0 / max(float(array.max()), 1.0))
                return _as_rgb8(array)
            if img.mode in ("RGBA", "LA", "P", "PA"):
                # Transparent areas become white, as image viewers usually show them.
                rgba = img.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(background, rgba)
            return np.asarray(img.convert("RGB"))
    except Image.DecompressionBombError:
        raise MediaError("image too large (over Pillow's safety limit)") from None
    except UnidentifiedImageError:
        raise MediaError("not an image file (format not recognised)") from None
    except OSError as exc:
        if exc.errno is not None:
            raise MediaError(av_error_text(exc)) from None
        raise MediaError(f"cannot read image: damaged or truncated ({exc})") from None
    except (ValueError, SyntaxError) as exc:  # Pillow plugins raise these on garbage
        raise MediaError(f"cannot read image: damaged ({exc})") from None


def read_frame(path: Path, t: float, *, max_width: int = 640) -> np.ndarray:
    """The frame shown at time ``t`` (seek, then decode forward), as displayed, RGB, aspect kept.

    Args:
        path: video file.
        t: seconds from the start of the video stream (as sample_frames reports).
        max_width: scale down to at most this width (never up).

    Returns:
        (h, w, 3) uint8 RGB with rotation and pixel aspect ratio applied.

    Raises:
        MediaError: unreadable file or no frame decodes.
    """
    import av

    container = open_input(path)
    try:
        stream = video_stream(container)
        configure_decoder(stream, threads=2, thread_type="FRAME")
        for other in container.streams:
            if other.index != stream.index:
                other.discard = av.stream.Discard.all
        frame = _frame_at(container, stream, max(0.0, float(t)))
        rotation = normalize_rotation(frame.rotation)
        if rotation == 0 and "rotate" in stream.metadata:
            with contextlib.suppress(ValueError):
                rotation = normalize_rotation(-float(stream.metadata["rotate"]))
        return FrameConverter(rotation, stream_sar(stream)).display(frame, max_width)
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(av_error_text(exc, when="cannot decode")) from None
    finally:
        container.close()


def _frame_at(container: Any, stream: Any, t: float) -> Any:
    import av

    tb = stream.time_base or Fraction(1, 90000)
    origin = stream.start_time if stream.start_time is not None else 0
    fps = _rate(stream.average_rate) or _rate(stream.guessed_rate) or 25.0
    # The frame shown at t is the last one starting at or before t; a little slack absorbs times
    # that were rounded on their way through the database.
    slack = min(0.001, 0.25 / fps)
    # A seek can land after the wanted time (no index, as in MPEG-TS; damaged file): back off,
    # then read from the very start.
    for back in (0.0, 3.0, 30.0, None):
        start = 0.0 if back is None else max(0.0, t - back)
        if back is None:
            _rewind(container, stream, origin)
        else:
            try:
                container.seek(origin + int(start / tb), stream=stream, backward=True, any_frame=False)
            except (av.error.FFmpegError, OSError):
                continue
        stream.codec_context.flush_buffers()
        best, overshot = _decode_until(container, stream, t + slack, tb, origin)
        if best is not None and (not overshot or back is None):
            return best
    raise MediaError("cannot decode: no video frame could be decoded (damaged file?)")


def _rewind(container: Any, stream: Any, origin: int) -> None:
    import av

    try:
        container.seek(0, unsupported_byte_offset=True)  # byte 0: works where timestamps do not
    except (av.error.FFmpegError, OSError):
        with contextlib.suppress(av.error.FFmpegError, OSError):
            container.seek(origin, stream=stream, backward=True, any_frame=False)


def _decode_until(container: Any, stream: Any, t: float, tb: Fraction, origin: int) -> tuple[Any, bool]:
    """Decode forward to the last frame starting at or before ``t``.

    Returns (frame, overshot): overshot is True when even the first frame decoded starts after t.
    """
    import av

    best = None
    errors = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = stream.codec_context.decode(packet if packet.size else None)
            except av.error.FFmpegError:
                errors += 1
                if errors > 48:
                    break
                continue
            for frame in frames:
                ft = t if frame.pts is None else float((frame.pts - origin) * tb)
                if ft > t:
                    return (frame, True) if best is None else (best, False)
                best = frame
    except av.error.FFmpegError:
        pass  # damaged data: keep the nearest frame before it
    return best, False  # t is past the last frame: the last frame is shown


def thumbnail_jpeg(path: Path, t: float, *, width: int = 320, quality: int = 85) -> bytes:
    """JPEG of the frame at ``t``, at most ``width`` pixels wide (see read_frame)."""
    return encode_jpeg(read_frame(path, t, max_width=width), quality=quality)


def encode_jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    """Encode an (h, w, 3) uint8 RGB array as baseline JPEG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(_as_rgb8(rgb), "RGB").save(buffer, format="JPEG", quality=int(quality))
    return buffer.getvalue()
