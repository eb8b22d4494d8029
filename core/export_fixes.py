"""Corrections to what the OpenTimelineIO adapters write (evidence and reasons: docs/export.md).

Each fix takes the adapter's text and the exact frame plan (``export.Planned``) and rewrites only
the fields the adapter gets wrong: timecodes of clips whose rate differs from the timeline's,
drop-frame labels, empty FCPXML frame durations, names shown percent-encoded, record positions
off the timeline's frame grid.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .timecode import Rate, format_tc

if TYPE_CHECKING:
    from .export import Planned

_EVENT = re.compile(r"^(\d{3,})\s+(\S+)\s+(V|A\S*)\s+C\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$")


# A rate OpenTimelineIO's writers can label; clips at other rates are handed to them at this rate
# with the same frame counts (the fixes below rewrite every rate and timecode from the plan).
STAND_IN_FPS = 24


def adapter_timeline(planned: Planned, *, relabel: bool) -> Any:
    """A copy of the timeline the adapters can write without raising.

    - Media of unknown duration (0, never probed, offline) gets an available range from its start
      timecode to the last out point its clips use: the FCP writers read ``available_range``.
    - ``relabel``: the adapters call ``to_timecode``, which refuses non-SMPTE rates (10, 12, 15 fps,
      100 fps, variable averages); such times go to them as the same frame counts at
      ``STAND_IN_FPS``. Only for writers whose fix rewrites every rate, frame count and timecode.
    """
    import opentimelineio as otio

    ot = otio.opentime

    def fps_of(rate: Rate) -> float:
        return float(rate.fps) if rate.smpte or not relabel else float(STAND_IN_FPS)

    known = media_frames(planned)
    tl = planned.timeline.deepcopy()
    tl.global_start_time = ot.RationalTime(0, fps_of(planned.rate))
    for clip, p in zip(tl.find_clips(), planned.clips, strict=True):
        fps = fps_of(p.rate)
        frames = known[p.url]
        clip.media_reference.available_range = ot.TimeRange(
            ot.RationalTime(p.media_start, fps), ot.RationalTime(frames, fps)
        )
        clip.source_range = ot.TimeRange(ot.RationalTime(p.src_in, fps), ot.RationalTime(p.src_out - p.src_in, fps))
    return tl


def media_frames(planned: Planned) -> dict[str, int]:
    """Per file URL, its frames: the probed count, or when unknown (0) up to the last out point
    any clip of it uses (one file element describes the media for all its clips)."""
    out: dict[str, int] = {}
    for p in planned.clips:
        out[p.url] = p.media_frames or max(out.get(p.url, 0), p.src_out - p.media_start)
    return out


def _fcm(rate: Rate) -> str:
    return "FCM: DROP FRAME" if rate.drop_frame else "FCM: NON-DROP FRAME"


def fix_edl(text: str, planned: Planned) -> str:
    """CMX 3600: the adapter writes every source timecode at the EDL's one rate and decides
    drop-frame from that rate, so a 25 fps clip in a 29.97 EDL gets ``;`` labels of the wrong
    frames. Each event gets its own clip's source timecode (its rate, its drop-frame mode, an
    ``FCM`` line when the mode changes) and record timecodes on the timeline's frame grid. Rates
    SMPTE does not define (10, 12, 15 fps, variable) count ``rate.nominal`` frames a second, as the
    file's own QuickTime timecode track does, and say so in a comment."""
    out: list[str] = []
    events = iter(planned.clips)
    mode: bool | None = None
    seen = 0
    trate = planned.rate
    for line in text.splitlines():
        m = _EVENT.match(line)
        if not m:
            out.append(line)
            continue
        p = next(events, None)
        if p is None:
            raise ValueError("the EDL adapter wrote more events than clips")
        seen += 1
        if p.rate.drop_frame != mode:
            mode = p.rate.drop_frame
            out.append(_fcm(p.rate))
        rec_in = format_tc(p.rec_in, trate)
        rec_out = format_tc(p.rec_out, trate)
        out.append(f"{seen:03d}  {p.reel:8} V     C        {p.tc_in} {p.tc_out} {rec_in} {rec_out}")
        if p.rate.fps != trate.fps or not p.rate.smpte:
            out.append(f"* SOURCE FRAME RATE: {p.rate.label}")
    if seen != len(planned.clips):
        raise ValueError(f"the EDL adapter wrote {seen} events for {len(planned.clips)} clips")
    return "\n".join(out).rstrip("\n") + "\n"


def _set(parent: ET.Element, tag: str, text: str) -> ET.Element:
    el = parent.find(tag)
    if el is None:
        el = ET.SubElement(parent, tag)
    el.text = text
    return el


def _rate_el(parent: ET.Element, rate: Rate) -> None:
    """xmeml rate: timebase is the nominal count, ntsc TRUE for the x/1001 rates."""
    for extra in parent.findall("rate")[1:]:
        parent.remove(extra)  # the adapter writes <rate> twice inside each clipitem
    el = parent.find("rate")
    if el is None:
        el = ET.SubElement(parent, "rate")
    _set(el, "timebase", str(rate.nominal))
    _set(el, "ntsc", "TRUE" if rate.fps.denominator == 1001 else "FALSE")


def _samples(parent: ET.Element, rate: Rate, w: int, h: int, *, sequence: bool = False) -> None:
    """media/video/(format/)samplecharacteristics with rate and frame size (Premiere reads these)."""
    if w <= 0 or h <= 0:
        return
    media = parent.find("media")
    if media is None:
        media = ET.SubElement(parent, "media")
    video = media.find("video")
    if video is None:
        video = ET.SubElement(media, "video")
    holder = video
    if sequence:
        fmt = video.find("format")
        if fmt is None:
            fmt = ET.Element("format")
            video.insert(0, fmt)
        holder = fmt
    sc = holder.find("samplecharacteristics")
    if sc is None:
        sc = ET.SubElement(holder, "samplecharacteristics")
    _rate_el(sc, rate)
    _set(sc, "width", str(w))
    _set(sc, "height", str(h))


def fix_fcp7(text: str, planned: Planned) -> str:
    """FCP7 xmeml (Premiere): the adapter labels every 29.97 start timecode non-drop (its drop_frame
    argument is ignored), shows file names percent-encoded, writes each clip's rate twice and a
    clipitem duration that is the used range, not the media. Set those from the plan."""
    root = ET.fromstring(text)
    seq = root.find(".//sequence")
    if seq is not None:
        _rate_el(seq, planned.rate)
        if planned.clips:
            _set(seq, "duration", str(planned.clips[-1].rec_out))
        stc = seq.find("timecode")
        if stc is not None:
            _rate_el(stc, planned.rate)
            _set(stc, "string", format_tc(0, planned.rate))
            _set(stc, "displayformat", "DF" if planned.rate.drop_frame else "NDF")
    if seq is not None and planned.clips:
        first = next((p for p in planned.clips if p.rate.fps == planned.rate.fps), planned.clips[0])
        _samples(seq, planned.rate, first.clip.width, first.clip.height, sequence=True)
    known = media_frames(planned)
    items = root.findall(".//sequence/media/video/track/clipitem")
    if len(items) != len(planned.clips):
        raise ValueError(f"the FCP XML adapter wrote {len(items)} clip items for {len(planned.clips)} clips")
    for item, p in zip(items, planned.clips, strict=True):
        _rate_el(item, p.rate)
        _set(item, "name", p.clip.name)
        frames = known[p.url]
        _set(item, "duration", str(frames))
        _set(item, "start", str(p.rec_in))
        _set(item, "end", str(p.rec_out))
        _set(item, "in", str(p.src_in - p.media_start))
        _set(item, "out", str(p.src_out - p.media_start))
        f = item.find("file")
        if f is None or len(f) == 0:
            continue  # a back-reference to a file described earlier
        _set(f, "name", p.clip.name)
        _set(f, "pathurl", p.url)
        _rate_el(f, p.rate)
        _set(f, "duration", str(frames))
        tc = f.find("timecode")
        if tc is None:
            tc = ET.SubElement(f, "timecode")
        _rate_el(tc, p.rate)
        _set(tc, "string", format_tc(p.media_start, p.rate))
        _set(tc, "frame", str(p.media_start))
        _set(tc, "displayformat", "DF" if p.rate.drop_frame else "NDF")
        reel = tc.find("reel")
        if reel is None:
            reel = ET.SubElement(tc, "reel")
        _set(reel, "name", p.reel)
        _samples(f, p.rate, p.clip.width, p.clip.height)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n' + body + "\n"


def _t(frames: int, rate: Rate) -> str:
    """An FCPXML time: a rational number of seconds on the rate's frame grid."""
    value = Fraction(frames) / rate.fps
    if value == 0:
        return "0s"
    return f"{value.numerator}s" if value.denominator == 1 else f"{value.numerator}/{value.denominator}s"


def _frame_duration(rate: Rate) -> str:
    d = 1 / rate.fps
    return f"{d.numerator}/{d.denominator}s"


def fix_fcpxml(text: str, planned: Planned) -> str:
    """FCPXML (Final Cut Pro, DaVinci Resolve): the adapter looks frame durations up by int(rate),
    so 23.976/29.97/59.94 clips get a format with ``frameDuration=""``; spine clips hold their
    video at offset 0 while their ``start`` is the source timecode, and mixed-rate offsets fall
    off the sequence's frame grid. Rewrite formats, assets and the spine from the plan as
    ``asset-clip`` elements (what Final Cut itself writes for a plain clip)."""
    root = ET.fromstring(text)
    res = root.find("resources")
    if res is None:
        raise ValueError("the FCPXML adapter wrote no resources")
    for f in res.findall("format"):
        res.remove(f)
    formats: dict[tuple[Fraction, int, int], str] = {}

    def fmt_id(rate: Rate, w: int, h: int) -> str:
        key = (rate.fps, w, h)
        if key not in formats:
            fid = f"fmt{len(formats) + 1}"
            formats[key] = fid
            attrs = {"id": fid, "frameDuration": _frame_duration(rate)}
            if w > 0 and h > 0:
                attrs.update(width=str(w), height=str(h))
            res.insert(len(formats) - 1, ET.Element("format", attrs))
        return formats[key]

    # The sequence takes the size of the first clip at the timeline's rate.
    first = next((p for p in planned.clips if p.rate.fps == planned.rate.fps), planned.clips[0])
    tfmt = fmt_id(planned.rate, first.clip.width, first.clip.height)
    assets = {a.get("src"): a for a in res.findall("asset")}
    known = media_frames(planned)
    for p in planned.clips:
        a = assets.get(p.url)
        if a is None:
            raise ValueError(f"the FCPXML adapter wrote no asset for {p.url}")
        a.set("name", p.clip.name)
        a.set("format", fmt_id(p.rate, p.clip.width, p.clip.height))
        a.set("start", _t(p.media_start, p.rate))
        a.set("duration", _t(known[p.url], p.rate))
        a.set("hasVideo", "1")
    by_ref = {a.get("id"): a for a in assets.values()}
    for top in root.findall("asset-clip"):
        a = by_ref.get(top.get("ref"))
        if a is not None:
            top.set("name", a.get("name", ""))
            top.set("format", a.get("format", tfmt))
            top.set("duration", a.get("duration", "0s"))
            top.set("start", a.get("start", "0s"))
    seq = root.find("./project/sequence")
    spine = seq.find("spine") if seq is not None else None
    if seq is None or spine is None:
        raise ValueError("the FCPXML adapter wrote no sequence")
    seq.set("format", tfmt)
    seq.set("duration", _t(planned.clips[-1].rec_out, planned.rate))
    seq.set("tcStart", "0s")
    seq.set("tcFormat", "DF" if planned.rate.drop_frame else "NDF")
    for child in list(spine):
        spine.remove(child)
    for p in planned.clips:
        a = assets[p.url]
        # duration on the sequence's frame grid; start on the clip's own (source timecode in).
        ET.SubElement(
            spine,
            "asset-clip",
            {
                "ref": a.get("id", ""),
                "name": p.clip.name,
                "offset": _t(p.rec_in, planned.rate),
                "duration": _t(p.rec_out - p.rec_in, planned.rate),
                "start": _t(p.src_in, p.rate),
                "format": fmt_id(p.rate, p.clip.width, p.clip.height),
                "tcFormat": "DF" if p.rate.drop_frame else "NDF",
            },
        )
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n' + body + "\n"
