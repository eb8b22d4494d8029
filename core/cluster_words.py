"""The words pass on Ray workers: speech and on-screen text read on the nodes, committed here file by file.

The driver decides what to read exactly as the local ``WordsPass`` does (``WordsPass.todo``:
signatures, per-folder switches, errors retried), reads subtitles itself (milliseconds per file,
and sidecars live beside the footage it scanned), and sends each file's speech / on-screen text
work to a ``WordsWorker``. Every result is committed through ``WordsPass.record``, one
(file, source) per transaction, as a local run commits it: a killed worker loses only its
attempt (the file goes to another worker, up to ``max_attempts``), and a killed driver leaves
only whole (file, source) results behind, so a rerun reads exactly what is missing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cluster import ClusterConfig, _short, connect, start_actors
from .cluster_words_worker import REMOTE, WordsResult, WordsWorker, folder_files, ocr_model_files, recipe_of
from .store import FileRow, Store
from .types import IndexPhase, IndexProgress, IndexReport
from .words.pass_ import PHASE, WordsPass
from .words.types import WordSource

log = logging.getLogger(__name__)


@dataclass
class _Job:
    row: FileRow
    work: list[tuple[WordSource, str]]  # the sources a worker reads, with their signatures
    attempts: int = 0


@dataclass
class _Progress:
    files: int = 0
    seconds: float = 0.0  # video seconds read, for the rates
    nodes: dict[str, float] = field(default_factory=dict)  # node -> video seconds read there


class ClusterWordsPass:
    """Reads the words of indexed files on Ray workers; this process commits them."""

    def __init__(self, store: Store, sources: Sequence[WordSource], models_dir: Path, cluster: ClusterConfig) -> None:
        self.store = store
        self.local = WordsPass(store, sources)
        self.models_dir = Path(models_dir)
        self.cluster = cluster
        self.recipe = recipe_of(list(sources))
        # The driver's speech model folder (from its library), shipped to the workers.
        self._speech_dir = next((Path(d) for s in sources if (d := getattr(s, "model_dir", None))), None)
        self._refs: tuple[Any, Any] | None = None

    def remote(self, src: WordSource) -> bool:
        """Whether a worker reads this source (speech and on-screen text that can run at all)."""
        return src.name in REMOTE and getattr(src, "reason", None) is None

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
        todo = self.local.todo(files)
        total_s = sum(r.duration for r, _ in todo)
        done = _Progress()

        def emit(current: str | None, phase: IndexPhase = PHASE) -> None:
            if progress is None:
                return
            el = time.monotonic() - t0
            nodes = tuple((n, s / el if el > 0 else 0.0) for n, s in sorted(done.nodes.items()))
            progress(IndexProgress(done.files, len(todo), current, done.seconds, total_s, el, 0, phase, nodes))

        # Subtitles (and sources that cannot run, which only record why) are read here, first.
        jobs: list[_Job] = []
        for row, work in todo:
            if cancel.is_set():
                report.cancelled = True
                return report
            for src, sig in work:
                if not self.remote(src):
                    self.local._one(row, src, sig, cancel, report)
            remote = [(s, sig) for s, sig in work if self.remote(s)]
            if remote and os.path.exists(row.path):  # offline since the scan: redone when it is back
                jobs.append(_Job(row, remote))
            else:
                self._file_done(row, done, report)
        emit(None)
        if jobs and not cancel.is_set():
            self._fan_out(jobs, done, report, cancel, pause, emit)
        emit(None, PHASE)
        return report

    def _file_done(self, row: FileRow, done: _Progress, report: IndexReport, node: str | None = None) -> None:
        done.files += 1
        done.seconds += row.duration
        report.words_files += 1
        if node is not None:
            done.nodes[node] = done.nodes.get(node, 0.0) + row.duration

    def _fan_out(
        self,
        jobs: list[_Job],
        done: _Progress,
        report: IndexReport,
        cancel: threading.Event,
        pause: threading.Event | None,
        emit: Callable[..., None],
    ) -> None:
        ray = connect(self.cluster)
        t_start = time.monotonic()
        actors = self._start(ray, len(jobs))
        report.workers_start_s += time.monotonic() - t_start  # with the visual pass's, if it had any
        queue = list(reversed(jobs))
        inflight: dict[Any, tuple[Any, _Job]] = {}
        idle = list(actors)
        committed: set[int] = set()
        try:
            while queue or inflight:
                if cancel.is_set():
                    report.cancelled = True
                    break
                paused = pause is not None and pause.is_set()
                while idle and queue and not paused:
                    job = queue.pop()
                    actor = idle.pop()
                    names = [s.name for s, _ in job.work]
                    inflight[actor.words.remote(job.row.id, job.row.path, names)] = (actor, job)
                    emit(job.row.display)
                if not inflight:
                    if paused:
                        emit(None, IndexPhase.PAUSED)
                        time.sleep(0.1)
                        continue
                    break  # no worker left: the rest is read by the next run
                ready, _ = ray.wait(list(inflight), num_returns=1, timeout=0.2)
                for ref in ready:
                    actor, job = inflight.pop(ref)
                    try:
                        result: WordsResult = ray.get(ref)
                    except Exception as e:  # the worker or its node died mid-file: nothing was committed
                        self._lost(ray, job, e, queue, report, actors, actor, idle, done)
                        continue
                    idle.append(actor)
                    if job.row.id in committed or self.store.file_by_id(job.row.id) is None:
                        continue  # a late duplicate, or removed meanwhile: never commit twice
                    committed.add(job.row.id)
                    for src, sig in job.work:
                        err = result.errors.get(src.name)
                        lines = result.lines.get(src.name)
                        self.local.record(job.row, src.name, sig, lines, err, report)
                    self._file_done(job.row, done, report, result.node)
                    emit(None)
        finally:
            for ref in inflight:
                ray.cancel(ref, force=True)
            for a in actors:
                ray.kill(a)

    def _start(self, ray: Any, n: int) -> list[Any]:
        if self._refs is None:
            # Put once and held for the run: a restarted worker re-reads its constructor arguments.
            speech: dict[str, bytes] = {}
            if self.recipe.speech is not None and self._speech_dir is not None:
                speech = folder_files(self._speech_dir)
            ocr = ocr_model_files() if self.recipe.ocr is not None else {}
            self._refs = (ray.put(speech), ray.put(ocr))
        speech_ref, ocr_ref = self._refs
        threads = max(1, int(self.cluster.cpus_per_worker))
        paths = list(self.cluster.path_map)

        def args(device: str) -> tuple[Any, ...]:
            return (self.recipe, speech_ref, ocr_ref, device, paths, threads)

        return start_actors(ray, WordsWorker, args, n, self.cluster)

    def _lost(
        self,
        ray: Any,
        job: _Job,
        error: BaseException,
        queue: list[_Job],
        report: IndexReport,
        actors: list[Any],
        dead: Any,
        idle: list[Any],
        done: _Progress,
    ) -> None:
        job.attempts += 1
        log.warning("%s: words worker lost (%s), attempt %d", job.row.display, _short(error), job.attempts)
        if job.attempts >= self.cluster.max_attempts:
            reason = f"a worker died on this file {job.attempts} times ({_short(error)})"
            for src, sig in job.work:
                self.local.record(job.row, src.name, sig, None, reason, report)  # retried next run
            self._file_done(job.row, done, report)
        else:
            queue.append(job)
        try:  # Ray restarts a killed worker on its node; one whose node is gone never answers
            ray.get(dead.ping.remote(), timeout=120)
            idle.append(dead)
        except Exception as e:
            log.warning("words worker gone for good: %s", _short(e))
            if dead in actors:
                actors.remove(dead)


__all__ = ["ClusterWordsPass"]
