"""The stage-1 index is a cache of the store: saved atomically, rebuilt whenever it disagrees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelseek.core.index import VectorIndex
from reelseek.core.store import NewSegment, Store


def _library(tmp_path, n_files=5, dim=16):
    s = Store(tmp_path / "lib.db")
    rng = np.random.default_rng(0)
    for i in range(n_files):
        fid = s.upsert_file(f"/f{i}.mp4", None, 1, 1, f"fp{i}")
        segs = []
        for j in range(3):
            fr = rng.normal(size=(4, dim)).astype(np.float32)
            fr /= np.linalg.norm(fr, axis=1, keepdims=True)
            v = fr.mean(0)
            segs.append(NewSegment(j * 4, j * 4 + 4, j * 4, v / np.linalg.norm(v), np.arange(4.0) + j * 4, fr, None))
        s.commit_file(fid, "m", segs, duration=12, width=1, height=1)
    return s


def test_rebuild_then_reload_without_rebuilding(tmp_path):
    s = _library(tmp_path)
    vi = VectorIndex(tmp_path / "i.stage1", "m", 16)
    assert vi.load_or_rebuild(s) is True
    assert len(vi) == s.segment_count("m") == 15
    # Rebuilding writes nothing: saving is the writer's job, under the writer lock.
    assert not (tmp_path / "i.stage1").exists()
    vi.save()
    for view in (False, True):
        vi2 = VectorIndex(tmp_path / "i.stage1", "m", 16)
        assert vi2.load_or_rebuild(s, view=view) is False
        assert len(vi2) == 15
    assert not list(tmp_path.glob("*.tmp"))


def test_stale_generation_triggers_rebuild(tmp_path):
    s = _library(tmp_path)
    vi = VectorIndex(tmp_path / "i.stage1", "m", 16)
    vi.load_or_rebuild(s)
    # A commit the index never saw (a crash between commit and save).
    fid = s.upsert_file("/new.mp4", None, 1, 1, "fpn")
    v = np.ones(16, dtype=np.float32) / 4
    s.commit_file(fid, "m", [NewSegment(0, 1, 0, v, np.zeros(1), v[None], None)], duration=1, width=1, height=1)
    vi2 = VectorIndex(tmp_path / "i.stage1", "m", 16)
    assert vi2.load_or_rebuild(s) is True
    assert len(vi2) == 16
    _keys, sims = vi2.search(v, 1)
    assert sims[0] > 0.999


def test_corrupt_or_missing_index_file_is_rebuilt(tmp_path):
    s = _library(tmp_path)
    vi = VectorIndex(tmp_path / "i.stage1", "m", 16)
    vi.load_or_rebuild(s)
    vi.save()
    (tmp_path / "i.stage1" / "manifest.json").write_bytes(b"garbage" * 100)
    vi2 = VectorIndex(tmp_path / "i.stage1", "m", 16)
    assert vi2.load_or_rebuild(s) is True and len(vi2) == 15
    __import__("shutil").rmtree(tmp_path / "i.stage1")
    vi3 = VectorIndex(tmp_path / "i.stage1", "m", 16)
    assert vi3.load_or_rebuild(s) is True and len(vi3) == 15


def test_search_returns_similarities_best_first(tmp_path):
    s = _library(tmp_path)
    vi = VectorIndex(tmp_path / "i.stage1", "m", 16)
    vi.load_or_rebuild(s)
    ids, vecs = next(s.iter_segment_vectors("m"))
    keys, sims = vi.search(vecs[3], 5)
    assert int(keys[0]) == int(ids[3])
    assert abs(float(sims[0]) - 1.0) < 1e-3
    assert list(sims) == sorted(sims, reverse=True)


def test_remove_drops_vectors(tmp_path):
    s = _library(tmp_path)
    vi = VectorIndex(tmp_path / "i.stage1", "m", 16)
    vi.load_or_rebuild(s)
    ids, vecs = next(s.iter_segment_vectors("m"))
    vi.remove([int(ids[0]), 999999])  # unknown ids are ignored
    keys, _ = vi.search(vecs[0], 3)
    assert int(ids[0]) not in keys.tolist()


def test_sidecar_records_the_generation_the_contents_reflect(tmp_path):
    """The bug of issue 7: an index saved after the store moved on must not claim the new
    generation, or the commits it never saw stay invisible for good."""
    s = _library(tmp_path)
    vi = VectorIndex(tmp_path / "i.stage1", "m", 16)
    vi.load_or_rebuild(s)
    seen = s.generation("m")
    fid = s.upsert_file("/late.mp4", None, 1, 1, "fpl")
    v = np.ones(16, dtype=np.float32) / 4
    s.commit_file(fid, "m", [NewSegment(0, 1, 0, v, np.zeros(1), v[None], None)], duration=1, width=1, height=1)
    vi.save()  # another process's commit is not in this index
    assert vi.read_meta()["generation"] == seen < s.generation("m")
    vi2 = VectorIndex(tmp_path / "i.stage1", "m", 16)
    assert vi2.load_or_rebuild(s) is True and len(vi2) == 16


def test_save_on_a_full_disk_leaves_the_old_files_and_no_temporaries(tmp_path, monkeypatch):
    s = _library(tmp_path)
    vi = VectorIndex(tmp_path / "i.stage1", "m", 16)
    vi.load_or_rebuild(s)
    vi.save()
    ids, vecs = next(s.iter_segment_vectors("m"))
    vi.remove([int(ids[0])])
    vi.add([10**6], vecs[0][None])  # a new tail: the save must write a shard and a mask
    folder = tmp_path / "i.stage1"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    from reelseek.core import stage1_file

    real = stage1_file.write

    def full(path, **kw):  # the disk fills up half-way through the new shard
        Path(path).write_bytes(b"x")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(stage1_file, "write", full)
    with pytest.raises(OSError):
        vi.save()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # nothing new left behind
    assert not list(tmp_path.rglob("*.tmp"))
    monkeypatch.setattr(stage1_file, "write", real)
    vi.save()  # the disk has room again: the in-memory changes were kept
    again = VectorIndex(folder, "m", 16)
    assert again.load_or_rebuild(s) is False and len(again) == len(vi) == 15
    assert again.search(vecs[0], 1)[0].tolist() == [10**6]
