"""SearchController: runs searches off the GUI thread and drops results that a newer search replaced."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from reelseek.core.feedback import FeedbackMarks
from reelseek.core.types import Filters, Moment, Query, SearchResult
from reelseek.desktop.tasks import TaskRunner
from reelseek.desktop.warmup import load_model_gently, load_text_model_gently

if TYPE_CHECKING:
    from reelseek.core.library import Library

log = logging.getLogger(__name__)
RESULT_LIMIT = 60


class SearchController(QObject):
    """Each search gets a generation number; a result whose generation is not the latest is
    dropped, so a slow search never overwrites the answer to the query typed after it."""

    started = Signal(object)  # Query
    finished = Signal(object, object, float)  # Query, SearchResult, wall seconds
    failed = Signal(object, str)  # Query, message
    marks_changed = Signal()  # thumbs up/down of the current query changed (cards repaint)

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        # One thread: query embedding is CPU-bound, and only the newest query matters.
        self._runner = TaskRunner("search", max_threads=1, parent=self)
        self._generation = 0
        self._last: tuple[Query, Filters] | None = None
        self._busy = False
        # Relevance feedback of the current query (marks, undo stack) and what they refine:
        # the query itself, or the moment of a "More like this" (then _last is None).
        self._marks = FeedbackMarks()
        self._like: Moment | None = None
        self._like_filters = Filters()
        self._base_vector: tuple[int, object] | None = None  # (session, the query's vector), computed once
        self._session = 0  # bumped per query: a vector computed for an older one is never reused

    def search(self, query: Query, filters: Filters | None = None) -> int:
        self._new_session()
        return self._search(query, filters)

    def _search(self, query: Query, filters: Filters | None = None) -> int:
        self._generation += 1
        gen = self._generation
        filters = filters or Filters()
        self._last = (query, filters)
        self._runner.cancel_queued()  # anything still waiting is already stale
        library = self._library
        t0 = time.perf_counter()
        self._busy = True
        self.started.emit(query)

        def job() -> SearchResult:
            if query.images or query.clips:
                load_model_gently(library)  # no-op once the worker (or a search) has loaded it
            else:
                load_text_model_gently(library)  # text needs only the torch-free text tower
            group = bool(getattr(library.settings, "group_takes", True))  # Settings ▸ Takes
            return library.search(query, limit=RESULT_LIMIT, filters=filters, group=group)

        self._runner.run(
            job,
            result=lambda r: self._on_result(gen, query, r, time.perf_counter() - t0),
            error=lambda exc: self._on_error(gen, query, exc),
        )
        return gen

    def warm_up(self) -> None:
        """Load what a text query needs in the background (call once the window is shown), so
        the first search does not wait for it. Failures are left for that search to report."""
        library = self._library

        def job() -> None:
            try:
                if library.model_available():
                    load_text_model_gently(library)
                    # The null-query calibration (seconds when it must be computed) and the
                    # background frame sample: otherwise the first search pays for them.
                    library.searcher().warm_up()
            except Exception as exc:  # the first real search shows the error
                log.info("search warm-up failed: %s", exc)

        self._runner.run(job)

    def rerun(self) -> bool:
        """Search the last query again (after the library changed); False when there is none.
        The marks and a "More like this" are kept: the same question, asked of the new library."""
        if self._like is not None or (self._last is not None and self._marks):
            self._rerank()
            return True
        if self._last is None:
            return False
        self._search(*self._last)
        return True

    def clear(self) -> None:
        self._generation += 1
        self._last = None
        self._busy = False
        self._new_session()

    # -- more like this and relevance feedback (core/similar.py, core/feedback.py) -------------
    def more_like(self, moment: Moment, filters: Filters | None = None) -> int:
        """Search by this moment's own stored frames (the moment itself is left out)."""
        if filters is None:  # the filters of what is on screen (the search bar's)
            filters = self._last[1] if self._last is not None else self._like_filters
        self._new_session()
        self._last = None
        self._like = moment
        self._like_filters = filters
        return self._rerank()

    def mark(self, moment: Moment, value: int) -> int:
        """Thumb up (+1) or down (−1) a result, or clear it (the same thumb again); re-ranks at
        once by vector math (no re-embedding, no decoding). Returns the moment's mark now."""
        if self._like is None and self._last is None:
            return 0
        now = self._marks.mark(moment.path, moment.start, moment.end, value)
        self.marks_changed.emit()
        self._rerank()
        return now

    def undo_mark(self) -> bool:
        """Take back the last mark (Ctrl+Z); False when there is none."""
        if not self._marks.undo():
            return False
        self.marks_changed.emit()
        self._rerank()
        return True

    def marks(self) -> FeedbackMarks:
        return self._marks

    def like_moment(self) -> Moment | None:
        """The moment of the current "More like this", if that is what is shown."""
        return self._like

    def _new_session(self) -> None:
        had = bool(self._marks)
        self._marks = FeedbackMarks()  # marks are per query
        self._like = None
        self._base_vector = None
        self._session += 1
        if had:
            self.marks_changed.emit()

    def _rerank(self) -> int:
        from reelseek.core import similar

        self._generation += 1
        gen = self._generation
        library, marks, like = self._library, self._marks.marks(), self._like
        query, filters = self._last if self._last is not None else (Query(), self._like_filters)
        base = self._base_vector
        session = self._session
        self._runner.cancel_queued()
        t0 = time.perf_counter()
        self._busy = True
        self.started.emit(query)

        def job() -> SearchResult:
            if like is not None:
                ref = similar.MomentRef.of(like)
                return similar.search_like(library, ref, marks, limit=RESULT_LIMIT, filters=filters)[1]
            if base is not None and base[0] == session:
                q = base[1]
            else:
                if query.images or query.clips:
                    load_model_gently(library)
                else:
                    load_text_model_gently(library)
                q = similar.base_vector(library, query)  # a text query's vector is in the searcher's cache
                self._base_vector = (session, q)  # one attribute store: the same session's later marks reuse it
            return similar.search_refined(library, q, marks, limit=RESULT_LIMIT, filters=filters)  # type: ignore[arg-type]

        self._runner.run(
            job,
            result=lambda r: self._on_result(gen, query, r, time.perf_counter() - t0),
            error=lambda exc: self._on_error(gen, query, exc),
        )
        return gen

    def last_query(self) -> Query | None:
        return self._last[0] if self._last else None

    def generation(self) -> int:
        return self._generation

    def is_busy(self) -> bool:
        return self._busy

    def shutdown(self) -> None:
        self._generation += 1
        self._runner.shutdown()

    def _on_result(self, gen: int, query: Query, result: SearchResult, seconds: float) -> None:
        if gen != self._generation:
            return  # stale: a newer search is running or done
        self._busy = False
        self.finished.emit(query, result, seconds)

    def _on_error(self, gen: int, query: Query, exc: BaseException) -> None:
        if gen != self._generation:
            return
        self._busy = False
        self.failed.emit(query, str(exc) or type(exc).__name__)
