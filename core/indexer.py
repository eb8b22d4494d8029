"""The indexing pipeline: decode ahead in threads, embed in batches, commit one file per transaction."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import media
from .segment import SegmentConfig, segment
from .store import INDEXING, PENDING, FileRow, NewSegment, Store
from .types import FINAL_PHASES, IndexPhase, IndexProgress, IndexReport

if TYPE_CHECKING:
    from .index import VectorIndex
    from .models.embedder import Embedder
    from .models.image_encoder import ImageEncoder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexerConfig:
    sample_every: float = 1.0  # seconds between sampled frames
    # Accept sampling as sparse as this when it lets only keyframes be decoded (about 4x less
    # decoding on 2 s GOPs, see docs/media-notes.md), the picture changes between them refined
    # below; None keeps sample_every strictly (Settings.max_sample_every, `index --strict`).
    max_every: float | None = 2.0
    # With max_every: fill the gaps that cross a picture change with the strict-grid frames
    # (core/sampling_edges.py), so moment edges stay as sharp as strict sampling's.
    refine_edges: bool = True
    edge_cosine: float = 0.9  # neighbours less similar than this mark a gap as an edge
    # "bare": also decode the frame before an edge gap's later sample where no strict frame fits
    # (a keyframe on the cut); "always" or "off" (core/sampling_edges.py, docs/benchmarks.md).
    edge_pin: str = "bare"
    edge_dense: bool = False  # every strict-grid frame inside an edge gap, however near its ends
    batch_size: int = 16  # frames per encoder call (PERF-NOTES: 16 beat 64 on these CPUs)
    # Frames a decoder hands over at a time (at most a batch). Smaller chunks let the encoder start
    # on a file while it is still being decoded (a 16-frame chunk is 16 s of video at 1 frame/s),
    # but in docs/benchmarks.md's same-run A/B on 2 loaded cores 4-frame chunks indexed slower
    # (smaller encoder batches, both stages' threads contending), so whole batches stay the default.
    chunk_frames: int = 16
    decode_workers: int = 1  # decoding threads running ahead of the encoder
    queue_batches: int = 6  # how far decoding may run ahead, in batches (bounds memory)
    thumb_width: int = 192
    save_every_s: float = 30.0  # persist the vector index at least this often
    segments: SegmentConfig = field(default_factory=SegmentConfig)


@dataclass
class _FileWork:
    row: FileRow
    info: media.ProbeInfo | None = None
    times: list[float] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    thumbs: list[bytes | None] = field(default_factory=list)
    ended: bool = False
    error: str | None = None
    queued: int = 0  # frames waiting in the encoder buffer


# Items the decoders put on the queue; _DONE: a decoder thread has no more files.
_START, _FRAMES, _END, _FAIL, _DONE = "start", "frames", "end", "fail", "done"


@dataclass
class _Run:
    """What one ``Indexer.run`` loop carries between decoder messages."""

    by_id: dict[int, FileRow]
    tracker: _Progress
    report: IndexReport
    work: dict[int, _FileWork] = field(default_factory=dict)
    buffer: list[tuple[int, media.SampledFrame]] = field(default_factory=list)  # frames waiting for the encoder
    finished_workers: int = 0
    last_save: float = field(default_factory=time.monotonic)


class Indexer:
    """Embeds pending files. Runs on the caller's thread; decoding runs ahead in worker threads.

    Only the caller's thread writes to the store and the vector index, so a search on another
    thread always sees whole files. Progress goes to a plain callback; ``cancel`` stops after
    the current batch (the file being embedded stays pending and is redone next time);
    ``pause`` (set = paused) holds the pipeline between batches.
    """

    def __init__(
        self,
        store: Store,
        vindex: VectorIndex,
        embedder: Embedder | ImageEncoder,
        config: IndexerConfig | None = None,
    ) -> None:
        self.store = store
        self.vindex = vindex
        self.embedder = embedder
        self.config = config or IndexerConfig()
        self.model_id = embedder.model_id

    # -- public ----------------------------------------------------------------------------------
    def run(
        self,
        files: Sequence[FileRow],
        *,
        progress: Callable[[IndexProgress], None] | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
        report: IndexReport | None = None,
    ) -> IndexReport:
        report = report or IndexReport()
        cancel = cancel or threading.Event()
        t0 = time.monotonic()
        todo = list(self._reuse_copies(files, report))
        by_id = {f.id: f for f in todo}
        tracker = _Progress(todo, t0, progress, report)
        tracker.emit(None)
        if not todo:
            tracker.emit(None, phase=IndexPhase.FINISHED)
            return report

        stop = threading.Event()
        # The read-ahead bound stays queue_batches batches' worth of frames, in smaller chunks.
        chunks_per_batch = -(-self.config.batch_size // self._chunk_frames())
        q: queue.Queue[tuple[str, int, object]] = queue.Queue(maxsize=self.config.queue_batches * chunks_per_batch)
        workers = self._start_decoders(todo, q, stop)
        run = _Run(by_id=by_id, tracker=tracker, report=report)
        try:
            while run.finished_workers < len(workers):
                if cancel.is_set():
                    report.cancelled = True
                    break
                self._wait_while_paused(pause, cancel, tracker)
                try:
                    kind, fid, payload = q.get(timeout=0.2)
                except queue.Empty:
                    continue
                if kind == _DONE:
                    run.finished_workers += 1
                    continue
                self._on_message(run, kind, fid, payload)
                if run.buffer and q.empty():
                    # The decoders are behind: encode what has arrived rather than wait idle for
                    # a full batch (when encoding is the slower stage the queue fills and full
                    # batches go through as before).
                    self._encode_buffer(run)
                self._commit_ended(run)
                self._save_now_and_then(run)
        finally:
            self._stop_decoders(workers, q, stop, run.work)
        report.elapsed = time.monotonic() - t0
        tracker.emit(None, phase=IndexPhase.CANCELLED if report.cancelled else IndexPhase.FINISHED)
        return report

    # -- the run loop's steps (the caller's thread) -----------------------------------------------
    def _start_decoders(
        self, todo: list[FileRow], q: queue.Queue[tuple[str, int, object]], stop: threading.Event
    ) -> list[threading.Thread]:
        pending_iter = iter(todo)
        lock = threading.Lock()

        def next_file() -> FileRow | None:
            with lock:
                return next(pending_iter, None)

        workers = [
            threading.Thread(
                target=self._decode_loop, args=(next_file, q, stop), name=f"reelseek-decode-{i}", daemon=True
            )
            for i in range(max(1, self.config.decode_workers))
        ]
        for w in workers:
            w.start()
        return workers

    @staticmethod
    def _wait_while_paused(pause: threading.Event | None, cancel: threading.Event, tracker: _Progress) -> None:
        while pause is not None and pause.is_set() and not cancel.is_set():
            tracker.emit(None, phase=IndexPhase.PAUSED)
            time.sleep(0.1)

    def _on_message(self, run: _Run, kind: str, fid: int, payload: object) -> None:
        """One decoder message, by kind: a file starts, brings frames, fails or ends."""
        if kind == _START:
            self._on_start(run, fid, payload)
        elif kind == _FRAMES:
            self._on_frames(run, fid, payload)
        elif kind == _FAIL:
            w = run.work.setdefault(fid, _FileWork(row=run.by_id[fid]))
            w.error, w.ended = str(payload), True
        elif kind == _END:
            run.work[fid].ended = True

    def _on_start(self, run: _Run, fid: int, payload: object) -> None:
        row = run.by_id[fid]
        run.work[fid] = _FileWork(row=row, info=payload)  # type: ignore[arg-type]
        self.store.set_status(fid, INDEXING)
        run.tracker.emit(row.display)

    def _on_frames(self, run: _Run, fid: int, payload: object) -> None:
        frames: list[media.SampledFrame] = payload  # type: ignore[assignment]
        run.buffer.extend((fid, f) for f in frames)
        run.work[fid].queued += len(frames)
        if len(run.buffer) >= self.config.batch_size:
            self._encode_buffer(run)

    def _encode_buffer(self, run: _Run) -> None:
        self._encode(run.buffer, run.work)
        run.buffer = []
        run.tracker.frames_done(run.work)

    def _chunk_frames(self) -> int:
        return max(1, min(self.config.chunk_frames, self.config.batch_size))

    def _commit_ended(self, run: _Run) -> None:
        # A file can be committed once it has ended and none of its frames wait.
        for w in [w for w in run.work.values() if w.ended]:
            if w.error is None and w.queued:
                self._encode(run.buffer, run.work)
                run.buffer = []
            self._finish(w, run.report)
            del run.work[w.row.id]
            run.tracker.file_done(w)

    def _save_now_and_then(self, run: _Run) -> None:
        if time.monotonic() - run.last_save > self.config.save_every_s:
            self.vindex.save()
            run.last_save = time.monotonic()

    def _stop_decoders(
        self,
        workers: list[threading.Thread],
        q: queue.Queue[tuple[str, int, object]],
        stop: threading.Event,
        work: dict[int, _FileWork],
    ) -> None:
        stop.set()
        _drain(q)
        for w in workers:
            w.join(timeout=10)
            _drain(q)
        # Files cut short by cancel (or a crash of this thread) are redone next time.
        for fw in work.values():
            self.store.set_status(fw.row.id, PENDING)
        self.vindex.save()

    # -- decoding (worker threads) --------------------------------------------------------------
    def _decode_loop(
        self,
        next_file: Callable[[], FileRow | None],
        q: queue.Queue[tuple[str, int, object]],
        stop: threading.Event,
    ) -> None:
        try:
            while not stop.is_set():
                row = next_file()
                if row is None:
                    break
                self._decode_file(row, q, stop)
        finally:
            _put(q, (_DONE, -1, None), stop, force=True)

    def _decode_file(self, row: FileRow, q: queue.Queue[tuple[str, int, object]], stop: threading.Event) -> None:
        path = row.path
        try:
            info = media.probe(Path(path))
        except media.MediaError as e:
            _put(q, (_FAIL, row.id, str(e)), stop)
            return
        except Exception as e:  # a decoder bug must not take the whole run down
            log.exception("probe failed: %s", row.display)
            _put(q, (_FAIL, row.id, f"unexpected error while reading: {e}"), stop)
            return
        if not _put(q, (_START, row.id, info), stop):
            return
        chunk: list[media.SampledFrame] = []
        try:
            for frame in media.sample_frames(
                Path(path),
                every=self.config.sample_every,
                size=self.embedder.image_size,
                thumb_width=self.config.thumb_width,
                info=info,
                cancel=stop,
                max_every=self.config.max_every,
                threads=1 if self.config.decode_workers > 1 else 2,
            ):
                chunk.append(frame)
                if len(chunk) >= self._chunk_frames():
                    if not _put(q, (_FRAMES, row.id, chunk), stop):
                        return
                    chunk = []
            if chunk and not _put(q, (_FRAMES, row.id, chunk), stop):
                return
        except media.MediaError as e:
            _put(q, (_FAIL, row.id, str(e)), stop)
            return
        except Exception as e:
            log.exception("decoding failed: %s", row.display)
            _put(q, (_FAIL, row.id, f"unexpected error while decoding: {e}"), stop)
            return
        _put(q, (_END, row.id, None), stop)

    # -- embedding and committing (caller's thread) -------------------------------------------
    def _encode(self, buffer: list[tuple[int, media.SampledFrame]], work: dict[int, _FileWork]) -> None:
        if not buffer:
            return
        pixels = np.stack([f.pixels for _, f in buffer])
        vectors = self.embedder.encode_frames(pixels)
        for (fid, frame), vec in zip(buffer, vectors, strict=True):
            w = work.get(fid)
            if w is None:
                continue
            w.times.append(frame.t)
            w.vectors.append(vec)
            w.thumbs.append(media.encode_jpeg(frame.thumb, quality=80) if frame.thumb is not None else None)
            w.queued -= 1

    def _finish(self, w: _FileWork, report: IndexReport) -> None:
        row = w.row
        if w.error is None and not w.times:
            w.error = "no frames could be decoded"
        if w.error is not None:
            self.store.fail_file(row.id, w.error)
            report.errors.append((row.display, w.error))
            log.warning("%s: %s", row.display, w.error)
            return
        assert w.info is not None
        if self.config.refine_edges and _sparse(w.info, self.config):
            self._refine(w)
        commit_embedded(
            self.store, self.vindex, self.model_id, row, w.info, w.times, w.vectors, w.thumbs, self.config, report
        )

    def _refine(self, w: _FileWork) -> None:
        from .sampling_edges import refine_edges

        assert w.info is not None
        refine_edges(
            w.row.path,
            w.info,
            w.times,
            w.vectors,
            w.thumbs,
            encode=self.embedder.encode_frames,
            jpeg=lambda a: media.encode_jpeg(a, quality=80),
            every=self.config.sample_every,
            threshold=self.config.edge_cosine,
            pin=self.config.edge_pin,
            dense=self.config.edge_dense,
            size=self.embedder.image_size,
            thumb_width=self.config.thumb_width,
        )

    def _reuse_copies(self, files: Sequence[FileRow], report: IndexReport) -> list[FileRow]:
        """Byte-identical copies of indexed files take the donor's vectors (no decoding).

        One donor look-up per distinct fingerprint: copies share it, so the work stays linear
        in the number of files however many of them are identical.
        """
        todo = []
        donors: dict[str, FileRow | None] = {}
        for f in files:
            donor = None
            if f.fingerprint:
                if f.fingerprint not in donors:
                    donors[f.fingerprint] = self.store.donor_by_fingerprint(f.fingerprint, self.model_id)
                donor = donors[f.fingerprint]
            if donor is None or donor.id == f.id:
                todo.append(f)
                continue
            old, new = self.store.clone_segments(donor.id, f.id, self.model_id)
            self.vindex.remove(old)
            vecs = [v for _, v, _ in self.store.segments_of_file(f.id, self.model_id)]
            if vecs:
                self.vindex.add(new, np.stack(vecs))
            self.vindex.generation = self.store.generation(self.model_id)
            report.indexed += 1
            log.info("%s: same content as %s, vectors reused", f.display, donor.display)
        return todo


def _sparse(info: media.ProbeInfo, config: IndexerConfig) -> bool:
    from .sampling_edges import applies

    return applies(info, config.sample_every, config.max_every)


def commit_embedded(
    store: Store,
    vindex: VectorIndex,
    model_id: str,
    row: FileRow,
    info: media.ProbeInfo,
    times: Sequence[float] | np.ndarray,
    vectors: Sequence[np.ndarray] | np.ndarray,
    thumbs: Sequence[bytes | None],
    config: IndexerConfig,
    report: IndexReport,
) -> None:
    """Segment one file's embedded frames and commit them in one transaction.

    The one place a file's vectors become segments, shared by the local pipeline and the
    cluster driver (core/cluster.py), so both commit byte-for-byte the same rows.
    """
    order = np.argsort(np.asarray(times))
    t = np.asarray(times, dtype=np.float32)[order]
    vecs = np.stack(list(vectors))[order].astype(np.float32)
    thumbs_sorted = [thumbs[i] for i in order]
    duration = max(float(info.duration), float(t[-1]))
    spans = segment(t, vecs, duration, config.segments)
    segs = [
        NewSegment(
            start=s.start,
            end=s.end,
            best_time=float(t[s.best]),
            vector=s.vector,
            times=t[s.first : s.last + 1],
            frames=vecs[s.first : s.last + 1].astype(np.float16),
            thumb=thumbs_sorted[s.best],
        )
        for s in spans
    ]
    old, new = store.commit_file(
        row.id,
        model_id,
        segs,
        duration=duration,
        width=info.width,
        height=info.height,
        fps=info.fps,
        codec=info.codec,
        container=info.container,
        rotation=info.rotation,
        creation_time=info.creation_time,
        source_tc=info.source_tc,
    )
    vindex.remove(old)
    vindex.add(new, np.stack([s.vector for s in segs]))
    # What the index's contents now reflect (the writer lock keeps other processes out).
    vindex.generation = store.generation(model_id)
    report.indexed += 1
    report.video_seconds += duration


class _Progress:
    """Turns pipeline events into IndexProgress snapshots (rate, ETA from bytes when durations are unknown)."""

    def __init__(
        self, todo: list[FileRow], t0: float, cb: Callable[[IndexProgress], None] | None, report: IndexReport
    ) -> None:
        self.cb, self.t0, self.report = cb, t0, report
        self.total_files = len(todo)
        self.total_bytes = sum(max(f.size, 1) for f in todo)
        self.done_files = 0
        self.done_bytes = 0
        self.done_seconds = 0.0
        self.partial_seconds = 0.0
        self.current: str | None = None

    def frames_done(self, work: dict[int, _FileWork]) -> None:
        self.partial_seconds = sum(max(w.times, default=0.0) for w in work.values())
        self.emit(self.current)

    def file_done(self, w: _FileWork) -> None:
        self.done_files += 1
        self.done_bytes += max(w.row.size, 1)
        if w.error is None and w.times:
            self.done_seconds += max(float(w.info.duration) if w.info else 0.0, max(w.times))
        self.partial_seconds = 0.0
        self.emit(self.current)

    def emit(self, current: str | None, phase: IndexPhase = IndexPhase.INDEXING) -> None:
        if current is not None:
            self.current = current
        if self.cb is None:
            return
        done = self.done_seconds + self.partial_seconds
        # Durations of files not yet opened are unknown: estimate from their size.
        if self.done_bytes and self.done_seconds:
            total = self.done_seconds + (self.total_bytes - self.done_bytes) * self.done_seconds / self.done_bytes
        else:
            total = 0.0
        self.cb(
            IndexProgress(
                files_done=self.done_files,
                files_total=self.total_files,
                current=self.current if phase not in FINAL_PHASES else None,
                video_seconds_done=done,
                video_seconds_total=max(total, done),
                elapsed=time.monotonic() - self.t0,
                errors=len(self.report.errors),
                phase=phase,
            )
        )


def _put(
    q: queue.Queue[tuple[str, int, object]],
    item: tuple[str, int, object],
    stop: threading.Event,
    force: bool = False,
) -> bool:
    """Put with back-pressure that still notices a stop request."""
    while True:
        if stop.is_set() and not force:
            return False
        try:
            q.put(item, timeout=0.2)
            return True
        except queue.Full:
            if stop.is_set() and force:
                return False


def _drain(q: queue.Queue[tuple[str, int, object]]) -> None:
    try:
        while True:
            q.get_nowait()
    except queue.Empty:
        pass
