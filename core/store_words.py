"""SQL for words (subtitles, speech, on-screen text): the schema step, per-file writes, FTS5 search."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite_utils

    from .store import Store
    from .words.types import WordLine

# Words status values per (file, source).
WORDS_DONE = "done"  # lines stored (possibly none: the file has nothing this source reads)
WORDS_NONE = "none"  # nothing to read (no sidecar, no subtitle stream, no audio)
WORDS_ERROR = "error"  # the source failed; `reason` says why
WORDS_STATUSES = (WORDS_DONE, WORDS_NONE, WORDS_ERROR)

# trigram: FTS5's default unicode61 tokenizer splits on spaces only, so a Korean/Japanese/Chinese
# word inside a longer run of letters (Korean attaches particles: "시간이") is never found.
# Trigrams index every 3-character window, so any substring of 3+ characters matches in any
# script, and a quoted phrase matches as a contiguous substring. Shorter terms (Korean words
# are often 2 syllables) fall back to LIKE over the lines (see WordsStore.search).
_DDL = (
    """CREATE TABLE IF NOT EXISTS word_lines (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        source TEXT NOT NULL,        -- said | written | subtitle
        language TEXT,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        text TEXT NOT NULL,
        confidence REAL,
        words TEXT                   -- JSON [[start, end, word], ...] when the source knows them
    )""",
    "CREATE INDEX IF NOT EXISTS word_lines_file ON word_lines(file_id, source, start_s)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS word_fts USING fts5("
    "text, content='word_lines', content_rowid='id', tokenize='trigram')",
    # External-content FTS follows the lines through triggers; ON DELETE CASCADE from files
    # fires the delete trigger too, so a deleted file leaves no orphaned index entries.
    """CREATE TRIGGER IF NOT EXISTS word_lines_ai AFTER INSERT ON word_lines BEGIN
        INSERT INTO word_fts(rowid, text) VALUES (new.id, new.text); END""",
    """CREATE TRIGGER IF NOT EXISTS word_lines_ad AFTER DELETE ON word_lines BEGIN
        INSERT INTO word_fts(word_fts, rowid, text) VALUES ('delete', old.id, old.text); END""",
    """CREATE TABLE IF NOT EXISTS words_status (
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        status TEXT NOT NULL,        -- done | none | error
        reason TEXT,
        signature TEXT,              -- what was read (file size/mtime, sidecar names/sizes/mtimes)
        lines INTEGER NOT NULL DEFAULT 0,
        updated_at REAL,
        PRIMARY KEY (file_id, source)
    )""",
    """CREATE TABLE IF NOT EXISTS folder_words (
        folder_id INTEGER PRIMARY KEY REFERENCES folders(id) ON DELETE CASCADE,
        enabled INTEGER NOT NULL
    )""",
)


def migrate_words(db: sqlite_utils.Database) -> None:
    """Schema step adding the words tables; idempotent, so it survives renumbering."""
    for stmt in _DDL:
        db.execute(stmt)


@dataclass(frozen=True)
class LineHit:
    """A stored line that matched a words query."""

    id: int
    file_id: int
    source: str
    language: str | None
    start: float
    end: float
    text: str
    words: tuple[tuple[float, float, str], ...]
    rank: float  # bm25 (lower is better); 0 for LIKE-only matches
    confidence: float | None = None


@dataclass(frozen=True)
class WordsStatusRow:
    file_id: int
    source: str
    status: str
    reason: str | None
    signature: str | None
    lines: int


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class WordsStore:
    """The words tables over a Store's connection (the Store's writer lock and transactions)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    # -- writes (one file and source per transaction) -----------------------------------------
    def replace_lines(
        self,
        file_id: int,
        source: str,
        lines: Sequence[WordLine],
        *,
        status: str,
        reason: str | None = None,
        signature: str | None = None,
    ) -> None:
        """Replace a file's lines from one source and record its status, all or nothing."""
        if status not in WORDS_STATUSES:
            raise ValueError(status)
        with self.store.transaction() as c:
            if c.execute("SELECT 1 FROM files WHERE id=?", (file_id,)).fetchone() is None:
                return  # deleted while its words were being read
            c.execute("DELETE FROM word_lines WHERE file_id=? AND source=?", (file_id, source))
            c.executemany(
                "INSERT INTO word_lines(file_id, source, language, start_s, end_s, text, confidence, words) "
                "VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        file_id,
                        source,
                        ln.language,
                        float(ln.start),
                        float(ln.end),
                        ln.text,
                        ln.confidence,
                        json.dumps([[round(a, 3), round(b, 3), w] for a, b, w in ln.words], ensure_ascii=False)
                        if ln.words
                        else None,
                    )
                    for ln in lines
                ],
            )
            c.execute(
                "INSERT INTO words_status(file_id, source, status, reason, signature, lines, updated_at) "
                "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(file_id, source) DO UPDATE SET status=excluded.status, "
                "reason=excluded.reason, signature=excluded.signature, lines=excluded.lines, "
                "updated_at=excluded.updated_at",
                (file_id, source, status, reason, signature, len(lines), time.time()),
            )

    def mark_error(self, file_id: int, source: str, reason: str, signature: str | None) -> None:
        """Record a failed read without touching the lines stored before."""
        with self.store.transaction() as c:
            c.execute(
                "INSERT INTO words_status(file_id, source, status, reason, signature, lines, updated_at) "
                "SELECT id, ?, 'error', ?, ?, 0, ? FROM files WHERE id=? ON CONFLICT(file_id, source) DO UPDATE "
                "SET status='error', reason=excluded.reason, signature=excluded.signature, "
                "updated_at=excluded.updated_at",
                (source, reason, signature, time.time(), file_id),
            )

    def set_folder_enabled(self, folder_id: int, enabled: bool) -> None:
        with self.store.transaction() as c:
            c.execute(
                "INSERT INTO folder_words(folder_id, enabled) VALUES(?, ?) "
                "ON CONFLICT(folder_id) DO UPDATE SET enabled=excluded.enabled",
                (folder_id, int(enabled)),
            )

    # -- reads ---------------------------------------------------------------------------------
    def folder_enabled(self, folder_id: int | None) -> bool:
        if folder_id is None:
            return True
        row = self.conn.execute("SELECT enabled FROM folder_words WHERE folder_id=?", (folder_id,)).fetchone()
        return True if row is None else bool(row[0])

    def statuses(self, file_id: int) -> dict[str, WordsStatusRow]:
        rows = self.conn.execute(
            "SELECT file_id, source, status, reason, signature, lines FROM words_status WHERE file_id=?", (file_id,)
        ).fetchall()
        return {r[1]: WordsStatusRow(int(r[0]), r[1], r[2], r[3], r[4], int(r[5])) for r in rows}

    def status_counts(self) -> dict[str, dict[str, int]]:
        """source -> status -> number of files."""
        out: dict[str, dict[str, int]] = {}
        for source, status, n in self.conn.execute(
            "SELECT source, status, COUNT(*) FROM words_status GROUP BY source, status"
        ):
            out.setdefault(source, {})[status] = int(n)
        return out

    def errors(self) -> list[tuple[str, str, str]]:
        """(path, source, reason) of every file whose words could not be read."""
        from .store import display_path

        rows = self.conn.execute(
            "SELECT f.path, w.source, w.reason FROM words_status w JOIN files f ON f.id=w.file_id "
            "WHERE w.status='error' ORDER BY f.path, w.source"
        ).fetchall()
        return [(display_path(p), s, r or "unknown error") for p, s, r in rows]

    def file_infos(self, file_ids: Sequence[int]) -> dict[int, tuple[int, bytes, str, float, int, int]]:
        """file id -> (id, path key, status, duration, height, mtime_ns), for the search filters."""
        out: dict[int, tuple[int, bytes, str, float, int, int]] = {}
        for i in range(0, len(file_ids), 500):
            chunk = list(file_ids[i : i + 500])
            q = ",".join("?" * len(chunk))
            for fid, path, status, dur, h, m in self.conn.execute(
                f"SELECT id, path, status, duration, height, mtime_ns FROM files WHERE id IN ({q})", chunk
            ):
                out[int(fid)] = (int(fid), bytes(path), str(status), float(dur), int(h), int(m))
        return out

    def line_count(self, source: str | None = None) -> int:
        if source is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM word_lines").fetchone()[0])
        return int(self.conn.execute("SELECT COUNT(*) FROM word_lines WHERE source=?", (source,)).fetchone()[0])

    def lines_of_file(self, file_id: int, sources: Sequence[str] | None = None) -> list[LineHit]:
        sql = (
            "SELECT id, file_id, source, language, start_s, end_s, text, words, 0, confidence "
            "FROM word_lines WHERE file_id=?"
        )
        args: list[object] = [file_id]
        if sources:
            sql += f" AND source IN ({','.join('?' * len(sources))})"
            args += list(sources)
        return [_hit(r) for r in self.conn.execute(sql + " ORDER BY start_s, source, id", args)]

    def search(
        self,
        terms: Sequence[str],
        *,
        sources: Sequence[str],
        exclude: Sequence[str] = (),
        limit: int = 2000,
    ) -> list[LineHit]:
        """Lines containing every term (a term may be a multi-word phrase) and none of ``exclude``.

        Terms of 3+ characters go through the trigram index; shorter ones (and excluded terms)
        are LIKE substring tests on the candidate lines. With no long term at all the query is
        a LIKE scan over the lines (linear, but only for 1-2 character queries).
        """
        long = [t for t in terms if len(t) >= 3]
        short = [t for t in terms if len(t) < 3]
        if not terms or not sources:
            return []
        where: list[str] = []
        args: list[object] = []
        if long:
            sql = (
                "SELECT l.id, l.file_id, l.source, l.language, l.start_s, l.end_s, l.text, l.words, "
                "bm25(word_fts), l.confidence FROM word_fts JOIN word_lines l ON l.id = word_fts.rowid"
            )
            where.append("word_fts MATCH ?")
            args.append(" AND ".join(_fts_string(t) for t in long))
        else:
            sql = "SELECT l.id, l.file_id, l.source, l.language, l.start_s, l.end_s, l.text, l.words, 0, "
            sql += "l.confidence FROM word_lines l"
        where.append(f"l.source IN ({','.join('?' * len(sources))})")
        args += list(sources)
        for t in short:
            where.append("l.text LIKE ? ESCAPE '\\'")
            args.append(_like(t))
        for t in exclude:
            where.append("l.text NOT LIKE ? ESCAPE '\\'")
            args.append(_like(t))
        sql += " WHERE " + " AND ".join(where) + (" ORDER BY bm25(word_fts)" if long else "") + " LIMIT ?"
        args.append(limit)
        return [_hit(r) for r in self.conn.execute(sql, args)]


def _hit(r: Any) -> LineHit:
    words = tuple((float(a), float(b), str(w)) for a, b, w in json.loads(r[7])) if r[7] else ()
    return LineHit(
        id=int(r[0]),
        file_id=int(r[1]),
        source=str(r[2]),
        language=r[3],
        start=float(r[4]),
        end=float(r[5]),
        text=str(r[6]),
        words=words,
        rank=float(r[8] or 0.0),
        confidence=None if r[9] is None else float(r[9]),
    )
