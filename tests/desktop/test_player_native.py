"""The player's native-embedding path (libvlc draws into our X11 window), under Xvfb.

These run only in the xcb child process that test_xvfb_runner.py starts, or directly with
``xvfb-run -a env REELSEEK_QT_XCB=1 pytest -m xvfb tests/desktop``.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QGuiApplication, QImage
from pytestqt.qtbot import QtBot

from reelseek.core.types import Moment
from reelseek.desktop.player.vlc_player import native_render_available
from reelseek.desktop.player.widget import PlayerWidget
from tests.desktop.frames import closest_scene, scene_references, three_scene_video
from tests.synth.videos import VideoSpec

pytestmark = pytest.mark.xvfb


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> VideoSpec:
    return three_scene_video(tmp_path_factory.mktemp("native") / "three.mp4")


@pytest.fixture(scope="module")
def refs(video: VideoSpec) -> list[np.ndarray]:
    return scene_references(video)


def screen_grab(player: PlayerWidget) -> QImage:
    """What is on the X screen where the video surface is (libvlc's pixels, not Qt's)."""
    surface = player.surface
    top_left = surface.mapToGlobal(surface.rect().topLeft())
    screen = QGuiApplication.primaryScreen()
    return screen.grabWindow(0, top_left.x(), top_left.y(), surface.width(), surface.height()).toImage()


def test_xcb_gives_a_window_handle_and_vlc_draws_into_it(
    qtbot: QtBot, video: VideoSpec, refs: list[np.ndarray]
) -> None:
    assert QGuiApplication.platformName() == "xcb"
    assert native_render_available()
    player = PlayerWidget(render="auto", audio=False)
    qtbot.addWidget(player)
    player.resize(520, 420)
    player.show()
    qtbot.waitExposed(player)
    assert player.vlc.render == "native"
    assert player.surface.is_native()
    assert player.vlc.window_id() == player.surface.window_handle() != 0

    s = video.scenes[1]
    m = Moment(str(video.path), 1, s.start + 0.3, s.end - 0.3, 0.3, (s.start + s.end) / 2, 0.9, duration=video.duration)
    assert player.play_moment(m)
    qtbot.waitUntil(lambda: player.vlc.state() == "playing" and player.vlc.time() > m.start + 0.3, timeout=30_000)
    # The picture on screen inside our widget is VLC's rendering of the moment.
    qtbot.waitUntil(lambda: closest_scene(screen_grab(player), refs) == 1, timeout=30_000)
    qtbot.waitUntil(lambda: not player.is_playing(), timeout=30_000)
    player.shutdown()
