"""usearch index over segment vectors: a cache derived from the store, rebuilt when stale."""

from __future__ import annotations

import contextlib
import json
import logging
import os
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

    The index file carries a sidecar JSON with the store's generation counter at the time it
    was saved. If the counters differ on open (a crash between a commit and a save), or the
    file is missing or unreadable, the index is rebuilt from the store: the store is always
    right. Saves are atomic (write a temporary file, then rename).
    """

    def __init__(self, path: Path, model_id: str, dim: int, *, dtype: str = "f16") -> None:
        self.path = Path(path)
        self.model_id = model_id
        self.dim = int(dim)
        self.dtype = dtype
        self._lock = threading.RLock()
        self._index = self._new()
        self.generation = -1

    def _new(self):  # type: ignore[no-untyped-def]
        _load_onnxruntime_first()
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
        return True

    def rebuild(self, store: Store, progress: Callable[[int, int], None] | None = None) -> None:
        total = store.segment_count(self.model_id)
        index = self._new()
        done = 0
        generation = store.generation(self.model_id)
        for ids, vecs in store.iter_segment_vectors(self.model_id):
            index.add(ids, vecs.astype(np.float32), threads=0)
            done += len(ids)
            if progress:
                progress(done, total)
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


def _load_onnxruntime_first() -> None:
    """Import onnxruntime (rapidocr, faster-whisper's VAD) before usearch, when it is installed.

    Importing onnxruntime after usearch's compiled module is loaded segfaults the process
    (usearch 2.x with onnxruntime 1.x here: `import usearch.index; import onnxruntime`); the
    other order works. Indexing loads the vector index before the words pass, so core pays
    the ~1 s import once, up front, instead of crashing in the middle of a run.
    """
    import contextlib

    with contextlib.suppress(ImportError):
        import onnxruntime  # noqa: F401
