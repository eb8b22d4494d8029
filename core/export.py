"""Selects to the edit: moments or collection items -> an OpenTimelineIO timeline -> EDL, FCP7 XML,
FCPXML, .otio or CSV.

API (stable):

- ``ExportClip``: one range of one file (``from_moment(moment, query=...)``, ``from_item(select_item)``).
- ``build_timeline(clips, name="reelseek selects", handles=0, rate=None) -> Planned``: the OTIO
  timeline plus the exact frame plan (``Planned.timeline``, ``Planned.rate``, ``Planned.clips``:
  per clip its Rate, source in/out frames (start timecode included, handles applied and clamped
  to the media), and record in/out frames on the timeline's rate).
- ``export(clips, fmt, path, *, handles=0, name=..., rate=None) -> Planned``: writes atomically;
  ``fmt`` in ``FORMATS`` (``edl``, ``fcp7``, ``fcpxml``, ``otio``, ``csv``); raises ``ExportError``
  with a message a user can act on.
- ``file_url(path)``: ``file://`` URL percent-encoded from the path's raw bytes.
- ``fill_sizes(clips, store)``: the clips with their files' frame sizes from the library (the XML
  formats describe the frame size when it is known).

Each clip keeps its own frame rate; the timeline's rate is the most common one. Where an adapter
gets rates, drop-frame labels, names or URLs wrong, ``export_fixes`` corrects its output (the
evidence is in docs/export.md).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import urllib.parse
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .media.timecode import SourceTimecode
from .store import display_path, path_key
from .timecode import Rate, format_tc, frames_to_seconds, seconds_to_frames

if TYPE_CHECKING:
    from .selects import SelectItem
    from .store import Store
    from .types import Moment

FORMATS = {"edl": ".edl", "fcp7": ".xml", "fcpxml": ".fcpxml", "otio": ".otio", "csv": ".csv"}
CSV_FIELDS = (
    "index", "name", "path", "file_url", "timecode_in", "timecode_out", "in_seconds", "out_seconds",
    "rate", "drop_frame", "start_timecode", "score", "query", "source", "note", "offline",
)  # fmt: skip


class ExportError(Exception):
    """Nothing to export, an unknown format, or the file cannot be written; str() is the message."""


@dataclass(frozen=True)
class ExportClip:
    path: str  # as os.fsdecode gives it (odd bytes surrogate-escaped)
    in_s: float
    out_s: float
    source_tc: SourceTimecode = field(default_factory=SourceTimecode)
    duration: float = 0.0  # of the media, seconds (0: unknown, handles are not clamped at the end)
    score: float | None = None
    query: str = ""
    note: str = ""
    source: str = "visual"
    offline: bool = False
    width: int = 0  # display size, for the XML formats' frame size (0: unknown; see fill_sizes)
    height: int = 0

    @classmethod
    def from_moment(cls, m: Moment, *, query: str = "", note: str = "") -> ExportClip:
        return cls(m.path, m.start, m.end, m.source_tc or SourceTimecode(), m.duration, m.score, query, note,
                   "visual", m.offline)  # fmt: skip

    @classmethod
    def from_item(cls, it: SelectItem) -> ExportClip:
        return cls(it.path, it.in_s, it.out_s, it.source_tc, it.duration, it.score, it.query, it.note, it.source,
                   it.offline)  # fmt: skip

    @property
    def display(self) -> str:
        return display_path(path_key(self.path))

    @property
    def name(self) -> str:
        """The clip name: the file name, printable (undecodable bytes as U+FFFD, no control chars)."""
        return _printable(Path(self.display).name)


@dataclass(frozen=True)
class PlannedClip:
    clip: ExportClip
    rate: Rate
    media_start: int  # frame count of the media's start timecode
    media_frames: int | None  # frames in the media, if known
    src_in: int  # absolute frame counts (start timecode included), out exclusive
    src_out: int
    rec_in: int  # on the timeline's rate, from 0
    rec_out: int
    reel: str
    url: str

    @property
    def tc_in(self) -> str:
        return format_tc(self.src_in, self.rate)

    @property
    def tc_out(self) -> str:
        return format_tc(self.src_out, self.rate)


@dataclass
class Planned:
    timeline: Any  # opentimelineio.schema.Timeline
    rate: Rate
    clips: list[PlannedClip]
    name: str


def fill_sizes(clips: Sequence[ExportClip], store: Store) -> list[ExportClip]:
    """The clips with the frame size the library knows for their files (FCPXML/FCP7 formats)."""
    out = []
    for c in clips:
        row = store.file_by_path(c.path) if not c.width else None
        out.append(replace(c, width=row.width, height=row.height) if row is not None else c)
    return out


def file_url(path: str | bytes) -> str:
    """A file:// URL percent-encoded from the raw bytes (non-UTF-8 names survive, spaces are %20)."""
    raw = path if isinstance(path, bytes) else path_key(path)
    if os.name == "nt":  # pragma: no cover - drive letters and backslashes
        return Path(os.fsdecode(raw)).absolute().as_uri()
    raw = os.path.abspath(raw)
    return "file://" + urllib.parse.quote(raw, safe=b"/")


def reel_name(name: str, used: set[str]) -> str:
    """An 8-character CMX reel name (A-Z, 0-9, _), unique within one export."""
    base = re.sub(r"[^A-Za-z0-9_]", "", Path(name).stem.replace(" ", "_")).upper()[:8] or "AX"
    reel, n = base, 1
    while reel in used:
        n += 1
        suffix = str(n)
        reel = base[: 8 - len(suffix)] + suffix
    used.add(reel)
    return reel


def timeline_rate(clips: Sequence[ExportClip]) -> Rate:
    """The most common clip rate (first seen wins a tie)."""
    counts = Counter((c.source_tc.frame_rate.fps, c.source_tc.frame_rate.drop_frame) for c in clips)
    fps, drop = counts.most_common(1)[0][0]  # ties keep the first clip's rate (Counter is ordered)
    return Rate(fps, drop)


def plan(clips: Sequence[ExportClip], handles: int = 0, rate: Rate | None = None) -> tuple[Rate, list[PlannedClip]]:
    """Frame-exact source and record ranges; handles clamp at the media's first and last frame."""
    if not clips:
        raise ExportError("nothing to export: the selection or collection is empty")
    if handles < 0:
        raise ExportError("handles must be 0 or more frames")
    trate = rate or timeline_rate(clips)
    out: list[PlannedClip] = []
    used: set[str] = set()
    rec = 0
    for c in clips:
        clock = c.source_tc.clock
        r = clock.rate
        lo = max(0, seconds_to_frames(c.in_s, r))
        hi = max(lo + 1, seconds_to_frames(c.out_s, r))
        total = seconds_to_frames(c.duration, r) if c.duration > 0 else None
        lo = max(0, lo - handles)
        hi = hi + handles if total is None else max(lo + 1, min(total, hi + handles))
        # The record side counts the clip's real duration in timeline frames (rounded, at least 1).
        length = max(1, seconds_to_frames(frames_to_seconds(hi - lo, r), trate))
        out.append(
            PlannedClip(
                c,
                r,
                clock.start_frame,
                total,
                clock.start_frame + lo,
                clock.start_frame + hi,
                rec,
                rec + length,
                reel_name(c.name, used),
                file_url(c.path),
            )
        )
        rec += length
    return trate, out


def build_timeline(
    clips: Sequence[ExportClip], name: str = "reelseek selects", handles: int = 0, rate: Rate | None = None
) -> Planned:
    """An OpenTimelineIO timeline: one video track, the clips end to end, each at its own rate."""
    import opentimelineio as otio

    trate, planned = plan(clips, handles, rate)
    tl = otio.schema.Timeline(name=_printable(name) or "reelseek selects")
    tl.global_start_time = otio.opentime.RationalTime(0, float(trate.fps))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    tl.tracks.append(track)
    for p in planned:
        fps = float(p.rate.fps)
        available = None
        if p.media_frames:
            available = otio.opentime.TimeRange(
                otio.opentime.RationalTime(p.media_start, fps), otio.opentime.RationalTime(p.media_frames, fps)
            )
        ref = otio.schema.ExternalReference(target_url=p.url, available_range=available)
        ref.name = p.clip.name
        clip = otio.schema.Clip(
            name=p.clip.name,
            media_reference=ref,
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(p.src_in, fps), otio.opentime.RationalTime(p.src_out - p.src_in, fps)
            ),
        )
        c = p.clip
        clip.metadata["cmx_3600"] = {"reel": p.reel}
        clip.metadata["reelseek"] = {
            "path": c.display,
            "file_url": p.url,
            "rate": f"{p.rate.fps.numerator}/{p.rate.fps.denominator}",
            "drop_frame": p.rate.drop_frame,
            "vfr": p.rate.vfr,
            "start_timecode": format_tc(p.media_start, p.rate),
            "timecode_in": p.tc_in,
            "timecode_out": p.tc_out,
            "in_seconds": c.in_s,
            "out_seconds": c.out_s,
            "score": c.score,
            "query": c.query,
            "note": c.note,
            "source": c.source,
            "offline": c.offline,
        }
        track.append(clip)
    return Planned(tl, trate, planned, tl.name)


def render(planned: Planned, fmt: str) -> str:
    """The file's text for one format (adapters' output with our fixes applied)."""
    import opentimelineio as otio

    from . import export_fixes

    if fmt == "csv":
        return _csv(planned)
    if fmt == "otio":
        return str(otio.adapters.write_to_string(planned.timeline, "otio_json"))
    if fmt == "edl":
        tl = export_fixes.adapter_timeline(planned, relabel=True)
        rate = float(planned.rate.fps) if planned.rate.smpte else float(export_fixes.STAND_IN_FPS)
        text = otio.adapters.write_to_string(tl, "cmx_3600", rate=rate, style="avid", reelname_len=8)
        return export_fixes.fix_edl(str(text), planned)
    if fmt == "fcp7":
        tl = export_fixes.adapter_timeline(planned, relabel=True)
        return export_fixes.fix_fcp7(str(otio.adapters.write_to_string(tl, "fcp_xml")), planned)
    if fmt == "fcpxml":
        # The adapter finds clips by name inside XPath predicates: a ' in a name breaks it. Write
        # with neutral names; fix_fcpxml puts the real (escaped) names back.
        tl = export_fixes.adapter_timeline(planned, relabel=False)
        for i, clip in enumerate(tl.find_clips()):
            clip.name = f"reelseek-clip-{i}"
        return export_fixes.fix_fcpxml(str(otio.adapters.write_to_string(tl, "fcpx_xml")), planned)
    raise ExportError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")


def export(
    clips: Sequence[ExportClip],
    fmt: str,
    path: str | os.PathLike[str],
    *,
    handles: int = 0,
    name: str = "reelseek selects",
    rate: Rate | None = None,
) -> Planned:
    """Write ``clips`` as ``fmt`` to ``path`` (atomically: a failed export leaves no half file)."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    planned = build_timeline(clips, name, handles, rate)
    text = render(planned, fmt)
    target = Path(path)
    tmp = target.with_name(f".{target.name}.part")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, target)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ExportError(f"cannot write {target}: {e.strerror or e}") from None
    return planned


def _csv(planned: Planned) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for i, p in enumerate(planned.clips, 1):
        c = p.clip
        w.writerow(
            {
                "index": i,
                "name": c.name,
                "path": c.display,
                "file_url": p.url,
                "timecode_in": p.tc_in,
                "timecode_out": p.tc_out,
                "in_seconds": f"{float(frames_to_seconds(p.src_in - p.media_start, p.rate)):.6f}",
                "out_seconds": f"{float(frames_to_seconds(p.src_out - p.media_start, p.rate)):.6f}",
                "rate": f"{p.rate.fps.numerator}/{p.rate.fps.denominator}",
                "drop_frame": int(p.rate.drop_frame),
                "start_timecode": format_tc(p.media_start, p.rate),
                "score": "" if c.score is None else f"{c.score:.5f}",
                "query": c.query,
                "source": c.source,
                "note": c.note,
                "offline": int(c.offline),
            }
        )
    return buf.getvalue()


def _printable(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()


__all__ = ["FORMATS", "ExportClip", "ExportError", "Planned", "PlannedClip", "build_timeline", "export",
           "file_url", "fill_sizes", "plan", "render", "timeline_rate"]  # fmt: skip
