"""The words feature's entry points on a Library: the pass after indexing, per-folder switches, status."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..store import DONE
from ..store_words import WordsStore
from ..types import IndexProgress, IndexReport

if TYPE_CHECKING:
    from ..cluster import ClusterConfig
    from ..library import Library

log = logging.getLogger(__name__)


def words_pass(
    lib: Library,
    folder_ids: Iterable[int],
    *,
    progress: Callable[[IndexProgress], None] | None = None,
    cancel: threading.Event | None = None,
    pause: threading.Event | None = None,
    report: IndexReport | None = None,
    only: list[str] | None = None,
    cluster: ClusterConfig | None = None,
) -> IndexReport:
    """Read the words of every indexed file under the folders, with the sources the settings name
    (or ``only`` these); with ``cluster``, speech and on-screen text are read on Ray workers."""
    from .pass_ import WordsPass
    from .sources import load_sources

    report = report or IndexReport()
    names = lib.settings.words_sources if only is None else only
    sources, _missing = load_sources(names, models_dir=lib.paths.models, settings=lib.settings, device=_device(lib))
    if not sources:
        return report
    wanted = set(folder_ids)
    files = [f for f in lib.store.files(status=DONE) if f.folder_id in wanted]
    try:
        if cluster is not None:
            from ..cluster_words import ClusterWordsPass

            runner = ClusterWordsPass(lib.store, sources, lib.paths.models, cluster)
            return runner.run(files, progress=progress, cancel=cancel, pause=pause, report=report)
        return WordsPass(lib.store, sources).run(files, progress=progress, cancel=cancel, pause=pause, report=report)
    except Exception as e:  # the visual index is committed; a words failure must not undo the run's report
        log.exception("words pass stopped")
        report.words_errors.append(("", f"words pass stopped: {e}"))
        return report


def _device(lib: Library) -> str:
    # Whisper runs on CUDA or the CPU; "auto" is resolved only when the words pass runs.
    requested = lib.device()
    if requested in ("cpu", "mps"):
        return "cpu"
    try:
        from ..models.device import pick_device

        return "cuda" if pick_device(requested).startswith("cuda") else "cpu"
    except Exception:
        return "cpu"


def folder_id_for(lib: Library, path: str | os.PathLike[str]) -> int:
    from ..library import LibraryError

    p = Path(path).expanduser()
    fid = lib.store.folder_id(p.resolve()) or lib.store.folder_id(p.absolute())
    if fid is None:
        raise LibraryError(f"not a watched folder: {p}")
    return fid


def set_folder_words(lib: Library, path: str | os.PathLike[str], enabled: bool) -> None:
    """Switch the words pass on or off for one watched folder (stored in the library database)."""
    WordsStore(lib.store).set_folder_enabled(folder_id_for(lib, path), enabled)


def folder_words(lib: Library) -> list[tuple[str, bool]]:
    ws = WordsStore(lib.store)
    return [(path, ws.folder_enabled(fid)) for fid, path in lib.store.folders()]


def words_status(lib: Library) -> dict[str, object]:
    """Counts per source and status, lines stored, and every file's reason for an error."""
    ws = WordsStore(lib.store)
    return {
        "enabled": lib.settings.words,
        "sources": lib.settings.words_sources,
        "counts": ws.status_counts(),
        "lines": ws.line_count(),
        "errors": [{"path": p, "source": s, "error": r} for p, s, r in ws.errors()],
    }
