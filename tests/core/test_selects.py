"""Collections of selects: the v3 schema step, CRUD, ordering, persistence, offline and removed files."""

from __future__ import annotations

import os
import sqlite3
from fractions import Fraction
from pathlib import Path

import pytest
import sqlite_utils

from reelseek.core import store as store_mod
from reelseek.core import store_collections
from reelseek.core.media.timecode import SourceTimecode
from reelseek.core.selects import CollectionError, Collections
from reelseek.core.store import Store
from reelseek.core.types import Moment


def _indexed(store: Store, path: Path, stc: SourceTimecode | None, duration: float = 30.0) -> int:
    path.write_bytes(b"x")
    fid = store.upsert_file(path, None, 1, 1, "fp" + path.name)
    store.commit_file(fid, "m", [], duration=duration, width=64, height=48, source_tc=stc)
    return fid


@pytest.fixture
def lib(tmp_path: Path) -> tuple[Store, Collections, Path, int]:
    store = Store(tmp_path / "lib.db")
    clip = tmp_path / "clip A.mov"
    fid = _indexed(store, clip, SourceTimecode("01:00:00:00", Fraction(25)))
    return store, Collections(store), clip, fid


def test_migration_from_v2_adds_columns_and_tables_and_backfill_list(tmp_path: Path) -> None:
    db = tmp_path / "lib.db"
    conn = sqlite3.connect(db, isolation_level=None)
    d = sqlite_utils.Database(conn)
    store_mod._v1(d)
    store_mod._v2(d)
    conn.execute("INSERT INTO meta VALUES('schema_version', '2')")
    conn.execute("INSERT INTO files(path, status) VALUES(?, 'done')", (b"/old.mov",))
    conn.close()
    s = Store(db)
    assert s.schema_version() == store_mod.SCHEMA_VERSION >= 3
    assert (tmp_path / "lib.db.v2.bak").exists()
    cols = {r[1] for r in s.conn.execute("PRAGMA table_info(files)")}
    assert {"tc_start", "rate_num", "rate_den", "drop_frame", "vfr"} <= cols
    assert [k for _, k in store_collections.files_without_timecode(s)] == [b"/old.mov"]
    # The step is idempotent, so the lead may renumber it.
    with s.transaction() as c:
        store_collections.migrate(sqlite_utils.Database(c))
    fid = s.file_by_path("/old.mov").id  # type: ignore[union-attr]
    store_collections.update_source_timecode(s, fid, SourceTimecode(None, None))
    assert store_collections.files_without_timecode(s) == []  # probed once, even if nothing was found


def test_create_rename_delete_and_clear_errors(lib) -> None:
    cols = lib[1]
    cols.create("Selects")
    with pytest.raises(CollectionError, match="already exists"):
        cols.create(" Selects ")
    cols.create("b-roll")
    assert [c.name for c in cols.list()] == ["b-roll", "Selects"]
    cols.rename("b-roll", "B-Roll night")
    with pytest.raises(CollectionError, match="already exists"):
        cols.rename("Selects", "B-Roll night")
    with pytest.raises(CollectionError, match="no collection"):
        cols.items("b-roll")
    with pytest.raises(CollectionError, match="needs a name"):
        cols.create("   ")
    cols.delete("B-Roll night")
    assert [c.name for c in cols.list()] == ["Selects"]


def test_items_add_trim_annotate_reorder_remove(lib) -> None:
    _, cols, clip, fid = lib
    m = Moment(str(clip), fid, 2.0, 4.0, 0.31, 3.0)
    a = cols.add_moment("Selects", m, query="red door")
    assert (a.in_s, a.out_s, a.query, a.score, a.file_id) == (2.0, 4.0, "red door", 0.31, fid)
    assert (a.timecode_in, a.timecode_out, a.rate.label) == ("01:00:02:00", "01:00:04:00", "25")
    b = cols.add_range("Selects", clip, 10.0, 12.5, note="wide")
    c = cols.add_timecodes("Selects", clip, "01:00:20:00", "01:00:21:12")
    assert (c.in_s, c.out_s) == (20.0, 21.48)
    assert [i.id for i in cols.items("Selects")] == [a.id, b.id, c.id]
    cols.reorder("Selects", [c.id, a.id])
    assert [i.id for i in cols.items("Selects")] == [c.id, a.id, b.id]
    cols.move(b.id, 0)
    assert [i.id for i in cols.items("Selects")] == [b.id, c.id, a.id]
    assert cols.trim(a.id, 2.48, 3.48).timecode_in == "01:00:02:12"
    assert cols.annotate(a.id, "élan – 日本").note == "élan – 日本"
    with pytest.raises(CollectionError, match="out point"):
        cols.trim(a.id, 5, 4)
    with pytest.raises(CollectionError, match="out point"):
        cols.add_range("Selects", clip, -1, 2)
    cols.remove(b.id)
    with pytest.raises(CollectionError, match="no item"):
        cols.remove(b.id)
    assert [i.id for i in cols.items("Selects")] == [c.id, a.id]
    assert cols.get("Selects").count == 2
    assert cols.items("Selects")[1].to_json()["timecode_out"] == "01:00:03:12"
    m2 = cols.items("Selects")[1].to_moment()
    assert (m2.file_id, m2.start, m2.end, m2.timecode_in) == (fid, 2.48, 3.48, "01:00:02:12")


def test_collections_survive_reopen_file_moves_offline_and_removal(tmp_path: Path, lib) -> None:
    store, cols, clip, fid = lib
    item = cols.add_range("Keep", clip, 1.0, 2.0)
    store.close()
    store = Store(tmp_path / "lib.db")
    cols = Collections(store)
    [again] = cols.items("Keep")
    assert (again.id, again.in_s, again.path, again.offline) == (item.id, 1.0, str(clip), False)
    # The file moves: the item follows the library's path.
    moved = tmp_path / "moved.mov"
    os.rename(clip, moved)
    store.move_file(fid, moved, None, 2)
    assert cols.items("Keep")[0].path == str(moved)
    # The drive is unplugged: the item is offline but still knows where the file was.
    store.set_offline([fid])
    assert cols.items("Keep")[0].offline
    # The file leaves the library: last known path, rate and start timecode stay.
    store.delete_files([fid])
    [gone] = cols.items("Keep")
    assert gone.file_id is None and gone.path == str(clip)  # the path snapshot taken when added
    assert gone.timecode_in == "01:00:01:00"


def test_non_utf8_and_unknown_files(tmp_path: Path, lib) -> None:
    cols = lib[1]
    odd = os.fsdecode(bytes(tmp_path) + b"/caf\xe9 \xff.mov")
    it = cols.add_range("Odd", odd, 0.0, 1.0)
    assert it.file_id is None and it.path == odd and "\ufffd" in it.display
    assert it.timecode_in == "00:00:00:00" and it.rate.label == "25"
    with pytest.raises(CollectionError, match="not in the library"):
        cols.add_timecodes("Odd", odd, "00:00:00:00", "00:00:01:00")
