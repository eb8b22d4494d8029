"""Keyframes first, then exact frames only where the picture changes: sparse sampling with sharp edges.

Sampling one frame per keyframe (2 s GOPs) decodes ~4x less than strict 1 frame/s, but a shot
change then lands anywhere inside a 2 s gap and moments found by stage 2 are off by up to a
second at each edge (session 2 measured mean IoU -0.104). This module closes the gaps that
matter: after a file's keyframe samples are embedded, every gap between two consecutive
samples whose vectors differ like a shot change (cosine below the segmenter's cut threshold)
is filled with the 1 frame/s targets strict sampling would have taken there. Gaps inside a
shot stay sparse: nothing there moves a moment's edge. Where an encoder put a keyframe on the
cut itself (scene detection), the gap before it is too short for a strict frame, so the frame
just before that keyframe is decoded instead ("pin"): the old shot's last frame puts the edge
on the cut (docs/benchmarks.md, issue 11 round 4).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .media.decode import SampledFrame
    from .media.probing import ProbeInfo

log = logging.getLogger(__name__)

PIN_MODES = ("off", "bare", "always")


def applies(info: ProbeInfo, every: float, max_every: float | None) -> bool:
    """True when this file is sampled sparser than ``every`` (one frame per keyframe), so its
    picture changes need refining; a file sampled strictly already has every frame it needs
    (and a pinned frame there would cost a decode into a possibly long GOP for nothing)."""
    from .media.strategy import effective_every

    return max_every is not None and effective_every(info, every, max_every) > every


def edge_targets(
    times: Sequence[float],
    vectors: np.ndarray,
    every: float,
    threshold: float,
    *,
    frame_dur: float | None = None,
    pin: str = "off",
    dense: bool = False,
) -> list[float]:
    """The times to decode inside gaps that cross a picture change.

    Args:
        times: sample times, increasing.
        vectors: (n, dim) L2-normalised frame vectors in the same order.
        every: the strict sampling interval.
        threshold: cosine between neighbours below which the gap is treated as an edge.
        frame_dur: one frame's duration (needed by ``pin`` and ``dense``; 1/25 s when None).
        pin: "bare": also the frame just before the gap's later sample when no strict-grid time
            falls inside the gap; "always": in every such gap; "off": never. Encoders with scene
            detection put a keyframe on the cut itself, so keyframe sampling lands on the new
            shot's first frame, the gap before it is too short for a strict frame, and the
            midpoint cell edge falls up to half a gap early; the frame before that keyframe is
            the old shot's last one and puts the edge on the cut. A gap that got a strict frame
            is already as sharp as strict sampling ("bare" leaves it).
        dense: every strict-grid time inside the gap, however near its ends (not only those at
            least ``every / 2`` away), so a cut's neighbourhood is at least as dense as strict's.

    Returns:
        Increasing, distinct times strictly inside the gaps.
    """
    if pin not in PIN_MODES:
        raise ValueError(f"pin must be one of {PIN_MODES}, not {pin!r}")
    t = np.asarray(times, dtype=np.float64)
    if len(t) < 2:
        return []
    fd = frame_dur if frame_dur and frame_dur > 0 else 1.0 / 25.0
    sims = np.einsum("ij,ij->i", vectors[:-1], vectors[1:])
    out: list[float] = []
    for i in np.flatnonzero(sims < threshold):
        lo, hi = float(t[i]), float(t[i + 1])
        gap: list[float] = []
        if dense or hi - lo > 1.5 * every:  # else already as dense as strict sampling
            margin = 0.75 * fd if dense else every / 2
            k = int(np.floor(lo / every)) + 1
            while k * every < hi:
                target = k * every
                if target - lo >= margin and hi - target >= margin:
                    gap.append(target)
                k += 1
        wants_pin = pin == "always" or (pin == "bare" and not gap)
        if wants_pin and hi - lo > 1.5 * fd and all(abs(hi - fd - g) > fd / 2 for g in gap):
            gap.append(hi - fd)
        out.extend(sorted(gap))
    return out


def sample_at(
    path: Path,
    info: ProbeInfo,
    targets: Sequence[float],
    *,
    size: int,
    thumb_width: int | None,
    cancel: threading.Event | None = None,
    threads: int = 2,
) -> list[SampledFrame]:
    """Decode the frame nearest each target time: seek to the keyframe before it, decode forward.

    Consecutive targets in one GOP share the decoding (no second seek). Frames decoded before a
    target that nothing refers to are skipped (``NONREF``), as strict sampling does.

    Raises:
        MediaError: the file cannot be opened (a decoding failure mid-way just ends the list).
    """
    import av

    from .media.decode import SampledFrame
    from .media.io import FrameConverter, configure_decoder, open_input, stream_sar, video_stream

    out: list[SampledFrame] = []
    if not targets:
        return out
    container = open_input(path)
    try:
        stream = video_stream(container)
        for other in container.streams:
            if other.index != stream.index:
                other.discard = av.stream.Discard.all
        configure_decoder(stream, threads=threads, thread_type="SLICE")
        conv = FrameConverter(info.rotation, stream_sar(stream))
        tb = float(stream.time_base) if stream.time_base else 1 / 90000
        origin = stream.start_time if stream.start_time is not None else 0
        frame_dur = 1.0 / info.fps if info.fps else 1.0 / 25.0
        gop = info.keyframe_interval or 2.0
        ctx = stream.codec_context
        pending = sorted(targets)
        frames: Any = None
        last_t = float("inf")
        while pending:
            if cancel is not None and cancel.is_set():
                break
            target = pending[0]
            if frames is None or target <= last_t or target - last_t > gop:
                container.seek(origin + int(target / tb), stream=stream, backward=True, any_frame=False)
                ctx.flush_buffers()
                frames, last_t = _decode(container, stream, target, tb, origin, frame_dur), float("-inf")
            prev: tuple[float, Any] | None = None
            got = None
            try:
                for t, frame in frames:
                    last_t = t
                    if t >= target:
                        got = (t, frame) if prev is None or t - target <= target - prev[0] else prev
                        break
                    prev = (t, frame)
                else:
                    got, frames = prev, None
            except (av.error.FFmpegError, OSError) as exc:
                log.info("%s: edge frame at %.1f s not decoded: %s", path, target, exc)
                got, frames = None, None
            pending.pop(0)
            if got is not None and (not out or got[0] > out[-1].t):
                pixels, thumb = conv.model_input(got[1], size, thumb_width)
                out.append(SampledFrame(round(got[0], 6), pixels, thumb))
            ctx.skip_frame = "DEFAULT"
    finally:
        container.close()
    return out


def _decode(container: Any, stream: Any, target: float, tb: float, origin: int, frame_dur: float) -> Any:
    """(time, frame) in presentation order from the current position, skipping unneeded B-frames."""
    ctx = stream.codec_context
    for packet in container.demux(stream):
        pts = packet.pts if packet.pts is not None else packet.dts
        t = None if pts is None else (pts - origin) * tb
        early = t is not None and t < target - 1.5 * frame_dur and not packet.is_keyframe
        ctx.skip_frame = "NONREF" if early else "DEFAULT"
        for frame in ctx.decode(packet):
            fp = frame.pts if frame.pts is not None else frame.dts
            if fp is not None:
                yield (fp - origin) * tb, frame


def refine_edges(
    path: Path | str,
    info: ProbeInfo,
    times: list[float],
    vectors: list[np.ndarray],
    thumbs: list[bytes | None],
    *,
    encode: Callable[[np.ndarray], np.ndarray],
    jpeg: Callable[[np.ndarray], bytes],
    every: float,
    threshold: float,
    size: int,
    thumb_width: int | None,
    cancel: threading.Event | None = None,
    pin: str = "off",
    dense: bool = False,
) -> int:
    """Add strict-grid frames inside the gaps that cross a picture change; returns how many.

    ``times``/``vectors``/``thumbs`` are one file's embedded samples (any order); new frames are
    appended to them. Any failure leaves them as they were (the keyframe samples are complete
    coverage on their own), so a refinement can only add frames, never lose a file.
    """
    from .media.io import MediaError

    if len(times) < 2:
        return 0
    order = np.argsort(np.asarray(times))
    t_sorted = [times[i] for i in order]
    v_sorted = np.stack([vectors[i] for i in order]).astype(np.float32)
    frame_dur = 1.0 / info.fps if info.fps else None
    wanted = edge_targets(t_sorted, v_sorted, every, threshold, frame_dur=frame_dur, pin=pin, dense=dense)
    if not wanted:
        return 0
    try:
        frames = sample_at(Path(path), info, wanted, size=size, thumb_width=thumb_width, cancel=cancel)
    except MediaError as exc:
        log.info("%s: edges not refined: %s", path, exc)
        return 0
    have = set(t_sorted)
    frames = [f for f in frames if f.t not in have]
    if not frames:
        return 0
    new_vecs = encode(np.stack([f.pixels for f in frames]))
    for f, v in zip(frames, new_vecs, strict=True):
        times.append(f.t)
        vectors.append(v)
        thumbs.append(jpeg(f.thumb) if f.thumb is not None else None)
    return len(frames)
