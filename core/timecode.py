"""SMPTE timecode with exact rational frame rates: the only place reelseek formats time.

Public API (stable; the desktop and the exports build on it):

- ``Rate(fps: Fraction, drop_frame=False, vfr=False)``: a frame rate. ``Rate.of(value, drop_frame=None)``
  snaps probe values (29.97002997, "30000/1001", Fraction(2997, 100)) to the standard exact rates
  (24000/1001, 24, 25, 30000/1001, 30, 48, 50, 60000/1001, 60, ...). ``rate.nominal`` is the
  integer frame count per timecode second (30 for 29.97), ``rate.label`` e.g. ``"29.97 DF"``,
  ``rate.smpte`` whether SMPTE defines timecode at it (not 10/12/15 fps; those count ``nominal``).
  ``DEFAULT_RATE`` (25) is used for files whose rate is unknown.
- ``format_tc(frame, rate)`` -> ``"HH:MM:SS:FF"`` (``;`` before the frames for drop-frame); frame
  counts wrap past 24 hours (and below zero) like a timecode generator does.
- ``parse_tc(text, rate)`` -> frame count (accepts ``:``, ``;`` or ``.`` separators; raises
  ``ValueError`` for labels a drop-frame count skips, like ``00:01:00;00``).
- ``seconds_to_frames(seconds, rate)`` (nearest frame, exact) and ``frames_to_seconds(frame, rate)``
  (a ``Fraction``); ``frames_per_day(rate)``.
- ``SourceClock(rate, start_frame=0)``: a file's clock. ``clock.tc(seconds)`` is the source
  timecode of a time counted from the file's first frame, ``clock.frame(seconds)`` its absolute
  frame count, ``clock.seconds(tc)`` the way back. ``SourceClock.parse(rate, "01:00:00:00")``
  builds one from a start timecode tag.
- ``format_time(seconds, clock=None, mode="smpte")``: what the results, the player and the
  clipboard show; ``mode="seconds"`` (settings ``timecode_display``) gives ``HH:MM:SS.mmm``.
- The older helpers, unchanged: ``timecode(seconds)`` (``HH:MM:SS.mmm``),
  ``clock(seconds)`` (``0:42``), ``eta_text``.

No float is ever accumulated: a time in seconds becomes a frame count once (rounded to the
nearest frame), and every later step is integer arithmetic on frames.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

DISPLAY_MODES = ("smpte", "seconds")

# Rates a camera or an NLE actually uses; probe values near one of them snap to it exactly.
_INTEGER_RATES = (12, 15, 24, 25, 30, 48, 50, 60, 72, 90, 96, 100, 120, 240)
_NTSC_BASES = (24, 30, 48, 60, 120, 240)  # n * 1000/1001
_DROP_PER_MINUTE = {30: 2, 60: 4, 120: 8}  # frame labels skipped each minute (not each tenth)
# SMPTE ST 12-1 timecode rates (what OpenTimelineIO's to_timecode accepts); 10, 12, 15, 72-240 fps
# and variable rates have no SMPTE form: their labels count round(fps) frames a second.
_SMPTE_RATES = frozenset(
    [Fraction(n) for n in (24, 25, 30, 48, 50, 60)] + [Fraction(n * 1000, 1001) for n in (24, 30, 48, 60)]
)
_TC_RE = re.compile(r"^\s*(-?)(\d{1,2})[:;.](\d{1,2})[:;.](\d{1,2})([:;.,])(\d{1,3})\s*$")


@dataclass(frozen=True)
class Rate:
    """An exact frame rate; ``drop_frame`` only for 29.97/59.94/119.88."""

    fps: Fraction
    drop_frame: bool = False
    vfr: bool = False  # variable frame rate: fps is the average, timecode is approximate

    def __post_init__(self) -> None:
        if self.fps <= 0:
            raise ValueError(f"frame rate must be positive, not {self.fps}")
        if self.drop_frame and not self.can_drop:
            object.__setattr__(self, "drop_frame", False)  # 25 fps has no drop-frame form

    @classmethod
    def of(cls, value: object, drop_frame: bool | None = None, vfr: bool = False) -> Rate:
        """A Rate from a probe value, snapped to the nearest standard rate when close.

        Args:
            value: a Fraction, float, int, ``"30000/1001"``, ``"29.97"`` or a Rate.
            drop_frame: None picks drop-frame only when told; True is ignored for rates
                without a drop-frame form.
            vfr: the file's rate varies.
        """
        if isinstance(value, Rate):
            return cls(value.fps, value.drop_frame if drop_frame is None else drop_frame, vfr or value.vfr)
        fps = snap_rate(_fraction(value))
        return cls(fps, bool(drop_frame), vfr)

    @property
    def nominal(self) -> int:
        """Frames per timecode second (30 for 29.97, 24 for 23.976)."""
        return max(1, round(self.fps))

    @property
    def can_drop(self) -> bool:
        return self.fps.denominator == 1001 and self.nominal in _DROP_PER_MINUTE

    @property
    def smpte(self) -> bool:
        """A rate SMPTE timecode defines (23.976-60); False for 10/12/15 fps, 100 fps, odd averages."""
        return self.fps in _SMPTE_RATES

    @property
    def drop(self) -> int:
        return _DROP_PER_MINUTE[self.nominal] if self.drop_frame else 0

    @property
    def label(self) -> str:
        """``"23.976"``, ``"25"``, ``"29.97 DF"``, ``"59.94 NDF"``, ``"29.97 VFR"``."""
        text = f"{float(self.fps):.3f}".rstrip("0").rstrip(".")
        if self.can_drop:
            text += " DF" if self.drop_frame else " NDF"
        return text + (" VFR" if self.vfr else "")

    def __str__(self) -> str:
        return self.label


DEFAULT_RATE = Rate(Fraction(25))


def _fraction(value: object) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"not a frame rate: {value!r}")
        return Fraction(value)
    text = str(value).strip()
    try:
        f = Fraction(text)  # "30000/1001", "29.97", "25"
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"not a frame rate: {value!r}") from None
    if f <= 0:
        raise ValueError(f"not a frame rate: {value!r}")
    return f


def snap_rate(fps: Fraction) -> Fraction:
    """The standard exact rate within 0.05% of ``fps`` (29.97 -> 30000/1001), else ``fps`` itself."""
    for n in _NTSC_BASES:
        ntsc = Fraction(n * 1000, 1001)
        if abs(fps - ntsc) <= ntsc * Fraction(5, 10000) and abs(fps - n) > abs(fps - ntsc):
            return ntsc
    for n in _INTEGER_RATES:
        if abs(fps - n) <= n * Fraction(5, 10000):
            return Fraction(n)
    return fps.limit_denominator(1001)


def frames_per_day(rate: Rate) -> int:
    """Frame labels in 24 hours of timecode (2 589 408 for 29.97 DF, 2 592 000 for 30 NDF)."""
    per_10min = rate.nominal * 600 - rate.drop * 9
    return per_10min * 6 * 24


def format_tc(frame: int, rate: Rate) -> str:
    """The SMPTE label of a frame count; wraps at 24 hours (and negative counts wrap back)."""
    n = rate.nominal
    frame = int(frame) % frames_per_day(rate)
    if rate.drop:
        d = rate.drop
        per_10min = n * 600 - d * 9
        per_min = n * 60 - d
        tens, rem = divmod(frame, per_10min)
        # Labels 00 and 01 (00-03 at 59.94) are skipped in every minute except each tenth.
        frame += d * 9 * tens + (d * ((rem - d) // per_min) if rem >= d else 0)
    ff = frame % n
    total_s = frame // n
    sep = ";" if rate.drop_frame else ":"
    return f"{total_s // 3600:02d}:{total_s // 60 % 60:02d}:{total_s % 60:02d}{sep}{ff:02d}"


def parse_tc(text: str, rate: Rate) -> int:
    """The frame count of an ``HH:MM:SS:FF`` label at ``rate``.

    A ``;`` (or ``,``) before the frames marks drop-frame; at 29.97/59.94 it is honoured even
    when ``rate`` is non-drop, and ``rate.drop_frame`` counts labels as drop-frame either way.

    Raises:
        ValueError: not a timecode, a field out of range, or a label drop-frame skips.
    """
    m = _TC_RE.match(str(text))
    if not m:
        raise ValueError(f"not a timecode: {text!r} (use HH:MM:SS:FF)")
    neg, hh, mm, ss, sep, ff = m.groups()
    h, mi, s, f = int(hh), int(mm), int(ss), int(ff)
    drop = rate.drop_frame or (sep in ";," and rate.can_drop)
    n = rate.nominal
    if mi > 59 or s > 59 or f >= n:
        raise ValueError(f"timecode {text!r} out of range at {rate.label} fps")
    total = (h * 3600 + mi * 60 + s) * n + f
    if drop:
        d = _DROP_PER_MINUTE[n]
        if s == 0 and f < d and mi % 10 != 0:
            raise ValueError(f"{text!r} does not exist in drop-frame timecode (labels skipped each minute)")
        minutes = h * 60 + mi
        total -= d * (minutes - minutes // 10)
    return -total if neg else total


def seconds_to_frames(seconds: float | Fraction, rate: Rate) -> int:
    """The nearest frame to a time (exact: the float becomes a Fraction once, halves round up)."""
    value = Fraction(seconds) * rate.fps
    return math.floor(value + Fraction(1, 2))


def frames_to_seconds(frame: int, rate: Rate) -> Fraction:
    return Fraction(int(frame)) / rate.fps


@dataclass(frozen=True)
class SourceClock:
    """A file's clock: its rate and the frame count of its start timecode."""

    rate: Rate = DEFAULT_RATE
    start_frame: int = 0

    @classmethod
    def parse(cls, rate: Rate, start_tc: str | None) -> SourceClock:
        """From a start timecode tag; a ``;`` in it turns on drop-frame where the rate has one."""
        if not start_tc:
            return cls(rate, 0)
        if (";" in start_tc or "," in start_tc) and rate.can_drop and not rate.drop_frame:
            rate = Rate(rate.fps, True, rate.vfr)
        return cls(rate, parse_tc(start_tc, rate))

    @property
    def start_tc(self) -> str:
        return format_tc(self.start_frame, self.rate)

    def frame(self, seconds: float | Fraction) -> int:
        """Absolute frame count (start timecode included) of a time from the first frame."""
        return self.start_frame + seconds_to_frames(seconds, self.rate)

    def tc(self, seconds: float | Fraction) -> str:
        return format_tc(self.frame(seconds), self.rate)

    def seconds(self, tc: str) -> Fraction:
        """Seconds from the first frame of a source timecode (labels past midnight count on)."""
        offset = (parse_tc(tc, self.rate) - self.start_frame) % frames_per_day(self.rate)
        return frames_to_seconds(offset, self.rate)


def format_time(seconds: float, clock: SourceClock | None = None, mode: str = "smpte") -> str:
    """A time as the user chose to see it: source SMPTE timecode, or ``HH:MM:SS.mmm``."""
    if mode == "seconds":
        return timecode(seconds)
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    return (clock or SourceClock()).tc(seconds)


def format_range(start: float, end: float, clock: SourceClock | None = None, mode: str = "smpte") -> str:
    return f"{format_time(start, clock, mode)} – {format_time(end, clock, mode)}"


# -- the seconds forms the first version showed (kept: settings timecode_display = "seconds") -----
def timecode(seconds: float) -> str:
    """``HH:MM:SS.mmm`` counted from the file's first frame."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def clock(seconds: float) -> str:
    """Short human duration: ``0:42``, ``12:05``, ``1:02:03``."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    total = round(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def eta_text(seconds: float | None) -> str:
    return "ETA –" if seconds is None else f"ETA {clock(seconds)}"
