"""Read-only opening of the library database, and its integrity checks (cheap and full)."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from .store import StoreError

# The check on open stops after this long: a huge library opens without a noticeable wait,
# and damage it does not reach still surfaces as a clear error when a query meets it
# (errors.as_library_error). Measured: docs/architecture.md, "Integrity".
CHECK_BUDGET_S = 0.5


def wal_path(db: Path) -> Path:
    return db.with_name(db.name + "-wal")


def _wal_has_data(db: Path) -> bool:
    try:
        return wal_path(db).stat().st_size > 0
    except OSError:
        return False


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK)


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open the database for reading only: never creates, migrates or writes it.

    ``mode=ro`` is the normal way; SQLite still needs the WAL's ``-shm``/``-wal`` companions,
    which it creates when the folder is writable and uses read-only when they exist. On a
    read-only folder without them, or a full disk where ``-shm`` cannot grow, it cannot open
    at all; then, and only if the WAL holds no committed pages (which ``immutable`` would
    ignore), we open with ``immutable=1``: SQLite skips locking and change detection. That is
    safe there because nobody can be writing through a read-only folder, and on a full disk a
    writer cannot commit either; a search is short and reads one consistent file.
    """
    uri = Path(os.path.abspath(path)).as_uri()
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, isolation_level=None)
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as e:
        err = e
    if not path.exists():
        raise StoreError(f"library database not found: {path}")
    if _wal_has_data(path):
        raise StoreError(
            f"cannot read {path}: its write-ahead log needs a writable folder ({err}); "
            "open the library once where it can be written"
        )
    full = "full" in str(err).lower() or "i/o" in str(err).lower()
    if _writable(path.parent) and not full:
        raise StoreError(f"cannot open the library database {path}: {err}")
    conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=30, isolation_level=None)
    conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    return conn


def header_problem(db: Path) -> str | None:
    """What is wrong with the file's size and header, if anything (cheap: no page is read).

    Never opens the file with plain ``open()``: closing any descriptor of a database drops
    every POSIX lock this process holds on it, SQLite's included, and a second process could
    then checkpoint a WAL still in use. SQLite's own connections share those locks safely.
    """
    try:
        size = db.stat().st_size
    except OSError as e:
        return f"cannot read it ({e.strerror})"
    if size == 0:
        return "it is empty (0 bytes)"
    if size < 512:
        return "it is not an SQLite database"
    try:
        conn = connect_readonly(db)
    except (StoreError, sqlite3.Error) as e:
        return " ".join(str(e).split())
    try:
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    except sqlite3.DatabaseError as e:
        return " ".join(str(e).split())
    finally:
        conn.close()
    # With committed pages in the WAL the main file may legitimately be shorter.
    if pages * page_size > size and not _wal_has_data(db):
        return f"it is truncated ({size} of {pages * page_size} bytes)"
    return None


def quick_check(conn: sqlite3.Connection, budget_s: float | None = CHECK_BUDGET_S) -> str | None:
    """SQLite's quick_check within a time budget: the damage found, or None (sound, or the
    budget ran out first: no verdict is not a verdict of damage)."""
    # The whole check runs inside one VDBE instruction, so a progress handler never fires
    # during it (a 10 GB library sat 219 s in here): a timer interrupts it from outside.
    timer = _Interrupter(conn, budget_s) if budget_s is not None else None
    try:
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.OperationalError as e:
        if "interrupt" in str(e).lower():
            return None
        return str(e)
    except sqlite3.DatabaseError as e:
        return str(e)
    finally:
        if timer is not None:
            timer.stop()
    found = [str(r[0]) for r in rows]
    return None if found == ["ok"] else one_line(found)


class _Interrupter:
    """Calls ``conn.interrupt()`` once the budget is spent, never after ``stop()`` returns
    (an interrupt landing after the check would cancel the caller's next statement)."""

    def __init__(self, conn: sqlite3.Connection, budget_s: float) -> None:
        self._conn, self._lock, self._armed = conn, threading.Lock(), True
        self.fired = False
        self._timer = threading.Timer(max(0.0, budget_s), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._armed:
                self.fired = True
                self._conn.interrupt()

    def stop(self) -> None:
        with self._lock:
            self._armed = False
        self._timer.cancel()


def one_line(found: list[str], limit: int = 3) -> str:
    """SQLite's findings (one per row, some spanning lines) as one short line."""
    parts = [" ".join(f.replace("*** in database main ***", "").split()) for f in found]
    parts = [p for p in parts if p] or ["damaged"]
    more = f" (+{len(parts) - limit} more)" if len(parts) > limit else ""
    return "; ".join(parts[:limit]) + more


def integrity_check(db: Path) -> str | None:
    """The full check (every page, every index entry), for `doctor`: damage found or None."""
    problem = header_problem(db)
    if problem:
        return problem
    try:
        conn = connect_readonly(db)
    except (StoreError, sqlite3.Error) as e:
        return str(e)
    try:
        rows = conn.execute("PRAGMA integrity_check(20)").fetchall()
        found = [str(r[0]) for r in rows]
        if found != ["ok"]:
            return one_line(found)
        conn.execute("SELECT COUNT(*) FROM files").fetchone()
        return None
    except sqlite3.DatabaseError as e:
        return str(e)
    finally:
        conn.close()


def has_library_tables(db: Path) -> bool:
    """Whether the file holds a reelseek library (a blank or 0-byte file does not)."""
    if not db.exists() or db.stat().st_size == 0:
        return False
    try:
        conn = connect_readonly(db)
    except (StoreError, sqlite3.Error):
        return True  # unreadable is damage, not "blank": the callers report it as such
    try:
        row = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='files'").fetchone()
        return row is not None
    except sqlite3.DatabaseError:
        return True
    finally:
        conn.close()
