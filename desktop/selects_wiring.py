"""Selects in the window: the Selects dock, adding from the results and the player, and exports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QDockWidget, QInputDialog

from reelseek.core.types import Moment
from reelseek.desktop.export_controller import ExportController
from reelseek.desktop.selects_panel import SelectsPanel
from reelseek.desktop.selects_store import SelectsStore

if TYPE_CHECKING:
    from reelseek.core.export import ExportClip
    from reelseek.core.selects import CollectionInfo, SelectItem
    from reelseek.desktop.main_window import MainWindow


class SelectsWiring(QObject):
    """Builds the dock and connects results, player, panel, store and exporter (one place to read)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.store = SelectsStore(window.library, self)
        self.panel = SelectsPanel(self.store)
        self.dock = QDockWidget("Selects", window)
        self.dock.setObjectName("SelectsDock")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        # Out of the way until there is something in it (the first add shows it; View ▸ Selects too).
        window.resizeDocks([self.dock], [330], Qt.Orientation.Horizontal)
        self.dock.hide()
        self._first_refresh = True
        self.exporter = ExportController(window)
        self.panel.handles_spin.valueChanged.connect(lambda n: setattr(self.exporter, "handles", int(n)))

        view = window.results.view
        view.default_collection = self.panel.current_collection()  # before the first refresh answers
        view.add_to_selects_requested.connect(self.add)
        view.export_requested.connect(self.export_moments)
        window.player.add_to_selects_requested.connect(lambda m: self.add([m], self.panel.current_collection()))
        self.panel.play_requested.connect(window.play_moment)
        self.panel.export_requested.connect(self.export_items)
        self.store.collections_changed.connect(self._on_store_collections_changed)
        self.store.added.connect(self._on_store_added)
        self.store.failed.connect(lambda msg: window.notice.show_notice(msg, "warning"))
        self.exporter.finished.connect(self._on_exporter_finished)
        self.exporter.failed.connect(lambda msg: window.notice.show_notice(msg, "error"))
        self.store.refresh()

    def add(self, moments: Sequence[Moment], collection: str) -> None:
        """Add moments (with their in/out) to ``collection``; an empty name asks for a new one."""
        if not collection:
            collection, ok = QInputDialog.getText(self._window, "New collection", "Add to a new collection named:")
            if not ok or not collection.strip():
                return
        query = self._window.search.last_query()
        self.store.add_moments(collection.strip(), list(moments), query.text if query is not None else "")

    @Slot(list, str)
    def export_moments(self, moments: list[Moment], fmt: str) -> None:
        from reelseek.core.export import ExportClip

        query = self._window.search.last_query()
        text = query.text if query is not None else ""
        clips = [ExportClip.from_moment(m, query=text) for m in moments]
        name = f"reelseek {text}".strip() if text else "reelseek results"
        self.exporter.export(clips, fmt, name, prepare=self._with_sizes)

    @Slot(list, str, str)
    def export_items(self, items: list[SelectItem], fmt: str, name: str) -> None:
        from reelseek.core.export import ExportClip

        self.exporter.export([ExportClip.from_item(it) for it in items], fmt, name, prepare=self._with_sizes)

    def _with_sizes(self, clips: list[ExportClip]) -> list[ExportClip]:
        """Frame sizes from the library (the XML formats describe them); runs on the export thread."""
        from reelseek.core.export import fill_sizes

        store = getattr(self._window.library, "store", None)
        return fill_sizes(clips, store) if store is not None else clips

    def set_timecode_mode(self, mode: str) -> None:
        self.panel.set_timecode_mode(mode)

    def shutdown(self) -> None:
        self.store.shutdown()
        self.exporter.shutdown()

    @Slot(list)
    def _on_store_collections_changed(self, infos: list[CollectionInfo]) -> None:
        view = self._window.results.view
        if self._first_refresh and infos:
            self.dock.show()
        self._first_refresh = False
        view.collection_names = [i.name for i in infos]
        view.default_collection = self.panel.current_collection()

    @Slot(str, int)
    def _on_store_added(self, name: str, n: int) -> None:
        self._window.statusBar().showMessage(f"Added {n} to “{name}”", 5000)
        self.dock.show()

    @Slot(str, int)
    def _on_exporter_finished(self, path: str, n: int) -> None:
        self._window.statusBar().showMessage(f"Exported {n} clip{'s' if n != 1 else ''} to {path}", 10_000)
