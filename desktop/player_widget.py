"""PlayerWidget: the embedded VLC player with the moment's range on its timeline and editor keys."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from reelseek.core.types import Moment
from reelseek.desktop import theme
from reelseek.desktop.timecode import timecode
from reelseek.desktop.timeline import TimelineWidget
from reelseek.desktop.video_surface import VideoSurfaceWidget
from reelseek.desktop.vlc_player import VlcPlayer

POLL_MS = 40  # timeline/time refresh; also how late the stop at the range's end can be
SHUTTLE_MAX = 8.0
KEYS_HELP = "Space play/pause · J/K/L shuttle · ←/→ one frame · Shift+←/→ one second · I/O range in/out"


class PlayerWidget(QWidget):
    """Plays a moment: loads the file, starts at the range's start, pauses at its end.

    Keys (when the player has focus): Space play/pause; J/K/L shuttle (J reverse -1/-2/-4/-8,
    K pause, L forward 1/2/4/8x); Left/Right one frame; Shift+Left/Right one second; I/O jump
    to the range's in/out point; Home/End file start/end.
    """

    moment_loaded = Signal(object)  # Moment
    playback_error = Signal(str)

    def __init__(self, *, render: str = "auto", audio: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PlayerPanel")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._vlc = VlcPlayer(render=render, audio=audio, parent=self)
        self._moment: Moment | None = None
        self._stop_at: float | None = None
        self._shuttle = 0.0  # <0 reverse rate, 0 paused, >0 forward rate
        self._reverse_pos = 0.0
        self._closed = False
        # libvlc's clock advances in ~250 ms steps; the display interpolates between them.
        self._raw_time = -1.0
        self._raw_at = 0.0
        self._smooth = 0.0

        self.info = QLabel("No moment loaded")
        self.info.setObjectName("PlayerInfo")
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.surface = VideoSurfaceWidget(native=self._vlc.render == "native", parent=self)
        self.surface.setFocusProxy(self)
        self.timeline = TimelineWidget(self)
        self.timeline.seek_requested.connect(self._on_timeline_seek_requested)
        self.play_button = self._tool("play", "Play / pause (Space)", self.toggle_play)
        self._tool_buttons = [
            self._tool("mark-in", "Jump to the range's start (I)", self.jump_in),
            self._tool("step-back", "Back one frame (←)", lambda: self.step_frames(-1)),
            self.play_button,
            self._tool("step-forward", "Forward one frame (→)", lambda: self.step_frames(1)),
            self._tool("mark-out", "Jump to the range's end (O)", self.jump_out),
        ]
        self.time_label = QLabel(f"{timecode(0)} / {timecode(0)}")
        self.time_label.setObjectName("TimeLabel")
        # Clipped rather than widening the window when the player pane is made very narrow.
        self.time_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.time_label.setMinimumWidth(90)
        self.range_label = QLabel("")
        self.range_label.setObjectName("RangeLabel")
        self.range_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.rate_label = QLabel("")
        self.rate_label.setObjectName("TimeLabel")
        self.keys_label = QLabel(KEYS_HELP)
        self.keys_label.setObjectName("PlayerInfo")
        self.keys_label.setWordWrap(True)

        controls = QHBoxLayout()
        controls.setSpacing(2)
        for b in self._tool_buttons:
            controls.addWidget(b)
        controls.addSpacing(10)
        controls.addWidget(self.time_label, 1)
        controls.addWidget(self.rate_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 8)
        layout.setSpacing(6)
        layout.addWidget(self.info)
        layout.addWidget(self.surface, 1)
        layout.addWidget(self.timeline)
        layout.addLayout(controls)
        layout.addWidget(self.range_label)
        layout.addWidget(self.keys_label)

        if self._vlc.render == "native":
            self._vlc.set_window(self.surface.window_handle())
        else:
            self._vlc.frame_ready.connect(self._on_vlc_frame_ready)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll_timeout)
        self._reverse = QTimer(self)
        self._reverse.setInterval(POLL_MS)
        self._reverse.timeout.connect(self._on_reverse_timeout)

    def _tool(self, icon_name: str, tip: str, slot: object) -> QToolButton:
        b = QToolButton(self)
        b.setIcon(theme.icon(icon_name))
        b.setIconSize(QSize(20, 20))
        b.setToolTip(tip)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the player
        b.clicked.connect(slot)
        return b

    # --- public API -------------------------------------------------------------------------

    @property
    def vlc(self) -> VlcPlayer:
        return self._vlc

    def moment(self) -> Moment | None:
        return self._moment

    def play_moment(self, moment: Moment) -> bool:
        """Load the moment's file, seek to its start, play until its end. False if the file is missing."""
        self._moment = moment
        name = Path(moment.path).name
        self.info.setText(name)
        self.info.setToolTip(moment.path)
        self.range_label.setText(f"IN {timecode(moment.start)}   OUT {timecode(moment.end)}")
        self.timeline.set_duration(moment.duration or moment.end)
        self.timeline.set_range(moment.start, moment.end)
        self.timeline.set_position(moment.start)
        if not Path(moment.path).exists():
            self._vlc.stop()
            self._poll.stop()
            reason = "is offline (its drive is not mounted)" if moment.offline else "cannot be found"
            msg = f"{name} {reason}."
            self.surface.set_message(msg)
            self.playback_error.emit(msg)
            return False
        self.surface.set_message("")
        self._reverse.stop()
        self._shuttle = 1.0
        self._stop_at = moment.end
        self._vlc.load(moment.path, moment.start)
        self._vlc.set_rate(1.0)
        self._poll.start()
        self._update_play_button()
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        self.moment_loaded.emit(moment)
        return True

    def position(self) -> float:
        if self._shuttle < 0:
            return self._reverse_pos
        return self._vlc.time()

    def is_playing(self) -> bool:
        return self._shuttle != 0

    def shuttle_rate(self) -> float:
        return self._shuttle

    def toggle_play(self) -> None:
        if self._moment is None:
            return
        if self._shuttle != 0:
            self.pause()
        else:
            self._stop_at = None  # a deliberate play continues past the range
            self._set_forward(1.0)

    def pause(self) -> None:
        self._reverse.stop()
        self._vlc.pause()
        self._vlc.set_rate(1.0)
        self._shuttle = 0.0
        self._update_play_button()

    def shuttle_forward(self) -> None:
        """L: play forward, faster on each press (1, 2, 4, 8x)."""
        if self._moment is None:
            return
        self._stop_at = None
        self._set_forward(1.0 if self._shuttle <= 0 else min(SHUTTLE_MAX, self._shuttle * 2))

    def shuttle_reverse(self) -> None:
        """J: play backwards, faster on each press. libvlc cannot decode backwards, so this
        steps the position back on a timer while paused (what NLEs do for long-GOP media too)."""
        if self._moment is None:
            return
        rate = -1.0 if self._shuttle >= 0 else max(-SHUTTLE_MAX, self._shuttle * 2)
        if self._shuttle >= 0:
            self._vlc.pause()
            self._reverse_pos = self._vlc.time()
        self._shuttle = rate
        self._stop_at = None
        self._reverse.start()
        self._update_play_button()

    def step_frames(self, n: int) -> None:
        if self._moment is None:
            return
        if self._shuttle != 0:
            self.pause()
        if n == 1:
            self._vlc.next_frame()
        else:
            self.seek(self._vlc.time() + n / max(1.0, self._vlc.fps()))

    def seek(self, seconds: float) -> None:
        duration = self.timeline.duration() or self._vlc.length()
        t = min(max(0.0, seconds), duration) if duration > 0 else max(0.0, seconds)
        self._reverse_pos = self._smooth = t
        self._raw_time = -1.0
        self._vlc.set_time(t)
        self.timeline.set_position(t)
        self._update_time_label(t)

    def jump_in(self) -> None:
        if self._moment is not None:
            self.seek(self._moment.start)

    def jump_out(self) -> None:
        if self._moment is not None:
            self.seek(self._moment.end)

    def shutdown(self) -> None:
        """Stop timers and free libvlc (stop() then release()); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._poll.stop()
        self._reverse.stop()
        self._vlc.release()

    # --- events -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        actions = {
            Qt.Key.Key_Space: self.toggle_play,
            Qt.Key.Key_K: self.pause,
            Qt.Key.Key_L: self.shuttle_forward,
            Qt.Key.Key_J: self.shuttle_reverse,
            Qt.Key.Key_I: self.jump_in,
            Qt.Key.Key_O: self.jump_out,
            Qt.Key.Key_Home: lambda: self.seek(0.0),
            Qt.Key.Key_End: lambda: self.seek(self.timeline.duration()),
            Qt.Key.Key_Left: (lambda: self.seek(self.position() - 1.0)) if shift else lambda: self.step_frames(-1),
            Qt.Key.Key_Right: (lambda: self.seek(self.position() + 1.0)) if shift else lambda: self.step_frames(1),
        }
        action = actions.get(Qt.Key(key))
        if action is None:
            super().keyPressEvent(event)
            return
        action()
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mousePressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    @Slot()
    def _on_vlc_frame_ready(self) -> None:
        self.surface.set_frame(self._vlc.latest_frame())

    @Slot(float)
    def _on_timeline_seek_requested(self, seconds: float) -> None:
        self._stop_at = None
        self.seek(seconds)

    @Slot()
    def _on_poll_timeout(self) -> None:
        if self._shuttle < 0:
            return  # the reverse timer owns the position
        raw = self._vlc.time()
        t = self._smoothed_time(raw)
        state = self._vlc.state()
        if state == "error":
            self._poll.stop()
            msg = f"VLC could not play {Path(self._vlc.path() or '').name}."
            self.surface.set_message(msg)
            self.playback_error.emit(msg)
            return
        if self.timeline.duration() <= 0 and self._vlc.length() > 0:
            self.timeline.set_duration(self._vlc.length())
        # The stop uses libvlc's own clock: the interpolated one may run ahead of the picture.
        if self._stop_at is not None and self._shuttle > 0 and raw >= self._stop_at:
            self._stop_at = None  # the range has played; Space continues from here
            self.pause()
        if state == "ended" and self._shuttle > 0:
            self._shuttle = 0.0
            self._update_play_button()
        self.timeline.set_position(t)
        self._update_time_label(t)

    @Slot()
    def _on_reverse_timeout(self) -> None:
        self._reverse_pos = max(0.0, self._reverse_pos + self._shuttle * POLL_MS / 1000.0)
        self._vlc.set_time(self._reverse_pos)
        self.timeline.set_position(self._reverse_pos)
        self._update_time_label(self._reverse_pos)
        if self._reverse_pos <= 0:
            self.pause()

    # --- helpers ----------------------------------------------------------------------------

    def _smoothed_time(self, raw: float) -> float:
        now = time.monotonic()
        if raw != self._raw_time:
            self._raw_time, self._raw_at = raw, now
            self._smooth = raw
        elif self._shuttle > 0 and self._vlc.is_playing():
            self._smooth = raw + min(0.25 * self._shuttle, (now - self._raw_at) * self._shuttle)
        else:
            self._smooth = raw
        return self._smooth

    def _set_forward(self, rate: float) -> None:
        self._reverse.stop()
        if self._shuttle < 0:
            self._vlc.set_time(self._reverse_pos)
        self._shuttle = rate
        self._vlc.set_rate(rate)
        self._vlc.play()
        self._poll.start()
        self._update_play_button()

    def _update_play_button(self) -> None:
        self.play_button.setIcon(theme.icon("pause" if self._shuttle != 0 else "play"))
        if self._shuttle in (0.0, 1.0):
            self.rate_label.setText("")
        else:
            arrow = "◀◀" if self._shuttle < 0 else "▶▶"
            self.rate_label.setText(f"{arrow} {abs(self._shuttle):g}×")

    def _update_time_label(self, t: float) -> None:
        total = self.timeline.duration()
        self.time_label.setText(f"{timecode(t)} / {timecode(total)}")
