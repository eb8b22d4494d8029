"""Words storage: the v3 migration, per-file replacement, FTS5 trigram search (CJK substrings), cascades."""

from __future__ import annotations

import sqlite3

import pytest

from reelseek.core.store import Store
from reelseek.core.store_words import WORDS_DONE, WORDS_ERROR, WordsStore, migrate_words
from reelseek.core.words.types import SAID, SUBTITLE, WRITTEN, WordLine


@pytest.fixture
def ws(tmp_path):
    s = Store(tmp_path / "lib.db")
    fid = s.upsert_file(tmp_path / "a.mp4", None, 1, 1, "fp-a")
    s.upsert_file(tmp_path / "b.mp4", None, 1, 1, "fp-b")
    w = WordsStore(s)
    w.replace_lines(
        fid,
        SUBTITLE,
        [
            WordLine(1, 2, "We're out of time", SUBTITLE, "en"),
            WordLine(3, 4, "시간이 다 됐어요", SUBTITLE, "ko"),
            WordLine(5, 6, "Sometimes it rains at night", SUBTITLE, "en"),
        ],
        status=WORDS_DONE,
        signature="sig1",
    )
    w.replace_lines(
        fid,
        SAID,
        [WordLine(7, 9, "we are out of time now", SAID, "en", 0.8, ((7, 7.5, "we"), (7.5, 8, "are"), (8, 9, "out")))],
        status=WORDS_DONE,
        signature="sig2",
    )
    yield s, w, fid
    s.close()


def found(w, terms, sources=(SUBTITLE, SAID, WRITTEN), exclude=()):
    return sorted(h.text for h in w.search(terms, sources=sources, exclude=exclude))


def test_migration_from_v2_adds_words_tables_and_is_idempotent(tmp_path):
    import sqlite_utils

    from reelseek.core import store as store_mod

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    store_mod._v1(sqlite_utils.Database(conn))
    store_mod._v2(sqlite_utils.Database(conn))
    conn.execute("INSERT INTO meta VALUES('schema_version', '2')")
    conn.execute("INSERT INTO files(path, status) VALUES(?, 'done')", (b"/a.mp4",))
    conn.close()
    s = Store(db)
    assert (tmp_path / "old.db.v2.bak").exists()
    tables = {r[0] for r in s.conn.execute("SELECT name FROM sqlite_master")}
    assert {"word_lines", "word_fts", "words_status", "folder_words"} <= tables
    migrate_words(sqlite_utils.Database(s.conn))  # a renumbered rerun must be harmless
    assert [f.path for f in s.files()] == ["/a.mp4"]


def test_phrase_substring_and_cjk(ws):
    _s, w, _fid = ws
    assert found(w, ["out of time"]) == ["We're out of time", "we are out of time now"]
    assert found(w, ["we're out of time"]) == ["We're out of time"]
    assert found(w, ["시간이"]) == ["시간이 다 됐어요"]  # trigram
    assert found(w, ["시간"]) == ["시간이 다 됐어요"]  # 2 characters: LIKE fallback
    assert found(w, ["됐어"]) == ["시간이 다 됐어요"]
    assert found(w, ["time", "we"]) == ["We're out of time", "we are out of time now"]  # AND, mixed lengths
    assert found(w, ["time", "rain"]) == ["Sometimes it rains at night"]  # substrings, like CJK
    assert found(w, ["time", "snow"]) == []
    assert found(w, ["time"], exclude=["now"]) == ["Sometimes it rains at night", "We're out of time"]
    assert found(w, ["TIME"], sources=(SAID,)) == ["we are out of time now"]
    assert found(w, ['a "quoted" word']) == []  # quotes in a term are data, not FTS syntax
    assert found(w, ["100%"]) == []


def test_replace_is_per_file_and_source_and_keeps_word_times(ws):
    _s, w, fid = ws
    w.replace_lines(fid, SUBTITLE, [WordLine(1, 2, "new words", SUBTITLE)], status=WORDS_DONE, signature="sig3")
    assert found(w, ["out of time"]) == ["we are out of time now"]  # speech untouched
    assert found(w, ["new words"]) == ["new words"]
    said = w.lines_of_file(fid, [SAID])[0]
    assert said.words[2] == (8.0, 9.0, "out") and said.confidence == pytest.approx(0.8)
    assert w.statuses(fid)[SUBTITLE].signature == "sig3"


def test_an_error_keeps_old_lines_and_records_the_reason(ws):
    _s, w, fid = ws
    w.mark_error(fid, SUBTITLE, "clip.srt: empty subtitle file", "sig9")
    st = w.statuses(fid)[SUBTITLE]
    assert (st.status, st.reason, st.signature) == (WORDS_ERROR, "clip.srt: empty subtitle file", "sig9")
    assert "We're out of time" in found(w, ["out of time"])
    assert w.errors()[0][1:] == (SUBTITLE, "clip.srt: empty subtitle file")


def test_a_failed_transaction_leaves_the_old_lines(ws):
    _s, w, fid = ws
    bad = [WordLine(1, 2, "half written", SUBTITLE), WordLine(1, 2, None, SUBTITLE)]  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        w.replace_lines(fid, SUBTITLE, bad, status=WORDS_DONE, signature="x")
    assert found(w, ["half written"]) == []
    assert "We're out of time" in found(w, ["out of time"])
    assert w.statuses(fid)[SUBTITLE].signature == "sig1"


def test_move_keeps_words_delete_cascades_to_lines_and_index(ws, tmp_path):
    s, w, fid = ws
    s.move_file(fid, tmp_path / "moved.mp4", None, 1)
    assert len(w.lines_of_file(fid)) == 4
    s.delete_files([fid])
    assert w.line_count() == 0 and w.statuses(fid) == {}
    assert found(w, ["out of time"]) == []
    s.conn.execute("INSERT INTO word_fts(word_fts, rank) VALUES('integrity-check', 1)")


def test_folder_switch(ws, tmp_path):
    s, w, _ = ws
    folder = s.add_folder(tmp_path)
    assert w.folder_enabled(folder)
    w.set_folder_enabled(folder, False)
    assert not w.folder_enabled(folder)
    s.remove_folder(folder)
    assert s.conn.execute("SELECT COUNT(*) FROM folder_words").fetchone()[0] == 0
