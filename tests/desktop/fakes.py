"""A stand-in for reelseek.core.library.Library, for widget unit tests only.

The end-to-end GUI tests (test_e2e_gui.py) use the real Library and the real test model; these
unit tests need control over timing (batches, pause, failures) that real indexing cannot give.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread

from reelseek.core.library import FileInfo, FolderInfo, LibraryError
from reelseek.core.paths import data_paths
from reelseek.core.settings import Settings
from reelseek.core.types import (
    Filters,
    IndexProgress,
    IndexReport,
    LibraryStatus,
    Moment,
    Query,
    SearchResult,
)


class FakeLibrary:
    """Indexes ``n_files`` fake files in batches of one, ``batch_s`` seconds each."""

    def __init__(self, home: Path, *, n_files: int = 5, batch_s: float = 0.02, has_model: bool = True) -> None:
        self.paths = data_paths(home).ensure()
        self.settings = Settings()
        self.n_files = n_files
        self.batch_s = batch_s
        self.has_model = has_model
        self.folder_list: list[str] = []
        self.index_calls: list[list[str] | None] = []
        self.scan_calls: list[list[str] | None] = []
        self.batches_done = 0
        self.fail_with: Exception | None = None
        self.errors_to_report: list[tuple[str, str]] = []
        self.search_delay = 0.0
        self.search_calls: list[Query] = []
        self.moments: list[Moment] = []
        self.no_good_match = False
        self.thumb_bytes: bytes | None = None
        self.loaded = False
        self.in_index = threading.Event()
        self._collections: Any = None

    @property
    def collections(self) -> Any:
        """Real collections on a real (otherwise empty) store: the Selects dock reads them."""
        if self._collections is None:
            from reelseek.core.selects import Collections
            from reelseek.core.store import Store

            self._collections = Collections(Store(self.paths.database))
        return self._collections

    # settings and model
    def save_settings(self) -> None:
        self.settings.save(self.paths.settings_file)

    def model_id(self) -> str:
        return self.settings.model_id or "fake-model"

    def model_available(self, model_id: str | None = None) -> bool:
        return self.has_model

    def load_model(self, model_id: str | None = None) -> None:
        self.loaded = True

    # folders
    def add_folder(self, path: str | Path) -> None:
        p = Path(path)
        if not p.is_dir():
            raise LibraryError(f"folder not found: {p}")
        if str(p) not in self.folder_list:
            self.folder_list.append(str(p))

    def remove_folder(self, path: str | Path) -> None:
        if str(path) not in self.folder_list:
            raise LibraryError(f"not a watched folder: {path}")
        self.folder_list.remove(str(path))

    def folders(self) -> list[FolderInfo]:
        return [FolderInfo(p, Path(p).is_dir(), self.n_files, self.batches_done, 0, 0) for p in self.folder_list]

    # indexing
    def scan(self, paths: Sequence[str] | None = None) -> IndexReport:
        self.scan_calls.append(list(paths) if paths is not None else None)
        return IndexReport()

    def index(
        self,
        paths: Sequence[str] | None = None,
        *,
        progress: Callable[[IndexProgress], None] | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
    ) -> IndexReport:
        self.index_calls.append(list(paths) if paths is not None else None)
        self.in_index.set()
        try:
            if self.fail_with is not None:
                raise self.fail_with
            report = IndexReport(errors=list(self.errors_to_report))
            t0 = time.monotonic()
            for i in range(self.n_files):
                while pause is not None and pause.is_set():
                    if cancel is not None and cancel.is_set():
                        break
                    time.sleep(0.005)
                if cancel is not None and cancel.is_set():
                    report.cancelled = True
                    break
                if progress:
                    progress(
                        IndexProgress(
                            i,
                            self.n_files,
                            f"/footage/file{i}.mp4",
                            i * 10.0,
                            self.n_files * 10.0,
                            time.monotonic() - t0,
                        )
                    )
                time.sleep(self.batch_s)
                self.batches_done += 1
                report.indexed += 1
            if progress:
                progress(
                    IndexProgress(
                        report.indexed,
                        self.n_files,
                        None,
                        report.indexed * 10.0,
                        self.n_files * 10.0,
                        time.monotonic() - t0,
                        phase="finished",
                    )
                )
            return report
        finally:
            self.in_index.clear()

    # search and reporting
    def search(
        self, query: Query | str, *, limit: int = 20, filters: Filters | None = None, group: bool = True
    ) -> SearchResult:
        q = query if isinstance(query, Query) else Query(text=query)
        self.search_calls.append(q)
        self.search_grouped = group  # Settings ▸ Takes reaches the search
        if self.search_delay:
            time.sleep(self.search_delay)
        return SearchResult(moments=list(self.moments[:limit]), no_good_match=self.no_good_match)

    def status(self) -> LibraryStatus:
        return LibraryStatus(
            {"done": self.batches_done}, list(self.errors_to_report), list(self.folder_list), 0, self.model_id()
        )

    def files(self, status: str | None = None) -> list[FileInfo]:
        return []

    def thumbnail(self, moment: Moment, *, width: int = 320) -> bytes | None:
        return self.thumb_bytes

    def close(self) -> None:
        pass


def moment(
    name: str = "a.mp4", start: float = 1.0, end: float = 3.0, *, folder: str = "/footage", **kw: object
) -> Moment:
    values: dict[str, object] = {
        "path": f"{folder}/{name}",
        "file_id": 1,
        "start": start,
        "end": end,
        "score": 0.31,
        "best_time": (start + end) / 2,
        "confidence": 0.8,
        "duration": 10.0,
    }
    values.update(kw)
    return Moment(**values)  # type: ignore[arg-type]


class Recorder(QObject):
    """Records a signal's emissions on the GUI thread.

    Connect signals to ``recorder.record`` rather than to a lambda: PySide6 runs a slot that is not
    a QObject method in the sender's thread, and the worker's signals are sent from its thread.
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[object, ...]] = []
        self.on_gui_thread: list[bool] = []

    def record(self, *args: object) -> None:
        self.calls.append(args)
        self.on_gui_thread.append(QThread.currentThread() is QCoreApplication.instance().thread())

    def values(self) -> list[object]:
        return [c[0] if len(c) == 1 else c for c in self.calls]
