"""SQL the search and the thumbnails read: candidates' files, a calibration sample, stored thumbnails."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import NamedTuple


class SegmentFile(NamedTuple):
    """The file a stage-1 hit lies in: what the filters and the moments need, in one read."""

    file_id: int
    key: bytes  # the path key (store.path_key)
    status: str
    duration: float
    height: int


class Candidate(NamedTuple):
    """A stage-1 hit on its way to stage 2: the segment, its similarity and its file."""

    segment_id: int
    similarity: float
    file: SegmentFile


class SearchReads:
    """Mixed into Store: read-only queries for core/search.py and core/thumbs.py."""

    @property
    def conn(self) -> sqlite3.Connection:
        raise NotImplementedError  # Store's per-thread connection

    def file_info_for_segments(self, seg_ids: Sequence[int]) -> dict[int, SegmentFile]:
        """segment id -> its file."""
        out: dict[int, SegmentFile] = {}
        for chunk in _chunks(list(seg_ids), 500):
            q = ",".join("?" * len(chunk))
            for sid, fid, path, status, dur, h in self.conn.execute(
                f"SELECT s.id, f.id, f.path, f.status, f.duration, f.height FROM segments s "
                f"JOIN files f ON f.id=s.file_id WHERE s.id IN ({q})",
                chunk,
            ):
                out[int(sid)] = SegmentFile(int(fid), bytes(path), str(status), float(dur), int(h))
        return out

    def sample_segment_frames(self, model_id: str, segments: int) -> list[tuple[bytes, bytes]]:
        """(frames, times) blobs of a fixed pseudo-random sample of the model's segments.

        The order hashes the id (Knuth's multiplier), so the sample is stable between calls
        and spread over the whole library rather than its first files.
        """
        rows = self.conn.execute(
            "SELECT frames, times FROM segments WHERE model_id=? ORDER BY (id * 2654435761) % 4294967296 LIMIT ?",
            (model_id, segments),
        ).fetchall()
        return [(bytes(f), bytes(t)) for f, t in rows]

    def stored_thumb(self, file_id: int, t: float, model_id: str | None = None) -> bytes | None:
        """The indexer's JPEG of the segment covering ``t`` (any model's when ``model_id`` is None)."""
        sql = "SELECT thumb FROM segments WHERE file_id=? AND start_s<=? AND end_s>=?"
        args: list[object] = [file_id, t, t]
        if model_id:
            sql += " AND model_id=?"
            args.append(model_id)
        row = self.conn.execute(sql + " LIMIT 1", args).fetchone()
        return bytes(row[0]) if row and row[0] else None


def _chunks(items: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
