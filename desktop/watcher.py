"""Notice changes in watched folders: file-system events (debounced) plus a periodic rescan."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

# inotify watches are a shared, limited resource (fs.inotify.max_user_watches); a footage tree
# rarely has more folders than this, and the periodic rescan covers whatever is left out.
MAX_WATCHED_DIRS = 4000


class FolderWatcher(QObject):
    """Emits ``folders_changed(roots)`` when something under the watched roots may have changed.

    Events arrive in bursts (a copy writes a file in many steps), so they are collected for
    ``debounce_ms`` before one signal goes out. Network shares and external drives often send no
    events at all, hence the periodic rescan of every root.
    """

    folders_changed = Signal(list)

    def __init__(
        self, *, rescan_interval_s: float = 300, debounce_ms: int = 1500, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._roots: list[str] = []
        self._dirty: set[str] = set()
        self._fs = QFileSystemWatcher(self)
        self._fs.directoryChanged.connect(self._on_fs_directory_changed)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self._rescan = QTimer(self)
        self._rescan.timeout.connect(self._on_rescan_timeout)
        self.set_rescan_interval(rescan_interval_s)

    def set_rescan_interval(self, seconds: float) -> None:
        self._rescan.setInterval(max(1, round(seconds * 1000)))

    def set_folders(self, roots: Iterable[str]) -> None:
        """Watch these roots (and their sub-folders) from now on; starts the periodic rescan."""
        self._roots = sorted({str(Path(r)) for r in roots})
        self._rewatch()
        if self._roots:
            self._rescan.start()
        else:
            self._rescan.stop()

    def roots(self) -> list[str]:
        return list(self._roots)

    def watched_directories(self) -> list[str]:
        return self._fs.directories()

    def stop(self) -> None:
        self._debounce.stop()
        self._rescan.stop()
        dirs = self._fs.directories()
        if dirs:
            self._fs.removePaths(dirs)

    def _rewatch(self) -> None:
        wanted: list[str] = []
        for root in self._roots:
            wanted.extend(_walk_dirs(root, MAX_WATCHED_DIRS - len(wanted)))
        current = set(self._fs.directories())
        stale = [d for d in current if d not in set(wanted)]
        if stale:
            self._fs.removePaths(stale)
        new = [d for d in wanted if d not in current]
        if new:
            self._fs.addPaths(new)

    def _root_of(self, path: str) -> str | None:
        for root in self._roots:
            if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
                return root
        return None

    @Slot(str)
    def _on_fs_directory_changed(self, path: str) -> None:
        root = self._root_of(path)
        if root is not None:
            self._dirty.add(root)
            self._debounce.start()  # restarts: wait for the burst to settle

    @Slot()
    def _on_debounce_timeout(self) -> None:
        roots, self._dirty = sorted(self._dirty), set()
        if roots:
            self._rewatch()  # new sub-folders need their own watch; deleted ones drop out
            self.folders_changed.emit(roots)

    @Slot()
    def _on_rescan_timeout(self) -> None:
        if self._roots:
            self._rewatch()  # a drive that came back gets its watches again
            self.folders_changed.emit(list(self._roots))


def _walk_dirs(root: str, limit: int) -> list[str]:
    """The root and its sub-folders (hidden ones skipped), at most ``limit`` of them."""
    out: list[str] = []
    if limit <= 0 or not os.path.isdir(root):
        return out
    for dirpath, dirnames, _files in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out.append(dirpath)
        if len(out) >= limit:
            break
    return out
