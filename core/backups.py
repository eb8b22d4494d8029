"""Rolling backups of the library database (SQLite's online backup API), and restoring one."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from .store_health import integrity_check

log = logging.getLogger(__name__)
KEEP = 3
FOLDER = "backups"


@dataclass(frozen=True)
class Backup:
    path: Path
    stamp: str  # what the library looked like: a new backup is only made when it changed

    @property
    def created(self) -> float:
        return self.path.stat().st_mtime


def backup_dir(data: Path) -> Path:
    return Path(data) / FOLDER


def list_backups(data: Path) -> list[Backup]:
    """Backups, newest first (names carry a UTC timestamp, so name order is time order)."""
    folder = backup_dir(data)
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.glob("library-*.sqlite3"), reverse=True):
        parts = p.stem.split("-")
        out.append(Backup(p, parts[-1] if len(parts) >= 3 else ""))
    return out


def change_stamp(conn: sqlite3.Connection) -> str:
    """A digest of what a backup would preserve (generations, folders, files and statuses)."""
    parts = [
        conn.execute("SELECT group_concat(key || '=' || value, ';') FROM (SELECT * FROM meta ORDER BY key)").fetchone(),
        conn.execute("SELECT COUNT(*), group_concat(hex(path), ';') FROM folders").fetchone(),
        conn.execute("SELECT COUNT(*), TOTAL(size), TOTAL(mtime_ns % 1000003) FROM files").fetchone(),
        conn.execute(
            "SELECT group_concat(status || ':' || n, ';') FROM "
            "(SELECT status, COUNT(*) AS n FROM files GROUP BY status ORDER BY status)"
        ).fetchone(),
    ]
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:12]


def make_backup(conn: sqlite3.Connection, data: Path, *, keep: int = KEEP) -> Path | None:
    """Copy the live database into ``backups/`` if it changed since the newest backup, and
    keep the newest ``keep``. The backup API copies a consistent snapshot while readers
    carry on. Returns the new file, or None when nothing changed."""
    stamp = change_stamp(conn)
    existing = list_backups(data)
    if existing and existing[0].stamp == stamp:
        return None
    folder = backup_dir(data)
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{now % 1:.6f}"[1:].replace(".", "")
    dest = folder / f"library-{name}-{stamp}.sqlite3"
    tmp = folder / f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.backup(dst)
            # A standalone file: no WAL companions to lose when it is copied or restored.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    for old in list_backups(data)[keep:]:
        with contextlib.suppress(OSError):
            old.path.unlink()
    return dest


def newest_good(data: Path) -> tuple[Backup | None, list[tuple[Backup, str]]]:
    """The newest backup that passes the full integrity check, and the ones that failed."""
    bad: list[tuple[Backup, str]] = []
    for b in list_backups(data):
        problem = integrity_check(b.path)
        if problem is None:
            return b, bad
        bad.append((b, problem))
    return None, bad


def restore(backup: Path, db: Path) -> Path | None:
    """Put a backup in place of the live database; the damaged files are kept aside (never
    deleted: they may still hold something). Returns where they went."""
    aside = None
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    for suffix in ("", "-wal", "-shm"):
        p = db.with_name(db.name + suffix)
        if p.exists():
            target = db.with_name(f"{db.name}.damaged-{stamp}{suffix}")
            os.replace(p, target)
            aside = aside or target
    src = sqlite3.connect(f"{backup.absolute().as_uri()}?mode=ro", uri=True)
    tmp = db.with_name(f"{db.name}.{os.getpid()}.restore.tmp")
    try:
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
        finally:
            dst.close()
        os.replace(tmp, db)
    finally:
        src.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
    return aside
