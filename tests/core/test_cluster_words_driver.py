"""The cluster words driver alone (a stand-in for Ray's four calls, a real store): what it commits, per-node
progress, a lost worker's file retried, a file that kills every worker marked with the reason."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from reelseek.core import cluster_words
from reelseek.core.cluster import ClusterConfig
from reelseek.core.cluster_words_worker import WordsResult
from reelseek.core.store import DONE, Store
from reelseek.core.store_words import WordsStore
from reelseek.core.types import IndexProgress
from reelseek.core.words.types import SAID, SUBTITLE, WRITTEN, WordLine


class Source:
    def __init__(self, name: str) -> None:
        self.name, self.version, self.calls = name, "v1", 0

    def extract(self, path: str, cancel: threading.Event | None = None) -> list[WordLine]:
        self.calls += 1  # only the subtitle source is read here, on the driver
        return [WordLine(0.0, 1.0, f"sub of {Path(path).name}", self.name)]


class StubWorker:
    """Reads nothing: answers lines named after the file, or dies on files named 'bad'."""

    deaths: ClassVar[dict[str, int]] = {}
    asked: ClassVar[list[tuple[str, list[str]]]] = []

    def __init__(self, recipe: object, speech: object, ocr: object, device: str, paths: object, threads: int) -> None:
        assert device == "cpu" and threads == 1

    def ping(self) -> tuple[str, int]:
        return "10.0.0.1#abc", 1

    def words(self, file_id: int, path: str, names: list[str]) -> WordsResult:
        name = Path(path).name
        StubWorker.asked.append((name, names))
        if name.startswith("bad") or (name.startswith("flaky") and not StubWorker.deaths.get(name)):
            StubWorker.deaths[name] = StubWorker.deaths.get(name, 0) + 1
            raise RuntimeError("The actor died unexpectedly before finishing this task")
        lines = {n: [WordLine(0.5, 2.0, f"{n} of {name}", n)] for n in names if n == SAID}
        errors = {n: "no text reader here" for n in names if n == WRITTEN}
        return WordsResult(file_id, "10.0.0.1#abc", lines=lines, errors=errors)


class Ref:
    """An object ref: hashable, runs the call when Ray would hand its result over."""

    def __init__(self, run: Any) -> None:
        self.run = run


class FakeRay:
    """ray.put/nodes/remote/wait/get/kill/cancel, run in this process, one answer at a time."""

    def put(self, x: object) -> object:
        return x

    def nodes(self) -> list[dict[str, Any]]:
        return [{"NodeID": "ab" * 28, "Alive": True, "Resources": {"CPU": 2.0}}]

    def remote(self, cls: type) -> Any:
        def actor(*args: object) -> Any:
            impl = cls(*args)
            calls = {m: SimpleNamespace(remote=getattr(impl, m)) for m in ("ping", "words")}
            return SimpleNamespace(**{m: SimpleNamespace(remote=self._later(c.remote)) for m, c in calls.items()})

        return SimpleNamespace(options=lambda **opts: SimpleNamespace(remote=actor))

    @staticmethod
    def _later(fn: Any) -> Any:
        return lambda *a: Ref(lambda: fn(*a))

    def wait(self, refs: list[Any], num_returns: int, timeout: float) -> tuple[list[Any], list[Any]]:
        return refs[:1], refs[1:]

    def get(self, ref: Any, timeout: float | None = None) -> Any:
        return [r.run() for r in ref] if isinstance(ref, list) else ref.run()

    def kill(self, actor: object) -> None:
        pass

    def cancel(self, ref: object, force: bool = False) -> None:
        pass


@pytest.fixture()
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, list[Any]]:
    monkeypatch.setattr(cluster_words, "connect", lambda cfg: FakeRay())
    monkeypatch.setattr(cluster_words, "WordsWorker", StubWorker)
    StubWorker.deaths, StubWorker.asked = {}, []
    store = Store(tmp_path / "lib.sqlite3")
    folder = store.add_folder(tmp_path)
    rows = []
    for name in ("a.mp4", "flaky.mp4", "bad.mp4"):
        (tmp_path / name).write_bytes(b"x")
        fid = store.upsert_file(tmp_path / name, folder, 1, 1, name)
        store.set_status(fid, DONE)
    for row in store.files():
        rows.append(dataclasses.replace(row, duration=10.0))
    return store, rows


def test_driver_commits_worker_lines_retries_lost_files_and_reports_nodes(setup: tuple[Store, list[Any]]) -> None:
    store, rows = setup
    sub, said, written = Source(SUBTITLE), Source(SAID), Source(WRITTEN)
    seen: list[IndexProgress] = []
    runner = cluster_words.ClusterWordsPass(store, [sub, said, written], Path("/nowhere"), ClusterConfig(workers=1))
    report = runner.run(rows, progress=seen.append)
    assert sub.calls == 3 and said.calls == 0 and written.calls == 0  # speech and OCR only on workers
    ws = WordsStore(store)
    by_name = {Path(r.path).name: r.id for r in rows}
    # flaky.mp4 killed its worker once, then was read by the restarted one: committed once.
    assert StubWorker.deaths == {"flaky.mp4": 1, "bad.mp4": 3}
    for name in ("a.mp4", "flaky.mp4"):
        st = ws.statuses(by_name[name])
        assert st[SAID].status == "done" and st[SUBTITLE].status == "done", name
        assert st[WRITTEN].status == "error" and st[WRITTEN].reason == "no text reader here"
        assert [ln.text for ln in ws.lines_of_file(by_name[name], [SAID])] == [f"said of {name}"]
    # bad.mp4 killed a worker on every try: after max_attempts its sources say so (retried next run).
    bad = ws.statuses(by_name["bad.mp4"])
    assert bad[SAID].status == bad[WRITTEN].status == "error" and "died on this file 3 times" in str(bad[SAID].reason)
    assert report.words_files == 3 and report.words_lines == 2 + 3  # two said lines, three subtitles
    # Progress names the node that read the words, with its rate.
    assert any(p.phase == "words" and p.nodes and p.nodes[0][0] == "10.0.0.1#abc" for p in seen)
    assert seen[-1].files_done == 3 and seen[-1].nodes[0][1] > 0
    # A second run asks the workers again only for what failed (errors are retried, as locally),
    # and commits nothing twice.
    StubWorker.asked = []
    again = runner.run([r for r in rows if Path(r.path).name != "bad.mp4"])
    assert sorted(StubWorker.asked) == [("a.mp4", [WRITTEN]), ("flaky.mp4", [WRITTEN])]
    assert again.words_lines == 0 and sub.calls == 3
    assert [ln.text for ln in ws.lines_of_file(by_name["a.mp4"], [SAID])] == ["said of a.mp4"]
