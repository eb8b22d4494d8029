"""Stage-1 index over segment vectors: a cache derived from the store, rebuilt when stale."""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import secrets
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

    ``generation`` is the store generation the index's CONTENTS reflect: captured in the same
    read snapshot as the vectors on a rebuild, and set by the writer after it mirrors a commit.
    The folder's manifest carries it; on open a manifest that differs from the store (a crash
    between a commit and a save), or a missing or damaged shard, mask or manifest, means a
    rebuild in memory: the store is always right. Only the library's writer, holding the
    writer lock, saves; new files get unused names and the manifest is renamed into place.
    """

    def __init__(self, path: Path, model_id: str, dim: int, *, exact_max: int | None = None) -> None:
        self.path = Path(path)
        self.model_id = model_id
        self.dim = int(dim)
        self.exact_max = EXACT_MAX if exact_max is None else exact_max
        self._lock = threading.RLock()
        self._index = self._new()
        self.generation = -1
        self.saved_generation: int | None = None  # what the file on disk says, once known

    def _new(self) -> FlatIndex:
        # onnxruntime must load before usearch's extension (see models/native.py); stage 1 no
        # longer uses usearch's index, but a process may still import usearch elsewhere.
        from .models.native import preload_before_usearch
        from .stage1 import FlatIndex

        preload_before_usearch()

        return FlatIndex(self.dim, exact_max=self.exact_max)

    @property
    def meta_path(self) -> Path:
        """The manifest: it names the shard files and carries the generation they reflect."""
        from .stage1_shards import MANIFEST

        return self.path / MANIFEST

    @property
    def legacy_paths(self) -> list[Path]:
        """The single-file index (and its sidecar) older versions kept under a ``.usearch`` name."""
        old = self.path.with_suffix(".usearch")
        return [old, old.with_name(old.name + ".json")]

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
        from .stage1_shards import read_meta

        return read_meta(self.path)

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
            # The file is memory-mapped read-only (no copy); a writer replacing it renames a new
            # inode into place, so a reader's mapping stays valid.
            index.load(self.path)
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
            self.saved_generation = want_generation
        return True

    def rebuild(self, store: Store, progress: Callable[[int, int], None] | None = None) -> None:
        """Rebuild from the store in memory; the generation and the vectors come from one read
        snapshot, so the label matches the contents even while another process writes."""
        # Streamed through a float16 spill file: a million vectors never sit in memory at once.
        # Beside the index when the folder takes it; else (a reader on a read-only home or a
        # full disk, rebuilding for one search) in the system's temporary folder.
        for scratch in self._scratch_candidates():
            index = self._new()
            try:
                # One read snapshot: the generation label matches the vectors even while another
                # process writes.
                with store.snapshot():
                    generation = store.generation(self.model_id)
                    total = store.segment_count(self.model_id)

                    def batches(total: int = total) -> Iterator[tuple[np.ndarray, np.ndarray]]:
                        done = 0
                        for ids, vecs in store.iter_segment_vectors(self.model_id):
                            yield ids, vecs
                            done += len(ids)
                            if progress:
                                progress(done, total)

                    index.build(batches(), scratch)
                break
            except OSError as e:
                index.close()
                with contextlib.suppress(OSError):
                    os.remove(scratch)  # a full disk must not leave a stray gigabyte
                if scratch.parent != self.path.parent:
                    raise
                log.info("cannot spill the index rebuild beside %s (%s): using the temporary folder", self.path, e)
            except BaseException:
                index.close()
                with contextlib.suppress(OSError):
                    os.remove(scratch)
                raise
        with self._lock:
            self._index = index
            self.generation = generation

    def _scratch_candidates(self) -> list[Path]:
        import tempfile

        name = f"{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}.build"
        out = []
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if os.access(self.path.parent, os.W_OK):
            out.append(self.path.parent / name)
        out.append(Path(tempfile.gettempdir()) / name)
        return out

    def save(self, generation: int | None = None) -> None:
        """Write what changed since the last save (new shards, mask) and commit the manifest, which
        carries the generation: one rename makes the new state current (core/stage1_save.py).

        Only call while holding the library's writer lock. ``generation`` defaults to the one
        the contents reflect.
        """
        with self._lock:
            gen = self.generation if generation is None else generation
            count = len(self._index)
            meta = {"generation": gen, "model_id": self.model_id, "count": count}
            self._index.save(self.path, meta)
        self.generation = gen
        self.saved_generation = gen
        # An older version's single file is stale from here on: the folder replaces it.
        for old in self.legacy_paths:
            with contextlib.suppress(OSError):
                old.unlink()

    def remove_stale_temps(self) -> None:
        """Drop files left by killed writers: unnamed shards and masks, manifest temporaries, and
        an older version's temporaries (call under the writer lock)."""
        from .stage1_file import Stage1Error
        from .stage1_shards import read_manifest, remove_unlisted

        with contextlib.suppress(Stage1Error, OSError):
            remove_unlisted(self.path, read_manifest(self.path))
        old = self.legacy_paths[0]
        for t in old.parent.glob(f"{glob.escape(old.name)}*.tmp"):
            with contextlib.suppress(OSError):
                t.unlink()

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
