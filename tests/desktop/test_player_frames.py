"""Frame-exact player: stepping, marks and restarts, checked on the pixels on screen.

The clip is a frame counter (every frame its own grey), so each assertion on the picture names
the exact frame on screen, not just a time near it. While playing, the pictures are real libvlc's;
while paused, the frame decoded exactly by core (PyAV) replaces libvlc's picture, which under load
can be a neighbour's or a late one of an earlier seek.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from reelseek.core.timecode import Rate, SourceClock
from reelseek.core.types import Moment
from reelseek.desktop.player.media import ExactFrame
from reelseek.desktop.player.widget import PlayerWidget
from tests.desktop.frames import counter_video, frame_number

FRAMES, FPS = 30, 10


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return counter_video(tmp_path_factory.mktemp("counter") / "counter.mp4", frames=FRAMES, fps=FPS)


@pytest.fixture
def player(qtbot: QtBot) -> PlayerWidget:
    p = PlayerWidget(render="callback", audio=False)
    p.resize(480, 360)
    qtbot.addWidget(p)
    p.show()
    yield p
    p.shutdown()


def moment(clip: Path, start: float, end: float) -> Moment:
    return Moment(str(clip), 1, start, end, 0.3, (start + end) / 2, 0.9, duration=FRAMES / FPS)


def shown(player: PlayerWidget) -> int | None:
    image = player.surface.frame()
    return None if image is None else frame_number(image)


def wait_shown(qtbot: QtBot, player: PlayerWidget, n: int) -> None:
    try:
        qtbot.waitUntil(lambda: shown(player) == n, timeout=15_000)
    except Exception:
        t = player.transport
        pytest.fail(
            f"frame {n} never shown: surface {shown(player)}, libvlc latest "
            f"{frame_number(player.vlc.latest_frame()) if player.vlc.latest_frame() else None}, "
            f"state {player.vlc.state()}, transport frame {t.frame()} shown {t._shown} want {t._want} "
            f"busy {t._busy} detouring {t._detouring} awaiting {t._awaiting_pause}\n" + "\n".join(t.trace())
        )


def open_paused(qtbot: QtBot, player: PlayerWidget, clip: Path, start: float = 1.0, end: float = 2.0) -> None:
    """Open a moment, wait for the rate probe and libvlc's first picture, then pause (K)."""
    assert player.play_moment(moment(clip, start, end))
    qtbot.waitUntil(lambda: player.clock.frames == FRAMES and player.vlc.frame_count() > 0, timeout=60_000)
    qtbot.keyClick(player, Qt.Key.Key_K)
    assert not player.is_playing()
    wait_shown(qtbot, player, player.frame())


def test_first_picture_is_the_in_point_and_comes_at_once(qtbot: QtBot, player: PlayerWidget, clip: Path) -> None:
    events: list[tuple[str, int, int | None]] = []
    ticks = [0]  # event-loop passes: a count of work, not of wall-clock time
    counter = QTimer()
    counter.setInterval(0)
    counter.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    counter.start()
    player.picture_shown.connect(lambda kind: events.append((kind, ticks[0], shown(player))))
    placeholder = QImage(32, 18, QImage.Format.Format_RGB32)
    placeholder.fill(QColor("#336699"))
    assert player.play_moment(moment(clip, 1.0, 2.0), placeholder=placeholder)
    qtbot.waitUntil(lambda: any(e[0] == "video" for e in events), timeout=60_000)
    counter.stop()
    print("first pictures (kind, event-loop passes, frame):", events)
    # The card's thumbnail is on screen before the event loop ran at all (0 passes).
    assert events[0][0] == "thumbnail" and events[0][1] == 0
    # Then the in point (frame 10), never the file's start: core's still and libvlc's first picture.
    # (What the surface shows when the GUI thread gets to libvlc's notification is its newest
    # picture, later on a busy machine; the first one decoded is kept for this check.)
    first = player.vlc.first_frame()
    # libvlc skips pictures that are already late when decoded, so a starved machine may show a
    # later one: what must hold is that it lies inside the moment (frames 10-19), never frame 0.
    assert first is not None and 10 <= frame_number(first) < 20
    for kind, _passes, frame in events:
        if kind == "still":
            assert frame == 10
    # A still, when shown, came before libvlc's picture and is never shown on top of it.
    kinds = [e[0] for e in events]
    assert kinds in (["thumbnail", "video"], ["thumbnail", "still", "video"])


def test_step_at_the_start_stays_on_frame_zero(qtbot: QtBot, player: PlayerWidget, clip: Path) -> None:
    open_paused(qtbot, player, clip, 0.0, 1.0)
    qtbot.keyClick(player, Qt.Key.Key_Home)
    wait_shown(qtbot, player, 0)
    qtbot.keyClick(player, Qt.Key.Key_Left)
    assert player.frame() == 0
    qtbot.keyClick(player, Qt.Key.Key_Right)
    assert player.frame() == 1
    wait_shown(qtbot, player, 1)
    qtbot.keyClick(player, Qt.Key.Key_Left)
    qtbot.keyClick(player, Qt.Key.Key_Left)
    assert player.frame() == 0
    wait_shown(qtbot, player, 0)


def test_step_in_the_middle_is_exact(qtbot: QtBot, player: PlayerWidget, clip: Path) -> None:
    open_paused(qtbot, player, clip)
    player.transport.seek_frame(15)
    wait_shown(qtbot, player, 15)
    for expected in (16, 17):
        qtbot.keyClick(player, Qt.Key.Key_Right)
        assert player.frame() == expected
        wait_shown(qtbot, player, expected)
    for expected in (16, 15):
        qtbot.keyClick(player, Qt.Key.Key_Left)
        assert player.frame() == expected
        wait_shown(qtbot, player, expected)
    assert player.position() == pytest.approx(1.5)
    # Shift+arrows: one second (10 frames here).
    qtbot.keyClick(player, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert player.frame() == 25
    wait_shown(qtbot, player, 25)
    qtbot.keyClick(player, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(player, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert player.frame() == 5
    wait_shown(qtbot, player, 5)


def test_step_at_the_end_stays_and_space_restarts(qtbot: QtBot, player: PlayerWidget, clip: Path) -> None:
    open_paused(qtbot, player, clip)
    qtbot.keyClick(player, Qt.Key.Key_End)
    assert player.frame() == FRAMES - 1
    wait_shown(qtbot, player, FRAMES - 1)
    qtbot.keyClick(player, Qt.Key.Key_Right)
    assert player.frame() == FRAMES - 1
    qtbot.keyClick(player, Qt.Key.Key_Left)
    assert player.frame() == FRAMES - 2
    wait_shown(qtbot, player, FRAMES - 2)
    qtbot.keyClick(player, Qt.Key.Key_End)
    # Space on the last frame plays again from the in mark (frame 10), like an NLE at the end.
    qtbot.keyClick(player, Qt.Key.Key_Space)
    assert player.is_playing()
    qtbot.waitUntil(lambda: player.vlc.state() == "playing", timeout=30_000)
    qtbot.waitUntil(lambda: (shown(player) or 0) >= 10 and (shown(player) or 99) < FRAMES - 2, timeout=30_000)


@pytest.mark.parametrize("key", [Qt.Key.Key_Space, Qt.Key.Key_L])
def test_play_again_after_reaching_the_end_of_the_file(
    qtbot: QtBot, player: PlayerWidget, clip: Path, key: Qt.Key
) -> None:
    open_paused(qtbot, player, clip, 2.0, 2.5)
    qtbot.keyClick(player, Qt.Key.Key_L)  # past the out mark: L plays on to the end of the file
    qtbot.waitUntil(lambda: player.transport.has_ended(), timeout=60_000)
    assert not player.is_playing()
    assert player.frame() == FRAMES - 1
    seen: list[int] = []

    def record() -> None:
        image = player.vlc.latest_frame()
        if image is not None:  # (a notification queued before the reload finds no picture)
            seen.append(frame_number(image))

    player.vlc.frame_ready.connect(record)
    qtbot.keyClick(player, key)
    assert player.is_playing()
    # It starts over at the in mark (frame 20) and reaches the end again.
    qtbot.waitUntil(lambda: player.transport.has_ended() and not player.is_playing(), timeout=60_000)
    first = player.vlc.first_frame()  # the first picture after the restart (kept by VlcPlayer)
    # (libvlc skips a picture that is already late when decoded: on a starved machine 21 or 22.)
    assert first is not None and 20 <= frame_number(first) <= 22
    assert seen and max(seen) >= 27, seen


def test_marks_set_go_to_and_show_source_timecode(qtbot: QtBot, player: PlayerWidget, clip: Path) -> None:
    source = SourceClock.parse(Rate.of(FPS), "01:00:00:00")
    assert player.play_moment(moment(clip, 1.0, 2.0), source)
    qtbot.waitUntil(lambda: player.clock.frames == FRAMES and player.vlc.frame_count() > 0, timeout=60_000)
    qtbot.keyClick(player, Qt.Key.Key_K)
    # Initially the marks are the moment's range: frames 10..19 (the out mark is inclusive).
    assert player.mark_frames() == (10, 19)
    assert player.timeline.marks() == (1.0, 2.0)
    assert "IN 01:00:01:00" in player.range_label.text() and "OUT 01:00:01:09" in player.range_label.text()
    player.transport.seek_frame(12)
    qtbot.keyClick(player, Qt.Key.Key_I)
    player.transport.seek_frame(21)
    qtbot.keyClick(player, Qt.Key.Key_O)
    assert player.mark_frames() == (12, 21)
    assert player.marks() == pytest.approx((1.2, 2.2))
    assert player.timeline.marks() == pytest.approx((1.2, 2.2))
    assert "IN 01:00:01:02" in player.range_label.text() and "OUT 01:00:02:01" in player.range_label.text()
    assert "(10 frames at 10 fps)" in player.range_label.text()
    marked = player.marked_moment()
    assert marked is not None and (marked.start, marked.end) == pytest.approx((1.2, 2.2))
    # Shift+I / Shift+O go to them, picture included.
    qtbot.keyClick(player, Qt.Key.Key_Home)
    qtbot.keyClick(player, Qt.Key.Key_I, Qt.KeyboardModifier.ShiftModifier)
    assert player.frame() == 12
    wait_shown(qtbot, player, 12)
    qtbot.keyClick(player, Qt.Key.Key_O, Qt.KeyboardModifier.ShiftModifier)
    assert player.frame() == 21
    wait_shown(qtbot, player, 21)
    assert player.time_label.text().startswith("01:00:02:01")
    # An out mark before the in mark moves the in mark along (never an empty or inverted range).
    player.transport.seek_frame(5)
    qtbot.keyClick(player, Qt.Key.Key_O)
    assert player.mark_frames() == (5, 5)
    # Seconds mode for editors who prefer it.
    player.set_timecode_mode("seconds")
    assert "IN 00:00:00.500" in player.range_label.text()
    # B hands the marked range on to the selects.
    with qtbot.waitSignal(player.add_to_selects_requested) as blocker:
        qtbot.keyClick(player, Qt.Key.Key_B)
    assert (blocker.args[0].start, blocker.args[0].end) == pytest.approx((0.5, 0.6))


def test_a_new_moment_plays_at_normal_speed_after_shuttling(qtbot: QtBot, player: PlayerWidget, clip: Path) -> None:
    open_paused(qtbot, player, clip)
    for _ in range(3):
        qtbot.keyClick(player, Qt.Key.Key_L)
    assert player.shuttle_rate() == 4.0
    assert player.play_moment(moment(clip, 0.5, 1.5))
    assert player.shuttle_rate() == 1.0 and player.vlc.rate() == pytest.approx(1.0)
    assert player.mark_frames() == (5, 14)


def test_the_paused_picture_is_the_exact_frame_whatever_libvlc_shows_late(
    qtbot: QtBot, player: PlayerWidget, clip: Path
) -> None:
    open_paused(qtbot, player, clip)
    stale = player.vlc.first_frame()  # libvlc's first picture from the open (10, or 11 when it ran late)
    assert stale is not None and 10 <= frame_number(stale) <= 12
    player.transport.seek_frame(15)
    wait_shown(qtbot, player, 15)
    qtbot.waitUntil(lambda: player._exact_shown is not None, timeout=30_000)
    # libvlc hands over a late picture of an earlier seek (what it does under load): not shown.
    player.vlc._latest = stale
    player.vlc.frame_ready.emit()
    qtbot.wait(100)
    assert shown(player) == 15
    # An exact frame that arrives after the playhead moved on is not shown either.
    player._on_media_exact_ready(0, ExactFrame(str(clip), 15, stale))
    qtbot.keyClick(player, Qt.Key.Key_Right)
    wait_shown(qtbot, player, 16)
    player._on_media_exact_ready(0, ExactFrame(str(clip), 15, stale))
    assert shown(player) == 16


def test_stepping_decodes_the_newest_frame_not_every_key_repeat(qtbot: QtBot, player: PlayerWidget, clip: Path) -> None:
    open_paused(qtbot, player, clip)
    before = player._media.exact_decodes
    for _ in range(8):  # key repeat: eight steps before the event loop runs once
        player.step_frames(1)
    assert player.frame() == 18
    wait_shown(qtbot, player, 18)
    # The first decode may have started at once; the six in between were dropped while queued.
    assert player._media.exact_decodes - before <= 2
