"""User-facing library errors, their CLI exit codes, and the mapping from raw OS/SQLite failures."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

# Exit codes of reelseek-cli (README's CLI section and `reelseek-cli --help` list them).
EXIT_OK = 0
EXIT_USAGE = 2  # bad arguments or input (a missing file, an unknown folder, ...)
EXIT_BUSY = 3  # another process is writing to the library
EXIT_DAMAGED = 4  # the library database is damaged or missing: run `reelseek-cli doctor --repair`
EXIT_DISK_FULL = 5  # the disk holding the library is full
EXIT_READ_ONLY = 6  # the library folder cannot be written (read-only share, permissions)
EXIT_IO = 7  # the drive holding the library failed (unplugged, failing)

EXIT_CODES_HELP = (
    "exit codes: 0 ok; 2 bad arguments or input; 3 another process is writing to the library; "
    "4 library damaged (run `reelseek-cli doctor --repair`); 5 disk full; 6 library folder is read-only; "
    "7 the library's drive failed (unplugged?)"
)

REPAIR_HINT = "run `reelseek-cli doctor --repair` (or open the app and choose Repair)"


class LibraryError(Exception):
    """A user-facing problem with the library (bad folder, ...); str() is the message."""

    exit_code = EXIT_USAGE


class LibraryBusy(LibraryError):
    """Another process holds the library's writer lock."""

    exit_code = EXIT_BUSY


class LibraryDamaged(LibraryError):
    """The database is damaged, missing or older than its index; ``repairable`` says whether
    `doctor --repair` has something to restore from (a backup) or rebuild."""

    exit_code = EXIT_DAMAGED

    def __init__(self, message: str, *, path: Path | None = None, repairable: bool = True) -> None:
        super().__init__(message)
        self.path = path
        self.repairable = repairable


class DiskFull(LibraryError):
    exit_code = EXIT_DISK_FULL


class LibraryUnavailable(LibraryError):
    """The drive holding the library failed to read or write (unplugged, failing)."""

    exit_code = EXIT_IO


class ReadOnlyHome(LibraryError):
    exit_code = EXIT_READ_ONLY


def _sqlite_name(e: BaseException) -> str:
    return str(getattr(e, "sqlite_errorname", "") or "")


def as_library_error(e: BaseException, where: Path | str | None = None) -> LibraryError | None:
    """The user-facing form of a raw failure (full disk, read-only folder, damaged database),
    or None when it is none of those (a genuine bug keeps its traceback)."""
    if isinstance(e, LibraryError):
        return e
    place = f" ({where})" if where else ""
    text = str(e)
    name = _sqlite_name(e)
    if isinstance(e, OSError):
        if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            return DiskFull(f"the disk is full{place}: free some space and run the same command again")
        if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return ReadOnlyHome(
                f"cannot write to the library folder{place}: it is read-only or not yours "
                f"({e.strerror}); searching still works, indexing needs a writable folder"
            )
        return None
    if isinstance(e, sqlite3.Error):
        low = text.lower()
        if name.startswith("SQLITE_FULL") or "disk is full" in low:
            return DiskFull(f"the disk is full{place}: free some space and run the same command again")
        if name.startswith("SQLITE_READONLY") or "readonly database" in low or "read-only" in low:
            return ReadOnlyHome(
                f"cannot write to the library folder{place}: it is read-only; "
                "searching still works, indexing needs a writable folder"
            )
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in low or "not a database" in low:
            return LibraryDamaged(f"the library database is damaged{place}: {text}; {REPAIR_HINT}")
        if name.startswith("SQLITE_IOERR") or "disk i/o error" in low:
            # SQLite reports a full disk while growing its WAL index as an I/O error.
            if where is not None and _nearly_full(Path(where)):
                return DiskFull(f"the disk is full{place}: free some space and run the same command again")
            return LibraryUnavailable(f"the library's drive failed to read or write{place} ({text}): is it connected?")
    return None


def _nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False
