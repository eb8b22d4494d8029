"""MainWindow: wires the library, the indexing worker, the watcher, search, results and the player."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from reelseek.core.types import Filters, IndexProgress, IndexReport, Query, SearchResult
from reelseek.desktop import theme
from reelseek.desktop.feedback_wiring import FEEDBACK_KEYS, connect_feedback
from reelseek.desktop.folders_panel import FoldersWidget
from reelseek.desktop.index_worker import IndexWorker
from reelseek.desktop.keyboard_flow import KeyboardFlow
from reelseek.desktop.language_notice import LanguageNoticeWidget
from reelseek.desktop.library_controller import LibraryController
from reelseek.desktop.media_kinds import DropKind, classify, local_paths
from reelseek.desktop.notice import NoticeWidget
from reelseek.desktop.player.widget import KEYS_HELP, PlayerWidget
from reelseek.desktop.results.panel import ResultsPanelWidget
from reelseek.desktop.results.thumbnails import ThumbnailLoader
from reelseek.desktop.search_bar import SearchBarWidget, _rejection
from reelseek.desktop.search_controller import SearchController
from reelseek.desktop.selects_wiring import SelectsWiring
from reelseek.desktop.settings_dialog import SettingsDialog
from reelseek.desktop.status_widget import ErrorListDialog, IndexStatusWidget
from reelseek.desktop.transcript_panel import TranscriptPanelWidget
from reelseek.desktop.watcher import FolderWatcher
from reelseek.desktop.welcome import WelcomeWidget

if TYPE_CHECKING:
    from reelseek.core.library import FolderInfo, Library
    from reelseek.core.types import LibraryStatus, Moment

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The editor's window. Owns the worker thread and the helper pools, never the Library itself."""

    def __init__(
        self,
        library: Library,
        *,
        qsettings: QSettings | None = None,
        player_render: str = "auto",
        audio: bool = True,
        watch_debounce_ms: int = 1500,
    ) -> None:
        super().__init__()
        self.library = library
        self.qsettings = qsettings if qsettings is not None else QSettings()
        self.setWindowTitle("reelseek")
        self.setWindowIcon(theme.app_icon())
        self.setAcceptDrops(True)
        self._closed = False
        self._errors: list[tuple[str, str]] = []
        self._has_model = self._check_model()
        self._folders: list[FolderInfo] = []
        self._last_progress: IndexProgress | None = None

        # Background machinery. Why each exists: the worker owns every library write (index runs
        # and folder changes, one thread, in order); the library controller does quick reads;
        # the search controller and thumbnail loader have their own pools (see tasks.py).
        self.worker = IndexWorker(library, self)
        self.library_ctl = LibraryController(library, self.worker, self)
        self.search = SearchController(library, self)
        self.thumbnails = ThumbnailLoader(library, self)
        self.watcher = FolderWatcher(
            rescan_interval_s=library.settings.rescan_interval_s, debounce_ms=watch_debounce_ms, parent=self
        )
        # Widgets.
        self.welcome = WelcomeWidget(library, self)
        self.notice = NoticeWidget(self)
        self.search_bar = SearchBarWidget(self)
        self.language_notice = LanguageNoticeWidget(self)
        self.folders = FoldersWidget(self)
        self.results = ResultsPanelWidget(self)
        self.player = PlayerWidget(render=player_render, audio=audio, parent=self)
        self.index_status = IndexStatusWidget(self)
        self.statusBar().addPermanentWidget(self.index_status)
        header = QWidget()
        header.setObjectName("SearchHeader")
        header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        hl = QVBoxLayout(header)
        hl.setContentsMargins(12, 10, 12, 10)
        hl.addWidget(self.search_bar)
        hl.addWidget(self.language_notice)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(2)
        self.results.setMinimumWidth(250)
        self.splitter.addWidget(self.folders)
        self.splitter.addWidget(self.results)
        self.transcript = TranscriptPanelWidget(library, self)
        self.transcript.follow(self.player.position)
        self.player_column = QSplitter(Qt.Orientation.Vertical)  # the player over its transcript
        self.player_column.setChildrenCollapsible(True)
        self.player_column.addWidget(self.player)
        self.player_column.addWidget(self.transcript)
        self.player_column.setStretchFactor(0, 3)
        self.player_column.setStretchFactor(1, 1)
        self.splitter.addWidget(self.player_column)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([230, 560, 480])
        library_page = QWidget()
        lp = QVBoxLayout(library_page)
        lp.setContentsMargins(0, 0, 0, 0)
        lp.setSpacing(0)
        lp.addWidget(header)
        lp.addWidget(self.splitter, 1)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(library_page)
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self.notice)  # above both pages: drops on the welcome view get messages too
        cl.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.selects = SelectsWiring(self)  # the Selects dock, adding to it, exports
        self.keyboard = KeyboardFlow(self)
        self._build_menus()
        self._install_player_shortcuts()
        self._connect()
        self.apply_timecode_mode()
        self._restore_geometry()

        self._folders = self._load_folders_now()
        self._apply_folders(self._folders)
        self.pages.setCurrentIndex(1 if self._folders and self._has_model else 0)
        self._show_idle_placeholder()
        self.refresh_library()
        if self._folders:
            self.worker.request_index(embed=self._has_model)

    # --- construction -----------------------------------------------------------------------

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.add_folder_action = self._action(file_menu, "Add footage folder…", "folder-add", "Ctrl+O")
        self.add_folder_action.triggered.connect(self._on_add_folder_action_triggered)
        self.rescan_action = self._action(file_menu, "Rescan folders now", "", "F5")
        self.rescan_action.triggered.connect(lambda: self.worker.request_index(embed=self._has_model))
        file_menu.addSeparator()
        self.settings_action = self._action(file_menu, "Settings…", "settings", QKeySequence.StandardKey.Preferences)
        self.settings_action.triggered.connect(self._on_settings_action_triggered)
        self.setup_action = self._action(file_menu, "Footage and model setup…", "download", "")
        self.setup_action.triggered.connect(lambda: self.pages.setCurrentIndex(0))
        file_menu.addSeparator()
        quit_action = self._action(file_menu, "Quit", "", QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        view_menu = self.menuBar().addMenu("&View")
        focus = self._action(view_menu, "Search", "search", "Ctrl+F")
        focus.triggered.connect(lambda: self.search_bar.field.setFocus())
        view_menu.addAction(self.selects.dock.toggleViewAction())
        errors = self._action(view_menu, "Indexing errors…", "error", "")
        errors.triggered.connect(self._on_index_status_errors_clicked)
        help_menu = self.menuBar().addMenu("&Help")
        keys = self._action(help_menu, "Keyboard shortcuts", "", "")
        keys.triggered.connect(
            lambda: QMessageBox.information(
                self, "Keyboard shortcuts", f"{KEYS_HELP} · {FEEDBACK_KEYS}".replace(" · ", "\n")
            )
        )

    def _install_player_shortcuts(self) -> None:
        """Space/J/K/L/I/O drive the player when the player or the results have focus (not window-wide
        shortcuts: those fired in the Selects panel's fields and the folder list too)."""
        self.results.view.player_key_pressed.connect(
            lambda key, mods: self.player.handle_key(key, Qt.KeyboardModifier(mods))
        )

    def _action(self, menu: object, text: str, icon_name: str, shortcut: object) -> QAction:
        action = QAction(theme.icon(icon_name), text, self) if icon_name else QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))  # type: ignore[arg-type]
        menu.addAction(action)  # type: ignore[attr-defined]
        return action

    def _connect(self) -> None:
        w = self.worker
        w.progress.connect(self._on_worker_progress)
        w.file_done.connect(self._on_worker_file_done)
        w.error.connect(self._on_worker_error)
        w.finished.connect(self._on_worker_finished)
        w.state_changed.connect(self._on_worker_state_changed)
        self.watcher.folders_changed.connect(self._on_watcher_folders_changed)
        self.library_ctl.refreshed.connect(self._on_library_ctl_refreshed)
        self.library_ctl.folders_added.connect(self._on_library_ctl_folders_added)
        self.library_ctl.folder_removed.connect(self._on_library_ctl_folder_removed)
        self.library_ctl.failed.connect(lambda msg: self.notice.show_notice(msg, "error"))
        self.library_ctl.model_pruned.connect(
            lambda mid, n: self.notice.show_notice(f"Removed {n} segment(s) of {mid} from the library", "info")
        )
        self.search_bar.search_requested.connect(self._on_search_bar_search_requested)
        self.search_bar.cleared.connect(self._on_search_bar_cleared)
        self.search_bar.rejected_drop.connect(lambda msg: self.notice.show_notice(msg, "warning"))
        self.search_bar.syntax_hint.connect(lambda msg: self.statusBar().showMessage(msg, 8000))
        self.search.finished.connect(self._on_search_finished)
        self.search.failed.connect(self._on_search_failed)
        self.results.model.thumbnail_wanted.connect(self.thumbnails.request)
        self.thumbnails.loaded.connect(self.results.model.set_thumbnail)
        self.results.view.play_requested.connect(self.play_moment)
        self.results.action_clicked.connect(self._on_results_action_clicked)
        self.folders.add_clicked.connect(self._on_add_folder_action_triggered)
        self.folders.folders_dropped.connect(self.add_folders)
        self.folders.remove_requested.connect(self._on_folders_remove_requested)
        self.welcome.add_folder_clicked.connect(self._on_add_folder_action_triggered)
        self.welcome.folders_dropped.connect(self.add_folders)
        self.welcome.open_library_clicked.connect(lambda: self.pages.setCurrentIndex(1))
        self.welcome.model_setup.model_ready.connect(self._on_model_setup_model_ready)
        self.language_notice.setup_requested.connect(self._on_language_notice_setup_requested)
        self.index_status.pause_toggled.connect(self._on_index_status_pause_toggled)
        self.index_status.errors_clicked.connect(self._on_index_status_errors_clicked)
        self.player.playback_error.connect(lambda msg: self.notice.show_notice(msg, "warning"))
        self.player.moment_loaded.connect(self.transcript.load_moment)
        self.transcript.seek_requested.connect(self.player.seek)
        connect_feedback(self)  # more like this, thumbs up/down, undo

    # --- public actions (also what tests drive) ----------------------------------------------

    def add_folders(self, paths: Sequence[str | Path]) -> None:
        """Watch these folders and index them in the background."""
        self.library_ctl.add_folders(paths)

    def remove_folder(self, path: str) -> None:
        self.worker.cancel_current()  # its files are about to go; no point finishing them
        self.library_ctl.remove_folder(path)

    def play_moment(self, moment: Moment) -> None:
        # The card's thumbnail is already decoded: a picture at once while libvlc opens the file.
        thumb = self.results.model.thumbnail(moment)
        self.player.play_moment(moment, placeholder=thumb.toImage() if thumb is not None else None)

    def apply_timecode_mode(self) -> None:
        """SMPTE source timecode or seconds (settings ▸ Show times as) on cards, player and selects."""
        mode = getattr(self.library.settings, "timecode_display", "smpte")
        self.results.model.set_timecode_mode(mode)
        self.player.set_timecode_mode(mode)
        self.selects.set_timecode_mode(mode)

    def refresh_library(self) -> None:
        """Re-read folders and status off the GUI thread, then update the side panel."""
        self.library_ctl.refresh()

    def has_model(self) -> bool:
        return self._has_model

    def errors(self) -> list[tuple[str, str]]:
        return list(self._errors)

    def shutdown(self) -> None:
        """Stop every thread and timer this window started; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._save_geometry()
        self.search_bar.stop()
        self.watcher.stop()
        self.worker.stop()
        self.welcome.model_setup.shutdown()
        self.search.shutdown()
        self.thumbnails.shutdown()
        self.library_ctl.shutdown()
        self.selects.shutdown()
        self.transcript.shutdown()
        self.player.shutdown()

    # --- events -----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.handle_dropped_paths(local_paths(event.mimeData()))
        event.acceptProposedAction()

    def handle_dropped_paths(self, paths: Sequence[Path]) -> None:
        """Folders are watched, stills and clips become query chips, anything else gets a message."""
        kinds = [(classify(p), p) for p in paths]
        folders = [p for k, p in kinds if k is DropKind.FOLDER]
        media = [p for k, p in kinds if k in (DropKind.IMAGE, DropKind.CLIP)]
        others = [p for k, p in kinds if k is DropKind.OTHER]
        if folders:
            self.add_folders(folders)
        if media:
            self.pages.setCurrentIndex(1)
            self.search_bar.handle_drop_paths(media)
        if others:
            self.notice.show_notice(_rejection(others), "warning")

    # --- slots: worker ----------------------------------------------------------------------

    @Slot(object)
    def _on_worker_progress(self, p: IndexProgress) -> None:
        self._last_progress = p
        self.index_status.show_progress(p)

    @Slot(str)
    def _on_worker_file_done(self, _path: str) -> None:
        self.library_ctl.refresh_soon()

    @Slot(str, str)
    def _on_worker_error(self, path: str, reason: str) -> None:
        if (path, reason) not in self._errors:
            self._errors.append((path, reason))
        self.index_status.set_error_count(len(self._errors))
        if not path:
            self.notice.show_notice(f"Indexing stopped: {reason}", "error")

    @Slot(object)
    def _on_worker_finished(self, report: IndexReport | None) -> None:
        self.refresh_library()
        if report is None:
            return
        changed = report.indexed or report.removed or report.moved or report.offline
        if changed and self.search.last_query() is not None and self._has_model:
            self.search.rerun()  # new or vanished files show up in (or leave) the current results
        if report.indexed or report.removed:
            parts = [f"{report.indexed} indexed"] if report.indexed else []
            parts += [f"{report.removed} removed"] if report.removed else []
            self.statusBar().showMessage("Library updated: " + ", ".join(parts), 6000)

    @Slot(str)
    def _on_worker_state_changed(self, state: str) -> None:
        self.index_status.show_state(state)
        self.index_status.set_paused(self.worker.is_paused())

    @Slot(list)
    def _on_watcher_folders_changed(self, roots: list[str]) -> None:
        self.worker.request_index(roots, embed=self._has_model)

    # --- slots: search and results ----------------------------------------------------------

    @Slot(object, object)
    def _on_search_bar_search_requested(self, query: Query, filters: Filters) -> None:
        if not self._has_model:
            self.results.show_idle(has_folders=True, has_model=False)  # explain the model, whatever else
            return
        self.search.search(query, filters)
        self.statusBar().showMessage("Searching…")

    @Slot()
    def _on_search_bar_cleared(self) -> None:
        self.search.clear()
        self.thumbnails.cancel_pending()
        self._show_idle_placeholder()
        self.statusBar().clearMessage()

    @Slot(object, object, float)
    def _on_search_finished(self, query: Query, result: SearchResult, seconds: float) -> None:
        self.thumbnails.cancel_pending()
        self.results.show_search_result(query, result)
        self.language_notice.check(self.library.model_id(), query.text)
        n = len(result.moments)
        self.statusBar().showMessage(f"{n} moment{'s' if n != 1 else ''} · {seconds * 1000:.0f} ms", 8000)

    @Slot(object, str)
    def _on_search_failed(self, query: Query, message: str) -> None:
        self.statusBar().clearMessage()
        self.results.show_placeholder("error", "Search failed", message)

    @Slot(str)
    def _on_language_notice_setup_requested(self, model_id: str) -> None:
        self.welcome.model_setup.select_model(model_id)  # the setup page, with the multilingual model picked
        self.pages.setCurrentIndex(0)

    @Slot(str)
    def _on_results_action_clicked(self, action: str) -> None:
        if action == "setup":
            self.pages.setCurrentIndex(0)
        elif action == "add_folder":
            self._on_add_folder_action_triggered()

    def _show_idle_placeholder(self) -> None:
        self.results.show_idle(has_folders=bool(self._folders), has_model=self._has_model)

    # --- slots: folders, model, status bar --------------------------------------------------

    @Slot(list)
    def _on_library_ctl_folders_added(self, folders: list[str]) -> None:
        self.pages.setCurrentIndex(1 if self._has_model else self.pages.currentIndex())
        self.refresh_library()
        self.worker.request_index(folders, embed=self._has_model)

    @Slot(str)
    def _on_library_ctl_folder_removed(self, path: str) -> None:
        self.refresh_library()
        self.search.rerun()
        if self._folders:
            self.worker.request_index(embed=self._has_model)  # the pass cancelled for the removal

    @Slot(str)
    def _on_folders_remove_requested(self, path: str) -> None:
        self.remove_folder(path)

    @Slot(object, object)
    def _on_library_ctl_refreshed(self, folders: list[FolderInfo], status: LibraryStatus) -> None:
        self._apply_folders(folders)
        self.folders.set_status(status)
        for item in status.errors:
            if tuple(item) not in self._errors:
                self._errors.append((item[0], item[1]))
        self.index_status.set_error_count(len(self._errors))
        self.index_status.show_switch(status.models)
        if self.results.state() in ("empty", "idle", "no_model"):
            self._show_idle_placeholder()

    def _apply_folders(self, folders: list[FolderInfo]) -> None:
        self._folders = folders
        self.folders.set_folders(folders)
        self.welcome.set_folders(folders)
        self.search_bar.set_folders([f.path for f in folders])
        if not self._closed:
            self.watcher.set_folders(f.path for f in folders)

    def _load_folders_now(self) -> list[FolderInfo]:
        try:
            return self.library_ctl.folders_now()
        except Exception as exc:
            self.notice.show_notice(f"Could not read the library: {exc}", "error")
            return []

    def _check_model(self) -> bool:
        try:
            return bool(self.library.model_available())
        except Exception as exc:
            log.warning("model check failed: %s", exc)
            return False

    @Slot(str)
    def _on_model_setup_model_ready(self, _model_id: str) -> None:
        self._has_model = self._check_model()
        if self._has_model:
            self.notice.show_notice("The model is ready: indexing your folders in the background.", "info")
            self.worker.request_index()
            self._show_idle_placeholder()

    @Slot(bool)
    def _on_index_status_pause_toggled(self, paused: bool) -> None:
        if paused:
            self.worker.pause()
        else:
            self.worker.resume()

    @Slot()
    def _on_index_status_errors_clicked(self) -> None:
        dialog = ErrorListDialog(self._errors, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    @Slot()
    def _on_add_folder_action_triggered(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a footage folder", str(Path.home()))
        if folder:
            self.add_folders([folder])

    @Slot()
    def _on_settings_action_triggered(self) -> None:
        dialog = SettingsDialog(self.library, self.qsettings, self, prune=self.library_ctl.prune_model)
        model_before = self.library.model_id()
        takes_before = self.library.settings.group_takes
        if dialog.exec():
            self.apply_settings(model_changed=self.library.model_id() != model_before)
            if self.library.settings.group_takes != takes_before:
                self.search.rerun()  # Settings ▸ Takes: the current results fold or unfold now
        dialog.deleteLater()

    def apply_settings(self, *, model_changed: bool) -> None:
        """React to saved settings: rescan interval now; a new model indexes in the background."""
        self.watcher.set_rescan_interval(self.library.settings.rescan_interval_s)
        self.apply_timecode_mode()
        self.statusBar().showMessage("Settings saved", 4000)
        if model_changed:
            self._has_model = self._check_model()
            self.welcome.model_setup.refresh()
            if self._has_model:
                self.worker.request_index()
            else:
                self.notice.show_notice(
                    f"{self.library.model_id()} is not on this computer yet: download or import it in "
                    "File ▸ Footage and model setup.",
                    "warning",
                )

    # --- geometry ---------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = self.qsettings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)  # type: ignore[arg-type]
        else:
            self.resize(1280, 800)
        docks = self.qsettings.value("window/state")
        if docks is not None:
            self.restoreState(docks)  # type: ignore[arg-type]
        splitter = self.qsettings.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)  # type: ignore[arg-type]

    def _save_geometry(self) -> None:
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        self.qsettings.setValue("window/splitter", self.splitter.saveState())
        self.qsettings.setValue("window/state", self.saveState())
        self.qsettings.sync()
