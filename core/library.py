"""The engine's front door: one Library object per data folder, used by the CLI and the GUI."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .paths import DataPaths, data_paths
from .settings import Settings
from .store import DONE, OFFLINE, PENDING, Store
from .types import Filters, IndexProgress, IndexReport, LibraryStatus, Moment, Query, SearchResult

if TYPE_CHECKING:
    from .index import VectorIndex
    from .indexer import IndexerConfig
    from .models.embedder import Embedder
    from .search import Searcher

log = logging.getLogger(__name__)
MODEL_ENV = "REELSEEK_MODEL"


class LibraryError(Exception):
    """A user-facing problem with the library (bad folder, ...); str() is the message."""


@dataclass(frozen=True)
class FolderInfo:
    path: str
    online: bool
    files: int
    done: int
    errors: int
    offline: int


@dataclass(frozen=True)
class FileInfo:
    id: int
    path: str
    status: str
    error: str | None
    duration: float
    width: int
    height: int
    indexed_at: float | None


class Library:
    """A footage library: watched folders, their files' vectors, and search over them.

    Opening is cheap (the database only); the model and the vector index load on first use.
    ``index()`` runs on the calling thread; ``search()`` may be called from other threads at
    the same time.
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        model_id: str | None = None,
        device: str | None = None,
        indexer_config: IndexerConfig | None = None,
    ) -> None:
        self.paths: DataPaths = data_paths(home).ensure()
        self.settings = Settings.load(self.paths.settings_file)
        self._model_override = model_id
        self._device_override = device
        self._indexer_config = indexer_config
        self.store = Store(self.paths.database)
        self._lock = threading.RLock()
        self._embedders: dict[str, Embedder] = {}
        self._vindexes: dict[str, VectorIndex] = {}
        self._searchers: dict[str, Searcher] = {}

    # -- settings and model --------------------------------------------------------------------
    def save_settings(self) -> None:
        self.settings.save(self.paths.settings_file)

    def model_id(self) -> str:
        from .models import DEFAULT_MODEL_ID

        return self._model_override or os.environ.get(MODEL_ENV) or self.settings.model_id or DEFAULT_MODEL_ID

    def device(self) -> str:
        return self._device_override or self.settings.device or "auto"

    def model_available(self, model_id: str | None = None) -> bool:
        from .models import get_spec
        from .models.weights import is_available

        return is_available(get_spec(model_id or self.model_id()), self.paths.models)

    def load_model(self, model_id: str | None = None) -> Embedder:
        """Load (once) the embedder for a model; slow, so GUIs call it off their main thread."""
        from .models import load_embedder

        mid = model_id or self.model_id()
        with self._lock:
            emb = self._embedders.get(mid)
            if emb is None:
                emb = load_embedder(mid, device=self.device(), models_dir=self.paths.models)
                self._embedders[mid] = emb
            return emb

    def vector_index(self, model_id: str | None = None) -> VectorIndex:
        """The usearch index of a model's segments, rebuilt from the store if stale."""
        from .index import VectorIndex
        from .models import get_spec

        mid = model_id or self.model_id()
        with self._lock:
            vi = self._vindexes.get(mid)
            if vi is None:
                safe = re.sub(r"[^A-Za-z0-9_.-]", "_", mid)
                vi = VectorIndex(self.paths.data / f"segments-{safe}.usearch", mid, get_spec(mid).dim)
                vi.load_or_rebuild(self.store)
                self._vindexes[mid] = vi
            return vi

    # -- folders -------------------------------------------------------------------------------
    def add_folder(self, path: str | os.PathLike[str]) -> None:
        p = Path(path).expanduser()
        if not p.exists():
            raise LibraryError(f"folder not found: {p}")
        if not p.is_dir():
            raise LibraryError(f"not a folder: {p}")
        self.store.add_folder(p.resolve())

    def remove_folder(self, path: str | os.PathLike[str]) -> None:
        p = Path(path).expanduser()
        fid = self.store.folder_id(p.resolve()) or self.store.folder_id(p.absolute())
        if fid is None:
            raise LibraryError(f"not a watched folder: {p}")
        removed = self.store.remove_folder(fid)
        for vi in self._vindexes.values():
            vi.remove(removed)
            vi.save(self.store.generation(vi.model_id))

    def folders(self) -> list[FolderInfo]:
        out = []
        for fid, path in self.store.folders():
            c = self.store.folder_counts(fid)
            out.append(
                FolderInfo(
                    path=path,
                    online=os.path.isdir(path),
                    files=sum(c.values()),
                    done=c.get(DONE, 0),
                    errors=c.get("error", 0),
                    offline=c.get(OFFLINE, 0),
                )
            )
        return out

    # -- indexing ------------------------------------------------------------------------------
    def scan(self, paths: Sequence[str | os.PathLike[str]] | None = None) -> IndexReport:
        """Notice new, changed, moved, deleted and offline files; embeds nothing."""
        report = IndexReport()
        self._scan(paths, report, None)
        return report

    def _scan(
        self,
        paths: Sequence[str | os.PathLike[str]] | None,
        report: IndexReport,
        cancel: threading.Event | None,
    ) -> list[int]:
        from .scan import scan

        if paths:
            for p in paths:
                try:
                    self.add_folder(p)
                except LibraryError as e:
                    report.errors.append((str(p), str(e)))
            wanted = {str(Path(p).expanduser().resolve()) for p in paths}
            folders = [(i, f) for i, f in self.store.folders() if f in wanted]
        else:
            folders = self.store.folders()
        result = scan(self.store, folders, cancel=cancel)
        if result.removed_segments:
            for vi in self._vindexes.values():
                vi.remove(result.removed_segments)
        report.moved += len(result.moved)
        report.removed += result.removed_files
        report.offline += result.offline
        report.skipped += result.unchanged + result.touched
        report.errors.extend(result.errors)
        return [i for i, _ in folders]

    def index(
        self,
        paths: Sequence[str | os.PathLike[str]] | None = None,
        *,
        progress: Callable[[IndexProgress], None] | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
        words: bool | None = None,
        words_sources: list[str] | None = None,
    ) -> IndexReport:
        """Scan the folders (given ones are added as watched folders) and embed what is pending.

        Then, unless ``words`` (default: the settings) is off, the words pass reads subtitles,
        speech and on-screen text of the indexed files (footage is searchable by look first).
        """
        from .indexer import Indexer, IndexerConfig

        report = IndexReport()
        if progress:
            progress(IndexProgress(0, 0, None, 0.0, 0.0, 0.0, phase="scanning"))
        folder_ids = set(self._scan(paths, report, cancel))
        mid = self.model_id()
        self.store.reset_interrupted()
        # Files embedded with another model are redone for this one; their old vectors stay
        # searchable under the old model until the new one covers the library.
        for f in self.store.files(status=DONE):
            if f.model_id != mid and f.folder_id in folder_ids:
                self.store.set_status(f.id, PENDING)
        todo = [f for f in self.store.files(status=PENDING) if f.folder_id in folder_ids]
        vi = self.vector_index(mid)
        last: list[IndexProgress] = []  # the visual pass's final snapshot, repeated after the words

        def visual_progress(p: IndexProgress) -> None:
            last[:] = [p]
            if progress:
                progress(p)

        if not todo:
            vi.save(self.store.generation(mid))
            self._mark_complete(mid)
        else:
            emb = self.load_model(mid)
            config = self._indexer_config or IndexerConfig(
                sample_every=self.settings.sample_every, max_every=self.settings.max_sample_every
            )
            Indexer(self.store, vi, emb, config).run(
                todo, progress=visual_progress, cancel=cancel, pause=pause, report=report
            )
            self._mark_complete(mid)
        words_run = (self.settings.words if words is None else words) and not (cancel and cancel.is_set())
        if words_run:
            from .words.library_hooks import words_pass

            words_pass(
                self, folder_ids, progress=progress, cancel=cancel, pause=pause, report=report, only=words_sources
            )
        if progress and (not todo or words_run):
            # The run ends as the visual pass ended (its file counts), after the words.
            final = last[0] if last else IndexProgress(0, 0, None, 0.0, 0.0, 0.0)
            progress(dataclasses.replace(final, current=None, phase="cancelled" if report.cancelled else "finished"))
        return report

    def _mark_complete(self, mid: str) -> None:
        if not self.store.has_status(PENDING) and self.store.get_meta("complete_model") != mid:
            self.store.set_meta("complete_model", mid)

    # -- search --------------------------------------------------------------------------------
    def search_model(self) -> str:
        """The model searches use: the configured one, or while a switch to it is still being
        indexed, the last model that covered the whole library."""
        mid = self.model_id()
        complete = self.store.get_meta("complete_model")
        if complete and complete != mid and self.store.has_status(PENDING) and self.store.segment_count(complete):
            return complete
        return mid

    def searcher(self, model_id: str | None = None) -> Searcher:
        from .search import Searcher

        mid = model_id or self.search_model()
        with self._lock:
            s = self._searchers.get(mid)
            if s is None:
                s = Searcher(
                    self.store,
                    self.vector_index(mid),
                    lambda: self.load_model(mid),
                    mid,
                    sample_every=self.settings.sample_every,
                )
                self._searchers[mid] = s
            return s

    def search(
        self,
        query: Query | str,
        *,
        limit: int = 20,
        filters: Filters | None = None,
        two_stage: bool = True,
    ) -> SearchResult:
        if isinstance(query, str):
            query = Query(text=query)
        if query.is_empty():
            raise LibraryError("empty query: type a description, or drop an image or a clip")
        from .words.search import fused_search  # words (said / written / subtitle) fused with seen

        try:
            return fused_search(self, query, limit=limit, filters=filters, two_stage=two_stage)
        except ValueError as e:
            raise LibraryError(str(e)) from e

    # -- reporting -----------------------------------------------------------------------------
    def status(self) -> LibraryStatus:
        from .words.library_hooks import words_status

        return LibraryStatus(
            words=words_status(self),
            counts=self.store.status_counts(),
            errors=self.store.errors(),
            folders=[p for _, p in self.store.folders()],
            segments=self.store.segment_count(self.search_model()),
            model_id=self.model_id(),
        )

    def files(self, status: str | None = None) -> list[FileInfo]:
        return [
            FileInfo(f.id, f.path, f.status, f.error, f.duration, f.width, f.height, f.indexed_at)
            for f in self.store.files(status=status)
        ]

    def thumbnail(self, moment: Moment, *, width: int = 320) -> bytes | None:
        from .thumbs import ThumbnailCache

        cache = ThumbnailCache(self.paths.thumbnails, self.settings.thumb_cache_mb)
        return cache.get(self.store, moment, width=width, model_id=self.search_model())

    def close(self) -> None:
        for mid, vi in self._vindexes.items():
            try:
                vi.save(self.store.generation(mid))
            except OSError as e:
                log.warning("could not save the vector index: %s", e)
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
