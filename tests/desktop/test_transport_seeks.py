"""PlayerTransport's paused seeks against a scripted libvlc: which seeks go out, and when again.

A unit test of one module, so libvlc is a stand-in here that shows (or drops) the picture of each
seek on the Qt event loop the way the real one does from its video thread. The real libvlc runs
the same paths in test_player_frames.py, where the drop this covers shows up only under load.
"""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from reelseek.desktop.player import transport as transport_module
from reelseek.desktop.player.frame_clock import FrameClock
from reelseek.desktop.player.transport import SEEK_RETRIES, PlayerTransport

FPS, FRAMES, GOP = 10, 30, 10  # tail_start() == 19: frames 19-29 are the last GOP, with slack


class ScriptedVlc:
    """Paused libvlc: each set_time shows that frame's picture ~20 ms later, unless told to drop it."""

    render = "callback"

    def __init__(self) -> None:
        self._state = "stopped"
        self._count = 0
        self._latest: int | None = None
        self.seeks: list[int] = []  # frame of every set_time, in order
        self.drop: list[bool] = []  # per future seek: True = show nothing (libvlc dropped it)
        self.redisplay_only = False  # answer seeks by redisplaying the old picture (identical frames)

    # what PlayerTransport uses
    def load(self, _path: str, start: float = 0.0) -> None:
        self._state = "playing"
        QTimer.singleShot(20, lambda: self._display(math.floor(start * FPS)))

    def pause(self) -> None:
        self._state = "paused"

    def play(self) -> None:
        self._state = "playing"

    def stop(self) -> None:
        self._state = "stopped"

    def state(self) -> str:
        return self._state

    def set_rate(self, _rate: float) -> None:
        pass

    def time(self) -> float:
        return 0.0

    def set_time(self, seconds: float) -> None:
        frame = math.floor(seconds * FPS)
        self.seeks.append(frame)
        if self.drop and self.drop.pop(0):
            return
        if self.redisplay_only:
            for i in range(12):
                QTimer.singleShot(20 + 100 * i, lambda: self._display(self._latest))
            return
        QTimer.singleShot(20, lambda: self._display(frame))

    def frame_count(self) -> int:
        return self._count

    def latest_frame(self) -> int | None:
        return self._latest

    def _display(self, frame: int | None) -> None:
        self._latest = frame
        self._count += 1


@pytest.fixture
def rig(qtbot: QtBot) -> tuple[PlayerTransport, ScriptedVlc]:
    vlc = ScriptedVlc()
    t = PlayerTransport(vlc)  # type: ignore[arg-type]
    t.set_clock(FrameClock.for_media(FPS, FRAMES / FPS, keyframe_interval=GOP / FPS))
    assert t.clock.tail_start() == 19
    yield t, vlc
    t.shutdown()


def paused_at(qtbot: QtBot, t: PlayerTransport, vlc: ScriptedVlc, frame: int) -> None:
    t.open("/footage/clip.mov", frame, play=False)
    qtbot.waitUntil(lambda: vlc.state() == "paused" and not t._busy and vlc.latest_frame() == frame, timeout=5000)
    vlc.seeks.clear()


def settled(t: PlayerTransport) -> bool:
    return not t._busy and t._want is None


def test_a_dropped_seek_goes_out_again_and_the_frame_is_shown(qtbot: QtBot, rig) -> None:
    t, vlc = rig
    paused_at(qtbot, t, vlc, 5)
    vlc.drop = [True]
    t.step(1)
    qtbot.waitUntil(lambda: settled(t) and vlc.latest_frame() == 6, timeout=10_000)
    assert vlc.seeks == [6, 6]


def test_back_from_the_last_gop_detour_a_dropped_seek_detours_again(qtbot: QtBot, rig) -> None:
    # The CI failure: on frame 29, one step back; the detour showed 18, the seek to 28 nothing.
    t, vlc = rig
    paused_at(qtbot, t, vlc, 29)
    vlc.drop = [False, True]
    t.step(-1)
    assert t.frame() == 28
    qtbot.waitUntil(lambda: settled(t) and vlc.latest_frame() == 28, timeout=10_000)
    # Out to 18, in to 28 (dropped); out to 17 (a picture unlike the last detour's), in to 28.
    assert vlc.seeks == [18, 28, 17, 28]


def test_a_libvlc_that_never_answers_is_asked_a_bounded_number_of_times(qtbot: QtBot, rig, monkeypatch) -> None:
    monkeypatch.setattr(transport_module, "SETTLE_MAX_MS", 300)
    t, vlc = rig
    paused_at(qtbot, t, vlc, 5)
    vlc.drop = [True] * 10
    t.step(1)
    qtbot.waitUntil(lambda: settled(t), timeout=10_000)
    qtbot.wait(700)  # nothing more goes out after giving up
    assert vlc.seeks == [6] * (1 + SEEK_RETRIES)
    assert t.frame() == 6  # the playhead keeps the frame asked for


def test_a_seek_answered_only_by_redisplays_goes_out_again_a_bounded_number_of_times(qtbot: QtBot, rig) -> None:
    # Under load libvlc redisplays the old picture and never applies the seek; black frames look
    # the same. The transport cannot tell them apart, so it asks again, but not forever.
    t, vlc = rig
    paused_at(qtbot, t, vlc, 5)
    vlc.redisplay_only = True
    t.step(1)
    qtbot.waitUntil(lambda: settled(t), timeout=15_000)
    qtbot.wait(300)
    assert vlc.seeks == [6] * (1 + SEEK_RETRIES)
    assert any("unchanged" in line for line in t.trace())


def test_a_seek_answered_with_redisplays_is_asked_again_until_its_frame_shows(qtbot: QtBot, rig) -> None:
    t, vlc = rig
    paused_at(qtbot, t, vlc, 10)
    vlc.redisplay_only = True
    t.step(5)
    qtbot.waitUntil(lambda: len(vlc.seeks) == 2, timeout=10_000)
    vlc.redisplay_only = False  # too late for the second seek; it answers only redisplays
    qtbot.waitUntil(lambda: settled(t) and vlc.latest_frame() == 15, timeout=15_000)
    assert vlc.seeks == [15, 15, 15]


def test_a_newer_step_during_a_dropped_seek_wins_over_the_retry(qtbot: QtBot, rig) -> None:
    t, vlc = rig
    paused_at(qtbot, t, vlc, 5)
    vlc.drop = [True]
    t.step(1)
    t.step(1)  # key repeat while the first is in flight: coalesced to the newest frame
    qtbot.waitUntil(lambda: settled(t) and vlc.latest_frame() == 7, timeout=10_000)
    assert vlc.seeks == [6, 7]
