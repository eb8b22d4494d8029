"""SQL the search and the thumbnails read: candidates' files, a calibration sample, stored thumbnails."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .store import SegmentRow


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


class SegmentSpan(NamedTuple):
    """Where a segment lies, without its vectors: enough to plan which neighbours stage 2 reads."""

    id: int
    file_id: int
    start: float
    end: float


# (file id, start, end): stage 2 reads every segment of a file overlapping one of these.
Window = tuple[int, float, float]


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

    @staticmethod
    def _segment(r: Sequence[Any]) -> SegmentRow:
        raise NotImplementedError  # Store's row -> SegmentRow

    def segment_spans(self, seg_ids: Sequence[int]) -> list[SegmentSpan]:
        """Start and end of each segment (no blobs read: the columns sit before them in the row)."""
        out: list[SegmentSpan] = []
        for chunk in _chunks(list(seg_ids), 500):
            q = ",".join("?" * len(chunk))
            for sid, fid, start, end in self.conn.execute(
                f"SELECT id, file_id, start_s, end_s FROM segments WHERE id IN ({q})", chunk
            ):
                out.append(SegmentSpan(int(sid), int(fid), float(start), float(end)))
        return out

    def segments_in_windows(self, model_id: str, windows: Sequence[Window]) -> list[SegmentRow]:
        """Every segment of the model that overlaps one of the (file id, start, end) windows, each
        once, with its frames. One statement per 300 windows: stage 2 used to ask once per file
        or per candidate segment (~40 round trips a search) and read each candidate's blobs twice."""
        out: list[SegmentRow] = []
        seen: set[int] = set()
        for i in range(0, len(windows), 300):
            chunk = windows[i : i + 300]
            values = ",".join("(?,?,?)" for _ in chunk)
            args: list[object] = [x for w in chunk for x in w]
            rows = self.conn.execute(
                f"WITH w(fid, lo, hi) AS (VALUES {values}) "
                "SELECT id, file_id, start_s, end_s, best_s, times, frames FROM segments WHERE id IN ("
                "SELECT s.id FROM w JOIN segments s ON s.file_id=w.fid AND s.model_id=? "
                "AND s.end_s>=w.lo AND s.start_s<=w.hi)",
                [*args, model_id],
            ).fetchall()
            for r in rows:
                if int(r[0]) not in seen:  # windows of different chunks may share a segment
                    seen.add(int(r[0]))
                    out.append(self._segment(r))
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
