"""Stage 1: exact top results, the same across the size threshold, rebuilt when damaged, mapped not copied."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from reelseek.core.index import VectorIndex
from reelseek.core.stage1 import FlatIndex, Stage1Error
from reelseek.core.store import NewSegment, Store

DIM = 64


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _clip_like(n: int, seed: int = 0) -> np.ndarray:
    """Vectors in a cone around a shared direction, like image embeddings."""
    rng = np.random.default_rng(seed)
    shared = _unit(rng.standard_normal(DIM))
    return _unit(0.7 * shared + 0.7 * _unit(rng.standard_normal((n, DIM))))


def _exact(vectors: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    s = vectors @ _unit(q)
    top = np.argsort(-s)[:k]
    return ids[top], s[top]


def _is_exact_top(found: tuple[np.ndarray, np.ndarray], vectors: np.ndarray, ids: np.ndarray, q: np.ndarray) -> bool:
    """The found keys are the exact top-k up to float16 rounding: each one scores at least the exact
    k-th best (less a rounding margin), with its exact similarity, best first."""
    keys, sims = found
    k = len(keys)
    exact = vectors @ _unit(q)
    kth = np.sort(exact)[::-1][k - 1]
    by_id = dict(zip(ids.tolist(), exact.tolist(), strict=True))
    mine = np.array([by_id[int(key)] for key in keys])
    return (
        len(set(keys.tolist())) == k
        and bool(np.all(mine >= kth - 2e-3))
        and np.allclose(sims, mine, atol=2e-3)
        and bool(np.all(np.diff(sims) <= 0))
    )


def _planted(n: int = 3000) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """A library with five planted near-duplicates of a query, at known, well-separated similarities."""
    vectors = _clip_like(n)
    ids = np.arange(1, n + 1, dtype=np.int64) * 7  # ids need not be dense
    rng = np.random.default_rng(1)
    q = _unit(rng.standard_normal(DIM))
    rows = [r * n // 3000 for r in (17, 900, 1500, 2222, 2999)]
    for rank, row in enumerate(rows):
        noise = _unit(rng.standard_normal(DIM))
        noise = _unit(noise - (noise @ q) * q)  # orthogonal to q: similarity is exactly cos(angle)
        angle = 0.15 + 0.12 * rank
        vectors[row] = np.cos(angle) * q + np.sin(angle) * noise
    return vectors, ids, q, [int(ids[r]) for r in rows]


@pytest.mark.parametrize("exact_max", [10**9, 100])  # float16 scan / int8 codes + re-score
def test_planted_near_duplicates_come_back_first_with_exact_similarities(tmp_path, exact_max):
    vectors, ids, q, planted = _planted()
    fi = FlatIndex(DIM, exact_max=exact_max, rescore=64)
    fi.add(ids, vectors)
    fi.save(tmp_path / "s1")  # the int8 codes exist only in a saved file
    keys, sims = fi.search(q, 10)
    assert keys[:5].tolist() == planted
    want_ids, want_sims = _exact(vectors, ids, q, 10)
    assert keys[:5].tolist() == want_ids[:5].tolist()
    np.testing.assert_allclose(sims, want_sims, atol=2e-3)  # float16 re-score: no quantisation left
    assert _is_exact_top((keys, sims), vectors, ids, q)


def test_results_stay_the_same_when_the_library_crosses_the_threshold(tmp_path):
    vectors = _clip_like(1200, seed=3)
    ids = np.arange(1, 1201, dtype=np.int64)
    queries = _unit(np.random.default_rng(4).standard_normal((8, DIM)))
    fi = FlatIndex(DIM, exact_max=500, rescore=256)
    fi.add(ids[:400], vectors[:400])
    fi.save(tmp_path / "s1")
    assert all(_is_exact_top(fi.search(q, 20), vectors[:400], ids[:400], q) for q in queries)
    # Grow past exact_max in two saves: the second scan path (codes + re-score) takes over.
    fi.add(ids[400:900], vectors[400:900])
    assert all(_is_exact_top(fi.search(q, 20), vectors[:900], ids[:900], q) for q in queries)  # unsaved tail
    fi.save(tmp_path / "s1")
    fi.add(ids[900:], vectors[900:])
    fi.save(tmp_path / "s1")
    assert len(fi) == 1200 and all(sh.quant is not None and sh.codes is not None for sh in fi._shards)
    above = [fi.search(q, 20) for q in queries]
    assert all(_is_exact_top(found, vectors, ids, q) for found, q in zip(above, queries, strict=True))
    # The same file searched by the float16 path gives the very same answer.
    other = FlatIndex(DIM, exact_max=10**9)
    other.load(tmp_path / "s1")
    assert [other.search(q, 20)[0].tolist() for q in queries] == [a[0].tolist() for a in above]


def test_removed_and_replaced_vectors_before_and_after_save(tmp_path):
    vectors, ids, q, planted = _planted(600)
    fi = FlatIndex(DIM, exact_max=50, rescore=32)
    fi.add(ids, vectors)
    fi.save(tmp_path / "s1")
    fi.remove(np.array([planted[0], 10**9]))  # unknown ids are ignored
    assert planted[0] not in fi and planted[1] in fi and len(fi) == 599
    assert sorted(fi.keys.tolist()) == sorted(set(ids.tolist()) - {planted[0]})
    assert fi.search(q, 4)[0].tolist() == planted[1:5]
    fi.add(np.array([planted[0]]), q[None])  # back, now identical to the query
    keys, sims = fi.search(q, 2)
    assert keys.tolist() == [planted[0], planted[1]] and sims[0] > 0.999
    fi.save(tmp_path / "s1")
    again = FlatIndex(DIM, exact_max=50, rescore=32)
    again.load(tmp_path / "s1")
    assert len(again) == 600 and again.search(q, 2)[0].tolist() == [planted[0], planted[1]]


def _store_with_segments(tmp_path, n_files: int = 30, per_file: int = 4) -> Store:
    s = Store(tmp_path / "lib.db")
    vecs = _clip_like(n_files * per_file, seed=5)
    for i in range(n_files):
        fid = s.upsert_file(f"/f{i}.mp4", None, 1, 1, f"fp{i}")
        segs = [
            NewSegment(j, j + 1, j, vecs[i * per_file + j], np.array([float(j)]), vecs[i * per_file + j][None], None)
            for j in range(per_file)
        ]
        s.commit_file(fid, "m", segs, duration=per_file, width=1, height=1)
    return s


def _first_shard(folder):
    return sorted(folder.glob("*.shard"))[0]


@pytest.mark.parametrize(
    "damage",
    [
        "truncate_shard",
        "zero_byte_shard",
        "shard_header",
        "missing_shard",
        "manifest_garbage",
        "missing_manifest",
        "mask_truncated",
        "missing_folder",
    ],
)
def test_damaged_or_missing_stage1_files_are_rebuilt_from_the_store(tmp_path, damage):
    s = _store_with_segments(tmp_path)
    path = tmp_path / "segments.stage1"
    vi = VectorIndex(path, "m", DIM, exact_max=10)
    vi._index.shard_rows = 50  # three shards of the 120 segments
    assert vi.load_or_rebuild(s) is True
    vi._index.shard_rows = 50
    vi.save()  # rebuilds happen in memory; saving is the writer's step
    ids, vecs = next(s.iter_segment_vectors("m"))
    vi.remove([int(ids[3])])  # a mask in the folder
    vi.add([int(ids[3])], vecs[3][None])
    vi.save()
    assert len(list(path.glob("*.shard"))) >= 3 and len(list(path.glob("*.mask"))) == 1
    want = vi.search(vecs[7], 5)[0].tolist()
    shard = _first_shard(path)
    data = shard.read_bytes()
    if damage == "truncate_shard":
        shard.write_bytes(data[: len(data) - 100])
    elif damage == "zero_byte_shard":
        shard.write_bytes(b"")
    elif damage == "shard_header":
        shard.write_bytes(b"\xff" * 64 + data[64:])
    elif damage == "missing_shard":
        shard.unlink()
    elif damage == "manifest_garbage":
        (path / "manifest.json").write_bytes(b"{not json")
    elif damage == "missing_manifest":
        (path / "manifest.json").unlink()
    elif damage == "mask_truncated":
        mask = next(path.glob("*.mask"))
        mask.write_bytes(mask.read_bytes()[:-1])
    else:
        import shutil

        shutil.rmtree(path)
    with pytest.raises(Stage1Error):
        FlatIndex(DIM).load(path)
    vi2 = VectorIndex(path, "m", DIM, exact_max=10)
    assert vi2.load_or_rebuild(s) is True
    assert len(vi2) == s.segment_count("m") == 120
    assert vi2.search(vecs[7], 5)[0].tolist() == want == [int(ids[7]), *want[1:]]
    assert not list(path.parent.glob("*.build"))  # the rebuild's spill file is gone
    vi2.save()
    assert VectorIndex(path, "m", DIM, exact_max=10).load_or_rebuild(s) is False  # and it is whole again
    named = {e["file"] for e in __import__("json").loads((path / "manifest.json").read_text())["shards"]}
    assert {p.name for p in path.glob("*.shard")} == named  # the damaged files are gone


def test_an_older_versions_usearch_named_file_is_replaced_by_a_rebuild(tmp_path):
    """Libraries indexed before the folder format hold ``segments-<model>.usearch`` (+ ``.json``):
    opening rebuilds from the store, and the first save replaces them with the folder."""
    from reelseek.core import stage1_file

    s = _store_with_segments(tmp_path)
    ids, vecs = next(s.iter_segment_vectors("m"))
    old = tmp_path / "segments-m.usearch"
    fi = FlatIndex(DIM)
    blocks = lambda: iter([(ids, None, vecs.astype(np.float16))])  # noqa: E731
    stage1_file.write(
        old,
        dim=DIM,
        rows=len(ids),
        blocks=blocks,
        mean=np.zeros(DIM, np.float32),
        scale=1.0,
        fitted_on=len(ids),
        encode=lambda v: np.zeros(v.shape, np.int8),
    )
    (tmp_path / "segments-m.usearch.json").write_text(
        f'{{"generation": {s.generation("m")}, "model_id": "m", "dim": {DIM}, "count": {len(ids)}}}'
    )
    vi = VectorIndex(tmp_path / "segments-m.stage1", "m", DIM)
    assert vi.load_or_rebuild(s) is True  # nothing in the new format yet: rebuilt from the store
    vi.save()
    assert not old.exists() and not (tmp_path / "segments-m.usearch.json").exists()
    assert VectorIndex(tmp_path / "segments-m.stage1", "m", DIM).load_or_rebuild(s) is False
    assert vi.search(vecs[5], 1)[0].tolist() == [int(ids[5])]
    del fi


def _resident_bytes(path) -> int | None:
    """Resident bytes of this process's mappings of ``path`` (Linux /proc/self/smaps), None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    total, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8") as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                inside = str(path) + "/" in line
            elif inside and line.startswith("Rss:"):
                total += int(head[1]) * 1024
    return total


def test_loading_maps_the_file_instead_of_copying_it(tmp_path):
    n = 20000
    vectors = _clip_like(n, seed=6)
    fi = FlatIndex(DIM, exact_max=1000, rescore=512)
    fi.add(np.arange(1, n + 1), vectors)
    path = tmp_path / "s1"
    fi.save(path)
    fi.close()
    loaded = FlatIndex(DIM, exact_max=1000, rescore=512)
    loaded.load(path)
    codes, floats, codes4 = n * DIM, 2 * n * DIM, n * DIM // 2
    maps = [(sh.vecs, sh.codes, sh.codes4) for sh in loaded._shards]
    assert all(isinstance(a, np.memmap) for m in maps for a in m)
    # ids, int8 codes, float16 vectors and int4 codes: all mapped
    assert loaded.mapped_bytes() == 8 * n + codes + floats + codes4
    before = _resident_bytes(path)
    for q in _unit(np.random.default_rng(7).standard_normal((30, DIM))):
        loaded.search(q, 50)
    after = _resident_bytes(path)
    if before is not None and after is not None:
        assert before < codes // 4  # opening reads nothing in
        # The scan reads the int4 codes and the int8 rows of its short lists; the re-scored
        # float16 pages are dropped after each query, so the float16 part never becomes resident.
        assert after <= 8 * n + codes + codes4 + floats // 4


def test_a_rebuild_that_fails_half_way_leaves_no_spill_file(tmp_path, monkeypatch):
    s = _store_with_segments(tmp_path)
    path = tmp_path / "segments.stage1"
    real = s.iter_segment_vectors

    def failing(model_id, batch=20000):
        for i, b in enumerate(real(model_id, batch=50)):
            if i == 1:
                raise OSError(28, "No space left on device")
            yield b

    monkeypatch.setattr(s, "iter_segment_vectors", failing)
    vi = VectorIndex(path, "m", DIM)
    with pytest.raises(OSError, match="No space left"):
        vi.rebuild(s)
    assert not path.with_name(path.name + ".build").exists() and not path.exists()
    monkeypatch.setattr(s, "iter_segment_vectors", real)
    assert vi.load_or_rebuild(s) is True and len(vi) == 120


def test_rescore_reads_the_same_rows_by_pread_as_through_the_map_even_after_the_file_is_deleted(tmp_path):
    n = 3000
    vectors = _clip_like(n, seed=8)
    fi = FlatIndex(DIM, exact_max=100, rescore=256)
    fi.shard_rows = 1000  # three shards: rows gathered from each
    fi.add(np.arange(1, n + 1), vectors)
    path = tmp_path / "s1"
    fi.save(path)
    loaded = FlatIndex(DIM, exact_max=100, rescore=256)
    loaded.load(path)
    readers = [sh.reader for sh in loaded._shards]
    if any(r is None for r in readers):
        pytest.skip("no preadv here: the map serves the rows")
    rows = np.random.default_rng(2).choice(n, 400, replace=False)
    by_pread = loaded._gather(rows)
    for sh in loaded._shards:
        sh.reader = None
    by_map = loaded._gather(rows)
    np.testing.assert_array_equal(by_pread, by_map)
    np.testing.assert_allclose(by_map.astype(np.float32), vectors[rows], atol=1e-3)  # the right rows
    # A writer's save deletes files a reader may still use: the reader's descriptors keep them.
    again = FlatIndex(DIM, exact_max=100, rescore=256)
    again.load(path)
    for f in path.glob("*.shard"):
        f.unlink()
    np.testing.assert_array_equal(again._gather(rows), by_map)
    q = vectors[1234]
    assert _is_exact_top(again.search(q, 20), vectors, np.arange(1, n + 1), q)
