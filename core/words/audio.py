"""A file's audio as 16 kHz mono float32, decoded with PyAV and handed out in bounded windows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..media.io import MediaError, av_error_text, open_input

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000  # what Whisper's feature extractor expects
# 10 minutes of 16 kHz float32 is 38 MB: a 10-hour file never needs more than one window (plus
# the overlap) in memory. Whisper decodes 30 s chunks, so windows this long cost nothing in quality.
WINDOW_S = 600.0
# Consecutive windows share this much audio; a segment cut by a window's end is transcribed
# whole by the next window; a line is kept only by the window whose keep range holds its middle.
OVERLAP_S = 30.0
# Isolated damaged packets are skipped (as players do); beyond this share the audio is unusable.
_MAX_BAD_PACKET_SHARE = 0.5


@dataclass(frozen=True)
class AudioWindow:
    """``samples`` (float32, mono, 16 kHz) starting ``start`` seconds into the file's timeline.

    ``keep_from``/``keep_to`` bound the part of the window this window is responsible for: a
    segment whose midpoint falls outside it belongs to the neighbouring window.
    """

    start: float
    samples: np.ndarray
    keep_from: float
    keep_to: float

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def has_audio(path: Path) -> bool:
    """Whether the file has an audio stream (opens the container header only; decodes nothing)."""
    container = open_input(path)
    try:
        return bool(container.streams.audio)
    finally:
        container.close()


def audio_windows(
    path: Path,
    *,
    window_s: float = WINDOW_S,
    overlap_s: float = OVERLAP_S,
    cancel: threading.Event | None = None,
) -> Iterator[AudioWindow]:
    """Decode the file's main audio stream and yield it in overlapping windows.

    Times count from the first video frame when the file has video (the clock every visual
    moment uses), else from the audio's own start. Nothing is yielded for a file without audio.

    Raises:
        MediaError: the file or its audio cannot be read (no decoder, damaged packets); raised
            before or between windows, with a reason a user can act on.
    """
    import numpy as np

    if not 0 <= overlap_s < window_s:
        raise ValueError("overlap_s must be at least 0 and below window_s")
    window_n = round(window_s * SAMPLE_RATE)
    step_n = round((window_s - overlap_s) * SAMPLE_RATE)
    half_overlap = overlap_s / 2
    # Chunks (~1024 samples each) are collected in a list and joined once per window: joining
    # into one growing array per chunk would copy each 10-minute window thousands of times.
    pending: list[np.ndarray] = []
    pending_n = 0
    buf = np.zeros(0, dtype=np.float32)  # the overlap carried from the previous window
    buf_start: float | None = None  # timeline seconds of the first sample held
    first = True
    for start, chunk in _decoded_chunks(path, cancel):
        if buf_start is None:
            buf_start = start
        pending.append(chunk)
        pending_n += chunk.size
        if buf.size + pending_n < window_n:
            continue
        buf = np.concatenate([buf, *pending])
        pending, pending_n = [], 0
        while buf.size >= window_n:
            keep_from = buf_start if first else buf_start + half_overlap
            yield AudioWindow(buf_start, buf[:window_n], keep_from, buf_start + window_s - half_overlap)
            first = False
            buf = buf[step_n:].copy()  # a copy, so the yielded window's memory can be freed
            buf_start += step_n / SAMPLE_RATE
    if pending:
        buf = np.concatenate([buf, *pending])
    if buf.size and buf_start is not None:
        keep_from = buf_start if first else buf_start + half_overlap
        yield AudioWindow(buf_start, buf, keep_from, float("inf"))


def _decoded_chunks(path: Path, cancel: threading.Event | None) -> Iterator[tuple[float, np.ndarray]]:
    """(timeline seconds, float32 mono 16 kHz samples) in decoding order."""
    import av
    import numpy as np

    container = open_input(path)
    try:
        stream = _audio_stream(container)
        if stream is None:
            return
        origin = _timeline_origin(container)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        codec = stream.codec_context.name if stream.codec_context is not None else "unknown"
        t0: float | None = None
        done = 0  # samples handed out so far; times follow the sample count (no drift on gaps)
        packets = bad = 0
        last_error: BaseException | None = None
        try:
            demux = container.demux(stream)
            for packet in demux:
                if cancel is not None and cancel.is_set():
                    return
                packets += 1
                try:
                    frames = packet.decode()
                except (av.error.FFmpegError, ValueError) as exc:
                    bad += 1
                    last_error = exc
                    continue
                for frame in frames:
                    if t0 is None:
                        t0 = _frame_time(frame, origin)
                    for out in resampler.resample(frame):
                        samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                        yield t0 + done / SAMPLE_RATE, samples
                        done += samples.size
            for out in resampler.resample(None):  # flush the resampler's tail
                samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                yield (t0 or 0.0) + done / SAMPLE_RATE, samples
                done += samples.size
        except (av.error.FFmpegError, OSError) as exc:
            why = av_error_text(exc, when="cannot read")
            raise MediaError(f"audio damaged: {why} after {done / SAMPLE_RATE:.1f} s of sound") from None
        if bad and (done == 0 or bad > _MAX_BAD_PACKET_SHARE * packets):
            why = (getattr(last_error, "strerror", None) or str(last_error)).lower() if last_error else "undecodable"
            raise MediaError(f"cannot decode the audio ({codec}): {bad} of {packets} packets are damaged ({why})")
    finally:
        container.close()


def _audio_stream(container: Any) -> Any | None:
    """The audio stream FFmpeg would play: the default one, else the first; None when there is none."""
    import av

    streams = list(container.streams.audio)
    if not streams:
        return None
    default = [s for s in streams if int(s.disposition) & int(av.stream.Disposition.default)]
    stream = (default or streams)[0]
    if stream.codec_context is None:
        raise MediaError("cannot decode the audio: no decoder for its codec")
    return stream


def _timeline_origin(container: Any) -> float:
    """Seconds (container clock) of the first video frame; visual moments count from there."""
    videos = list(container.streams.video)
    for s in videos:
        if s.start_time is not None and s.time_base is not None:
            return float(s.start_time * s.time_base)
    return 0.0 if videos else float("nan")  # nan: audio only, use the audio's own start


def _frame_time(frame: Any, origin: float) -> float:
    tb = frame.time_base or Fraction(1, SAMPLE_RATE)
    t = float(frame.pts * tb) if frame.pts is not None else 0.0
    if origin != origin:  # no video stream: the audio's first sample is time 0
        return 0.0
    # Negative when the audio starts before the first video frame (MPEG-TS captures): that sound
    # is still transcribed, and callers drop what ends before the picture starts.
    return t - origin
