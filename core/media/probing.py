"""probe(): what a video file is (size, rotation, duration, frame rate, GOP) from its header,
a few seconds of packets and its first frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .io import (
    MediaError,
    av_error_text,
    configure_decoder,
    normalize_rotation,
    open_input,
    stream_sar,
    video_stream,
)
from .timecode import SourceTimecode, read_source_timecode

# Probe reads packets from the start of the file until it has seen this much (cheap: no decoding).
_PROBE_MAX_SECONDS = 60.0
_PROBE_MAX_BYTES = 32 * 1024 * 1024
_PROBE_MAX_PACKETS = 3000
_PROBE_KEYFRAMES = 6  # enough keyframes over at least _PROBE_MIN_SPAN seconds to trust the GOP
_PROBE_MIN_SPAN = 10.0
_HEAD_PACKETS = 48  # packets kept to decode the first picture (B-frame and thread delays)
_PROBE_INTRA_RUN = 24  # this many keyframes in a row from the start: intra-only
# Placeholder dates written by muxers that had no clock (Unix and QuickTime epochs).
_NO_DATE_PREFIXES = ("1970-01-01", "1904-01-01", "0000-00-00", "0001-01-01")


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
    # Seconds from the container's start to the video stream's first frame (MPEG-TS audio that
    # starts earlier, edit lists). Times here count from the first video frame; add this to
    # seek a player whose clock counts from the container start.
    start_offset: float = 0.0
    # Start timecode tag, exact rational frame rate, drop-frame and VFR flags (see media/timecode.py).
    source_tc: SourceTimecode = field(default_factory=SourceTimecode)


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
        fps = frame_rate(stream.average_rate) or frame_rate(stream.guessed_rate) or stats.fps
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
            start_offset=_start_offset(container, stream, tb),
            source_tc=read_source_timecode(container, stream, vfr=stats.vfr),
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
            # Keep packets from the first keyframe on to decode the first picture (a recording
            # cut mid-GOP starts with packets that cannot decode); without any keyframe flag,
            # the first ones.
            if packet.is_keyframe and not stats.keyframes and stats.head and not stats.head[0].is_keyframe:
                stats.head.clear()
            if len(stats.head) < _HEAD_PACKETS:
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


def frame_rate(rate: Any) -> float | None:
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
            return max(0.0, float(total - stream_start))
        container_start = container.start_time / 1_000_000 if container.start_time is not None else 0.0
        return max(0.0, float(total - max(0.0, stream_start - container_start)))
    return stats.end  # no header duration: at least what was read (all of it when stats.eof)


def _start_offset(container: Any, stream: Any, tb: Fraction) -> float:
    if stream.start_time is None or container.start_time is None:
        return 0.0
    return max(0.0, round(float(stream.start_time * tb) - float(container.start_time) / 1_000_000, 6))


def _container_name(container: Any, path: Path) -> str:
    names: list[str] = container.format.name.split(",")
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
