"""Stage 1 on int4 codes: the kernel's packing, the cascade's exact answers, old shards and fallbacks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reelseek.core import stage1, stage1_file, stage1_scan
from reelseek.core.stage1 import FlatIndex, Quantizer, Stage1Error, pack4
from tests.core.test_stage1 import DIM, _unit
from tests.core.test_stage1 import _clip_like as _cone  # image-like vectors: a cone around one direction


def _planted(n: int, q: np.ndarray, rows: list[int], seed: int = 1) -> np.ndarray:
    """The cone with near-copies of ``q`` at known, well-separated similarities in ``rows``."""
    v = _cone(n, seed)
    rng = np.random.default_rng(seed + 10)
    for rank, row in enumerate(rows):
        noise = _unit(rng.standard_normal(DIM))
        noise = _unit(noise - (noise @ q) * q)
        angle = 0.15 + 0.1 * rank
        v[row] = np.cos(angle) * q + np.sin(angle) * noise
    return v


def _kinds(monkeypatch) -> list[list[str]]:
    """Records the element kinds of every stage-1 scan (one list per scan)."""
    seen: list[list[str]] = []
    real = stage1._top_parts

    def spy(arrays, query, k, threads):
        seen.append([str(a[5]) if len(a) > 4 else str(a[0].dtype) for a in arrays])
        return real(arrays, query, k, threads)

    monkeypatch.setattr(stage1, "_top_parts", spy)
    return seen


def _saved(tmp_path, vectors, *, rescore=32, shard_rows=None, name="s1") -> FlatIndex:
    fi = FlatIndex(DIM, exact_max=100, rescore=rescore)
    if shard_rows:
        fi.shard_rows = shard_rows
    fi.add(np.arange(1, len(vectors) + 1), vectors)
    fi.save(tmp_path / name)
    return fi


def test_pack4_gives_numkongs_int4_dot_exactly_including_the_ends_and_clipping():
    import numkong as nk

    rng = np.random.default_rng(3)
    a = rng.integers(-9, 10, size=(50, DIM)).astype(np.float32)  # beyond +-7: clipped to +-7
    a[0], a[1] = 7, -7
    b = rng.integers(-7, 8, size=DIM).astype(np.float32)
    want = np.clip(a, -7, 7).astype(np.int64) @ b.astype(np.int64)
    got = np.asarray(nk.dot(pack4(a), pack4(b), dtype="int4"), dtype=np.float64)
    np.testing.assert_array_equal(got, want)
    assert stage1_scan.int4_kernel() is True
    assert pack4(a).shape == (50, DIM // 2) and pack4(a).dtype == np.uint8


def test_the_int4_cascade_is_what_runs_and_returns_the_planted_answers_with_exact_similarities(tmp_path, monkeypatch):
    q = _unit(np.random.default_rng(5).standard_normal(DIM))
    rows = [3, 1111, 2500, 3998]
    vectors = _planted(4000, q, rows)
    fi = _saved(tmp_path, vectors, shard_rows=1500)
    assert all(s.codes4 is not None and s.codes4.shape[1] == DIM // 2 for s in fi._shards)
    kinds = _kinds(monkeypatch)
    keys, sims = fi.search(q, 10)
    assert kinds == [["int4", "int4", "int4"]]  # one scan, every shard on its int4 codes
    assert keys[:4].tolist() == [r + 1 for r in rows]
    exact = vectors @ q
    want = np.argsort(-exact)[:10]
    assert keys.tolist() == (want + 1).tolist()
    np.testing.assert_allclose(sims, exact[want], atol=2e-3)  # float16 re-score at the end


def test_int4_ranks_like_the_int8_path_on_unplanted_queries(tmp_path):
    """No planted answers: text-like queries away from the cone. The cascade's top 50 is the
    exact top 50 (a missed row would show as a lower similarity at its rank)."""
    vectors = _cone(20000, seed=9)
    fi = _saved(tmp_path, vectors, rescore=256)
    qs = _unit(np.random.default_rng(11).standard_normal((20, DIM)))
    hits = 0
    for q in qs:
        keys, _ = fi.search(q, 50)
        truth = set((np.argsort(-(vectors @ q))[:50] + 1).tolist())
        hits += len(truth & set(keys.tolist()))
    assert hits / (50 * len(qs)) >= 0.99


def test_a_shard_saved_without_int4_codes_is_scanned_on_int8_then_rewritten_with_them(tmp_path, monkeypatch):
    q = _unit(np.random.default_rng(6).standard_normal(DIM))
    rows = [10, 1700, 2900]
    vectors = _planted(3000, q, rows)
    real_fit = Quantizer.fit
    monkeypatch.setattr(Quantizer, "fit", classmethod(lambda cls, x: Quantizer(*(real_fit(x).mean, real_fit(x).scale))))
    old = _saved(tmp_path, vectors[:2000], shard_rows=1000)  # two files as an older version wrote them
    assert all(s.codes4 is None for s in old._shards)
    monkeypatch.setattr(Quantizer, "fit", real_fit)
    fi = FlatIndex(DIM, exact_max=100, rescore=32)
    fi.shard_rows = 1000
    fi.load(tmp_path / "s1")
    fi.add(np.arange(2001, 3001), vectors[2000:])
    kinds = _kinds(monkeypatch)
    fi.save(tmp_path / "s1")  # the new rows' shard gets int4 codes; the old two are rewritten with them
    assert all(s.codes4 is not None for s in fi._shards)
    mixed = FlatIndex(DIM, exact_max=100, rescore=32)
    mixed.shard_rows = 1000
    mixed.load(tmp_path / "s1")
    keys, _ = mixed.search(q, 5)
    assert keys[:3].tolist() == [r + 1 for r in rows]
    assert kinds[-1] == ["int4"] * 3
    # A folder with old and new shards side by side is searched as one: int8 and int4 lists merge.
    old2 = FlatIndex(DIM, exact_max=100, rescore=32)
    old2.load(tmp_path / "s1")
    old2._shards[0].codes4 = None
    keys2, _ = old2.search(q, 5)
    assert kinds[-1] == ["int8", "int4", "int4"]
    assert keys2.tolist() == keys.tolist()


def test_without_the_int4_kernel_or_for_long_lists_stage1_scans_the_int8_codes(tmp_path, monkeypatch):
    q = _unit(np.random.default_rng(7).standard_normal(DIM))
    rows = [5, 1500]
    vectors = _planted(3000, q, rows)
    fi = _saved(tmp_path, vectors)
    kinds = _kinds(monkeypatch)
    monkeypatch.setattr(stage1_scan, "_INT4_OK", False)
    keys, _ = fi.search(q, 5)
    assert kinds[-1] == ["int8"] and keys[:2].tolist() == [r + 1 for r in rows]
    monkeypatch.setattr(stage1_scan, "_INT4_OK", True)
    monkeypatch.setattr(stage1, "CASCADE_MAX", 64)  # a list longer than the cascade takes: int8
    keys, _ = fi.search(q, 5)
    assert kinds[-1] == ["int8"] and keys[:2].tolist() == [r + 1 for r in rows]
    monkeypatch.setattr(stage1, "CASCADE_MAX", 65536)
    keys, _ = fi.search(q, 5)
    assert kinds[-1] == ["int4"] and keys[:2].tolist() == [r + 1 for r in rows]


@pytest.mark.parametrize("damage", ["truncated_int4", "bad_scale4", "odd_dim_scale4"])
def test_a_damaged_int4_block_or_header_is_refused(tmp_path, damage):
    vectors = _cone(500)
    _saved(tmp_path, vectors)
    shard = next((tmp_path / "s1").glob("*.shard"))
    raw = bytearray(shard.read_bytes())
    size = int.from_bytes(raw[8:16], "little")
    header = json.loads(raw[16 : 16 + size])
    if damage == "truncated_int4":
        raw = raw[: -DIM // 2]  # one row of the int4 block missing
    else:
        header["scale4"] = -1.0 if damage == "bad_scale4" else header["scale4"]
        if damage == "odd_dim_scale4":
            header["dim"] = DIM - 1
        body = json.dumps(header).encode()
        raw[8:16] = len(body).to_bytes(8, "little")
        raw[16 : 16 + size] = body.ljust(size)[: max(size, len(body))]
    shard.write_bytes(bytes(raw))
    with pytest.raises(Stage1Error):
        stage1_file.read(shard, DIM)
