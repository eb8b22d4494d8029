"""Stage 1 in shard files: saves write only what is new, and every shard is searched as one index."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reelseek.core.stage1 import FlatIndex

DIM = 32


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _library(n: int, seed: int = 0) -> np.ndarray:
    """Vectors in a cone (like image embeddings) with planted answers: every 97th row is a
    near-copy of one of the queries, at a known similarity, so the top of each list is known."""
    rng = np.random.default_rng(seed)
    shared = _unit(rng.standard_normal(DIM))
    return _unit(0.6 * shared + 0.8 * _unit(rng.standard_normal((n, DIM))))


def _queries(vectors: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return _unit(rng.standard_normal((n, DIM)))


def _plant(vectors: np.ndarray, queries: np.ndarray, rows: list[int]) -> None:
    rng = np.random.default_rng(2)
    for i, row in enumerate(rows):
        q = queries[i % len(queries)]
        noise = _unit(rng.standard_normal(DIM))
        noise = _unit(noise - (noise @ q) * q)
        angle = 0.1 + 0.05 * (i // len(queries))
        vectors[row] = np.cos(angle) * q + np.sin(angle) * noise


def _exact(vectors: np.ndarray, ids: np.ndarray, live: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    s = vectors[live] @ q
    return ids[live][np.argsort(-s, kind="stable")[:k]]


def _assert_exact(fi: FlatIndex, vectors, ids, live, queries, k=25) -> None:
    for q in queries:
        keys, sims = fi.search(q, k)
        want = _exact(vectors, ids, live, q, k)
        s_want = np.sort(vectors[live] @ q)[::-1][:k]
        # Same set and same order, up to float16 rounding of near-equal scores (none here: the
        # planted answers are well apart and the rest is compared as a set at the k-th score).
        np.testing.assert_allclose(sims, s_want, atol=2e-3)
        # Ranks whose exact score stands apart from its neighbours' must match one for one.
        gaps = np.abs(np.diff(s_want)) > 2e-3
        for i in range(k):
            if (i == 0 or gaps[i - 1]) and (i == k - 1 or gaps[i]):
                assert keys[i] == want[i], (i, keys[: i + 1], want[: i + 1])
        kth = s_want[-1]
        sure = set(ids[live][(vectors[live] @ q) > kth + 2e-3].tolist())
        assert sure <= set(keys.tolist())


@pytest.mark.parametrize("exact_max", [10**9, 200])  # float16 scan / int8 codes per shard + re-score
def test_every_shard_is_searched_and_merged_like_one_index(tmp_path, exact_max):
    n = 2300
    vectors = _library(n)
    queries = _queries(vectors, 6)
    # Answers straddle the shard boundaries (shards of 500 rows: 499/500, 999/1000, ...).
    _plant(vectors, queries, [499, 500, 999, 1000, 1499, 1500, 1999, 2000, 2299, 3, 777, 1234])
    ids = np.arange(1, n + 1, dtype=np.int64) * 3
    fi = FlatIndex(DIM, exact_max=exact_max, rescore=64)
    fi.shard_rows = 500
    fi.add(ids[:1200], vectors[:1200])
    fi.save(tmp_path / "s")
    fi.add(ids[1200:], vectors[1200:])
    fi.save(tmp_path / "s")
    assert fi.shard_count == 5 and [len(s.ids) for s in fi._shards] == [500, 500, 500, 500, 300]
    live = np.ones(n, bool)
    _assert_exact(fi, vectors, ids, live, queries)
    # Removals across shards (some planted answers among them), before and after the save.
    gone = np.array([499, 1000, 1500, 2299, 10, 11, 12, 600])
    fi.remove(ids[gone])
    live[gone] = False
    _assert_exact(fi, vectors, ids, live, queries)
    fi.save(tmp_path / "s")
    again = FlatIndex(DIM, exact_max=exact_max, rescore=64)
    again.load(tmp_path / "s")
    assert len(again) == n - len(gone)
    _assert_exact(again, vectors, ids, live, queries)
    # Threshold crossing: the same folder searched by the other scan path gives the same answer.
    other = FlatIndex(DIM, exact_max=10**9 if exact_max == 200 else 200, rescore=64)
    other.load(tmp_path / "s")
    for q in queries:
        assert other.search(q, 10)[0].tolist() == again.search(q, 10)[0].tolist()


def test_a_save_writes_only_the_new_tail_shard_the_manifest_and_the_mask(tmp_path):
    n = 1700
    vectors = _library(n, seed=4)
    ids = np.arange(1, n + 1, dtype=np.int64)
    fi = FlatIndex(DIM, exact_max=100, rescore=64)
    fi.shard_rows = 500
    fi.add(ids[:1000], vectors[:1000])
    folder = tmp_path / "s"
    fi.save(folder)
    full = {p.name: p.stat().st_ino for p in folder.glob("*.shard")}
    assert len(full) == 2
    fi.add(ids[1000:1100], vectors[1000:1100])
    fi.save(folder)
    after = {p.name: p.stat().st_ino for p in folder.glob("*.shard")}
    new = set(after) - set(full)
    assert set(full) <= set(after) and len(new) == 1  # the full shards were not touched
    assert all(after[name] == ino for name, ino in full.items())
    # The open tail shard takes the next rows: it is replaced, the full ones still untouched.
    fi.add(ids[1100:1300], vectors[1100:1300])
    fi.remove(ids[[5, 6]])  # removals from a full shard go to the mask only
    fi.save(folder)
    now = {p.name: p.stat().st_ino for p in folder.glob("*.shard")}
    assert all(now[name] == ino for name, ino in full.items()) and not (new & set(now)) and len(now) == 3
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [s["rows"] for s in manifest["shards"]] == [500, 500, 300]
    assert [s["dead"] for s in manifest["shards"]] == [2, 0, 0] and manifest["mask"]
    assert len(list(folder.glob("*.mask"))) == 1
    # A shard with more than a quarter of its rows removed is compacted on the next save.
    fi.remove(ids[100:250])
    fi.add(ids[1300:], vectors[1300:])
    fi.save(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sum(s["rows"] - s["dead"] for s in manifest["shards"]) == n - 152 == len(fi)
    assert all(s["rows"] <= 500 for s in manifest["shards"])
    assert {p.name for p in folder.iterdir()} == {
        "manifest.json",
        *(s["file"] for s in manifest["shards"]),
        *([manifest["mask"]] if manifest["mask"] else []),
    }  # replaced files are deleted once the manifest no longer names them
    live = np.ones(n, bool)
    live[[5, 6, *range(100, 250)]] = False
    loaded = FlatIndex(DIM, exact_max=100, rescore=64)
    loaded.load(folder)
    _assert_exact(loaded, vectors, ids, live, _queries(vectors, 5, seed=9))


def test_a_save_killed_before_its_manifest_leaves_the_previous_state(tmp_path, monkeypatch):
    from reelseek.core import stage1_shards

    vectors = _library(900, seed=5)
    ids = np.arange(1, 901, dtype=np.int64)
    fi = FlatIndex(DIM, exact_max=100, rescore=64)
    fi.shard_rows = 400
    fi.add(ids[:500], vectors[:500])
    folder = tmp_path / "s"
    fi.save(folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def killed(folder, manifest):  # the process dies after writing the shards, before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(stage1_shards, "commit", killed)
    fi.add(ids[500:], vectors[500:])
    fi.remove(ids[:3])
    with pytest.raises(KeyboardInterrupt):
        fi.save(folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    old = FlatIndex(DIM, exact_max=100, rescore=64)
    old.load(folder)
    assert len(old) == 500 and sorted(old.keys.tolist()) == ids[:500].tolist()


@pytest.mark.parametrize("case", ["random", "ties", "sample_holds_the_best"])
def test_best_k_by_threshold_equals_a_full_partition(case):
    from reelseek.core.stage1_scan import _best

    rng = np.random.default_rng(4)
    n, k = 50_000, 300
    if case == "random":
        scores = rng.standard_normal(n).astype(np.float32)
    elif case == "ties":  # int8 dot products: many equal scores around the threshold
        scores = rng.integers(-20, 21, n).astype(np.float32)
    else:  # the sampled positions hold the highest scores: the threshold passes too few, so it falls back
        scores = rng.standard_normal(n).astype(np.float32)
        scores[::16] += 100.0
        scores[::16][:40] += 1000.0
    got = _best(scores, k)
    assert len(got) == k and len(set(got.tolist())) == k
    np.testing.assert_array_equal(np.sort(scores[got]), np.sort(scores)[-k:])
