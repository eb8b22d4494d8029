"""Which decoding strategy a file gets, at what interval, and the one entry point that samples it."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path

from .decode import SampledFrame
from .probing import ProbeInfo, probe
from .sampling import STRATEGIES, sample


def choose_strategy(info: ProbeInfo, every: float) -> str:
    """Cheapest correct way to get about one frame per ``every`` seconds from this file.

    Returns:
        "seek" for intra-only codecs (one small read and one decode per sample),
        "keyframes" when keyframes come at least every 1.5x ``every`` (decode keyframes only),
        "sequential" otherwise (decode each GOP only as far as its last sample).
    """
    if info.intra_only:
        return "seek"
    if info.keyframe_interval is not None and info.keyframe_interval <= 1.5 * every:
        return "keyframes"
    return "sequential"


def effective_every(info: ProbeInfo, every: float, max_every: float | None = None) -> float:
    """The sampling interval to use when up to ``max_every`` is acceptable for speed.

    Decoding only keyframes costs ~10x less than decoding into GOPs (docs/media-notes.md). If
    the file's keyframes are too sparse for ``every`` but no sparser than ``max_every``,
    sampling once per keyframe is returned instead; otherwise ``every`` itself.
    """
    gop = info.keyframe_interval
    if max_every is None or info.intra_only or gop is None or choose_strategy(info, every) != "sequential":
        return every
    return gop if every < gop <= max_every else every


def sample_frames(
    path: Path,
    *,
    every: float = 1.0,
    size: int = 224,
    thumb_width: int | None = None,
    strategy: str = "auto",
    info: ProbeInfo | None = None,
    cancel: threading.Event | None = None,
    threads: int = 2,
    max_every: float | None = None,
) -> Iterator[SampledFrame]:
    """Yield about one frame per ``every`` seconds covering the whole file, in increasing time.

    The first frame is near 0 and the last within ``every`` of the end. Times are the decoded
    frames' own presentation times (seconds from the start of the video stream), so they are
    exact even where a frame is not exactly on the ``every`` grid. All work happens while
    iterating (a generator), in the iterating thread, with its own container: safe to run
    several at once in worker threads.

    Args:
        path: video file.
        every: sampling interval in seconds.
        size: side of the square model input.
        thumb_width: also make a full-frame thumbnail this wide (display orientation).
        strategy: "auto" (choose_strategy), "keyframes", "sequential" or "seek".
        info: probe() result if the caller already has it.
        cancel: set it to stop early; the generator then simply ends.
        threads: decoder threads (see docs/media-notes.md for the trade-off).
        max_every: with strategy "auto", accept sampling as sparse as this when it lets only
            keyframes be decoded (effective_every); None keeps ``every`` strictly.

    Raises:
        MediaError: the file cannot be used (raised before anything is yielded).
        TruncatedMediaError: (a MediaError) after yielding what decoded, when the file stops
            part-way; ``stopped_at``, ``duration`` and ``fraction`` say how much did.
    """
    if not (every > 0 and math.isfinite(every)):
        raise ValueError(f"every must be a positive number of seconds, not {every!r}")
    if size < 1:
        raise ValueError(f"size must be positive, not {size!r}")
    if strategy != "auto" and strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; use 'auto' or one of {STRATEGIES}")
    if info is None:
        info = probe(path)
    if strategy == "auto":
        every = effective_every(info, every, max_every)
        strategy = choose_strategy(info, every)
    yield from sample(
        path,
        info,
        every=every,
        size=size,
        thumb_width=thumb_width,
        strategy=strategy,
        cancel=cancel,
        threads=threads,
    )
