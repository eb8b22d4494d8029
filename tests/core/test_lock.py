"""The writer lock: one holder across processes, a record of who, re-entrant inside a process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from reelseek.core.errors import EXIT_BUSY, LibraryBusy, ReadOnlyHome
from reelseek.core.lock import WriterLock, set_owner_label

HOLD = """
import sys, time
from reelseek.core.lock import WriterLock, set_owner_label
set_owner_label("reelseek-cli index")
lock = WriterLock(sys.argv[1]); lock.acquire()
print("held", flush=True); sys.stdin.readline()
"""


def test_second_process_is_told_who_holds_the_library(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"  # type: ignore[union-attr]
        mine = WriterLock(tmp_path)
        with pytest.raises(LibraryBusy) as info:
            mine.acquire(wait=0)
        assert info.value.exit_code == EXIT_BUSY
        assert f"reelseek-cli index (pid {holder.pid}) since " in str(info.value)
        told: list[str] = []
        with pytest.raises(LibraryBusy):
            mine.acquire(wait=0.3, on_wait=told.append)
        assert len(told) == 1 and "waiting" in told[0]
    finally:
        holder.communicate("\n", timeout=60)
    # The holder exited without releasing: the kernel dropped its lock; the record is rewritten.
    mine.acquire(wait=0)
    assert mine.holder() is not None and mine.holder().pid == os.getpid()  # type: ignore[union-attr]
    mine.release()
    assert mine.holder() is None


def test_killed_holder_releases_the_lock(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert holder.stdout.readline().strip() == b"held"  # type: ignore[union-attr]
    holder.kill()
    holder.wait()
    lock = WriterLock(tmp_path)
    lock.acquire(wait=0)
    lock.release()


def test_reentrant_across_threads_of_one_process(tmp_path):
    set_owner_label("test")
    lock = WriterLock(tmp_path)
    with lock.hold():
        errors: list[BaseException] = []

        def nested() -> None:
            try:
                with lock.hold(wait=0):
                    assert lock.held
            except BaseException as e:
                errors.append(e)

        t = threading.Thread(target=nested)
        t.start()
        t.join()
        assert not errors and lock.held
    assert not lock.held


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_a_clear_error(tmp_path):
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(ReadOnlyHome):
            WriterLock(tmp_path).acquire()
    finally:
        tmp_path.chmod(0o755)
