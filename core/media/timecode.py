"""Source timecode and exact frame rate of a video file, read from its container at probe time.

``SourceTimecode(start, rate, drop_frame, vfr)`` is what the store keeps per file: the start
timecode tag (QuickTime ``tmcd`` track, the ``timecode`` tag of mov/mp4/mxf containers or of any
stream), the exact frame rate as a Fraction (``None`` when unknown) and flags. ``.clock`` gives
the ``SourceClock`` that formats times inside the file; files without a tag start at 00:00:00:00.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..timecode import DEFAULT_RATE, Rate, SourceClock, format_tc, parse_tc, snap_rate

log = logging.getLogger(__name__)
# FFmpeg writes one frame digit below 10 fps' worth of labels ("01:00:00:0" at 10 fps).
_TAG_RE = re.compile(r"^\d{1,2}[:;.]\d{2}[:;.]\d{2}[:;.,]\d{1,3}$")
_TAG_KEYS = ("timecode", "TIMECODE", "com.apple.quicktime.timecode")


@dataclass(frozen=True)
class SourceTimecode:
    """A file's start timecode and exact rate (both optional: unknown stays unknown)."""

    start: str | None = None  # the tag, normalised to HH:MM:SS:FF / HH:MM:SS;FF
    rate: Fraction | None = None
    drop_frame: bool = False
    vfr: bool = False

    @property
    def frame_rate(self) -> Rate:
        """The rate to count frames at (25 when the file did not say)."""
        if self.rate is None:
            return Rate(DEFAULT_RATE.fps, False, self.vfr)
        return Rate(self.rate, self.drop_frame, self.vfr)

    @property
    def clock(self) -> SourceClock:
        rate = self.frame_rate
        if not self.start:
            return SourceClock(rate, 0)
        try:
            return SourceClock.parse(rate, self.start)
        except ValueError:  # a tag that does not fit the rate: count from zero rather than fail
            return SourceClock(rate, 0)

    @property
    def start_tc(self) -> str:
        return self.clock.start_tc

    def to_json(self) -> dict[str, object]:
        return {
            "start_tc": self.start_tc,
            "tagged": self.start is not None,
            "rate": f"{self.rate.numerator}/{self.rate.denominator}" if self.rate else None,
            "rate_label": self.frame_rate.label,
            "drop_frame": self.frame_rate.drop_frame,
            "vfr": self.vfr,
        }


def exact_rate(stream: Any) -> Fraction | None:
    """The stream's frame rate as an exact Fraction, preferring a standard rate.

    average_rate is what the frames average to; r_frame_rate (``base_rate``) and guessed_rate
    are FFmpeg's estimate of the nominal rate. The first that snaps to a standard rate wins
    (a 2997/100 header is 30000/1001); otherwise the average as written.
    """
    candidates: list[Fraction] = []
    for name in ("average_rate", "guessed_rate", "base_rate"):
        try:
            value = getattr(stream, name, None)
            f = Fraction(value) if value else None
        except (TypeError, ValueError, ZeroDivisionError):
            f = None
        if f is not None and Fraction(1, 2) <= f <= 1000:
            candidates.append(f)
    for f in candidates:
        snapped = snap_rate(f)
        if snapped.denominator in (1, 1001):
            return snapped
    return candidates[0].limit_denominator(1001) if candidates else None


def find_timecode_tag(container: Any, video: Any) -> str | None:
    """The first well-formed ``timecode`` tag: the video stream, then data (tmcd) streams, then
    any other stream, then the container."""
    others = [s for s in container.streams if s is not video]
    others.sort(key=lambda s: 0 if s.type == "data" else 1)
    for metadata in [video.metadata, *(s.metadata for s in others), container.metadata]:
        for key in _TAG_KEYS:
            value = str(metadata.get(key, "")).strip()
            if value and _TAG_RE.match(value):
                return value
            if value:
                log.info("ignoring a malformed timecode tag %r", value)
    return None


def read_source_timecode(container: Any, video: Any, *, vfr: bool = False) -> SourceTimecode:
    """Start timecode, exact rate and drop-frame flag of an open PyAV container (never raises:
    a file with odd tags still indexes, counted from 00:00:00:00)."""
    try:
        return _read(container, video, vfr)
    except Exception:  # metadata is optional; a PyAV quirk here must not fail the probe
        log.exception("could not read the timecode tags")
        return SourceTimecode(vfr=vfr)


def _read(container: Any, video: Any, vfr: bool) -> SourceTimecode:
    rate = exact_rate(video)
    tag = find_timecode_tag(container, video)
    drop = bool(tag and (";" in tag or "," in tag))
    if tag is not None:
        tag = tag.replace(",", ";").replace(".", ":")
        r = Rate(rate or DEFAULT_RATE.fps, drop, vfr)
        try:
            tag = format_tc(parse_tc(tag, r), r)  # HH:MM:SS:FF, two frame digits
        except ValueError as e:
            log.info("timecode tag %r does not fit %s fps: %s", tag, r.label, e)
            tag = None
        drop = drop and r.can_drop
    return SourceTimecode(tag, rate, drop, vfr)
