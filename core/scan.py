"""Walk watched folders and reconcile them with the store: new, changed, moved, deleted, offline."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .media import is_video_candidate
from .store import DONE, ERROR, INDEXING, OFFLINE, PENDING, FileRow, Store, display_path, path_key

log = logging.getLogger(__name__)

_CHUNK = 256 * 1024


def fingerprint(path: str | os.PathLike[str], size: int | None = None) -> str:
    """A content fingerprint that survives renames: size plus the first, middle and last 256 KiB.

    Reading 768 KiB instead of the whole file keeps rescans of terabyte drives cheap; a change
    that keeps the size and all three windows is not realistic for video files.
    """
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        if size is None:
            size = os.fstat(f.fileno()).st_size
        h.update(str(size).encode())
        offsets = [0] if size <= 3 * _CHUNK else [0, size // 2 - _CHUNK // 2, size - _CHUNK]
        for off in offsets:
            f.seek(off)
            h.update(f.read(_CHUNK))
    return h.hexdigest()


@dataclass
class ScanReport:
    new: list[int] = field(default_factory=list)  # file ids now pending
    changed: list[int] = field(default_factory=list)  # content changed: pending again
    moved: list[int] = field(default_factory=list)  # renamed/moved: vectors kept
    touched: int = 0  # mtime changed, content did not
    unchanged: int = 0
    removed_segments: list[int] = field(default_factory=list)  # deleted files' segment ids
    removed_files: int = 0
    offline: int = 0  # files newly marked offline
    back_online: int = 0
    offline_folders: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) for unreadable things


@dataclass(frozen=True)
class _Seen:
    path: str
    size: int
    mtime_ns: int


def _walk(root: str, errors: list[tuple[str, str]], unreadable: list[str]) -> Iterator[_Seen]:
    """Every candidate video under root; unreadable folders are reported and remembered."""
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                entries = list(it)
        except OSError as e:
            unreadable.append(d)
            errors.append((d, f"cannot read folder: {e.strerror or e}"))
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue  # .Trashes, .Spotlight-V100, ._AppleDouble files, hidden caches
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
                if not is_video_candidate(Path(entry.path)):
                    continue
                st = entry.stat()
            except OSError as e:
                errors.append((entry.path, f"cannot read file information: {e.strerror or e}"))
                continue
            if stat.S_ISREG(st.st_mode):
                yield _Seen(entry.path, st.st_size, st.st_mtime_ns)


def _is_mounted(root: str) -> bool:
    """A watched folder that is missing or empty-because-unmounted counts as offline."""
    try:
        return os.path.isdir(root) and os.access(root, os.R_OK | os.X_OK)
    except OSError:
        return False


def _read_error(e: OSError) -> str:
    if isinstance(e, PermissionError):
        return "permission denied: reelseek cannot read this file"
    return f"cannot read file: {e.strerror or e}"


def _is_empty(root: str) -> bool:
    try:
        with os.scandir(root) as it:
            return next(iter(it), None) is None
    except OSError:
        return False


def _under(path_bytes: bytes, folders: list[str]) -> bool:
    for f in folders:
        fb = path_key(f).rstrip(b"/") + b"/"
        if path_bytes.startswith(fb):
            return True
    return False


def scan_folder(
    store: Store,
    folder_id: int,
    root: str,
    *,
    report: ScanReport,
    pending_new: list[tuple[int, _Seen]],
    missing_all: dict[bytes, FileRow],
    cancel: threading.Event | None = None,
    on_file: Callable[[str], None] | None = None,
) -> None:
    """Mark phase for one watched folder: update known files, collect new and missing ones.

    An unreachable folder marks its files offline instead of deleting them (editors unplug
    drives). A folder that cannot be listed keeps its known files as they are.
    """
    known = store.known_paths_under(folder_id)
    if not _is_mounted(root):
        ids = [f.id for f in known.values() if f.status != OFFLINE]
        report.offline += store.set_offline(ids)
        report.offline_folders.append(root)
        return

    unreadable: list[str] = []
    seen: dict[bytes, _Seen] = {}
    for s in _walk(root, report.errors, unreadable):
        if cancel is not None and cancel.is_set():
            return
        seen[path_key(s.path)] = s

    if not seen and known and _is_empty(root):
        # An empty mount point looks like a folder whose files were all deleted; treating it
        # as an unplugged drive is the safe reading (nothing indexed is thrown away).
        ids = [f.id for f in known.values() if f.status != OFFLINE]
        report.offline += store.set_offline(ids)
        report.offline_folders.append(root)
        return
    missing = {k: f for k, f in known.items() if k not in seen and not _under(k, unreadable)}
    new_paths: list[_Seen] = []
    for key, s in seen.items():
        row = known.get(key)
        if on_file:
            on_file(s.path)
        if row is None:
            new_paths.append(s)
            continue
        if row.status == OFFLINE:
            report.back_online += 1
            status = store.set_online(row.id)
            if status == DONE and (row.size, row.mtime_ns) == (s.size, s.mtime_ns):
                report.unchanged += 1
                continue
            row = store.file_by_id(row.id) or row
        if (row.size, row.mtime_ns) == (s.size, s.mtime_ns) and not (row.status == ERROR and not row.fingerprint):
            # A file still waiting from a stopped run is indexed now: not "unchanged" (a resumed
            # run said "indexed 7, 8 unchanged" for 8 files).
            if row.status not in (PENDING, INDEXING):
                report.unchanged += 1
            continue
        _reconcile_changed(store, folder_id, row, s, report)

    pending_new.extend((folder_id, s) for s in new_paths)
    missing_all.update(missing)


def _reconcile_changed(store: Store, folder_id: int, row: FileRow, s: _Seen, report: ScanReport) -> None:
    try:
        fp = fingerprint(s.path, s.size)
    except OSError as e:
        if row.status != ERROR:
            store.fail_file(row.id, _read_error(e))
        return
    if fp == row.fingerprint and row.status == DONE:
        store.touch_file(row.id, s.mtime_ns)
        report.touched += 1
        return
    report.changed.append(store.upsert_file(s.path, folder_id, s.size, s.mtime_ns, fp))


def scan(
    store: Store,
    folders: list[tuple[int, str]],
    *,
    cancel: threading.Event | None = None,
) -> ScanReport:
    """Reconcile every given watched folder (id, path) with the store.

    Moves are resolved across all folders before anything is swept, so a file moved from one
    watched folder to another keeps its vectors.
    """
    report = ScanReport()
    pending_new: list[tuple[int, _Seen]] = []
    missing: dict[bytes, FileRow] = {}
    for folder_id, root in folders:
        if cancel is not None and cancel.is_set():
            return report
        scan_folder(store, folder_id, root, report=report, pending_new=pending_new, missing_all=missing, cancel=cancel)

    by_fp: dict[str, FileRow] = {}
    for f in missing.values():
        if f.fingerprint:
            by_fp.setdefault(f.fingerprint, f)
    for folder_id, s in pending_new:
        if cancel is not None and cancel.is_set():
            return report
        try:
            fp = fingerprint(s.path, s.size)
        except OSError as e:
            # Listed but unreadable (permissions, a dying drive): recorded as an error with
            # its reason, retried on the next scan.
            fid = store.upsert_file(s.path, folder_id, s.size, s.mtime_ns, None)
            store.fail_file(fid, _read_error(e))
            report.new.append(fid)
            continue
        src = by_fp.pop(fp, None)
        if src is not None:
            store.move_file(src.id, s.path, folder_id, s.mtime_ns)
            missing.pop(src.key, None)
            if src.status == OFFLINE:
                store.set_online(src.id)
            report.moved.append(src.id)
            continue
        report.new.append(store.upsert_file(s.path, folder_id, s.size, s.mtime_ns, fp))

    # Whatever is still missing was deleted (its folder was readable, so this is not an unplug).
    if missing and not (cancel is not None and cancel.is_set()):
        report.removed_segments.extend(store.delete_files([f.id for f in missing.values()]))
        report.removed_files += len(missing)
        for f in missing.values():
            log.info("removed from library (deleted on disk): %s", display_path(f.key))
    return report
