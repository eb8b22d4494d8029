"""SearchController: runs searches off the GUI thread and drops results that a newer search replaced."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from reelseek.core.types import Filters, Query, SearchResult
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

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        # One thread: query embedding is CPU-bound, and only the newest query matters.
        self._runner = TaskRunner("search", max_threads=1, parent=self)
        self._generation = 0
        self._last: tuple[Query, Filters] | None = None
        self._busy = False

    def search(self, query: Query, filters: Filters | None = None) -> int:
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
            except Exception as exc:  # the first real search shows the error
                log.info("search warm-up failed: %s", exc)

        self._runner.run(job)

    def rerun(self) -> bool:
        """Search the last query again (after the library changed); False when there is none."""
        if self._last is None:
            return False
        self.search(*self._last)
        return True

    def clear(self) -> None:
        self._generation += 1
        self._last = None
        self._busy = False

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
