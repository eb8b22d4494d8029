"""Time formatting shared by the results, the player and the status bar."""

from __future__ import annotations

import math


def timecode(seconds: float) -> str:
    """``HH:MM:SS.mmm``, the form editors paste into an NLE or a log sheet."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def timecode_range(start: float, end: float) -> str:
    return f"{timecode(start)} – {timecode(end)}"


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
