"""Thumbnails of moments: decoded on demand, cached on disk within a size limit."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from .store import Store, path_key
from .types import Moment

log = logging.getLogger(__name__)

PRUNE_EVERY = 64
_writes: dict[Path, int] = {}


class ThumbnailCache:
    """JPEG thumbnails keyed by file content and time, pruned oldest-first past ``limit_mb``.

    An offline file (unplugged drive) still gets a picture: the cached one if any, else the
    small thumbnail stored with its segment at indexing time.
    """

    def __init__(self, folder: Path, limit_mb: int) -> None:
        self.folder = Path(folder)
        self.limit = int(limit_mb) * 1024 * 1024

    def _key(self, store: Store, moment: Moment, width: int) -> Path:
        f = store.file_by_id(moment.file_id)
        ident = f.fingerprint if f and f.fingerprint else path_key(moment.path).hex()
        h = hashlib.blake2b(f"{ident}:{moment.best_time:.3f}:{width}".encode(), digest_size=12).hexdigest()
        return self.folder / h[:2] / f"{h}.jpg"

    def get(self, store: Store, moment: Moment, *, width: int = 320, model_id: str | None = None) -> bytes | None:
        target = self._key(store, moment, width)
        try:
            data = target.read_bytes()
            os.utime(target)  # recently used: pruned last
            return data
        except OSError:
            pass
        from . import media

        try:
            data = media.thumbnail_jpeg(Path(moment.path), moment.best_time, width=width)
        except (media.MediaError, OSError) as e:
            log.debug("thumbnail from video failed (%s), using the stored one", e)
            return self._stored(store, moment, model_id)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            self._maybe_prune()
        except OSError as e:
            log.warning("thumbnail cache not writable: %s", e)
        return data

    def _stored(self, store: Store, moment: Moment, model_id: str | None) -> bytes | None:
        return store.stored_thumb(moment.file_id, moment.best_time, model_id)

    def _maybe_prune(self) -> None:
        # Walking the cache costs a directory listing per thumbnail folder: do it on the first
        # write and then every PRUNE_EVERY writes, not on every thumbnail.
        n = _writes.get(self.folder, 0)
        _writes[self.folder] = n + 1
        if n % PRUNE_EVERY == 0:
            self._prune()

    def _prune(self) -> None:
        files = []
        total = 0
        for p in self.folder.rglob("*.jpg"):
            try:
                st = p.stat()
            except OSError:
                continue
            files.append((st.st_atime, st.st_size, p))
            total += st.st_size
        if total <= self.limit:
            return
        for _, size, p in sorted(files):
            try:
                p.unlink()
            except OSError:
                continue
            total -= size
            if total <= self.limit * 0.9:
                break
