"""The words pass on a real store: resumable by signature, pausable, cancellable, errors as status, progress."""

from __future__ import annotations

import threading

from reelseek.core.store import Store
from reelseek.core.store_words import WordsStore
from reelseek.core.words.pass_ import WordsPass
from reelseek.core.words.types import WordLine


class CountingSource:
    """A fake source (this tests the pass, not a reader): counts reads, can fail or block."""

    name = "subtitle"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail: set[str] = set()
        self.version = "1"
        self.on_call = None

    def extract(self, path: str, cancel: threading.Event | None = None) -> list[WordLine]:
        self.calls.append(path)
        if self.on_call:
            self.on_call(path)
        if path in self.fail:
            raise ValueError("cannot read this one")
        return [WordLine(1.0, 2.0, f"words of {path.rsplit('/', 1)[-1]}", "subtitle")]


def _library(tmp_path, n=4):
    store = Store(tmp_path / "lib.db")
    for i in range(n):
        p = tmp_path / f"v{i}.mp4"
        p.write_bytes(b"x" * (i + 1))
        fid = store.upsert_file(p, None, p.stat().st_size, p.stat().st_mtime_ns, None)
        store.conn.execute("UPDATE files SET status='done', duration=10 WHERE id=?", (fid,))
    return store


def test_reads_once_then_only_checks_and_rereads_what_changed(tmp_path):
    store = _library(tmp_path)
    src = CountingSource()
    phases = []
    report = WordsPass(store, [src]).run(store.files(), progress=lambda p: phases.append((p.phase, p.files_done)))
    assert report.words_files == 4 and report.words_lines == 4 and len(src.calls) == 4
    assert phases[0] == ("words", 0) and phases[-1] == ("words", 4)
    WordsPass(store, [src]).run(store.files())
    assert len(src.calls) == 4  # nothing changed: a check each, no read
    src.version = "2"  # e.g. another speech model
    WordsPass(store, [src]).run(store.files())
    assert len(src.calls) == 8


def test_errors_become_status_and_keep_old_lines_and_are_retried(tmp_path):
    store = _library(tmp_path, 2)
    src = CountingSource()
    WordsPass(store, [src]).run(store.files())
    bad = store.files()[0]
    src.fail.add(bad.path)
    src.version = "2"
    report = WordsPass(store, [src]).run(store.files())
    assert report.words_errors == [(bad.display, "subtitle: cannot read this one")]
    ws = WordsStore(store)
    assert ws.statuses(bad.id)["subtitle"].status == "error"
    assert len(ws.lines_of_file(bad.id)) == 1  # what was searchable stays searchable
    src.fail.clear()
    WordsPass(store, [src]).run(store.files())
    assert ws.statuses(bad.id)["subtitle"].status == "done"


def test_cancel_stops_between_files_and_the_next_run_resumes(tmp_path):
    store = _library(tmp_path, 4)
    src = CountingSource()
    cancel = threading.Event()
    src.on_call = lambda path: cancel.set() if len(src.calls) == 2 else None
    report = WordsPass(store, [src]).run(store.files(), cancel=cancel)
    assert report.cancelled and report.words_files == 1  # the second read was cut: not stored
    assert WordsStore(store).line_count() == 1
    src.on_call = None
    again = WordsPass(store, [src]).run(store.files())
    assert again.words_files == 3 and WordsStore(store).line_count() == 4


def test_pause_holds_the_pass_until_resumed(tmp_path):
    _library(tmp_path, 2).close()  # the pass runs on its own thread with its own connection
    src = CountingSource()
    pause = threading.Event()
    pause.set()
    seen = []
    done = threading.Event()

    def run():
        WordsPass(store_thread := Store(tmp_path / "lib.db"), [src]).run(
            store_thread.files(), pause=pause, progress=lambda p: seen.append(p.phase)
        )
        done.set()

    t = threading.Thread(target=run)
    t.start()
    import time

    # No clock: wait for the pause or for the run to end (pytest-timeout bounds a hang).
    while "paused" not in seen and not done.is_set():
        time.sleep(0.02)
    assert "paused" in seen and src.calls == []
    pause.clear()
    assert done.wait(600)
    t.join()
    assert len(src.calls) == 2


def test_folder_switched_off_is_skipped(tmp_path):
    store = _library(tmp_path, 1)
    folder = store.add_folder(tmp_path)
    store.conn.execute("UPDATE files SET folder_id=?", (folder,))
    WordsStore(store).set_folder_enabled(folder, False)
    src = CountingSource()
    assert WordsPass(store, [src]).run(store.files()).words_files == 0 and src.calls == []


def test_undecodable_file_names_are_read_and_stored(tmp_path):
    import os

    from reelseek.core.words.subtitles import SubtitleSource
    from tests.synth.subtitles import srt_text, write_sidecar
    from tests.synth.videos import SceneSpec, write_video

    video = tmp_path / os.fsdecode(b"caf\xe9 take.mp4")
    write_video(video, [SceneSpec("red", "circle", "grass", "still", 0.0, 2.0)], width=64, height=64)
    write_sidecar(tmp_path / os.fsdecode(b"caf\xe9 take.srt"), srt_text([(0.5, 1.5, "bonjour tout le monde")]))
    (tmp_path / os.fsdecode(b"caf\xe9 take.en.srt")).write_bytes(b"")  # broken: its reason names it
    store = Store(tmp_path / "lib.db")
    fid = store.upsert_file(video, None, video.stat().st_size, video.stat().st_mtime_ns, None)
    store.conn.execute("UPDATE files SET status='done', duration=2 WHERE id=?", (fid,))
    report = WordsPass(store, [SubtitleSource()]).run(store.files())
    assert report.words_lines == 1 and report.words_errors == []
    assert [h.text for h in WordsStore(store).lines_of_file(fid)] == ["bonjour tout le monde"]
    (tmp_path / os.fsdecode(b"caf\xe9 take.srt")).unlink()
    report = WordsPass(store, [SubtitleSource()]).run(store.files())
    assert len(report.words_errors) == 1 and "caf\ufffd take.en.srt: empty" in report.words_errors[0][1]
