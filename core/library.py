"""The engine's front door: one Library object per data folder, used by the CLI and the GUI."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import store_collections, takes
from .errors import REPAIR_HINT, LibraryDamaged, LibraryError, ReadOnlyHome, as_library_error
from .lock import WriterLock
from .media.timecode import SourceTimecode
from .paths import DataPaths, data_paths
from .selects import Collections
from .settings import Settings
from .store import DONE, OFFLINE, PENDING, Store, StoreError, StoreNeedsUpgrade
from .types import Filters, IndexPhase, IndexProgress, IndexReport, LibraryStatus, Moment, Query, SearchResult

if TYPE_CHECKING:
    from .cluster import ClusterConfig
    from .index import VectorIndex
    from .indexer import IndexerConfig
    from .models.embedder import Embedder
    from .models.image_encoder import ImageEncoder
    from .models.text_encoder import TextEncoder
    from .search import Searcher

log = logging.getLogger(__name__)


__all__ = ["FileInfo", "FolderInfo", "Library", "LibraryDamaged", "LibraryError"]


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

    Opening is cheap (the database and a bounded integrity check); the model and the vector
    index load on first use. ``index()`` runs on the calling thread; ``search()`` may be called
    from other threads at the same time.

    ``readonly=True`` (search, status) never writes the library: the database is opened read-only
    and the vector index is memory-mapped, rebuilt in memory when stale, never saved (only a
    missing null-query calibration, a cache, is saved where the folder is writable). Otherwise
    every write (indexing, folder changes, migrations, index saves) happens under the library's
    writer lock across processes (``lock.WriterLock``); ``wait`` is how long to wait for it
    (None: as long as it takes, 0: fail at once with ``LibraryBusy``).
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        model_id: str | None = None,
        device: str | None = None,
        indexer_config: IndexerConfig | None = None,
        readonly: bool = False,
        wait: float | None = 0.0,
        on_wait: Callable[[str], None] | None = None,
        writer_lock: WriterLock | None = None,
    ) -> None:
        self.readonly = readonly
        self.paths: DataPaths = data_paths(home)
        if not readonly:
            try:
                self.paths.ensure()
            except OSError as e:
                raise (as_library_error(e, self.paths.data) or e) from e
        self.settings = Settings.load(self.paths.settings_file)
        from .models.custom import register_custom_models

        register_custom_models(self.paths.models)  # the user's own imported models, by id
        self._model_override = model_id
        self._device_override = device
        self._indexer_config = indexer_config
        self.writer_lock = writer_lock or WriterLock(self.paths.data)
        self.lock_wait = wait
        self.on_lock_wait = on_wait
        self._write_mutex = threading.RLock()
        from .library_health import guard_blank_database

        guard_blank_database(self.paths)
        self.store = self._open_store()
        try:
            self.check()
        except BaseException:
            self.store.close()
            raise
        self._lock = threading.RLock()
        self._embedders: dict[str, Embedder] = {}
        self._text_encoders: dict[str, TextEncoder] = {}
        self._text_fallback: set[str] = set()
        # Its own lock: the first image export takes a while, and searches must not wait on it.
        self._image_lock = threading.Lock()
        self._image_encoders: dict[str, ImageEncoder] = {}
        self._image_fallback: set[str] = set()
        self._vindexes: dict[str, VectorIndex] = {}
        self._searchers: dict[str, Searcher] = {}
        self._serving: tuple[tuple[str, tuple[sqlite3.Connection, int, int]], str] | None = None
        self.collections = Collections(self.store)  # bins of selects (reelseek.core.selects)

    def _open_store(self) -> Store:
        db = self.paths.database
        try:
            if not self.readonly:
                if not os.access(self.paths.data, os.W_OK):
                    raise ReadOnlyHome(
                        f"cannot write to the library folder {self.paths.data}: it is read-only; "
                        "searching still works, indexing needs a writable folder"
                    )
                return Store(db, migrate_lock=self.writing)
            if not db.exists():
                try:
                    self.paths.ensure()
                except OSError:
                    raise LibraryError(f"no library at {self.paths.data} yet: index a folder first") from None
                # A new library (the blank-database guard ran): create it empty, as always.
                return Store(db, migrate_lock=self._lock_only)
            try:
                return Store(db, readonly=True)
            except StoreNeedsUpgrade:
                if not os.access(self.paths.data, os.W_OK):
                    raise ReadOnlyHome(
                        f"the library at {self.paths.data} was made by an older reelseek and must be upgraded "
                        "once where it can be written (run `reelseek-cli index` there)"
                    ) from None
                Store(db, migrate_lock=self._lock_only).close()  # upgrade once, under the lock
                return Store(db, readonly=True)
        except LibraryError:
            raise
        except StoreError as e:
            # The database could not be read: damage, a full disk or a failing drive say so.
            cause = as_library_error(e.__cause__, db) if e.__cause__ else None
            if isinstance(cause, LibraryDamaged):
                raise LibraryDamaged(f"{e}; {REPAIR_HINT}", path=db) from e
            if cause is not None:
                raise cause from e
            raise
        except Exception as e:
            raise (as_library_error(e, db) or e) from e

    def _lock_only(self) -> contextlib.AbstractContextManager[None]:
        """The writer lock for a reader's one write: creating or upgrading the database."""
        return self.writer_lock.hold(self.lock_wait, self.on_lock_wait)

    def check(self, budget_s: float | None = None) -> None:
        """The cheap integrity check (bounded time): raises ``LibraryDamaged`` naming the file
        and the way out. Run on open; the GUI calls it again before offering Repair."""
        from .library_health import check_library

        check_library(self, budget_s)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the writer lock (this process's threads in turn, other processes excluded)."""
        if self.readonly:
            raise LibraryError("this library was opened read-only (for searching)")
        with self._write_mutex:
            self.writer_lock.acquire(self.lock_wait, self.on_lock_wait)
            try:
                yield
            finally:
                self.writer_lock.release()

    def _sync_index(self, vi: VectorIndex) -> None:
        """Under the writer lock: an index loaded before another process wrote is refreshed
        before this one mirrors its own commits into it."""
        if vi.generation != self.store.generation(vi.model_id):
            vi.load_or_rebuild(self.store)

    # -- settings and model --------------------------------------------------------------------
    def save_settings(self) -> None:
        self.settings.save(self.paths.settings_file)

    def model_id(self) -> str:
        from .models.registry import chosen_model_id

        return chosen_model_id(self._model_override, self.settings.model_id)

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

    def load_image_model(self, model_id: str | None = None) -> Embedder | ImageEncoder:
        """What embeds frames when indexing: on a CPU the image tower on ONNX Runtime
        (``models.image_encoder``: int8 when its export check passes), else the torch model
        (CUDA/MPS, ``REELSEEK_IMAGE_ENGINE=torch``, or an export that cannot be had)."""
        from .models import get_spec
        from .models.device import pick_device
        from .models.image_encoder import load_image_encoder, onnx_disabled

        mid = model_id or self.model_id()
        with self._image_lock:
            enc = self._image_encoders.get(mid)
            if enc is None and mid not in self._image_fallback and not onnx_disabled():
                try:
                    if pick_device(self.device()) != "cpu":
                        raise RuntimeError("not a CPU device")
                    enc = load_image_encoder(get_spec(mid), self.paths.models)
                    self._image_encoders[mid] = enc
                    log.info("frames are embedded by %r", enc)
                except Exception as e:  # never needed for correctness: the torch model does the same
                    log.info("frames of %s are embedded by torch: %s", mid, e)
                    self._image_fallback.add(mid)
        return enc if enc is not None else self.load_model(mid)

    def vector_index(self, model_id: str | None = None) -> VectorIndex:
        """The stage-1 index of a model's segments, rebuilt from the store if stale."""
        from .index import VectorIndex
        from .models import get_spec

        mid = model_id or self.model_id()
        with self._lock:
            vi = self._vindexes.get(mid)
            if vi is None:
                safe = re.sub(r"[^A-Za-z0-9_.-]", "_", mid)
                vi = VectorIndex(self.paths.data / f"segments-{safe}.stage1", mid, get_spec(mid).dim)
                vi.load_or_rebuild(self.store, view=self.readonly)
                self._vindexes[mid] = vi
            elif not self.writer_lock.held and vi.generation != self.store.generation(mid):
                # Another process indexed since this one loaded: follow it (in memory only).
                vi.load_or_rebuild(self.store, view=self.readonly)
            return vi

    # -- folders -------------------------------------------------------------------------------
    def add_folder(self, path: str | os.PathLike[str]) -> None:
        p = Path(path).expanduser()
        if not p.exists():
            raise LibraryError(f"folder not found: {p}")
        if not p.is_dir():
            raise LibraryError(f"not a folder: {p}")
        with self.writing():
            self.store.add_folder(p.resolve())

    def remove_folder(self, path: str | os.PathLike[str]) -> None:
        p = Path(path).expanduser()
        fid = self.store.folder_id(p.resolve()) or self.store.folder_id(p.absolute())
        if fid is None:
            raise LibraryError(f"not a watched folder: {p}")
        with self.writing():
            for vi in self._vindexes.values():
                self._sync_index(vi)
            removed = self.store.remove_folder(fid)
            for vi in self._vindexes.values():
                vi.remove(removed)
                vi.generation = self.store.generation(vi.model_id)
                vi.save()

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
        with self.writing():
            for vi in self._vindexes.values():
                self._sync_index(vi)
            self._scan(paths, report, None)
            for vi in self._vindexes.values():
                if vi.dirty:
                    vi.save()
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
        for vi in self._vindexes.values():
            vi.generation = self.store.generation(vi.model_id)
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
        words: bool | None = None,
        words_sources: list[str] | None = None,
    ) -> IndexReport:
        """Scan the folders (given ones are added as watched folders) and embed what is pending.

        Holds the writer lock throughout; afterwards the database is backed up (if it changed).
        With ``cluster``, decoding and embedding run on Ray workers (core/cluster.py) while this
        process scans and commits, exactly as a local run does. Then, unless ``words`` (default:
        the settings) is off, the words pass reads subtitles, speech and on-screen text of the
        indexed files (footage is searchable by look first).
        """
        if cluster is not None:
            from .cluster import connect

            connect(cluster)  # before usearch is loaded (see connect)
        with self.writing():
            for vi in self._vindexes.values():
                self._sync_index(vi)
                vi.remove_stale_temps()
            report = self._index(paths, progress, cancel, pause, cluster, words, words_sources)
            self._backup()
            return report

    def _index(
        self,
        paths: Sequence[str | os.PathLike[str]] | None,
        progress: Callable[[IndexProgress], None] | None,
        cancel: threading.Event | None,
        pause: threading.Event | None,
        cluster: ClusterConfig | None = None,
        words: bool | None = None,
        words_sources: list[str] | None = None,
    ) -> IndexReport:
        from .indexer import Indexer, IndexerConfig

        report = IndexReport()
        if progress:
            progress(IndexProgress(0, 0, None, 0.0, 0.0, 0.0, phase=IndexPhase.SCANNING))
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
        self._sync_index(vi)
        vi.remove_stale_temps()
        if vi.saved_generation is None and not vi.meta_path.exists():
            # The first run leaves its trace at once: a database that later turns up blank
            # (its WAL lost after a kill) beside this file is recognised as a lost library.
            vi.save()
        last: list[IndexProgress] = []  # the visual pass's final snapshot, repeated after the words
        from .model_switch import switch_note

        note = switch_note(self)  # "new model X 43%" while searches still use the old model

        def visual_progress(p: IndexProgress) -> None:
            if note is not None:
                p = dataclasses.replace(p, switch=note(p.files_done))
            last[:] = [p]
            if progress:
                progress(p)

        if not todo:
            if vi.dirty:
                vi.save()
            self._mark_complete(mid)
        else:
            config = self._indexer_config or IndexerConfig(
                sample_every=self.settings.sample_every, max_every=self.settings.indexer_max_every()
            )
            if cluster is not None:
                from .cluster import ClusterIndexer
                from .models import get_spec

                runner = ClusterIndexer(self.store, vi, get_spec(mid), self.paths.models, config, cluster)
                runner.run(todo, progress=visual_progress, cancel=cancel, pause=pause, report=report)
            else:
                emb = self.load_image_model(mid)
                Indexer(self.store, vi, emb, config).run(
                    todo, progress=visual_progress, cancel=cancel, pause=pause, report=report
                )
            self._mark_complete(mid)
        if not (cancel and cancel.is_set()):
            self._calibrate(mid)
        words_run = (self.settings.words if words is None else words) and not (cancel and cancel.is_set())
        if words_run:
            from .words.library_hooks import words_pass

            words_pass(
                self,
                folder_ids,
                progress=progress,
                cancel=cancel,
                pause=pause,
                report=report,
                only=words_sources,
                cluster=cluster,  # speech and on-screen text on the workers too
            )
        if progress and (not todo or words_run):
            # The run ends as the visual pass ended (its file counts), after the words.
            final = last[0] if last else IndexProgress(0, 0, None, 0.0, 0.0, 0.0)
            end = IndexPhase.CANCELLED if report.cancelled else IndexPhase.FINISHED
            progress(dataclasses.replace(final, current=None, phase=end))
        return report

    def _backup(self) -> None:
        """A rolling backup after an index run; failing to make one (full disk) is a warning:
        the library itself is fine."""
        from .backups import make_backup

        try:
            made = make_backup(self.store.conn, self.paths.data)
        except (OSError, sqlite3.Error) as e:
            log.warning("could not back up the library database: %s", as_library_error(e) or e)
            return
        if made:
            log.info("backed up the library to %s", made)

    def _calibrate(self, mid: str) -> None:
        """Refresh the null-query calibration after indexing (core/calibration.py), so searches
        (read-only processes) find it saved; failing here never fails the index run."""
        if self.search_model() != mid or not self.store.segment_count(mid):
            return
        try:
            self.searcher(mid).calibration()
        except Exception as e:  # e.g. a cluster driver without the model's weights
            log.warning("calibration after indexing failed (searches compute it when needed): %s", e)

    def calibration(self) -> dict[str, object] | None:
        """What the search model's calibration found (for status), or None with nothing indexed."""
        mid = self.search_model()
        if not self.store.segment_count(mid) or not self.model_available(mid):
            return None
        self.vector_index(mid)  # follows another process's commits, in memory
        return self.searcher(mid).calibration().to_json()

    def saved_calibration(self) -> dict[str, object] | None:
        """The calibration already at hand (in memory or saved), never computed here: cheap
        enough for the GUI's status refreshes."""
        from .calibration import load, sidecar_path

        mid = self.search_model()
        s = self._searchers.get(mid)
        cal = s.cached_calibration() if s is not None else None
        cal = cal or load(sidecar_path(self.paths.data, mid), mid)
        return cal.to_json() if cal is not None else None

    def _mark_complete(self, mid: str) -> None:
        # Complete means every file a model must cover has this model's vectors (an index run
        # over some folders only must not end a switch early).
        from .store_models import coverage

        covered, total = coverage(self.store, mid)
        if covered >= total and self.store.get_meta("complete_model") != mid:
            self.store.set_meta("complete_model", mid)

    # -- search --------------------------------------------------------------------------------
    def search_model(self) -> str:
        """The model searches use: the configured one, or while a switch to it is still being
        indexed, the last model that covered the whole library (core/model_switch.py)."""
        from .model_switch import serving_model

        # Cached until the database changes: the coverage query behind it reads every file row
        # (29 ms at 100 k segments under load) and each search asked twice.
        target, stamp = self.model_id(), self.store.change_stamp()
        cached = self._serving
        if cached is not None and cached[0] == (target, stamp):
            return cached[1]
        served = serving_model(self.store, target)
        self._serving = ((target, stamp), served)
        return served

    def forget_model_caches(self, model_id: str | None = None) -> None:
        """Drop loaded searchers and indexes (one model's, or all) after a switch or a prune."""
        self._serving = None
        with self._lock:
            for cache in (self._searchers, self._vindexes):
                for mid in [m for m in cache if model_id is None or m == model_id]:
                    del cache[mid]

    def searcher(self, model_id: str | None = None) -> Searcher:
        from .calibration import sidecar_path as calibration_path
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
                    calibration_path=calibration_path(self.paths.data, mid),
                    # A reader saves it too where it may (a cache file, written atomically):
                    # else every search of a library without one repeats the 36 null queries.
                    persist_calibration=not self.readonly or os.access(self.paths.data, os.W_OK),
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
        group: bool = True,
    ) -> SearchResult:
        """Ranked moments; with `group`, takes of one shot (copies, re-encodes, trims, proxies) fold into one."""
        if isinstance(query, str):
            query = Query(text=query)
        if query.is_empty():
            raise LibraryError("empty query: type a description, or drop an image or a clip")
        from .words.search import fused_search  # words (said / written / subtitle) fused with seen

        searcher = self.searcher()
        if self._model_override and searcher.model_id != self._model_override:
            from .model_switch import switch_state

            st = switch_state(self)
            raise LibraryError(
                f"{st.target} covers {st.percent}% of the library ({st.covered}/{st.total} files) and cannot "
                f"answer alone yet; search without --model (uses {st.serving}) or finish `reelseek-cli index`"
            )
        self.vector_index(searcher.model_id)  # follows another process's commits, in memory
        try:
            fetch = takes.window(limit) if group else limit  # deeper, so `limit` cards remain after folding
            result = fused_search(self, query, limit=fetch, filters=filters, two_stage=two_stage)
        except ValueError as e:
            raise LibraryError(str(e)) from e
        tcs = store_collections.source_timecodes(self.store, [m.file_id for m in result.moments])
        result.moments = [replace(m, source_tc=tcs.get(m.file_id)) for m in result.moments]
        return takes.group_result(result, self.store, searcher.model_id, limit) if group else result

    # -- reporting -----------------------------------------------------------------------------
    def status(self) -> LibraryStatus:
        from .model_switch import switch_state
        from .words.library_hooks import words_status

        return LibraryStatus(
            models=switch_state(self).to_json(),
            words=words_status(self),
            counts=self.store.status_counts(),
            errors=self.store.errors(),
            folders=[p for _, p in self.store.folders()],
            segments=self.store.segment_count(self.search_model()),
            model_id=self.model_id(),
            calibration=self.saved_calibration(),
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
        """Close the database. Nothing is saved here: the writer saved the index under the lock
        when it changed it, and readers never save."""
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
