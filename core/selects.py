"""Collections (bins of selects): named lists of marked ranges that outlive restarts, model switches
and unplugged drives. ``Library.collections`` is the entry point; every write goes through
``Collections._write`` (one place the library's writer lock wraps) and the store's transaction.

API (stable, used by the desktop Selects panel and ``reelseek-cli collections``):

- ``CollectionInfo(id, name, created, sort, count)``
- ``SelectItem``: ``id, collection_id, file_id (None once the file left the library), path (str to
  open), display (printable path), in_s, out_s, note, position, query, score, source, added_at,
  duration, offline, source_tc``; ``.clock`` (SourceClock), ``.rate`` (Rate), ``.timecode_in``,
  ``.timecode_out``, ``.to_json()``, ``.to_moment()`` (to play it); ``.name`` is the file name.
- ``Collections``: ``list()``, ``get(name)``, ``create(name)``, ``ensure(name)``, ``rename(name, new)``,
  ``delete(name)``, ``items(name)``, ``item(item_id)``, ``add_moment(name, moment, query="", note="",
  in_s=None, out_s=None)``, ``add_range(name, path, in_s, out_s, ...)``, ``add_timecodes(name, path,
  tc_in, tc_out, ...)``, ``remove(item_id)``, ``reorder(name, item_ids)``, ``move(item_id, position)``,
  ``trim(item_id, in_s, out_s)``, ``annotate(item_id, note)``, ``set_sort(name, sort)``.
- ``CollectionError``: a user-facing problem (unknown name, duplicate name, bad range); str() is
  the message.
"""

from __future__ import annotations

import builtins
import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from . import store_collections as sql
from .media.timecode import SourceTimecode
from .store import OFFLINE, Store, display_path, fs_path, path_key
from .timecode import Rate, SourceClock
from .types import Moment

SORTS = ("manual", "score", "name", "added")


class CollectionError(Exception):
    """A user-facing problem with a collection; str() is the message."""


@dataclass(frozen=True)
class CollectionInfo:
    id: int
    name: str
    created: float
    sort: str
    count: int


@dataclass(frozen=True)
class SelectItem:
    """One marked range in a collection."""

    id: int
    collection_id: int
    file_id: int | None
    path: str
    display: str
    in_s: float
    out_s: float
    note: str
    position: int
    query: str
    score: float | None
    source: str
    added_at: float
    duration: float
    offline: bool
    source_tc: SourceTimecode

    @property
    def name(self) -> str:
        return Path(self.display).name

    @property
    def clock(self) -> SourceClock:
        return self.source_tc.clock

    @property
    def rate(self) -> Rate:
        return self.clock.rate

    @property
    def timecode_in(self) -> str:
        return self.clock.tc(self.in_s)

    @property
    def timecode_out(self) -> str:
        return self.clock.tc(self.out_s)

    def to_moment(self) -> Moment:
        """The item as a Moment (to play it in the player, or export it like a search result)."""
        return Moment(
            self.path, self.file_id if self.file_id is not None else -1, self.in_s, self.out_s,
            self.score or 0.0, self.in_s, 0.0, self.offline, self.duration, self.source_tc,
        )  # fmt: skip

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "position": self.position,
            "path": self.display,
            "in": round(self.in_s, 3),
            "out": round(self.out_s, 3),
            "timecode_in": self.timecode_in,
            "timecode_out": self.timecode_out,
            "rate": self.rate.label,
            "note": self.note,
            "query": self.query,
            "score": None if self.score is None else round(self.score, 5),
            "source": self.source,
            "offline": self.offline,
            "in_library": self.file_id is not None,
        }


def _select(r: sql.ItemRow) -> SelectItem:
    offline = r.status == OFFLINE or not os.path.exists(fs_path(r.key))
    return SelectItem(
        r.id, r.collection_id, r.file_id, fs_path(r.key), display_path(r.key), r.in_s, r.out_s, r.note,
        r.position, r.query, r.score, r.source, r.added_at, r.duration, offline, r.source_tc,
    )  # fmt: skip


class Collections:
    """Named bins of selects over a library's store."""

    def __init__(self, store: Store, writer: Callable[[], AbstractContextManager[object]] | None = None) -> None:
        self.store = store
        self._writer = writer

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """Every change passes here: the lead wraps it in the library's writer lock."""
        if self._writer is None:
            yield
        else:
            with self._writer():
                yield

    # -- collections ---------------------------------------------------------------------------
    def list(self) -> builtins.list[CollectionInfo]:
        return [CollectionInfo(*row) for row in sql.collections(self.store)]

    def get(self, name: str) -> CollectionInfo:
        for c in self.list():
            if c.name == name:
                return c
        raise CollectionError(f"no collection called {name!r} (see `reelseek-cli collections list`)")

    def _id(self, name: str) -> int:
        cid = sql.collection_id(self.store, name)
        if cid is None:
            raise CollectionError(f"no collection called {name!r} (see `reelseek-cli collections list`)")
        return cid

    def create(self, name: str) -> CollectionInfo:
        name = _clean_name(name)
        if sql.collection_id(self.store, name) is not None:
            raise CollectionError(f"a collection called {name!r} already exists")
        with self._write():
            sql.create_collection(self.store, name)
        return self.get(name)

    def ensure(self, name: str) -> CollectionInfo:
        """The collection, created if missing (adding to a new bin in one step)."""
        name = _clean_name(name)
        return self.get(name) if sql.collection_id(self.store, name) is not None else self.create(name)

    def rename(self, name: str, new_name: str) -> CollectionInfo:
        cid = self._id(name)
        new_name = _clean_name(new_name)
        other = sql.collection_id(self.store, new_name)
        if other is not None and other != cid:
            raise CollectionError(f"a collection called {new_name!r} already exists")
        with self._write():
            sql.rename_collection(self.store, cid, new_name)
        return self.get(new_name)

    def delete(self, name: str) -> None:
        cid = self._id(name)
        with self._write():
            sql.delete_collection(self.store, cid)

    def set_sort(self, name: str, sort: str) -> None:
        if sort not in SORTS:
            raise CollectionError(f"sort must be one of {', '.join(SORTS)}")
        cid = self._id(name)
        with self._write():
            sql.set_collection_sort(self.store, cid, sort)

    # -- items -------------------------------------------------------------------------------------
    def items(self, name: str) -> builtins.list[SelectItem]:
        return [_select(r) for r in sql.items(self.store, self._id(name))]

    def item(self, item_id: int) -> SelectItem:
        r = sql.item(self.store, item_id)
        if r is None:
            raise CollectionError(f"no item {item_id} in any collection")
        return _select(r)

    def add_moment(
        self,
        name: str,
        moment: Moment,
        *,
        query: str = "",
        note: str = "",
        in_s: float | None = None,
        out_s: float | None = None,
        source: str = "visual",
    ) -> SelectItem:
        """Add a search result (with in/out adjusted in the player, if given) to a collection."""
        lo = moment.start if in_s is None else in_s
        hi = moment.end if out_s is None else out_s
        return self._add(name, moment.file_id, path_key(moment.path), lo, hi, note, query, moment.score, source)

    def add_range(
        self,
        name: str,
        path: str | os.PathLike[str] | bytes,
        in_s: float,
        out_s: float,
        *,
        note: str = "",
        query: str = "",
        score: float | None = None,
        source: str = "manual",
    ) -> SelectItem:
        """Add any range of a file (known to the library or not) by its path."""
        key = path if isinstance(path, bytes) else path_key(Path(path).expanduser().resolve())
        row = self.store.file_by_path(key)
        return self._add(name, row.id if row else None, key, in_s, out_s, note, query, score, source)

    def add_timecodes(
        self, name: str, path: str | os.PathLike[str], tc_in: str, tc_out: str, **kw: object
    ) -> SelectItem:
        """Add a range given as the file's source timecodes (``01:00:10:00``)."""
        key = path_key(Path(path).expanduser().resolve())
        row = self.store.file_by_path(key)
        if row is None:
            raise CollectionError(f"{display_path(key)} is not in the library (index it first)")
        clock = sql.source_timecodes(self.store, [row.id])[row.id].clock
        try:
            lo, hi = float(clock.seconds(tc_in)), float(clock.seconds(tc_out))
        except ValueError as e:
            raise CollectionError(str(e)) from None
        return self.add_range(name, key, lo, hi, **kw)  # type: ignore[arg-type]

    def _add(
        self, name: str, file_id: int | None, key: bytes, lo: float, hi: float,
        note: str, query: str, score: float | None, source: str,
    ) -> SelectItem:  # fmt: skip
        _check_range(lo, hi)
        cid = self.ensure(name).id
        with self._write():
            iid = sql.add_item(
                self.store, cid, file_id, key, lo, hi, note=note, query=query, score=score, source=source
            )
        return self.item(iid)

    def remove(self, item_id: int) -> None:
        self.item(item_id)
        with self._write():
            sql.remove_item(self.store, item_id)

    def reorder(self, name: str, item_ids: Sequence[int]) -> builtins.list[SelectItem]:
        cid = self._id(name)
        with self._write():
            sql.reorder_items(self.store, cid, list(item_ids))
        return self.items(name)

    def move(self, item_id: int, position: int) -> None:
        """Put one item at ``position`` (0-based) in its collection."""
        it = self.item(item_id)
        ids = [i.id for i in sql.items(self.store, it.collection_id) if i.id != item_id]
        ids.insert(max(0, min(position, len(ids))), item_id)
        with self._write():
            sql.reorder_items(self.store, it.collection_id, ids)

    def trim(self, item_id: int, in_s: float, out_s: float) -> SelectItem:
        self.item(item_id)
        _check_range(in_s, out_s)
        with self._write():
            sql.trim_item(self.store, item_id, in_s, out_s)
        return self.item(item_id)

    def annotate(self, item_id: int, note: str) -> SelectItem:
        self.item(item_id)
        with self._write():
            sql.annotate_item(self.store, item_id, note)
        return self.item(item_id)


def _clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise CollectionError("a collection needs a name")
    if len(name) > 200:
        raise CollectionError("collection names are limited to 200 characters")
    return name


def _check_range(lo: float, hi: float) -> None:
    if not (lo >= 0 and hi > lo):
        raise CollectionError(f"the out point ({hi:.3f} s) must come after the in point ({lo:.3f} s), both >= 0")
