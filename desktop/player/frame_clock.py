"""FrameClock: exact frame arithmetic for the player (libvlc's own clock moves in coarse steps)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from reelseek.core.timecode import DEFAULT_RATE, Rate, SourceClock, format_time


@dataclass(frozen=True)
class FrameClock:
    """Frame numbers of one file: frame ``n`` is on screen from ``n / fps`` seconds on.

    ``source`` gives the file's start timecode for labels; frame arithmetic never uses floats
    beyond the one conversion of a libvlc time into a frame number.
    """

    source: SourceClock = field(default_factory=SourceClock)
    frames: int = 0  # frames in the file; 0 while unknown (no upper clamp)
    gop: int = 0  # frames between keyframes (probed estimate); 0 while unknown

    @classmethod
    def for_media(
        cls, fps: object, duration: float, source: SourceClock | None = None, keyframe_interval: float | None = None
    ) -> FrameClock:
        try:
            rate = Rate.of(fps) if fps else DEFAULT_RATE
        except ValueError:
            rate = DEFAULT_RATE
        if source is None:
            source = SourceClock(rate)
        elif source.rate.fps != rate.fps:
            source = SourceClock(Rate(rate.fps, source.rate.drop_frame), source.start_frame)
        # A duration a hair short of a whole frame (container rounding) still holds that frame.
        frames = math.floor(Fraction(duration) * rate.fps + Fraction(1, 1000)) if duration > 0 else 0
        gop = math.ceil(keyframe_interval * rate.fps) if keyframe_interval and keyframe_interval > 0 else 0
        return cls(source, max(0, frames), gop)

    @property
    def rate(self) -> Rate:
        return self.source.rate

    @property
    def fps(self) -> float:
        return float(self.rate.fps)

    def last(self) -> int:
        """The last frame's number, or a very large one while the length is unknown."""
        return self.frames - 1 if self.frames > 0 else 2**31

    def tail_start(self) -> int:
        """First frame of the file's last stretch that libvlc reads to the end (its last GOP, with
        a frame of slack; two seconds when the GOP is unknown). See PlayerTransport."""
        if not self.frames:
            return 2**31
        gop = self.gop if self.gop > 0 else 2 * self.rate.nominal
        return max(0, self.frames - gop - 1)

    def clamp(self, frame: int) -> int:
        return min(max(0, int(frame)), self.last())

    def frame_at(self, seconds: float) -> int:
        """The frame on screen at ``seconds`` (the last one starting at or before it)."""
        if not math.isfinite(seconds) or seconds <= 0:
            return 0
        return self.clamp(math.floor(Fraction(seconds) * self.rate.fps + Fraction(1, 10_000)))

    def seconds(self, frame: int) -> float:
        """When ``frame`` starts."""
        return float(Fraction(int(frame)) / self.rate.fps)

    def seek_time(self, frame: int) -> float:
        """Half-way through ``frame``: a seek there shows exactly this frame whatever libvlc rounds."""
        return float((Fraction(int(frame)) + Fraction(1, 2)) / self.rate.fps)

    def end_frame(self, seconds: float) -> int:
        """The last frame inside a range that ends (exclusively) at ``seconds``."""
        if seconds <= 0:
            return 0
        return self.clamp(math.ceil(Fraction(seconds) * self.rate.fps - Fraction(1, 10_000)) - 1)

    def label(self, frame: int, mode: str = "smpte") -> str:
        """The frame's source timecode (``HH:MM:SS:FF``), or ``HH:MM:SS.mmm`` in seconds mode."""
        return format_time(self.seconds(frame), self.source, mode)
