"""The library's writer lock across processes: an OS lock on a file that says who holds it."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import LibraryBusy, as_library_error

LOCK_NAME = "library.lock"
POLL_S = 0.25
# What the holder record calls this process; the CLI sets it to e.g. "reelseek-cli index".
_owner_label = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "reelseek"


def set_owner_label(label: str) -> None:
    """Name this process in the lock record ("reelseek-cli index", "the reelseek app")."""
    global _owner_label
    _owner_label = label


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    command: str
    since: float

    def describe(self) -> str:
        when = time.strftime("%H:%M", time.localtime(self.since))
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"{self.command} (pid {self.pid}{where}) since {when}"


# The OS primitive: flock on POSIX (released by the kernel when the process dies, kill -9
# included); on Windows a byte-range lock far past the record, so the record stays readable.
if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    _WIN_OFFSET = 1 << 30

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WIN_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WIN_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class WriterLock:
    """One writer per library across processes; re-entrant inside a process.

    Every thread of the holding process shares the lock (the app's index worker and its folder
    changes are ordered by the app itself); a second process waits or fails with ``LibraryBusy``
    naming the holder. Readers (search, status) never touch it.
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_NAME
        self._mutex = threading.Lock()
        self._depth = 0
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._depth > 0

    def holder(self) -> Holder | None:
        """Who holds the lock now (as its record says), or None if nobody does."""
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.loads(f.read(4096) or "{}")
            return Holder(int(data["pid"]), str(data["host"]), str(data["command"]), float(data["since"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def acquire(self, wait: float | None = 0.0, on_wait: Callable[[str], None] | None = None) -> None:
        """Take the lock. ``wait``: seconds to wait (None: forever, 0: fail at once).

        Raises LibraryBusy naming the holder when it stays taken, ReadOnlyHome/DiskFull when
        the lock file cannot be created.
        """
        with self._mutex:
            if self._depth:
                self._depth += 1
                return
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                raise (as_library_error(e, self.path) or e) from e
            deadline = None if wait is None else time.monotonic() + wait
            told = False
            while not _try_lock(fd):
                if deadline is not None and time.monotonic() >= deadline:
                    os.close(fd)
                    raise LibraryBusy(self.busy_message())
                if on_wait and not told:
                    on_wait(f"waiting: {self.busy_message(hint=False)}")
                    told = True
                time.sleep(POLL_S)
            self._fd = fd
            self._depth = 1
            self._write_record(fd)

    def busy_message(self, *, hint: bool = True) -> str:
        h = self.holder()
        who = h.describe() if h else "another process"
        tail = "; try again when it is done (reelseek-cli: add --wait to wait for it)" if hint else ""
        return f"the library is being changed by {who}{tail}"

    @staticmethod
    def _write_record(fd: int) -> None:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": _owner_label,
            "since": time.time(),
        }
        # Best effort: on a full disk the lock still works, only the description is missing.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(record).encode())

    def release(self) -> None:
        with self._mutex:
            if not self._depth:
                return
            self._depth -= 1
            if self._depth or self._fd is None:
                return
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # no stale record once nobody holds it
            _unlock(fd)
            os.close(fd)

    @contextlib.contextmanager
    def hold(self, wait: float | None = 0.0, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        self.acquire(wait, on_wait)
        try:
            yield
        finally:
            self.release()
