"""Frame sampling for reelseek.core.media: keyframe, GOP-aware sequential and seek strategies.

All three strategies share two pieces:

* a *planner* that decides, packet by packet, what the decoder must see. It buffers one GOP
  (keyframe to keyframe) of demuxed packets, so it knows where the next keyframe is before it
  decodes anything. A target time close enough to a keyframe is served by that keyframe
  alone; a target in the middle of a GOP is served by decoding from the keyframe up to it
  (skipping non-reference frames) and the rest of the GOP is never decoded.
* a *picker* that takes whatever frames come out of the decoder (in presentation order, with
  their true timestamps) and emits, for each target ``k * every``, the nearest one, each frame
  at most once. Reported times are always the decoded frame's own pts, so they are exact even
  when the frame is not exactly on the target grid.

See docs/media-notes.md for the measured speeds behind the choice of strategy.
"""

from __future__ import annotations

import errno
import math
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .decode import Decoder, Picker, SampledFrame, TooManyErrors, TruncatedMediaError
from .io import (
    FrameConverter,
    MediaError,
    av_error_text,
    configure_decoder,
    os_error_text,
    stream_sar,
    video_stream,
)

if TYPE_CHECKING:
    from .probing import ProbeInfo

STRATEGIES = ("keyframes", "sequential", "seek")

# A target within this fraction of `every` from a keyframe is served by the keyframe alone.
KEYFRAME_TOLERANCE = {"keyframes": 0.75, "sequential": 0.2, "seek": 0.0}
# One GOP is buffered before decoding; past these bounds it is decoded without look-ahead.
MAX_GOP_BYTES = 48 * 1024 * 1024
MAX_GOP_PACKETS = 1500
# With no keyframe flag in this many packets, the flags are not trusted (raw or odd streams).
UNFLAGGED_PACKETS = 300
# Read errors that mean "the storage failed", not "the file is damaged".
_DEVICE_ERRNOS = frozenset(
    {errno.EIO, errno.ENXIO, errno.ENODEV, errno.ESTALE, errno.ENOENT, errno.EACCES, errno.EPERM}
    | ({errno.ENOMEDIUM} if hasattr(errno, "ENOMEDIUM") else set())
)


class _Sampler:
    """One sampling run over one open container (not shared between threads)."""

    def __init__(self, container: Any, info: ProbeInfo, every: float, strategy: str, threads: int) -> None:
        import av

        self.container = container
        self.stream = video_stream(container)
        for other in container.streams:
            if other.index != self.stream.index:
                other.discard = av.stream.Discard.all  # do not even parse audio/data packets
        self.info = info
        self.every = every
        self.strategy = strategy
        # Seek mode flushes the decoder at every seek, so frame threads would only add latency.
        configure_decoder(self.stream, threads=threads, thread_type="SLICE" if strategy == "seek" else "FRAME")
        # Float seconds per tick: Fraction arithmetic per packet costs as much as demuxing it.
        self.tb = float(self.stream.time_base or Fraction(1, 90000))
        self.origin = self.stream.start_time if self.stream.start_time is not None else 0
        self.frame_dur = 1.0 / info.fps if info.fps else 1.0 / 25.0
        self.picker = Picker(every, info.duration)
        self.decoder = Decoder(self.stream, self.picker, self.tb, self.origin, self.frame_dur)
        self.tol = KEYFRAME_TOLERANCE[strategy] * every
        self.end_seen = 0.0  # latest packet end time demuxed (for truncation reports)
        self.packet_count = 0
        self.last_packet_t = -math.inf
        self.planned = 0  # index of the first target not yet assigned to a GOP
        self.in_sync = False  # the decoder has seen every packet since the last keyframe sent
        self.trust_flags = True  # packet keyframe flags look sane
        self.seen_key = False

    # -- packets -----------------------------------------------------------------------------

    def packet_time(self, packet: Any) -> float | None:
        pts = packet.pts if packet.pts is not None else packet.dts
        return None if pts is None else (pts - self.origin) * self.tb

    def demux(self, cancel: threading.Event | None) -> Iterator[Any]:
        """Packets of the video stream; a read error mid-file ends the stream (checked later)."""
        import av

        it = self.container.demux(self.stream)
        while True:
            if cancel is not None and cancel.is_set():
                return
            try:
                packet = next(it)
            except StopIteration:
                return
            except (av.error.FFmpegError, OSError) as exc:
                if isinstance(exc, OSError) and getattr(exc, "errno", None) in _DEVICE_ERRNOS:
                    # The drive went away or fails: not a damaged file, so not a truncation
                    # (the caller should keep the file's old state, not half of it).
                    raise MediaError(os_error_text(exc)) from None
                if isinstance(exc, OSError) and not isinstance(exc, av.error.FFmpegError):
                    raise MediaError(av_error_text(exc, when="read error")) from None
                return  # damaged or cut-off data: what was read so far is all there is
            if packet.size == 0:
                continue  # PyAV's end-of-stream marker
            t = self.packet_time(packet)
            if t is not None:
                dur = packet.duration * self.tb if packet.duration else self.frame_dur
                self.end_seen = max(self.end_seen, t + dur)
                self.last_packet_t = t
            self.packet_count += 1
            yield packet

    # -- keyframes / sequential -----------------------------------------------------------------

    def run_gop(self, cancel: threading.Event | None) -> Iterator[tuple[float, Any]]:
        gop: list[Any] = []
        gop_bytes = 0
        for packet in self.demux(cancel):
            if packet.is_keyframe:
                self.seen_key = True
                if gop:
                    yield from self.process_gop(gop, next_key_t=self.packet_time(packet))
                    gop, gop_bytes = [], 0
            elif not self.seen_key and self.packet_count > UNFLAGGED_PACKETS:
                self.trust_flags = False
            gop.append(packet)
            gop_bytes += packet.size
            if gop_bytes > MAX_GOP_BYTES or len(gop) > MAX_GOP_PACKETS or not self.trust_flags:
                yield from self.process_gop(gop, next_key_t=None, partial=True)
                gop, gop_bytes = [], 0
        if cancel is not None and cancel.is_set():
            return
        if gop:
            yield from self.process_gop(gop, next_key_t=None)
        yield from self.decoder.drain()

    def process_gop(
        self, gop: list[Any], next_key_t: float | None, partial: bool = False
    ) -> Iterator[tuple[float, Any]]:
        head_is_key = gop[0].is_keyframe or not self.trust_flags
        if not head_is_key and not self.in_sync:
            return  # cannot decode without the keyframe before it; targets wait for the next one
        times = [self.packet_time(p) for p in gop]
        known = [t for t in times if t is not None]
        key_t = times[0] if head_is_key and gop[0].is_keyframe else None
        chunk_end = (max(known) if known else 0.0) + self.frame_dur
        gop_end = next_key_t if next_key_t is not None else chunk_end

        if partial or not self.trust_flags:
            # No look-ahead: decode the whole chunk if it holds any target, so that later chunks
            # of the same GOP stay decodable; otherwise skip it and let the next keyframe serve.
            # Without trustworthy keyframe flags nothing may be skipped at all.
            has_target = self.target_index_time(self.planned) < chunk_end
            while self.target_index_time(self.planned) < chunk_end:
                self.planned += 1
            if has_target or not self.trust_flags:
                yield from self.send_range(gop, len(gop) - 1, head_is_key)
                self.in_sync = True
            else:
                self.in_sync = False
            return

        need_key = False
        need_upto: float | None = None
        inner: list[float] = []  # targets decoded inside the GOP (exactly, not from a keyframe)
        last_target: float | None = None
        while True:
            target = self.target_index_time(self.planned)
            if target >= gop_end:
                break
            nearer_next = next_key_t is not None and (key_t is None or next_key_t - target < target - key_t)
            if nearer_next and next_key_t - target <= self.tol:  # type: ignore[operator]
                break  # the next keyframe is near enough and nearer: it will serve this one
            if key_t is not None and (target <= key_t or target - key_t <= self.tol):
                need_key = True
            else:
                need_upto = target
                inner.append(target)
            last_target = target
            self.planned += 1
        if next_key_t is None and key_t is not None:
            # Last GOP of the file: make sure a frame within `every` of the end is decoded, even
            # when the last keyframe (or the target it served) is far from the end.
            tail = max(chunk_end - self.every, last_target if last_target is not None else -math.inf)
            if tail - key_t > self.frame_dur:
                need_upto = max(need_upto if need_upto is not None else -math.inf, tail)
                inner.append(tail)
            else:
                need_key = True

        if need_upto is not None:
            last = self.last_packet_index(gop, times, need_upto)
            yield from self.send_range(gop, last, head_is_key, inner)
            self.in_sync = last == len(gop) - 1
        elif need_key and key_t is not None:
            yield from self.decoder.send(gop[0])
            self.in_sync = len(gop) == 1
        else:
            self.in_sync = False

    def target_index_time(self, k: int) -> float:
        return k * self.every

    def last_packet_index(self, gop: list[Any], times: list[float | None], upto: float) -> int:
        """Index of the last packet (decode order) needed to show the frame at ``upto``.

        The first packet shown at or after ``upto``, plus the B-frames right after it in decode
        order that are shown before it.
        """
        first = next((i for i, t in enumerate(times) if t is not None and t >= upto - 1e-6), len(gop) - 1)
        anchor = times[first]
        last = first
        while anchor is not None and last + 1 < len(gop):
            nxt = times[last + 1]
            if nxt is None or nxt >= anchor or gop[last + 1].is_keyframe:
                break
            last += 1
        return last

    def send_range(
        self, gop: list[Any], last: int, head_is_key: bool, exact: list[float] | None = None
    ) -> Iterator[tuple[float, Any]]:
        """Decode gop[0..last]; leading pictures after a skipped GOP are dropped.

        Non-reference frames are skipped (nothing depends on them: ~30-40% less decoding with
        B-frames), except the frame nearest each time in ``exact``, so that targets land on the
        exact frame rather than on a neighbouring reference frame.
        """
        times = [self.packet_time(p) for p in gop[: last + 1]]
        keep = set()
        for target in exact or ():
            candidates = [(abs(t - target), i) for i, t in enumerate(times) if t is not None]
            if candidates:
                keep.add(min(candidates)[1])
        key_t = times[0] if head_is_key and gop[0].is_keyframe else None
        was_in_sync = self.in_sync
        for i in range(last + 1):
            packet = gop[i]
            if i == 0 and head_is_key:
                yield from self.decoder.send(packet, "DEFAULT")
                continue
            t = times[i]
            if not was_in_sync and key_t is not None and t is not None and t < key_t:
                # Open-GOP leading pictures reference the GOP we skipped: they would decode
                # to garbage, so they are never sent.
                continue
            yield from self.decoder.send(packet, "DEFAULT" if i in keep else "NONREF")

    # -- seek ---------------------------------------------------------------------------------

    def run_seek(self, cancel: threading.Event | None) -> Iterator[tuple[float, Any]]:
        """Seek to each target when a keyframe lies between here and there, then decode forward.

        For intra-only codecs every frame is a keyframe: the seek lands on (or just before) the
        wanted frame and one or two frames are decoded per sample, reading little of the file.
        """
        import av

        duration = max(self.info.duration, self.frame_dur)
        seekable = True
        packets: Iterator[Any] | None = None
        keyed = False
        while self.picker.target < duration:
            if cancel is not None and cancel.is_set():
                return
            target = self.picker.target
            if seekable and (packets is None or self.worth_seeking(target)):
                if packets is not None or target > 0:
                    try:
                        self.container.seek(
                            self.origin + int(target / self.tb), stream=self.stream, backward=True, any_frame=False
                        )
                        self.decoder.ctx.flush_buffers()
                        keyed = False
                    except (av.error.FFmpegError, OSError):
                        seekable = False  # read on from where we are instead
                packets = self.demux(cancel)
            assert packets is not None
            k_before = self.picker.k
            for packet in packets:
                if packet.is_keyframe:
                    keyed = True
                elif not keyed:
                    continue
                t = self.packet_time(packet)
                early = t is not None and t < target - 0.5 * self.frame_dur
                if early and t is not None and self.info.intra_only and t < target - 1.5 * self.frame_dur:
                    continue  # every packet decodes alone: skip straight to the wanted one
                yield from self.decoder.send(packet, "NONREF" if early else "DEFAULT")
                if self.picker.k > k_before:
                    break
            else:
                yield from self.decoder.drain()
                self.decoder.ctx.flush_buffers()
                if self.picker.k == k_before:
                    break  # nothing more to read
                packets = None

    def worth_seeking(self, target: float) -> bool:
        """True if a keyframe lies after what was read and at or before ``target``."""
        if target <= self.last_packet_t:
            return False
        entries = self.stream.index_entries
        if len(entries) > 1:
            # The demuxer's index (MP4 sample table, Matroska cues) says where keyframes are.
            i = entries.search_timestamp(self.origin + int(target / self.tb), backward=True)
            if i >= 0:
                return (entries[i].timestamp - self.origin) * self.tb > self.last_packet_t + 1e-6
        gap = self.info.keyframe_interval or 1.0
        return target - self.last_packet_t > max(gap, 4 * self.frame_dur)

    # -- truncation -------------------------------------------------------------------------------

    def check_complete(self) -> None:
        duration = self.info.duration
        reached = max(self.end_seen, self.decoder.last_t + self.frame_dur)
        if self.decoder.frames == 0:
            if self.packet_count == 0:
                raise MediaError("cannot decode: no video data could be read (damaged or incomplete file?)")
            raise MediaError("cannot decode: no video frame could be decoded (damaged file or unsupported codec?)")
        if duration > 0 and reached < duration - max(self.every, 1.0, 0.02 * duration):
            raise TruncatedMediaError(
                f"truncated: decoding stopped at {reached:.1f} s of {duration:.1f} s",
                stopped_at=reached,
                duration=duration,
            )


def sample(
    path: Path,
    info: ProbeInfo,
    *,
    every: float,
    size: int,
    thumb_width: int | None,
    strategy: str,
    cancel: threading.Event | None,
    threads: int,
) -> Iterator[SampledFrame]:
    """Run one strategy over one file (see media.sample_frames for the contract)."""
    from .io import open_input

    container = open_input(path)
    try:
        sampler = _Sampler(container, info, every, strategy, threads)
        converter = FrameConverter(info.rotation, stream_sar(sampler.stream))
        frames = sampler.run_seek(cancel) if strategy == "seek" else sampler.run_gop(cancel)
        try:
            for t, frame in _with_finish(frames, sampler.picker):
                pixels, thumb = converter.model_input(frame, size, thumb_width)
                yield SampledFrame(round(t, 6), pixels, thumb)
        except TooManyErrors:
            at = max(sampler.decoder.last_t, 0.0)
            raise TruncatedMediaError(
                f"damaged: too many decoding errors (stopped at {at:.1f} s of {info.duration:.1f} s)",
                stopped_at=at,
                duration=info.duration,
            ) from None
        if cancel is not None and cancel.is_set():
            return
        sampler.check_complete()
    finally:
        container.close()


def _with_finish(frames: Iterator[tuple[float, Any]], picker: Picker) -> Iterator[tuple[float, Any]]:
    yield from frames
    yield from picker.finish()
