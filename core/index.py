"""usearch index over segment vectors: a cache derived from the store, rebuilt when stale."""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger(__name__)

# HNSW parameters, used above EXACT_MAX segments. expansion_search trades latency for recall:
# text queries sit across the modality gap from the image vectors, which is hard for graph
# search; at 100 k segments a beam of 256 gave recall@100 0.62 and 2048 gave 0.975 in 9.6 ms
# p50 (docs/benchmarks.md). Not yet measured at 1 M.
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 2048
# Up to this many segments an exact SIMD scan inside usearch is both fast and exact (measured
# 5.6 ms p50 at 100 k segments, recall@100 0.999, where the HNSW beam of 256 gave 0.62 for
# text queries: the modality gap makes text queries hard for graph search). Beyond it, HNSW.
EXACT_MAX = 250_000


class VectorIndex:
    """Segment vectors of one model in a usearch HNSW index (cosine metric).

    ``generation`` is the store generation the index's CONTENTS reflect: captured in the same
    read snapshot as the vectors on a rebuild, and set by the writer after it mirrors a commit.
    The file carries it in a sidecar JSON; on open a sidecar that differs from the store (a
    crash between a commit and a save), or a missing or unreadable file, means a rebuild in
    memory: the store is always right. Only the library's writer, holding the writer lock,
    saves; temporary files are unique per process and renamed into place under that lock.
    """

    def __init__(self, path: Path, model_id: str, dim: int, *, dtype: str = "f16") -> None:
        self.path = Path(path)
        self.model_id = model_id
        self.dim = int(dim)
        self.dtype = dtype
        self._lock = threading.RLock()
        self._index = self._new()
        self.generation = -1
        self.saved_generation: int | None = None  # what the file on disk says, once known

    def _new(self):  # type: ignore[no-untyped-def]
        from .models.native import preload_before_usearch

        preload_before_usearch()
        from usearch.index import Index

        return Index(
            ndim=self.dim,
            metric="cos",
            dtype=self.dtype,
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )

    @property
    def meta_path(self) -> Path:
        return self.path.with_name(self.path.name + ".json")

    @property
    def dirty(self) -> bool:
        """Whether the file on disk does not hold what this index holds."""
        return self.saved_generation != self.generation

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)

    def keys(self) -> np.ndarray:
        with self._lock:
            return np.asarray(self._index.keys, dtype=np.int64)

    # -- persistence ---------------------------------------------------------------------------
    def load_or_rebuild(
        self, store: Store, progress: Callable[[int, int], None] | None = None, *, view: bool = False
    ) -> bool:
        """Open the saved index if it matches the store, else rebuild it in memory (nothing is
        written: saving is the writer's job). ``view`` memory-maps the file read-only, for
        processes that only search. Returns True if rebuilt."""
        if self._try_load(store.generation(self.model_id), store, view=view):
            return False
        self.rebuild(store, progress)
        return True

    def read_meta(self) -> dict[str, object] | None:
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def _try_load(self, want_generation: int, store: Store, *, view: bool) -> bool:
        meta = self.read_meta()
        if meta is None:
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
            # A view maps the file instead of copying it; a writer replacing the file renames a
            # new inode into place, so the mapping stays valid.
            index.view(str(self.path)) if view else index.load(str(self.path))
        except Exception as e:  # usearch raises RuntimeError/ValueError on a damaged file
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
            self.saved_generation = want_generation
        return True

    def rebuild(self, store: Store, progress: Callable[[int, int], None] | None = None) -> None:
        """Rebuild from the store in memory; the generation and the vectors come from one read
        snapshot, so the label matches the contents even while another process writes."""
        index = self._new()
        done = 0
        with store.snapshot():
            generation = store.generation(self.model_id)
            total = store.segment_count(self.model_id)
            for ids, vecs in store.iter_segment_vectors(self.model_id):
                index.add(ids, vecs.astype(np.float32), threads=0)
                done += len(ids)
                if progress:
                    progress(done, total)
        with self._lock:
            self._index = index
            self.generation = generation

    def save(self, generation: int | None = None) -> None:
        """Atomically write the index and its sidecar (the sidecar last: it validates the file).

        Only call while holding the library's writer lock. ``generation`` defaults to the one
        the contents reflect; temporary names are unique per process so two processes can
        never rename each other's half-written files.
        """
        token = f"{os.getpid()}.{secrets.token_hex(4)}.tmp"
        tmp = self.path.with_name(f"{self.path.name}.{token}")
        meta_tmp = self.meta_path.with_name(f"{self.meta_path.name}.{token}")
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                gen = self.generation if generation is None else generation
                self._index.save(str(tmp))
                count = len(self._index)
            meta_tmp.write_text(
                json.dumps({"generation": gen, "model_id": self.model_id, "dim": self.dim, "count": count}),
                encoding="utf-8",
            )
            # Invalidate first: a crash between the two renames must not pair a new index with
            # an old sidecar that happens to match.
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.meta_path)
            os.replace(tmp, self.path)
            os.replace(meta_tmp, self.meta_path)
        finally:
            for t in (tmp, meta_tmp):
                with contextlib.suppress(OSError):
                    os.remove(t)
        self.generation = gen
        self.saved_generation = gen

    def remove_stale_temps(self) -> None:
        """Drop temporary files left by killed writers (call under the writer lock)."""
        for t in self.path.parent.glob(f"{glob.escape(self.path.name)}*.tmp"):
            with contextlib.suppress(OSError):
                t.unlink()

    # -- updates -------------------------------------------------------------------------------
    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if not ids:
            return
        with self._lock:
            self._index.add(np.asarray(ids, dtype=np.uint64), np.asarray(vectors, dtype=np.float32), threads=0)

    def remove(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._lock:
            keys = np.asarray(ids, dtype=np.uint64)
            present = [k for k in keys if k in self._index]
            if present:
                self._index.remove(np.asarray(present, dtype=np.uint64))

    # -- queries -------------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k segment ids and cosine similarities (not distances), best first."""
        with self._lock:
            n = len(self._index)
            if n == 0 or k <= 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            matches = self._index.search(np.asarray(vector, dtype=np.float32), min(k, n), exact=n <= EXACT_MAX)
        keys = np.asarray(matches.keys, dtype=np.int64)
        sims = 1.0 - np.asarray(matches.distances, dtype=np.float32)
        return keys, sims
