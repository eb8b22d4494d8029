"""PlayerWidget with real libvlc (frame-callback rendering): the decoded pixels, keys and ranges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from reelseek.core.types import Moment
from reelseek.desktop.player.widget import PlayerWidget
from tests.desktop.frames import closest_scene, scene_references, three_scene_video
from tests.synth.videos import VideoSpec


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> VideoSpec:
    return three_scene_video(tmp_path_factory.mktemp("player") / "three.mp4")


@pytest.fixture(scope="module")
def refs(video: VideoSpec) -> list[np.ndarray]:
    return scene_references(video)


@pytest.fixture
def player(qtbot: QtBot) -> PlayerWidget:
    p = PlayerWidget(render="callback", audio=False)
    p.resize(480, 360)
    qtbot.addWidget(p)
    p.show()
    yield p
    p.shutdown()


def middle_moment(video: VideoSpec, scene: int = 1) -> Moment:
    s = video.scenes[scene]
    return Moment(
        str(video.path), 1, s.start + 0.4, s.end - 0.4, 0.3, (s.start + s.end) / 2, 0.9, duration=video.duration
    )


def wait_for_frame_after(qtbot: QtBot, player: PlayerWidget, count: int = 0) -> None:
    qtbot.waitUntil(lambda: player.vlc.frame_count() > count and player.surface.frame() is not None, timeout=30_000)


def wait_scene(qtbot: QtBot, player: PlayerWidget, refs: list[np.ndarray], scene: int) -> None:
    """Wait for a picture of ``scene``; on a timeout, say what libvlc and the transport were doing."""
    try:
        qtbot.waitUntil(lambda: closest_scene(player.surface.frame(), refs) == scene, timeout=30_000)
    except Exception:
        t = player.transport
        surface, latest = (
            None if f is None else closest_scene(f, refs) for f in (player.surface.frame(), player.vlc.latest_frame())
        )
        pytest.fail(
            f"scene {scene} never shown: surface {surface}, libvlc latest {latest} "
            f"of {player.vlc.frame_count()} pictures, "
            f"state {player.vlc.state()} time {player.vlc.time():.3f}, transport frame {t.frame()} shown {t._shown} "
            f"want {t._want} busy {t._busy} detouring {t._detouring} awaiting {t._awaiting_pause} "
            f"retries {t._retries} tail {t.clock.tail_start()} frames {t.clock.frames}\n" + "\n".join(t.trace())
        )


def test_plays_the_range_and_shows_frames_from_it(
    qtbot: QtBot, player: PlayerWidget, video: VideoSpec, refs: list[np.ndarray]
) -> None:
    m = middle_moment(video)
    assert player.play_moment(m)
    assert player.vlc.render == "callback"
    assert player.timeline.range() == (m.start, m.end)
    wait_for_frame_after(qtbot, player)
    first = player.surface.frame()
    assert first is not None
    assert closest_scene(first, refs) == 1, "the first picture is already from the moment, not from 0 s"
    # It plays the range, then pauses at its end.
    qtbot.waitUntil(lambda: not player.is_playing(), timeout=30_000)
    # It holds the out mark's frame exactly (the last frame of the range), not wherever the poll was.
    assert player.frame() == player.mark_frames()[1] == 35
    qtbot.wait(300)
    assert closest_scene(player.surface.frame(), refs) == 1
    assert "IN 00:00:02:04" in player.range_label.text() and "OUT 00:00:03:05" in player.range_label.text()


def test_keys_shuttle_step_and_jump(
    qtbot: QtBot, player: PlayerWidget, video: VideoSpec, refs: list[np.ndarray]
) -> None:
    m = middle_moment(video, scene=1)
    player.play_moment(m)
    wait_for_frame_after(qtbot, player)
    qtbot.keyClick(player, Qt.Key.Key_K)
    assert not player.is_playing()
    qtbot.keyClick(player, Qt.Key.Key_L)
    assert player.shuttle_rate() == 1.0
    qtbot.keyClick(player, Qt.Key.Key_L)
    assert player.shuttle_rate() == 2.0
    assert player.vlc.rate() == pytest.approx(2.0)
    assert "2×" in player.rate_label.text()
    qtbot.keyClick(player, Qt.Key.Key_Space)
    assert not player.is_playing()

    # Shift+O shows the range's out point: the decoded picture there belongs to the same scene.
    qtbot.keyClick(player, Qt.Key.Key_O, Qt.KeyboardModifier.ShiftModifier)
    assert player.position() == pytest.approx(m.end - 0.1, abs=1e-6)
    n = player.vlc.frame_count()
    wait_for_frame_after(qtbot, player, n)
    qtbot.wait(200)
    assert closest_scene(player.surface.frame(), refs) == 1

    # Shift+Right: one second on, into the next scene.
    qtbot.keyClick(player, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert player.position() == pytest.approx(m.end - 0.1 + 1.0, abs=1e-6)
    wait_scene(qtbot, player, refs, 2)

    # Shift+I jumps back to the in point.
    qtbot.keyClick(player, Qt.Key.Key_I, Qt.KeyboardModifier.ShiftModifier)
    wait_scene(qtbot, player, refs, 1)
    assert player.position() == pytest.approx(m.start, abs=1e-6)

    # Left steps back one frame (1/10 s here), exactly.
    before = player.position()
    qtbot.keyClick(player, Qt.Key.Key_Left)
    assert player.position() == pytest.approx(before - 0.1, abs=1e-6)

    # J plays backwards: the position goes down.
    qtbot.keyClick(player, Qt.Key.Key_J)
    assert player.shuttle_rate() == -1.0
    start = player.position()
    qtbot.wait(400)
    assert player.position() < start - 0.2
    qtbot.keyClick(player, Qt.Key.Key_J)
    assert player.shuttle_rate() == -2.0
    qtbot.keyClick(player, Qt.Key.Key_K)
    assert player.shuttle_rate() == 0.0


def test_timeline_click_seeks(qtbot: QtBot, player: PlayerWidget, video: VideoSpec, refs: list[np.ndarray]) -> None:
    player.play_moment(middle_moment(video, scene=0))
    wait_for_frame_after(qtbot, player)
    player.pause()
    x = round(player.timeline.x_for(5.0))
    qtbot.mouseClick(
        player.timeline,
        Qt.MouseButton.LeftButton,
        pos=player.timeline.rect().center().__class__(x, player.timeline.height() // 2),
    )
    assert player.position() == pytest.approx(5.0, abs=0.2)
    wait_scene(qtbot, player, refs, 2)


def test_missing_file_gives_a_message(qtbot: QtBot, player: PlayerWidget, tmp_path: Path) -> None:
    m = Moment(str(tmp_path / "gone.mp4"), 1, 1.0, 2.0, 0.3, 1.5, offline=True, duration=4.0)
    with qtbot.waitSignal(player.playback_error) as blocker:
        assert not player.play_moment(m)
    assert "gone.mp4" in blocker.args[0] and "offline" in blocker.args[0]
    assert "offline" in player.surface.message()


def test_shutdown_is_idempotent(qtbot: QtBot, player: PlayerWidget, video: VideoSpec) -> None:
    player.play_moment(middle_moment(video))
    wait_for_frame_after(qtbot, player)
    player.shutdown()
    player.shutdown()
    assert not player.transport._poll.isActive()
