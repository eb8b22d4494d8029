"""`doctor`: the full integrity check of a library, and its repair (restore, rebuild, re-queue)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .backups import list_backups, make_backup, newest_good, restore
from .errors import LibraryError
from .library_health import index_of, index_sidecars, remove_index
from .lock import WriterLock
from .paths import DataPaths, data_paths
from .store_health import connect_readonly, has_library_tables, integrity_check


@dataclass
class IndexCheck:
    file: str
    model_id: str
    vectors: int | None  # None: unreadable
    segments: int | None
    agrees: bool
    problem: str | None = None


@dataclass
class DoctorReport:
    database: str  # the database file
    problem: str | None = None  # what is wrong with it (None: sound)
    backups: int = 0
    good_backup: str | None = None
    indexes: list[IndexCheck] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # what --repair did
    requeued: int = 0  # files the next `index` will (re-)index
    healthy: bool = False

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def diagnose(home: str | os.PathLike[str] | None = None) -> DoctorReport:
    """Check everything without changing anything (safe beside a running indexer)."""
    paths = data_paths(home)
    db = paths.database
    report = DoctorReport(database=str(db), backups=len(list_backups(paths.data)))
    report.problem = _database_problem(paths)
    good, _bad = newest_good(paths.data)
    report.good_backup = str(good.path) if good else None
    if report.problem is None and has_library_tables(db):
        report.indexes = _check_indexes(paths)
    report.healthy = report.problem is None and all(i.agrees for i in report.indexes)
    return report


def _database_problem(paths: DataPaths) -> str | None:
    db = paths.database
    if not has_library_tables(db):
        if list_backups(paths.data) or index_sidecars(paths.data):
            state = "missing" if not db.exists() else "empty" if db.stat().st_size == 0 else "blank"
            return f"the database is {state} but a library existed here"
        return None  # a new library: nothing to check
    problem = integrity_check(db)
    if problem:
        return f"damaged: {problem}"
    conn = connect_readonly(db)
    try:
        for sidecar in index_sidecars(paths.data):
            meta = _read_meta(sidecar)
            if meta is None:
                continue
            row = conn.execute("SELECT value FROM meta WHERE key=?", (f"generation:{meta['model_id']}",)).fetchone()
            have = int(row[0]) if row else 0
            if int(str(meta["generation"])) > have:
                return (
                    f"lost recent changes: the index for {meta['model_id']} is at generation "
                    f"{meta['generation']}, the database at {have}"
                )
    finally:
        conn.close()
    return None


def _read_meta(sidecar: Path) -> dict[str, object] | None:
    import json

    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        int(meta["generation"]), str(meta["model_id"]), int(meta["dim"])
        return meta  # type: ignore[no-any-return]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _check_indexes(paths: DataPaths) -> list[IndexCheck]:
    """Each saved vector index against the store: the same segment ids, no more, no fewer."""
    from .stage1_file import Stage1Error, read
    from .stage1_shards import live_ids

    out: list[IndexCheck] = []
    conn = connect_readonly(paths.database)
    try:
        for sidecar in index_sidecars(paths.data):
            index_file = index_of(sidecar)
            meta = _read_meta(sidecar)
            if meta is None:
                out.append(IndexCheck(str(index_file), "?", None, None, False, "unreadable sidecar"))
                continue
            model = str(meta["model_id"])
            ids = {int(r[0]) for r in conn.execute("SELECT id FROM segments WHERE model_id=?", (model,))}
            try:
                dim = int(meta["dim"])  # type: ignore[call-overload]
                saved = live_ids(index_file, dim) if index_file.is_dir() else read(index_file, dim).ids
                keys = {int(k) for k in saved}
            except Stage1Error as e:
                out.append(IndexCheck(str(index_file), model, None, len(ids), False, f"unreadable: {e}"))
                continue
            missing, extra = len(ids - keys), len(keys - ids)
            problem = f"{missing} segment(s) missing, {extra} stray" if missing or extra else None
            out.append(IndexCheck(str(index_file), model, len(keys), len(ids), problem is None, problem))
    finally:
        conn.close()
    return out


def repair(home: str | os.PathLike[str] | None = None, *, wait: float | None = 0.0) -> DoctorReport:
    """Fix what ``diagnose`` finds, under the writer lock: restore the newest good backup over
    a damaged, lost or rolled-back database (the damaged files are kept aside), rebuild every
    vector index from the store, and re-queue files whose rows were lost so the next `index`
    picks them up. Raises LibraryError when there is nothing to restore from."""
    from .library import Library

    paths = data_paths(home).ensure()
    lock = WriterLock(paths.data)
    actions: list[str] = []
    with lock.hold(wait):
        problem = _database_problem(paths)
        if problem:
            actions.append(f"database: {problem}")
            _fix_database(paths, actions)
        with Library(paths.data, writer_lock=lock) as lib, lib.writing():
            requeued = _requeue(lib, actions)
            _rebuild_indexes(lib, actions)
            with contextlib.suppress(OSError, sqlite3.Error):
                if make_backup(lib.store.conn, paths.data):
                    actions.append("made a fresh backup")
    report = diagnose(paths.data)
    report.actions = actions
    report.requeued = requeued
    return report


def _fix_database(paths: DataPaths, actions: list[str]) -> None:
    db = paths.database
    good, bad = newest_good(paths.data)
    for b, why in bad:
        actions.append(f"skipped damaged backup {b.path.name}: {why}")
    if good is not None:
        aside = restore(good.path, db)
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(good.created))
        actions.append(f"restored the backup of {when} ({good.path.name})")
        if aside:
            actions.append(f"kept the damaged database as {aside.name}")
        return
    if has_library_tables(db):
        raise LibraryError(
            f"{db} is damaged and there is no good backup to restore; keep a copy of it, then move it "
            "away and index your folders again"
        )
    # A lost database with nothing to restore: start over, without the orphaned indexes.
    for sidecar in index_sidecars(paths.data):
        remove_index(sidecar)
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            db.with_name(db.name + suffix).unlink()
    actions.append("no backup to restore: started a new library (add your folders again)")


def _requeue(lib: object, actions: list[str]) -> int:
    """Files whose rows or vectors were lost become pending again."""
    from .library import Library
    from .store import DONE, PENDING

    assert isinstance(lib, Library)
    store = lib.store
    interrupted = store.reset_interrupted()
    hollow = 0
    for f in store.files(status=DONE):
        if f.model_id and not store.has_segments(f.id, f.model_id):
            store.set_status(f.id, PENDING)
            hollow += 1
    before = store.status_counts().get(PENDING, 0)
    lib.scan()  # files on disk under the watched folders but not in the store become pending
    after = store.status_counts().get(PENDING, 0)
    if after:
        actions.append(
            f"re-queued {after} file(s) for the next `reelseek-cli index` ({max(after - before, 0)} not in "
            f"the database, {hollow} without vectors, {interrupted} interrupted)"
        )
    return after


def _rebuild_indexes(lib: object, actions: list[str]) -> None:
    from .library import Library
    from .models import ModelError

    assert isinstance(lib, Library)
    models = {str(m["model_id"]) for m in filter(None, map(_read_meta, index_sidecars(lib.paths.data)))}
    models |= {r[0] for r in lib.store.conn.execute("SELECT DISTINCT model_id FROM segments")}
    for model in sorted(models):
        try:
            vi = lib.vector_index(model)
        except (KeyError, ValueError, LibraryError, ModelError) as e:  # a model this version does not know
            actions.append(f"left the index for {model} alone: {e}")
            continue
        vi.rebuild(lib.store)
        vi.remove_stale_temps()
        vi.save()
        actions.append(f"rebuilt the vector index for {model} ({len(vi)} vectors)")
