"""The CLI progress bar fits the terminal: `\\r` redraws never wider than it, one final newline."""

from __future__ import annotations

import io
import os
import shutil

import pytest

from reelseek.core.cli_progress import ProgressBar, cells, clip_left
from reelseek.core.types import IndexProgress

LONG = "/footage/day 3/A003_C012_0417XY_a very long descriptive clip name from the camera card 東京.mov"


class FakeTty(io.StringIO):
    """A terminal stream: isatty, utf-8."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def progress(done: int, phase: str = "indexing", current: str | None = LONG, nodes=()) -> IndexProgress:
    return IndexProgress(
        files_done=done,
        files_total=10,
        current=current,
        video_seconds_done=done * 12.5,
        video_seconds_total=125.0,
        elapsed=1.0 + done,
        phase=phase,
        nodes=nodes,
    )


def run_bar(stream: io.StringIO, width: int | list[int], clock: FakeClock) -> ProgressBar:
    widths = iter(width if isinstance(width, list) else [width] * 100)
    bar = ProgressBar(stream, columns=lambda: next(widths), clock=clock)
    bar(progress(0, phase="scanning", current=None))
    for i in range(1, 10):
        clock.t += 1.0
        bar(progress(i, nodes=(("gpu-box", 40.2), ("laptop", 7.5)) if i % 2 else ()))
    bar(progress(10, phase="finished", current=None))
    bar(progress(10, phase="finished", current=None))  # a second final report adds nothing
    bar.close()
    return bar


@pytest.mark.parametrize("width", [40, 80, 200])
def test_tty_lines_fit_the_width_and_end_once(width: int) -> None:
    out, clock = FakeTty(), FakeClock()
    run_bar(out, width, clock)
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1  # updates in place, one newline at the end
    frames = text[:-1].split("\r")
    assert frames[0] == "" and len(frames) == 12  # scanning + 9 updates + finished
    for frame in frames[1:]:
        assert cells(frame) <= width - 1, (width, frame)
        assert cells(frame) == width - 1  # padded so a shorter line wipes the longer one before it
    assert "scanning" in frames[1]
    assert "10/10 files" in frames[-1] and "finished" in frames[-1]
    # The file name keeps its end (what tells clips apart), cut from the left.
    assert any("東京.mov" in f for f in frames)
    if width >= 200:
        assert any(LONG.rsplit("/", 1)[1] in f for f in frames) and "video-s/s" in frames[2]
    else:
        assert any("…" in f and f.rstrip().endswith("東京.mov") for f in frames)


def test_resize_is_followed_each_refresh() -> None:
    out, clock = FakeTty(), FakeClock()
    widths = [120, 120, 60, 60, 30, 30, 90, 90, 45, 45, 45, 45]
    run_bar(out, widths, clock)
    frames = out.getvalue()[:-1].split("\r")[1:]
    assert [cells(f) + 1 for f in frames] == widths[: len(frames)]


def test_default_width_comes_from_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # A StringIO has no terminal of its own: the width falls back to shutil's (COLUMNS) and is re-read.
    out, clock = FakeTty(), FakeClock()
    bar = ProgressBar(out, clock=clock)
    for cols in (50, 100):
        monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=(80, 24), c=cols: os.terminal_size((c, 24)))
        clock.t += 1.0
        bar(progress(3))
    frames = out.getvalue().split("\r")[1:]
    assert [cells(f) for f in frames] == [49, 99]


def test_redraws_are_rate_limited_on_a_tty() -> None:
    out, clock = FakeTty(), FakeClock()
    bar = ProgressBar(out, columns=lambda: 80, clock=clock)
    for _ in range(50):  # 50 reports within 0.1 s: one redraw
        clock.t += 0.002
        bar(progress(1))
    assert out.getvalue().count("\r") == 1


def test_not_a_tty_writes_a_full_line_every_five_seconds() -> None:
    out, clock = io.StringIO(), FakeClock()
    bar = ProgressBar(out, columns=lambda: 40, clock=clock)
    for _ in range(21):  # 0..10 s in half seconds: lines at 0, 5, 10
        bar(progress(4))
        clock.t += 0.5
    bar(progress(10, phase="finished", current=None))
    bar.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 4 and lines[-1].endswith("finished")
    assert lines[0].endswith(LONG.rsplit("/", 1)[1])  # logs keep the whole name, no width limit


def test_close_after_an_error_ends_the_line_once() -> None:
    out, clock = FakeTty(), FakeClock()
    bar = ProgressBar(out, columns=lambda: 80, clock=clock)
    bar(progress(2))
    bar.close()
    bar.close()
    assert out.getvalue().count("\n") == 1 and out.getvalue().endswith("\n")


def test_ascii_terminal_gets_an_ascii_ellipsis() -> None:
    class AsciiTty(FakeTty):
        encoding = "ascii"

    out = AsciiTty()
    ProgressBar(out, columns=lambda: 60, clock=FakeClock())(progress(2, current="/x/" + "a" * 80 + ".mov"))
    assert "...a" in out.getvalue() and "…" not in out.getvalue()


def test_clip_left_counts_wide_characters() -> None:
    assert clip_left("abc.mov", 10) == "abc.mov"
    assert clip_left("abcdefgh.mov", 8) == "…fgh.mov"
    assert cells(clip_left("東京東京東京.mov", 9)) <= 9
    assert clip_left("abcdef", 1) == "…"
