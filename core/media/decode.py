"""Decoding one packet at a time and picking, for each sampling target, the nearest decoded frame."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .io import MediaError, av_error_text

# Decoding a corrupt file gives up after this many failed packets (never hang, never spin).
MAX_DECODE_ERRORS = 48


@dataclass(frozen=True)
class SampledFrame:
    """One sampled frame, ready for the image encoder.

    Attributes:
        t: presentation time in seconds from the start of the video stream.
        pixels: (size, size, 3) uint8 RGB, short side scaled to ``size``, centre-cropped,
            rotation and pixel aspect ratio applied.
        thumb: (h, thumb_width, 3) uint8 RGB of the whole frame as displayed, or None.
    """

    t: float
    pixels: np.ndarray
    thumb: np.ndarray | None


class TruncatedMediaError(MediaError):
    """The file stopped decoding part-way; the frames before ``stopped_at`` were yielded."""

    def __init__(self, message: str, stopped_at: float, duration: float) -> None:
        super().__init__(message)
        self.stopped_at = stopped_at
        self.duration = duration

    @property
    def fraction(self) -> float:
        """Share of the file that decoded (0..1)."""
        return min(1.0, self.stopped_at / self.duration) if self.duration > 0 else 0.0


class TooManyErrors(Exception):
    pass


class Picker:
    """For each target k*every, emits the nearest decoded frame; frames arrive in increasing time."""

    def __init__(self, every: float, duration: float) -> None:
        self.every = every
        self.duration = duration
        self.k = 0
        self.prev: tuple[float, Any] | None = None
        self.prev_emitted = False
        self.last_emitted = -math.inf

    @property
    def target(self) -> float:
        return self.k * self.every

    def _emit(self, item: tuple[float, Any]) -> tuple[float, Any]:
        self.last_emitted = item[0]
        return item

    def offer(self, t: float, frame: Any) -> Iterator[tuple[float, Any]]:
        if self.prev is not None and t <= self.prev[0]:
            return  # out of order or a duplicate after a seek: the earlier frame already counted
        cur_emitted = False
        while t >= self.target:
            target = self.target
            prev_nearer = self.prev is not None and target - self.prev[0] <= t - target
            if prev_nearer:
                if not self.prev_emitted:
                    assert self.prev is not None
                    yield self._emit(self.prev)
                    self.prev_emitted = True
            elif not cur_emitted:
                yield self._emit((t, frame))
                cur_emitted = True
                self.prev, self.prev_emitted = (t, frame), True
            self.k += 1
        if not cur_emitted:
            self.prev, self.prev_emitted = (t, frame), False

    def finish(self) -> Iterator[tuple[float, Any]]:
        """After the last frame: it counts if a target before the end is near it, or if the
        samples so far end more than `every` before the end of the file."""
        if self.prev is None or self.prev_emitted:
            return
        t = self.prev[0]
        end = max(self.duration, t)
        if (self.target < end and self.target - t <= self.every) or self.last_emitted < end - self.every:
            yield self._emit(self.prev)
            self.prev_emitted = True


class Decoder:
    """Sends chosen packets to the decoder, counts failures and feeds the picker."""

    def __init__(self, stream: Any, picker: Picker, tb: float, origin: int, frame_dur: float) -> None:
        self.stream = stream
        self.ctx = stream.codec_context
        self.picker = picker
        self.tb = tb
        self.origin = origin
        self.frame_dur = frame_dur
        self.errors = 0
        self.frames = 0
        self.last_t = -math.inf

    def frame_time(self, frame: Any) -> float:
        pts = frame.pts if frame.pts is not None else frame.dts
        if pts is None:  # no timestamps at all: count frames at the nominal rate
            return self.last_t + self.frame_dur if self.frames else 0.0
        t: float = (pts - self.origin) * self.tb
        return t

    def send(self, packet: Any | None, skip: str = "DEFAULT") -> Iterator[tuple[float, Any]]:
        import av

        if packet is not None and self.ctx.skip_frame != skip:
            self.ctx.skip_frame = skip
        try:
            frames = self.ctx.decode(packet)
        except (av.error.EOFError, av.error.BlockingIOError):
            frames = []
        except (av.error.FFmpegError, ValueError) as exc:
            if isinstance(exc, av.error.DecoderNotFoundError | av.error.PatchWelcomeError):
                raise MediaError(av_error_text(exc, when="cannot decode")) from None
            self.errors += 1
            if self.errors > MAX_DECODE_ERRORS:
                raise TooManyErrors from None
            frames = []
        for frame in frames:
            t = self.frame_time(frame)
            self.frames += 1
            self.last_t = max(self.last_t, t)
            yield from self.picker.offer(t, frame)

    def drain(self) -> Iterator[tuple[float, Any]]:
        yield from self.send(None)
