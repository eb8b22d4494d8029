"""The words pass: after the visual pass, read each file's words source by source, one transaction each."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence

from ..store import FileRow, Store
from ..store_words import WORDS_DONE, WORDS_ERROR, WORDS_NONE, WordsStore
from ..types import IndexPhase, IndexProgress, IndexReport
from .types import WordLine, WordSource

log = logging.getLogger(__name__)
PHASE = IndexPhase.WORDS


def signature(source: WordSource, row: FileRow) -> str:
    """What a source's result depends on; equal signatures mean there is nothing to redo."""
    own = getattr(source, "signature", None)
    if callable(own):
        raw = str(own(row.path))
    else:
        version = getattr(source, "version", "") or getattr(source, "model_id", "")
        raw = f"{row.size}:{row.mtime_ns}:{version}"
    # A hash: sidecar names need not be UTF-8 (surrogate-escaped str cannot go into SQLite).
    return hashlib.sha1(raw.encode("utf-8", "surrogateescape")).hexdigest()


def printable(text: str) -> str:
    """A message safe to store and print: undecodable file-name bytes shown as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class WordsPass:
    """Runs words sources over indexed files. Resumable: a (file, source) whose signature is
    unchanged is skipped, so a run cut short (cancel, crash, kill -9) picks up where it was.
    Each (file, source) result is one transaction: the file's old lines or its new ones,
    never a mix. Sources never touch the vectors.
    """

    def __init__(self, store: Store, sources: Sequence[WordSource]) -> None:
        self.store = store
        self.words = WordsStore(store)
        self.sources = list(sources)

    def todo(self, files: Sequence[FileRow]) -> list[tuple[FileRow, list[tuple[WordSource, str]]]]:
        """Files and the sources whose signature changed (a stat per file: the cost of a no-op)."""
        out = []
        for row in files:
            if not self.words.folder_enabled(row.folder_id):
                continue
            have = self.words.statuses(row.id)
            work = []
            for src in self.sources:
                try:
                    sig = signature(src, row)
                except OSError as e:
                    log.info("%s: cannot check for %s words: %s", row.display, src.name, e)
                    continue
                st = have.get(src.name)
                # Errors are retried every run (a speech model installed since, a sidecar
                # fixed by a save that kept its size and mtime): they cost one failed read.
                if st is None or st.signature != sig or st.status == WORDS_ERROR:
                    work.append((src, sig))
            if work:
                out.append((row, work))
        return out

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
        todo = self.todo(files)
        total_s = sum(r.duration for r, _ in todo)
        done_s = 0.0

        def emit(i: int, current: str | None, phase: IndexPhase = PHASE) -> None:
            if progress is not None:
                progress(IndexProgress(i, len(todo), current, done_s, total_s, time.monotonic() - t0, 0, phase))

        for i, (row, work) in enumerate(todo):
            while pause is not None and pause.is_set() and not cancel.is_set():
                emit(i, row.display, IndexPhase.PAUSED)
                time.sleep(0.1)
            if cancel.is_set():
                report.cancelled = True
                break
            emit(i, row.display)
            for src, sig in work:
                if cancel.is_set():
                    break
                self._one(row, src, sig, cancel, report)
            if cancel.is_set():
                report.cancelled = True
                break
            report.words_files += 1
            done_s += row.duration
        emit(report.words_files, None)
        return report

    def _one(self, row: FileRow, src: WordSource, sig: str, cancel: threading.Event, report: IndexReport) -> None:
        if not os.path.exists(row.path):
            return  # went offline since the scan; it is redone when it comes back
        try:
            lines = src.extract(row.path, cancel)
        except Exception as e:  # every source failure becomes the file's words status, never a crash
            if cancel.is_set():
                log.warning("%s: %s words: %s", row.display, src.name, e)
                return
            self.record(row, src.name, sig, None, str(e) or type(e).__name__, report)
            return
        if cancel.is_set():
            return  # a cut-short extraction is partial: leave the old state, redo next run
        self.record(row, src.name, sig, lines, None, report)

    def record(
        self,
        row: FileRow,
        source: str,
        sig: str,
        lines: Sequence[WordLine] | None,
        error: str | None,
        report: IndexReport,
    ) -> None:
        """Commit one (file, source) result, its lines or its error, in one transaction.

        The one place words are committed: a local run and a cluster run (core/cluster_words.py,
        lines read on a worker) go through it, so both end in the same rows.
        """
        if error is not None or lines is None:
            reason = printable(error or "no result")
            log.warning("%s: %s words: %s", row.display, source, reason)
            # Keep the lines read before (a sidecar broken by a half-finished save should not
            # wipe what was searchable); the status says what went wrong.
            self.words.mark_error(row.id, source, reason, sig)
            report.words_errors.append((row.display, f"{source}: {reason}"))
            return
        kept = [
            dataclasses.replace(ln, text=printable(ln.text)) for ln in lines if ln.text.strip() and ln.end >= ln.start
        ]
        self.words.replace_lines(row.id, source, kept, status=WORDS_DONE if kept else WORDS_NONE, signature=sig)
        report.words_lines += len(kept)


__all__ = ["PHASE", "WORDS_DONE", "WORDS_ERROR", "WORDS_NONE", "WordsPass", "signature"]
