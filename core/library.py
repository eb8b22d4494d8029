"""The engine's front door: one Library object per data folder, used by the CLI and the GUI."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import store_collections
from .media_timecode import SourceTimecode
from .paths import DataPaths, data_paths
from .selects import Collections
from .settings import Settings
from .store import DONE, OFFLINE, PENDING, Store
from .types import Filters, IndexProgress, IndexReport, LibraryStatus, Moment, Query, SearchResult

if TYPE_CHECKING:
    from .cluster import ClusterConfig
    from .index import VectorIndex
    from .indexer import IndexerConfig
    from .models.embedder import Embedder
    from .models.text_encoder import TextEncoder
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
    source_tc: SourceTimecode = field(default_factory=SourceTimecode)  # 00:00:00:00 at 25 if untagged


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
        self._text_encoders: dict[str, TextEncoder] = {}
        self._text_fallback: set[str] = set()
        self._vindexes: dict[str, VectorIndex] = {}
        self._searchers: dict[str, Searcher] = {}
        self.collections = Collections(self.store)  # bins of selects (reelseek.core.selects)

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

    def load_text_model(self, model_id: str | None = None) -> Embedder | TextEncoder:
        """What embeds text queries: the torch-free text tower (``models.text_encoder``), or the
        full model when that cannot be had (unsupported architecture, read-only models folder)."""
        from .models import get_spec
        from .models.text_encoder import load_text_encoder, onnx_disabled

        mid = model_id or self.model_id()
        with self._lock:
            enc = self._text_encoders.get(mid)
            if enc is None and mid not in self._text_fallback and not onnx_disabled():
                try:
                    enc = load_text_encoder(get_spec(mid), self.paths.models)
                    self._text_encoders[mid] = enc
                except Exception as e:  # never needed for correctness: fall back to the full model
                    log.warning("text queries use the full %s model: %s", mid, e)
                    self._text_fallback.add(mid)
        return enc if enc is not None else self.load_model(mid)

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
        self._backfill_timecode(cancel)
        return [i for i, _ in folders]

    def _backfill_timecode(self, cancel: threading.Event | None) -> int:
        """Files indexed before timecodes were read get them from a probe (no re-embedding)."""
        from . import media

        n = 0
        for fid, key in store_collections.files_without_timecode(self.store):
            if cancel is not None and cancel.is_set():
                break
            path = os.fsdecode(key)
            if not os.path.exists(path):
                continue  # unplugged or gone: the next scan that sees it probes it
            try:
                stc = media.probe(Path(path)).source_tc
            except media.MediaError as e:
                log.info("no timecode for %s: %s", path, e)
                stc = SourceTimecode()  # probed, nothing readable: count from 00:00:00:00
            except Exception:  # a decoder bug must not stop the scan; do not retry it every time
                log.exception("probe for the timecode failed: %s", path)
                stc = SourceTimecode()
            store_collections.update_source_timecode(self.store, fid, stc)
            n += 1
        return n

    def index(
        self,
        paths: Sequence[str | os.PathLike[str]] | None = None,
        *,
        progress: Callable[[IndexProgress], None] | None = None,
        cancel: threading.Event | None = None,
        pause: threading.Event | None = None,
        cluster: ClusterConfig | None = None,
    ) -> IndexReport:
        """Scan the folders (given ones are added as watched folders) and embed what is pending.

        With ``cluster``, decoding and embedding run on Ray workers (core/cluster.py) while this
        process scans and commits, exactly as a local run does.
        """
        from .indexer import Indexer, IndexerConfig

        report = IndexReport()
        if cluster is not None:
            from .cluster import connect

            connect(cluster)  # before usearch is loaded (see connect)
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
                report.skipped = max(0, report.skipped - 1)  # counted unchanged by the scan, indexed now
        todo = [f for f in self.store.files(status=PENDING) if f.folder_id in folder_ids]
        vi = self.vector_index(mid)
        if not todo:
            vi.save(self.store.generation(mid))
            self._mark_complete(mid)
            if progress:
                progress(IndexProgress(0, 0, None, 0.0, 0.0, 0.0, phase="finished"))
            return report
        config = self._indexer_config or IndexerConfig(
            sample_every=self.settings.sample_every, max_every=self.settings.max_sample_every
        )
        if cluster is not None:
            from .cluster import ClusterIndexer
            from .models import get_spec

            runner = ClusterIndexer(self.store, vi, get_spec(mid), self.paths.models, config, cluster)
            runner.run(todo, progress=progress, cancel=cancel, pause=pause, report=report)
        else:
            emb = self.load_model(mid)
            Indexer(self.store, vi, emb, config).run(todo, progress=progress, cancel=cancel, pause=pause, report=report)
        self._mark_complete(mid)
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
                    text_encoder=lambda: self.load_text_model(mid),
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
        result = self.searcher().search(query, limit=limit, filters=filters, two_stage=two_stage)
        tcs = store_collections.source_timecodes(self.store, [m.file_id for m in result.moments])
        result.moments = [replace(m, source_tc=tcs.get(m.file_id)) for m in result.moments]
        return result

    # -- reporting -----------------------------------------------------------------------------
    def status(self) -> LibraryStatus:
        return LibraryStatus(
            counts=self.store.status_counts(),
            errors=self.store.errors(),
            folders=[p for _, p in self.store.folders()],
            segments=self.store.segment_count(self.search_model()),
            model_id=self.model_id(),
        )

    def files(self, status: str | None = None) -> list[FileInfo]:
        rows = self.store.files(status=status)
        tcs = store_collections.source_timecodes(self.store, [f.id for f in rows])
        return [
            FileInfo(
                f.id,
                f.path,
                f.status,
                f.error,
                f.duration,
                f.width,
                f.height,
                f.indexed_at,
                tcs.get(f.id, SourceTimecode()),
            )
            for f in rows
        ]

    def thumbnail(self, moment: Moment, *, width: int = 320) -> bytes | None:
        from .thumbs import ThumbnailCache

        cache = ThumbnailCache(self.paths.thumbnails, self.settings.thumb_cache_mb)
        return cache.get(self.store, moment, width=width, model_id=self.search_model())

    def close(self) -> None:
        for mid, vi in self._vindexes.items():
            gen = self.store.generation(mid)
            if not vi.dirty and vi.generation == gen:
                continue  # the file on disk is this index: a search-only run writes nothing
            try:
                vi.save(gen)
            except OSError as e:
                log.warning("could not save the vector index: %s", e)
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
