"""Stage-1 index over segment vectors: a cache derived from the store, rebuilt when stale."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .stage1 import EXACT_MAX as EXACT_MAX  # re-exported: the float16-scan limit

if TYPE_CHECKING:
    from .stage1 import FlatIndex
    from .store import Store

log = logging.getLogger(__name__)

# Stage 1 is an exact scan (core/stage1.py): float16 vectors up to EXACT_MAX segments, int8
# codes plus a float16 re-score of the short list beyond. HNSW (usearch) was dropped: at 1 M
# segments its recall@100 for text queries was 0.904 at the product's beam and its build took
# 479 s on 2 cores, where the int8 scan gives 0.9996 in 48 ms p50 on 2 cores and builds from
# vectors in ~11 s (docs/benchmarks.md, "1 M segments").


class VectorIndex:
    """Segment vectors of one model in a stage-1 scan index (cosine similarity).

    The index file carries a sidecar JSON with the store's generation counter at the time it
    was saved. If the counters differ on open (a crash between a commit and a save), or the
    file is missing or unreadable, the index is rebuilt from the store: the store is always
    right. Saves are atomic (write a temporary file, then rename).
    """

    def __init__(self, path: Path, model_id: str, dim: int, *, exact_max: int | None = None) -> None:
        self.path = Path(path)
        self.model_id = model_id
        self.dim = int(dim)
        self.exact_max = EXACT_MAX if exact_max is None else exact_max
        self._lock = threading.RLock()
        self._index = self._new()
        self.generation = -1

    def _new(self) -> FlatIndex:
        from .stage1 import FlatIndex

        return FlatIndex(self.dim, exact_max=self.exact_max)

    @property
    def meta_path(self) -> Path:
        return self.path.with_name(self.path.name + ".json")

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)

    # -- persistence ---------------------------------------------------------------------------
    def load_or_rebuild(self, store: Store, progress: Callable[[int, int], None] | None = None) -> bool:
        """Open the saved index if it matches the store, else rebuild it. Returns True if rebuilt."""
        want = store.generation(self.model_id)
        if self._try_load(want, store):
            return False
        self.rebuild(store, progress)
        return True

    def _try_load(self, want_generation: int, store: Store) -> bool:
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if (
            meta.get("generation") != want_generation
            or meta.get("model_id") != self.model_id
            or meta.get("dim") != self.dim
        ):
            log.info(
                "vector index is out of date (generation %s, store %s)",
                meta.get("generation"),
                want_generation,
            )
            return False
        try:
            index = self._new()
            index.load(str(self.path))
        except (OSError, ValueError) as e:  # Stage1Error (a ValueError) on a damaged or foreign file
            log.warning("vector index %s is unreadable (%s): rebuilding", self.path, e)
            return False
        if len(index) != meta.get("count") or len(index) != store.segment_count(self.model_id):
            log.warning(
                "vector index %s has %d vectors, store %d: rebuilding",
                self.path,
                len(index),
                store.segment_count(self.model_id),
            )
            return False
        with self._lock:
            self._index = index
            self.generation = want_generation
        return True

    def rebuild(self, store: Store, progress: Callable[[int, int], None] | None = None) -> None:
        total = store.segment_count(self.model_id)
        index = self._new()
        generation = store.generation(self.model_id)

        def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            done = 0
            for ids, vecs in store.iter_segment_vectors(self.model_id):
                yield ids, vecs
                done += len(ids)
                if progress:
                    progress(done, total)

        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Streamed through a float16 spill file: a million vectors never sit in memory at once.
        scratch = self.path.with_name(self.path.name + ".build")
        try:
            index.build(batches(), scratch)
        except BaseException:
            index.close()
            with contextlib.suppress(OSError):
                os.remove(scratch)  # a full disk or a cancel must not leave a stray gigabyte
            raise
        with self._lock:
            self._index = index
            self.generation = generation
        self.save(generation)

    def save(self, generation: int) -> None:
        """Atomically write the index and its sidecar (the sidecar last: it validates the file)."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            self._index.save(str(tmp))
            count = len(self._index)
        meta_tmp = self.meta_path.with_name(self.meta_path.name + ".tmp")
        # Invalidate first: a crash between the two renames must not pair a new index with an
        # old sidecar that happens to match.
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.meta_path)
        os.replace(tmp, self.path)
        meta_tmp.write_text(
            json.dumps({"generation": generation, "model_id": self.model_id, "dim": self.dim, "count": count}),
            encoding="utf-8",
        )
        os.replace(meta_tmp, self.meta_path)
        self.generation = generation

    # -- updates -------------------------------------------------------------------------------
    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if not ids:
            return
        with self._lock:
            self._index.add(np.asarray(ids, dtype=np.int64), np.asarray(vectors, dtype=np.float32))

    def remove(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._lock:
            self._index.remove(np.asarray(ids, dtype=np.int64))  # unknown ids are ignored

    # -- queries -------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k segment ids and cosine similarities (not distances), best first."""
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        with self._lock:
            return self._index.search(np.asarray(vector, dtype=np.float32), k)
