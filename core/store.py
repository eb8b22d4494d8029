"""SQLite store (the source of truth): schema, stepwise migrations and every SQL statement."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import store_collections
from .store_search import SearchReads
from .types import DONE, ERROR, INDEXING, OFFLINE, PENDING, STATUSES

if TYPE_CHECKING:
    import sqlite_utils  # migrations only: imported when one runs (~70 ms a search does not need)

    from .media.timecode import SourceTimecode

SCHEMA_VERSION = 4
# SQLite's page cache per connection, KiB (its default is 2,000). A search reads ~360 segment
# rows of 12 KB frames plus their B-tree pages; with 32 MB the pages of recent searches stay in
# the process instead of going back through read() calls: stage 2 at 100 k segments 20.5 ->
# 17.5 ms. Pages are allocated as used, so an idle connection costs nothing.
CACHE_KIB = 32768


def path_key(path: str | os.PathLike[str]) -> bytes:
    """The lossless key of a path: its bytes on disk (file names need not be UTF-8)."""
    return os.fsencode(os.fspath(path))


def display_path(key: bytes) -> str:
    """A printable form of a stored path (undecodable bytes shown as U+FFFD)."""
    return key.decode("utf-8", errors="replace")


def fs_path(key: bytes) -> str:
    """The path to open on disk (surrogate-escaped str round-trips odd bytes)."""
    return os.fsdecode(key)


@dataclass(frozen=True)
class FileRow:
    id: int
    key: bytes
    folder_id: int | None
    size: int
    mtime_ns: int
    fingerprint: str | None
    status: str
    error: str | None
    duration: float
    width: int
    height: int
    indexed_at: float | None
    model_id: str | None

    @property
    def path(self) -> str:
        return fs_path(self.key)

    @property
    def display(self) -> str:
        return display_path(self.key)


@dataclass(frozen=True)
class SegmentRow:
    id: int
    file_id: int
    start: float
    end: float
    best_time: float
    times: np.ndarray  # (n,) float32 seconds of the sampled frames inside the segment
    frames: np.ndarray  # (n, dim) float16 frame vectors


def frames_f32(blocks: Sequence[np.ndarray]) -> np.ndarray:
    """Frame blocks (float16 as stored) joined into one C-contiguous float32 array. numkong's
    SIMD cast gives the same values as numpy's, 5x faster: numpy's float16 conversion was
    2 ms of every search's 2,000 stage-2 frames."""
    if not blocks:
        return np.zeros((0, 0), np.float32)
    joined = np.concatenate(blocks)
    if joined.dtype != np.float16 or joined.size == 0:
        return np.ascontiguousarray(joined, dtype=np.float32)
    import numkong as nk

    return np.asarray(nk.astype(joined, "float32"))


@dataclass(frozen=True)
class NewSegment:
    start: float
    end: float
    best_time: float
    vector: np.ndarray  # (dim,) float32, normalised
    times: np.ndarray
    frames: np.ndarray
    thumb: bytes | None


_FILE_COLS = (
    "id, path, folder_id, size, mtime_ns, fingerprint, status, error, duration, width, height, indexed_at, model_id"
)


# Each step takes the schema from version N-1 to N (sqlite-utils does the DDL). Never edit a
# released step: add one.
def _v1(db: sqlite_utils.Database) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key", not_null={"value"})
    db.table("folders").create({"id": int, "path": bytes, "added_at": float}, pk="id", not_null={"path", "added_at"})
    db.table("folders").create_index(["path"], unique=True)
    db.table("files").create(
        {
            "id": int,
            "path": bytes,  # os.fsencode(path): names need not be UTF-8
            "folder_id": int,
            "size": int,
            "mtime_ns": int,
            "fingerprint": str,
            "status": str,
            "error": str,
            "duration": float,
            "width": int,
            "height": int,
            "fps": float,
            "codec": str,
            "container": str,
            "rotation": int,
            "creation_time": str,
            "model_id": str,
            "indexed_at": float,
        },
        pk="id",
        not_null={"path", "status", "size", "mtime_ns", "duration", "width", "height", "rotation"},
        defaults={
            "status": PENDING,
            "size": 0,
            "mtime_ns": 0,
            "duration": 0.0,
            "width": 0,
            "height": 0,
            "rotation": 0,
        },
        foreign_keys=[("folder_id", "folders", "id")],
    )
    db.table("files").create_index(["path"], unique=True)
    db.table("files").create_index(["fingerprint"])
    db.table("files").create_index(["status"])
    db.execute(
        # sqlite-utils cannot declare ON DELETE CASCADE, which keeps segments from outliving files.
        """CREATE TABLE segments (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            best_s REAL NOT NULL,
            vector BLOB NOT NULL,   -- float32 (dim,), mean of the frames, normalised: stage 1
            times BLOB NOT NULL,    -- float32 (n,) seconds of the sampled frames
            frames BLOB NOT NULL,   -- float16 (n, dim) frame vectors: stage 2
            thumb BLOB              -- small JPEG of the segment's most typical frame
        )"""
    )
    db.table("segments").create_index(["file_id", "model_id"])


def _v2(db: sqlite_utils.Database) -> None:
    # Remember the status a file had before its drive went offline, so it comes back
    # without re-embedding.
    db.table("files").add_column("prev_status", str)
    db.table("segments").create_index(["model_id"])


def _v4(db: sqlite_utils.Database) -> None:
    # Words (subtitles, speech, on-screen text): lines, their FTS5 index, per-file status.
    from .store_words import migrate_words

    migrate_words(db)


# v3: source timecode columns on files, collections and their items; v4: words. Both steps are
# idempotent (CREATE ... IF NOT EXISTS, columns checked before ALTER).
_MIGRATIONS: dict[int, Callable[[sqlite_utils.Database], None]] = {
    1: _v1,
    2: _v2,
    3: store_collections.migrate,
    4: _v4,
}


class StoreError(Exception):
    """The database cannot be opened or is newer than this version of reelseek."""


class StoreNeedsUpgrade(StoreError):
    """Opened read-only, the database still has an older schema (only a writer migrates)."""


class Store(SearchReads):
    """All access to the SQLite library file.

    One connection per thread (SQLite connections must not be shared across threads); WAL
    lets searches read while the indexer writes. Only the indexing thread writes.
    """

    def __init__(
        self,
        path: Path,
        *,
        readonly: bool = False,
        migrate_lock: Callable[[], contextlib.AbstractContextManager[object]] | None = None,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        if readonly:
            self._check_version()
        elif self._current_version() != SCHEMA_VERSION:
            # Migrating is writing: under the writer lock, re-read inside it (another process
            # may have migrated while this one waited).
            with migrate_lock() if migrate_lock else contextlib.nullcontext():
                self._migrate()

    # -- connections -------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None and self.readonly:
            from .store_health import connect_readonly

            conn = connect_readonly(self.path)
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._local.conn = conn
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            except sqlite3.Error as e:
                raise StoreError(f"cannot open the library database {self.path}: {e}") from e
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; rolls back on any exception."""
        with self._write_lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed state (WAL)."""
        conn = self.conn
        if conn.in_transaction:  # already inside one (a write, or a nested snapshot)
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    # -- schema ------------------------------------------------------------------------------
    def schema_version(self) -> int:
        row = self.conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        if row is None:
            return 0
        v = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(v[0]) if v else 0

    def _current_version(self) -> int:
        try:
            return self.schema_version()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path} is not a reelseek library database: {e}") from e

    def _check_version(self) -> None:
        """Read-only opening: the schema must already be this version's (a writer migrates)."""
        try:
            current = self.schema_version()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path} is not a reelseek library database: {e}") from e
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer reelseek (schema {current} > {SCHEMA_VERSION}); "
                "upgrade reelseek to open it"
            )
        if current < SCHEMA_VERSION:
            raise StoreNeedsUpgrade(f"{self.path} needs upgrading (schema {current}); run `reelseek-cli index`")

    def _migrate(self) -> None:
        try:
            current = self.schema_version()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path} is not a reelseek library database: {e}") from e
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer reelseek (schema {current} > {SCHEMA_VERSION}); "
                "upgrade reelseek to open it"
            )
        if current == SCHEMA_VERSION:
            return
        if current > 0:
            # Keep a copy of the last good database before changing its schema.
            backup = self.path.with_name(f"{self.path.name}.v{current}.bak")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copy2(self.path, backup)
        import sqlite_utils

        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self.transaction() as c:
                _MIGRATIONS[version](sqlite_utils.Database(c))
                c.execute(
                    "INSERT INTO meta(key, value) VALUES('schema_version', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (str(version),),
                )

    # -- meta --------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str, conn: sqlite3.Connection | None = None) -> None:
        (conn or self.conn).execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def change_stamp(self) -> tuple[sqlite3.Connection, int, int]:
        """Equal between two calls on one thread exactly when nothing was committed in between, by
        any process or thread: for caches of answers derived from the tables (a few microseconds).
        ``PRAGMA data_version`` moves when another connection commits, ``total_changes`` when this
        thread's does; the connection itself (compared by identity) tells threads apart, and a
        stamp holds it, so another connection cannot reuse its identity."""
        c = self.conn
        return c, int(c.execute("PRAGMA data_version").fetchone()[0]), c.total_changes

    def generation(self, model_id: str) -> int:
        return int(self.get_meta(f"generation:{model_id}", "0") or 0)

    def _bump_generation(self, conn: sqlite3.Connection, model_id: str) -> int:
        gen = int(self.get_meta(f"generation:{model_id}", "0") or 0) + 1
        self.set_meta(f"generation:{model_id}", str(gen), conn)
        return gen

    # -- folders -----------------------------------------------------------------------------
    def add_folder(self, path: str | os.PathLike[str]) -> int:
        key = path_key(path)
        with self.transaction() as c:
            c.execute(
                "INSERT INTO folders(path, added_at) VALUES(?, ?) ON CONFLICT(path) DO NOTHING",
                (key, time.time()),
            )
            row = c.execute("SELECT id FROM folders WHERE path=?", (key,)).fetchone()
        return int(row[0])

    def folders(self) -> list[tuple[int, str]]:
        rows = self.conn.execute("SELECT id, path FROM folders ORDER BY path").fetchall()
        return [(int(i), fs_path(p)) for i, p in rows]

    def folder_id(self, path: str | os.PathLike[str]) -> int | None:
        row = self.conn.execute("SELECT id FROM folders WHERE path=?", (path_key(path),)).fetchone()
        return int(row[0]) if row else None

    def remove_folder(self, folder_id: int) -> list[int]:
        """Forget a watched folder and every file under it; returns the removed segment ids."""
        with self.transaction() as c:
            seg_ids = [
                int(r[0])
                for r in c.execute(
                    "SELECT s.id FROM segments s JOIN files f ON f.id = s.file_id WHERE f.folder_id=?",
                    (folder_id,),
                )
            ]
            models = [r[0] for r in c.execute("SELECT DISTINCT model_id FROM segments")]
            c.execute("DELETE FROM files WHERE folder_id=?", (folder_id,))
            c.execute("DELETE FROM folders WHERE id=?", (folder_id,))
            for m in models:
                self._bump_generation(c, m)
        return seg_ids

    def folder_counts(self, folder_id: int) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT status, COUNT(*) FROM files WHERE folder_id=? GROUP BY status", (folder_id,)
        ).fetchall()
        return {s: int(n) for s, n in rows}

    # -- files -------------------------------------------------------------------------------
    @staticmethod
    def _file(row: Sequence[Any]) -> FileRow:
        return FileRow(
            id=int(row[0]),
            key=bytes(row[1]),
            folder_id=row[2],
            size=int(row[3]),
            mtime_ns=int(row[4]),
            fingerprint=row[5],
            status=str(row[6]),
            error=row[7],
            duration=float(row[8]),
            width=int(row[9]),
            height=int(row[10]),
            indexed_at=row[11],
            model_id=row[12],
        )

    def file_by_path(self, path: str | os.PathLike[str] | bytes) -> FileRow | None:
        key = path if isinstance(path, bytes) else path_key(path)
        row = self.conn.execute(f"SELECT {_FILE_COLS} FROM files WHERE path=?", (key,)).fetchone()
        return self._file(row) if row else None

    def file_by_id(self, file_id: int) -> FileRow | None:
        row = self.conn.execute(f"SELECT {_FILE_COLS} FROM files WHERE id=?", (file_id,)).fetchone()
        return self._file(row) if row else None

    def files_by_ids(self, file_ids: Sequence[int]) -> dict[int, FileRow]:
        """The rows of the files that exist among ``file_ids``, in one statement per 500 ids."""
        ids = sorted(set(file_ids))
        out: dict[int, FileRow] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            sql = f"SELECT {_FILE_COLS} FROM files WHERE id IN ({','.join('?' * len(chunk))})"
            for row in self.conn.execute(sql, chunk):
                f = self._file(row)
                out[f.id] = f
        return out

    def files(self, status: str | None = None, folder_id: int | None = None) -> list[FileRow]:
        sql = f"SELECT {_FILE_COLS} FROM files"
        where: list[str] = []
        args: list[object] = []
        if status is not None:
            where.append("status=?")
            args.append(status)
        if folder_id is not None:
            where.append("folder_id=?")
            args.append(folder_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [self._file(r) for r in self.conn.execute(sql + " ORDER BY path", args)]

    def donor_by_fingerprint(self, fingerprint: str, model_id: str) -> FileRow | None:
        """One indexed file with this content and segments for the model, or None.

        At most one row comes back however many copies share the fingerprint, so looking up
        every pending file stays linear in the number of files (5,000 identical files used to
        fetch 25 million rows).
        """
        row = self.conn.execute(
            f"SELECT {_FILE_COLS} FROM files f WHERE fingerprint=? AND status='done' AND EXISTS "
            "(SELECT 1 FROM segments s WHERE s.file_id=f.id AND s.model_id=?) ORDER BY id LIMIT 1",
            (fingerprint, model_id),
        ).fetchone()
        return self._file(row) if row else None

    def upsert_file(
        self, path: str | os.PathLike[str], folder_id: int | None, size: int, mtime_ns: int, fingerprint: str | None
    ) -> int:
        """Record a new or changed file as pending (its old vectors stay until it is re-embedded)."""
        key = path_key(path)
        with self.transaction() as c:
            c.execute(
                "INSERT INTO files(path, folder_id, size, mtime_ns, fingerprint, status) "
                "VALUES(?, ?, ?, ?, ?, 'pending') ON CONFLICT(path) DO UPDATE SET "
                "folder_id=excluded.folder_id, size=excluded.size, mtime_ns=excluded.mtime_ns, "
                "fingerprint=excluded.fingerprint, status='pending', error=NULL, prev_status=NULL",
                (key, folder_id, size, mtime_ns, fingerprint),
            )
            row = c.execute("SELECT id FROM files WHERE path=?", (key,)).fetchone()
        return int(row[0])

    def touch_file(self, file_id: int, mtime_ns: int) -> None:
        """Same content, new mtime (e.g. `touch`): nothing to re-embed."""
        with self.transaction() as c:
            c.execute("UPDATE files SET mtime_ns=? WHERE id=?", (mtime_ns, file_id))

    def move_file(self, file_id: int, new_path: str | os.PathLike[str], folder_id: int | None, mtime_ns: int) -> None:
        """A renamed or moved file keeps its id, vectors and segments."""
        with self.transaction() as c:
            c.execute(
                "UPDATE files SET path=?, folder_id=?, mtime_ns=? WHERE id=?",
                (path_key(new_path), folder_id, mtime_ns, file_id),
            )

    def set_status(self, file_id: int, status: str, error: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(status)
        with self.transaction() as c:
            c.execute("UPDATE files SET status=?, error=? WHERE id=?", (status, error, file_id))

    def set_offline(self, file_ids: Iterable[int]) -> int:
        """Mark files on an unmounted drive offline, remembering what they were."""
        n = 0
        with self.transaction() as c:
            for fid in file_ids:
                n += c.execute(
                    "UPDATE files SET prev_status=status, status='offline' WHERE id=? AND status!='offline'",
                    (fid,),
                ).rowcount
        return n

    def set_online(self, file_id: int) -> str:
        """A file whose drive came back gets its previous status (done files stay done)."""
        with self.transaction() as c:
            row = c.execute("SELECT prev_status FROM files WHERE id=?", (file_id,)).fetchone()
            prev = row[0] if row and row[0] in (DONE, ERROR) else PENDING
            c.execute("UPDATE files SET status=?, prev_status=NULL WHERE id=?", (prev, file_id))
        return prev

    def delete_files(self, file_ids: Sequence[int]) -> list[int]:
        """Drop deleted files and their vectors; returns the removed segment ids."""
        if not file_ids:
            return []
        with self.transaction() as c:
            seg_ids: list[int] = []
            models: set[str] = set()
            for fid in file_ids:
                for sid, m in c.execute("SELECT id, model_id FROM segments WHERE file_id=?", (fid,)):
                    seg_ids.append(int(sid))
                    models.add(m)
                c.execute("DELETE FROM files WHERE id=?", (fid,))
            for m in models:
                self._bump_generation(c, m)
        return seg_ids

    def reset_interrupted(self) -> int:
        """Files left 'indexing' by a crash go back to 'pending'."""
        with self.transaction() as c:
            return c.execute("UPDATE files SET status='pending' WHERE status=?", (INDEXING,)).rowcount

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for status, n in self.conn.execute("SELECT status, COUNT(*) FROM files GROUP BY status"):
            counts[status] = int(n)
        return counts

    def errors(self) -> list[tuple[str, str]]:
        rows = self.conn.execute("SELECT path, error FROM files WHERE status='error' ORDER BY path").fetchall()
        return [(display_path(p), e or "unknown error") for p, e in rows]

    # -- results of indexing -----------------------------------------------------------------
    def commit_file(
        self,
        file_id: int,
        model_id: str,
        segments: Sequence[NewSegment],
        *,
        duration: float,
        width: int,
        height: int,
        fps: float | None = None,
        codec: str | None = None,
        container: str | None = None,
        rotation: int = 0,
        creation_time: str | None = None,
        source_tc: SourceTimecode | None = None,
    ) -> tuple[list[int], list[int]]:
        """Replace a file's segments for one model and mark it done, in one transaction.

        Returns (removed segment ids, new segment ids) so the vector index can follow.
        """
        with self.transaction() as c:
            old = [
                int(r[0])
                for r in c.execute("SELECT id FROM segments WHERE file_id=? AND model_id=?", (file_id, model_id))
            ]
            c.execute("DELETE FROM segments WHERE file_id=? AND model_id=?", (file_id, model_id))
            new: list[int] = []
            for s in segments:
                cur = c.execute(
                    "INSERT INTO segments(file_id, model_id, start_s, end_s, best_s, vector, times, frames, thumb) "
                    "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        file_id,
                        model_id,
                        float(s.start),
                        float(s.end),
                        float(s.best_time),
                        np.ascontiguousarray(s.vector, dtype=np.float32).tobytes(),
                        np.ascontiguousarray(s.times, dtype=np.float32).tobytes(),
                        np.ascontiguousarray(s.frames, dtype=np.float16).tobytes(),
                        s.thumb,
                    ),
                )
                new.append(int(cur.lastrowid or 0))
            c.execute(
                "UPDATE files SET status='done', error=NULL, prev_status=NULL, duration=?, width=?, height=?, "
                "fps=?, codec=?, container=?, rotation=?, creation_time=?, model_id=?, indexed_at=? WHERE id=?",
                (
                    duration,
                    width,
                    height,
                    fps,
                    codec,
                    container,
                    rotation,
                    creation_time,
                    model_id,
                    time.time(),
                    file_id,
                ),
            )
            if source_tc is not None:
                store_collections.set_source_timecode(c, file_id, source_tc)
            self._bump_generation(c, model_id)
        return old, new

    def fail_file(self, file_id: int, reason: str) -> None:
        with self.transaction() as c:
            c.execute("UPDATE files SET status='error', error=? WHERE id=?", (reason, file_id))

    def has_segments(self, file_id: int, model_id: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM segments WHERE file_id=? AND model_id=? LIMIT 1", (file_id, model_id)
        ).fetchone()
        return row is not None

    def clone_segments(self, src_file: int, dst_file: int, model_id: str) -> tuple[list[int], list[int]]:
        """A byte-identical copy of an indexed file reuses its vectors instead of re-embedding."""
        src = self.file_by_id(src_file)
        assert src is not None
        segs = self.segments_of_file(src_file, model_id, with_thumbs=True)
        new = [NewSegment(s.start, s.end, s.best_time, v, s.times, s.frames, thumb) for s, v, thumb in segs]
        tc = store_collections.probed_source_timecode(self, src_file)
        return self.commit_file(
            dst_file, model_id, new, duration=src.duration, width=src.width, height=src.height, source_tc=tc
        )

    # -- reads for search --------------------------------------------------------------------
    def segments_of_file(
        self, file_id: int, model_id: str, *, with_thumbs: bool = False
    ) -> list[tuple[SegmentRow, np.ndarray, bytes | None]]:
        rows = self.conn.execute(
            "SELECT id, file_id, start_s, end_s, best_s, times, frames, vector, thumb FROM segments "
            "WHERE file_id=? AND model_id=? ORDER BY start_s",
            (file_id, model_id),
        ).fetchall()
        out = []
        for r in rows:
            seg = self._segment(r)
            vec = np.frombuffer(r[7], dtype=np.float32)
            out.append((seg, vec, r[8] if with_thumbs else None))
        return out

    @staticmethod
    def _segment(r: Sequence[Any]) -> SegmentRow:
        times = np.frombuffer(r[5], dtype=np.float32)
        frames = np.frombuffer(r[6], dtype=np.float16)
        return SegmentRow(
            id=int(r[0]),
            file_id=int(r[1]),
            start=float(r[2]),
            end=float(r[3]),
            best_time=float(r[4]),
            times=times,
            frames=frames.reshape(len(times), -1) if len(times) else frames.reshape(0, 0),
        )

    def segments_by_ids(self, ids: Sequence[int]) -> list[SegmentRow]:
        out: list[SegmentRow] = []
        for chunk in _chunks(list(ids), 500):
            q = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT id, file_id, start_s, end_s, best_s, times, frames FROM segments WHERE id IN ({q})",
                chunk,
            ).fetchall()
            out.extend(self._segment(r) for r in rows)
        return out

    def neighbour_segments(self, file_id: int, model_id: str, start: float, end: float) -> list[SegmentRow]:
        """Segments of a file overlapping [start, end] (used to grow a moment across a boundary)."""
        rows = self.conn.execute(
            "SELECT id, file_id, start_s, end_s, best_s, times, frames FROM segments "
            "WHERE file_id=? AND model_id=? AND end_s>=? AND start_s<=? ORDER BY start_s",
            (file_id, model_id, start, end),
        ).fetchall()
        return [self._segment(r) for r in rows]

    def segment_count(self, model_id: str | None = None) -> int:
        if model_id is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0])
        return int(self.conn.execute("SELECT COUNT(*) FROM segments WHERE model_id=?", (model_id,)).fetchone()[0])

    def iter_segment_vectors(self, model_id: str, batch: int = 20000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) in batches, for rebuilding the vector index from the store."""
        last = -1
        while True:
            rows = self.conn.execute(
                "SELECT id, vector FROM segments WHERE model_id=? AND id>? ORDER BY id LIMIT ?",
                (model_id, last, batch),
            ).fetchall()
            if not rows:
                return
            ids = np.fromiter((r[0] for r in rows), dtype=np.uint64, count=len(rows))
            vecs = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            yield ids, vecs
            last = int(rows[-1][0])

    def file_mtimes(self, file_ids: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for chunk in _chunks(list(file_ids), 500):
            q = ",".join("?" * len(chunk))
            for fid, m in self.conn.execute(f"SELECT id, mtime_ns FROM files WHERE id IN ({q})", chunk):
                out[int(fid)] = int(m)
        return out

    def known_paths_under(self, folder_id: int) -> dict[bytes, FileRow]:
        return {f.key: f for f in self.files(folder_id=folder_id)}


def _chunks(items: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


__all__ = [
    "DONE",
    "ERROR",
    "INDEXING",
    "OFFLINE",
    "PENDING",
    "SCHEMA_VERSION",
    "FileRow",
    "NewSegment",
    "SegmentRow",
    "Store",
    "StoreError",
    "StoreNeedsUpgrade",
    "display_path",
    "fs_path",
    "path_key",
]
