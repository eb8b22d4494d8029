"""SQL for source timecode per file and for collections (bins of marked ranges): the v3 schema step
and every statement over it. Writes go through ``Store.transaction()`` (the one-writer rule).

Items keep the file's last known path (bytes) and a snapshot of its rate and start timecode, and
are not keyed on segment ids, so they survive model switches, re-indexing, unplugged drives and
even the file leaving the library (``file_id`` becomes NULL, the path stays).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from .media.timecode import SourceTimecode

if TYPE_CHECKING:
    import sqlite_utils  # the migration's argument only: searches never import it

    from .store import Store

_TC_COLUMNS = {"tc_start": str, "rate_num": int, "rate_den": int, "drop_frame": int, "vfr": int}


def migrate(db: sqlite_utils.Database) -> None:
    """Schema step: timecode columns on files, collections and their items.

    Written to be safe when run twice or renumbered (IF NOT EXISTS, columns checked first).
    """
    files = db.table("files")
    have = set(files.columns_dict)
    for name, kind in _TC_COLUMNS.items():
        if name not in have:
            files.add_column(name, kind)
    db.execute(
        """CREATE TABLE IF NOT EXISTS collections (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created REAL NOT NULL,
            sort TEXT NOT NULL DEFAULT 'manual'
        )"""
    )
    db.execute(
        # file_id SET NULL: an item outlives its file leaving the library and still exports by path.
        """CREATE TABLE IF NOT EXISTS collection_items (
            id INTEGER PRIMARY KEY,
            collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
            file_id INTEGER REFERENCES files(id) ON DELETE SET NULL,
            path BLOB NOT NULL,
            in_s REAL NOT NULL,
            out_s REAL NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            position INTEGER NOT NULL,
            query TEXT NOT NULL DEFAULT '',
            score REAL,
            source TEXT NOT NULL DEFAULT 'visual',
            added_at REAL NOT NULL,
            duration REAL,
            tc_start TEXT,
            rate_num INTEGER,
            rate_den INTEGER,
            drop_frame INTEGER,
            vfr INTEGER
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS collection_items_order ON collection_items(collection_id, position)")
    db.execute("CREATE INDEX IF NOT EXISTS collection_items_file ON collection_items(file_id)")


# -- source timecode per file -------------------------------------------------------------------
def _stc(tc: object, num: object, den: object, drop: object, vfr: object) -> SourceTimecode:
    rate = Fraction(int(num), int(den)) if num and den else None  # type: ignore[call-overload]
    return SourceTimecode(tc if isinstance(tc, str) else None, rate, bool(drop), bool(vfr))


def set_source_timecode(conn: sqlite3.Connection, file_id: int, stc: SourceTimecode) -> None:
    """Inside a caller's transaction. A probed file without a known rate stores 0/1, so it is not
    probed again (NULL rate_num means never probed)."""
    num, den = (stc.rate.numerator, stc.rate.denominator) if stc.rate else (0, 1)
    conn.execute(
        "UPDATE files SET tc_start=?, rate_num=?, rate_den=?, drop_frame=?, vfr=? WHERE id=?",
        (stc.start, num, den, int(stc.drop_frame), int(stc.vfr), file_id),
    )


def update_source_timecode(store: Store, file_id: int, stc: SourceTimecode) -> None:
    with store.transaction() as c:
        set_source_timecode(c, file_id, stc)


def source_timecodes(store: Store, file_ids: Sequence[int]) -> dict[int, SourceTimecode]:
    out: dict[int, SourceTimecode] = {}
    ids = list(dict.fromkeys(int(i) for i in file_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        q = ",".join("?" * len(chunk))
        for fid, *rest in store.conn.execute(
            f"SELECT id, tc_start, rate_num, rate_den, drop_frame, vfr FROM files WHERE id IN ({q})", chunk
        ):
            out[int(fid)] = _stc(*rest)
    return out


def probed_source_timecode(store: Store, file_id: int) -> SourceTimecode | None:
    """The file's timecode if it was probed for it (None: indexed before timecodes were read)."""
    row = store.conn.execute(
        "SELECT tc_start, rate_num, rate_den, drop_frame, vfr FROM files WHERE id=? AND rate_num IS NOT NULL",
        (file_id,),
    ).fetchone()
    return _stc(*row) if row else None


def files_without_timecode(store: Store) -> list[tuple[int, bytes]]:
    """Done files never probed for timecode (indexed before the schema step): (id, path key)."""
    rows = store.conn.execute(
        "SELECT id, path FROM files WHERE rate_num IS NULL AND status='done' ORDER BY id"
    ).fetchall()
    return [(int(i), bytes(p)) for i, p in rows]


# -- collections ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemRow:
    id: int
    collection_id: int
    file_id: int | None
    key: bytes  # the file's current path if still in the library, else its last known one
    in_s: float
    out_s: float
    note: str
    position: int
    query: str
    score: float | None
    source: str
    added_at: float
    duration: float
    status: str | None  # the file's status (None: no longer in the library)
    source_tc: SourceTimecode


_ITEM_SQL = (
    "SELECT i.id, i.collection_id, i.file_id, COALESCE(f.path, i.path), i.in_s, i.out_s, i.note, i.position, "
    "i.query, i.score, i.source, i.added_at, COALESCE(f.duration, i.duration, 0), f.status, "
    "COALESCE(f.tc_start, i.tc_start), COALESCE(f.rate_num, i.rate_num), COALESCE(f.rate_den, i.rate_den), "
    "COALESCE(f.drop_frame, i.drop_frame), COALESCE(f.vfr, i.vfr) "
    "FROM collection_items i LEFT JOIN files f ON f.id = i.file_id"
)


def _item(r: Sequence[object]) -> ItemRow:
    return ItemRow(
        int(r[0]),  # type: ignore[call-overload]
        int(r[1]),  # type: ignore[call-overload]
        None if r[2] is None else int(r[2]),  # type: ignore[call-overload]
        bytes(r[3]),  # type: ignore[call-overload]
        float(r[4]),  # type: ignore[arg-type]
        float(r[5]),  # type: ignore[arg-type]
        str(r[6]),
        int(r[7]),  # type: ignore[call-overload]
        str(r[8]),
        None if r[9] is None else float(r[9]),  # type: ignore[arg-type]
        str(r[10]),
        float(r[11]),  # type: ignore[arg-type]
        float(r[12] or 0.0),  # type: ignore[arg-type]
        None if r[13] is None else str(r[13]),
        _stc(r[14], r[15], r[16], r[17], r[18]),
    )


def collections(store: Store) -> list[tuple[int, str, float, str, int]]:
    """(id, name, created, sort, item count), by name."""
    rows = store.conn.execute(
        "SELECT c.id, c.name, c.created, c.sort, COUNT(i.id) FROM collections c "
        "LEFT JOIN collection_items i ON i.collection_id = c.id GROUP BY c.id ORDER BY c.name COLLATE NOCASE"
    ).fetchall()
    return [(int(a), str(b), float(c), str(d), int(e)) for a, b, c, d, e in rows]


def collection_id(store: Store, name: str) -> int | None:
    row = store.conn.execute("SELECT id FROM collections WHERE name=?", (name,)).fetchone()
    return int(row[0]) if row else None


def create_collection(store: Store, name: str) -> int:
    with store.transaction() as c:
        cur = c.execute("INSERT INTO collections(name, created) VALUES(?, ?)", (name, time.time()))
        return int(cur.lastrowid or 0)


def rename_collection(store: Store, cid: int, name: str) -> None:
    with store.transaction() as c:
        c.execute("UPDATE collections SET name=? WHERE id=?", (name, cid))


def set_collection_sort(store: Store, cid: int, sort: str) -> None:
    with store.transaction() as c:
        c.execute("UPDATE collections SET sort=? WHERE id=?", (sort, cid))


def delete_collection(store: Store, cid: int) -> None:
    with store.transaction() as c:
        c.execute("DELETE FROM collections WHERE id=?", (cid,))


def items(store: Store, cid: int) -> list[ItemRow]:
    rows = store.conn.execute(_ITEM_SQL + " WHERE i.collection_id=? ORDER BY i.position, i.id", (cid,)).fetchall()
    return [_item(r) for r in rows]


def item(store: Store, item_id: int) -> ItemRow | None:
    row = store.conn.execute(_ITEM_SQL + " WHERE i.id=?", (item_id,)).fetchone()
    return _item(row) if row else None


def add_item(
    store: Store,
    cid: int,
    file_id: int | None,
    key: bytes,
    in_s: float,
    out_s: float,
    *,
    note: str = "",
    query: str = "",
    score: float | None = None,
    source: str = "visual",
) -> int:
    """Append a range to a collection, with a snapshot of the file's rate and start timecode."""
    with store.transaction() as c:
        pos = c.execute(
            "SELECT COALESCE(MAX(position), -1) + 1 FROM collection_items WHERE collection_id=?", (cid,)
        ).fetchone()[0]
        snap = (
            c.execute(
                "SELECT duration, tc_start, rate_num, rate_den, drop_frame, vfr FROM files WHERE id=?", (file_id,)
            ).fetchone()
            if file_id is not None
            else None
        ) or (None, None, None, None, None, None)
        cur = c.execute(
            "INSERT INTO collection_items(collection_id, file_id, path, in_s, out_s, note, position, query, score, "
            "source, added_at, duration, tc_start, rate_num, rate_den, drop_frame, vfr) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (cid, file_id, key, in_s, out_s, note, int(pos), query, score, source, time.time(), *snap),
        )
        return int(cur.lastrowid or 0)


def remove_item(store: Store, item_id: int) -> None:
    with store.transaction() as c:
        c.execute("DELETE FROM collection_items WHERE id=?", (item_id,))


def reorder_items(store: Store, cid: int, item_ids: Sequence[int]) -> None:
    """Positions follow ``item_ids``; items not listed keep their relative order after them."""
    with store.transaction() as c:
        current = [
            int(r[0])
            for r in c.execute("SELECT id FROM collection_items WHERE collection_id=? ORDER BY position, id", (cid,))
        ]
        wanted = [i for i in dict.fromkeys(item_ids) if i in set(current)]
        order = wanted + [i for i in current if i not in set(wanted)]
        for pos, iid in enumerate(order):
            c.execute("UPDATE collection_items SET position=? WHERE id=?", (pos, iid))


def trim_item(store: Store, item_id: int, in_s: float, out_s: float) -> None:
    with store.transaction() as c:
        c.execute("UPDATE collection_items SET in_s=?, out_s=? WHERE id=?", (in_s, out_s, item_id))


def annotate_item(store: Store, item_id: int, note: str) -> None:
    with store.transaction() as c:
        c.execute("UPDATE collection_items SET note=? WHERE id=?", (note, item_id))
