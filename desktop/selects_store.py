"""SelectsStore: the GUI's one door to the library's collections (bins of selects), off the GUI thread.

Every write the Selects panel, the results and the player make goes through this class, on one
thread, in order (an item added and then trimmed must not be trimmed first). The lead can re-route
``_write`` to the index worker's write path without touching the widgets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from reelseek.desktop.tasks import TaskRunner

if TYPE_CHECKING:
    from reelseek.core.library import Library
    from reelseek.core.selects import Collections
    from reelseek.core.types import Moment

log = logging.getLogger(__name__)
DEFAULT_COLLECTION = "Selects"


class SelectsStore(QObject):
    """Asynchronous collections API; answers arrive as signals on the GUI thread.

    After every change ``collections_changed`` and ``items_changed`` (for the collection touched)
    follow, so views simply redraw from what the database now holds.
    """

    collections_changed = Signal(list)  # list[CollectionInfo]
    items_changed = Signal(str, list)  # collection name, list[SelectItem]
    added = Signal(str, int)  # collection name, how many items were added
    failed = Signal(str)  # a message for the editor

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._runner = TaskRunner("selects", max_threads=1, parent=self)

    @property
    def _collections(self) -> Collections:
        return self._library.collections

    # --- reads ------------------------------------------------------------------------------

    def refresh(self, name: str | None = None) -> None:
        """Re-read the collection list (and ``name``'s items)."""
        self._run(lambda c: None, name)

    # --- writes -----------------------------------------------------------------------------

    def create(self, name: str) -> None:
        self._run(lambda c: c.create(name), name)

    def rename(self, name: str, new_name: str) -> None:
        self._run(lambda c: c.rename(name, new_name), new_name)

    def delete(self, name: str) -> None:
        self._run(lambda c: c.delete(name), None)

    def add_moments(self, name: str, moments: Sequence[Moment], query: str = "") -> None:
        """Add moments (their start/end are the marked in/out) to ``name``, creating it if needed."""
        name = name or DEFAULT_COLLECTION
        items = list(moments)

        def add(c: Collections) -> None:
            for m in items:
                c.add_moment(name, m, query=query)

        self._run(add, name, on_done=lambda: self.added.emit(name, len(items)))

    def remove(self, name: str, item_id: int) -> None:
        self._run(lambda c: c.remove(item_id), name)

    def reorder(self, name: str, item_ids: Sequence[int]) -> None:
        ids = list(item_ids)
        self._run(lambda c: c.reorder(name, ids), name)

    def trim(self, name: str, item_id: int, in_s: float, out_s: float) -> None:
        self._run(lambda c: c.trim(item_id, in_s, out_s), name)

    def annotate(self, name: str, item_id: int, note: str) -> None:
        self._run(lambda c: c.annotate(item_id, note), name)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until queued work ran (tests; the window never blocks on it)."""
        return self._runner.wait(timeout_ms)

    def shutdown(self) -> None:
        self._runner.shutdown()

    # --- internals --------------------------------------------------------------------------

    def _write(self, change: Callable[[Collections], Any]) -> None:
        """The one place a change reaches the library (see the module docstring)."""
        change(self._collections)

    def _run(
        self, change: Callable[[Collections], Any], name: str | None, on_done: Callable[[], None] | None = None
    ) -> None:
        def job() -> tuple[list[Any], str | None, list[Any]]:
            self._write(change)
            c = self._collections
            infos = c.list()
            names = {i.name for i in infos}
            items = c.items(name) if name and name in names else []
            return infos, name, items

        def done(result: tuple[list[Any], str | None, list[Any]]) -> None:
            infos, touched, items = result
            self.collections_changed.emit(infos)
            if touched:
                self.items_changed.emit(touched, items)
            if on_done is not None:
                on_done()

        self._runner.run(job, result=done, error=self._on_error)

    def _on_error(self, exc: BaseException) -> None:
        from reelseek.core.selects import CollectionError

        if not isinstance(exc, CollectionError):
            log.warning("collections: %s", exc, exc_info=exc)
        self.failed.emit(str(exc) or type(exc).__name__)
