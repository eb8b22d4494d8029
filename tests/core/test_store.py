"""The SQLite store: schema and migrations, transactions, odd paths, offline round trips."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest

from reelseek.core.store import SCHEMA_VERSION, NewSegment, Store, StoreError, path_key


def _seg(start: float, end: float, dim: int = 4, n: int = 3) -> NewSegment:
    rng = np.random.default_rng(int(start * 10))
    frames = rng.normal(size=(n, dim)).astype(np.float32)
    frames /= np.linalg.norm(frames, axis=1, keepdims=True)
    v = frames.mean(0)
    return NewSegment(start, end, start, v / np.linalg.norm(v), np.linspace(start, end, n), frames, b"jpg")


def test_fresh_database_is_at_current_schema(tmp_path):
    s = Store(tmp_path / "lib.db")
    assert s.schema_version() == SCHEMA_VERSION
    mode = s.conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_migration_from_v1_keeps_data_and_writes_a_backup(tmp_path):
    db = tmp_path / "lib.db"
    # Build a version-1 database by hand, as the first release wrote it.
    import sqlite_utils

    from reelseek.core import store as store_mod

    conn = sqlite3.connect(db, isolation_level=None)
    store_mod._v1(sqlite_utils.Database(conn))
    conn.execute("INSERT INTO meta VALUES('schema_version', '1')")
    conn.execute("INSERT INTO files(path, status) VALUES(?, 'done')", (b"/a.mp4",))
    conn.close()
    s = Store(db)
    assert s.schema_version() == SCHEMA_VERSION
    assert [f.path for f in s.files()] == ["/a.mp4"]
    assert (tmp_path / "lib.db.v1.bak").exists()
    cols = {r[1] for r in s.conn.execute("PRAGMA table_info(files)")}
    assert "prev_status" in cols


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    s = Store(tmp_path / "lib.db")
    s.set_meta("schema_version", str(SCHEMA_VERSION + 5))
    s.close()
    with pytest.raises(StoreError, match="newer reelseek"):
        Store(tmp_path / "lib.db")


def test_not_a_database_is_refused(tmp_path):
    p = tmp_path / "lib.db"
    p.write_bytes(os.urandom(4096))
    with pytest.raises(StoreError):
        Store(p)


def test_non_utf8_path_round_trips(tmp_path):
    s = Store(tmp_path / "lib.db")
    odd = os.fsdecode(b"/footage/caf\xe9 \xff.mp4")  # latin-1 bytes, not UTF-8
    fid = s.upsert_file(odd, None, 10, 20, "fp")
    row = s.file_by_id(fid)
    assert row is not None
    assert os.fsencode(row.path) == b"/footage/caf\xe9 \xff.mp4"
    assert "\ufffd" in row.display  # printable form
    assert s.file_by_path(odd) == row


def test_commit_file_is_one_transaction(tmp_path, monkeypatch):
    s = Store(tmp_path / "lib.db")
    fid = s.upsert_file("/a.mp4", None, 1, 1, "fp")
    s.commit_file(fid, "m", [_seg(0, 5), _seg(5, 10)], duration=10, width=4, height=3)
    gen = s.generation("m")
    assert s.segment_count("m") == 2

    class Boom(Exception):
        pass

    bad = [_seg(0, 4), _seg(4, 10)]
    # A failure in the middle of writing the second segment must leave the first commit intact.
    real = np.ascontiguousarray
    calls = {"n": 0}

    def flaky(a, dtype=None):
        calls["n"] += 1
        if calls["n"] > 4:
            raise Boom
        return real(a, dtype=dtype)

    monkeypatch.setattr(np, "ascontiguousarray", flaky)
    with pytest.raises(Boom):
        s.commit_file(fid, "m", bad, duration=10, width=4, height=3)
    monkeypatch.undo()
    segs = s.segments_of_file(fid, "m")
    assert [(r.start, r.end) for r, _, _ in segs] == [(0, 5), (5, 10)]
    assert s.generation("m") == gen


def test_offline_and_back_keeps_status(tmp_path):
    s = Store(tmp_path / "lib.db")
    fid = s.upsert_file("/a.mp4", None, 1, 1, "fp")
    s.commit_file(fid, "m", [_seg(0, 5)], duration=5, width=4, height=3)
    assert s.set_offline([fid]) == 1
    assert s.file_by_id(fid).status == "offline"
    assert s.segment_count("m") == 1  # nothing thrown away
    assert s.set_online(fid) == "done"


def test_delete_files_cascades_to_segments(tmp_path):
    s = Store(tmp_path / "lib.db")
    fid = s.upsert_file("/a.mp4", None, 1, 1, "fp")
    _, new = s.commit_file(fid, "m", [_seg(0, 5), _seg(5, 9)], duration=9, width=4, height=3)
    removed = s.delete_files([fid])
    assert sorted(removed) == sorted(new)
    assert s.segment_count() == 0


def test_vectors_and_frames_round_trip(tmp_path):
    s = Store(tmp_path / "lib.db")
    fid = s.upsert_file("/a.mp4", None, 1, 1, "fp")
    seg = _seg(0, 5, dim=8, n=5)
    s.commit_file(fid, "m", [seg], duration=5, width=4, height=3)
    ((row, vec, _),) = s.segments_of_file(fid, "m")
    np.testing.assert_allclose(vec, seg.vector, rtol=1e-6)
    np.testing.assert_allclose(row.frames.astype(np.float32), seg.frames, atol=1e-3)
    np.testing.assert_allclose(row.times, seg.times, rtol=1e-6)
    ids, vecs = next(s.iter_segment_vectors("m"))
    assert ids.tolist() == [row.id] and vecs.shape == (1, 8)


def test_path_key_is_bytes():
    assert path_key("/x/y.mp4") == b"/x/y.mp4"


def test_every_connection_gets_the_larger_page_cache_writer_reader_and_other_threads(tmp_path):
    import threading

    from reelseek.core.store import CACHE_KIB

    s = Store(tmp_path / "lib.db")
    s.upsert_file("/a.mp4", None, 1, 1, "fp")
    got = [s.conn.execute("PRAGMA cache_size").fetchone()[0]]
    t = threading.Thread(target=lambda: got.append(s.conn.execute("PRAGMA cache_size").fetchone()[0]))
    t.start()
    t.join()
    ro = Store(tmp_path / "lib.db", readonly=True)
    got.append(ro.conn.execute("PRAGMA cache_size").fetchone()[0])
    assert got == [-CACHE_KIB] * 3
    assert ro.file_by_path("/a.mp4") is not None  # the reader still reads
