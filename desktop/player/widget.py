"""PlayerWidget: the embedded VLC player with in/out marks, source timecode and editor keys."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QImage, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from reelseek.core.timecode import SourceClock
from reelseek.core.types import Moment
from reelseek.desktop import theme
from reelseek.desktop.player.frame_clock import FrameClock
from reelseek.desktop.player.marks import Marks
from reelseek.desktop.player.media import ExactFrame, MediaFacts, PlayerMediaLoader
from reelseek.desktop.player.timeline import TimelineWidget
from reelseek.desktop.player.transport import PlayerTransport
from reelseek.desktop.player.video_surface import VideoSurfaceWidget
from reelseek.desktop.player.vlc_player import VlcPlayer

KEYS_HELP = (
    "Space play/pause · J/K/L shuttle · ←/→ one frame · Shift+←/→ one second · "
    "I/O mark in/out · Shift+I/O go to in/out · B add to selects"
)


class PlayerWidget(QWidget):
    """Plays a moment: opens the file at the range's start, plays to its end, then holds the frame.

    The in/out marks start as the moment's range; ``I``/``O`` set them at the playhead (the out
    mark includes the frame under the playhead, as in an NLE), ``Shift+I``/``Shift+O`` go to them.
    """

    moment_loaded = Signal(object)  # Moment
    playback_error = Signal(str)
    marks_changed = Signal(float, float)  # in, out (seconds from the file's first frame; out exclusive)
    # "thumbnail" (the card's picture, at once), "still" (the in-point, decoded by core) or "video"
    # (libvlc's first frame): what the surface shows after a moment is opened, in that order.
    picture_shown = Signal(str)
    add_to_selects_requested = Signal(object)  # Moment with the marks as its range

    def __init__(self, *, render: str = "auto", audio: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PlayerPanel")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._vlc = VlcPlayer(render=render, audio=audio, parent=self)
        self.transport = PlayerTransport(self._vlc, self)
        self._media = PlayerMediaLoader(self)
        self._moment: Moment | None = None
        self._moment_path = ""
        self._source: SourceClock | None = None
        self._marks = Marks(lambda: self.transport.clock)
        self._mode = "smpte"
        self._picture = ""  # "", "still" or "video": what the surface shows for this moment
        # Paused, callback mode: the frame decoded exactly for the playhead (path, frame), once it
        # is on the surface; libvlc's pictures do not replace it until the playhead moves or plays.
        self._exact_shown: tuple[str, int] | None = None
        self._exact_asked: tuple[str, int] | None = None
        self._closed = False

        self.info = QLabel("No moment loaded")
        self.info.setObjectName("PlayerInfo")
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.surface = VideoSurfaceWidget(native=self._vlc.render == "native", parent=self)
        self.surface.setFocusProxy(self)
        self.timeline = TimelineWidget(self)
        self.timeline.seek_requested.connect(self._on_timeline_seek_requested)
        self.play_button = self._tool("play", "Play / pause (Space)", self.toggle_play)
        self.selects_button = self._tool("bin-add", "Add the marked range to the selects (B)", self.add_to_selects)
        self._tool_buttons = [
            self._tool("mark-in", "Mark in at the playhead (I) · go to in: Shift+I", self.mark_in),
            self._tool("step-back", "Back one frame (←)", lambda: self.step_frames(-1)),
            self.play_button,
            self._tool("step-forward", "Forward one frame (→)", lambda: self.step_frames(1)),
            self._tool("mark-out", "Mark out at the playhead (O) · go to out: Shift+O", self.mark_out),
        ]
        self.time_label = QLabel("00:00:00:00 / 00:00:00:00")
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
        header = QHBoxLayout()
        header.addWidget(self.info, 1)
        header.addWidget(self.selects_button)  # here, not in the controls: narrow panes stay possible
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 8)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.surface, 1)
        layout.addWidget(self.timeline)
        layout.addLayout(controls)
        layout.addWidget(self.range_label)
        layout.addWidget(self.keys_label)

        if self._vlc.render == "native":
            self._vlc.set_window(self.surface.window_handle())
        else:
            self._vlc.frame_ready.connect(self._on_vlc_frame_ready)
        self.transport.position_changed.connect(self._on_transport_position_changed)
        self.transport.state_changed.connect(self._update_play_button)
        self.transport.error.connect(self._on_transport_error)
        self._media.still_ready.connect(self._on_media_still_ready)
        self._media.facts_ready.connect(self._on_media_facts_ready)
        self._media.exact_ready.connect(self._on_media_exact_ready)

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

    @property
    def clock(self) -> FrameClock:
        return self.transport.clock

    def moment(self) -> Moment | None:
        return self._moment

    def play_moment(self, moment: Moment, source: SourceClock | None = None, placeholder: QImage | None = None) -> bool:
        """Open the moment's file at its start and play to its end. False if the file is missing.

        ``source`` is the file's rate and start timecode when core knows them; otherwise the
        player probes the file (off the GUI thread) and counts from 00:00:00:00. ``placeholder``
        (the result card's thumbnail) is shown at once, until the in-point still or video arrives.
        """
        self._moment = moment
        if source is None and moment.source_tc is not None:
            source = moment.clock  # core read the file's start timecode and exact rate at indexing
        self._source = source
        name = Path(moment.path).name
        self.info.setText(name)
        self.info.setToolTip(moment.path)
        duration = moment.duration or moment.end
        same_file = self._moment_path == moment.path
        # The same file again: its probed rate and GOP still hold. Otherwise 25 fps until the
        # probe answers (search results carry core's exact rate in ``source`` instead).
        fps: object = source.rate.fps if source is not None else (self.clock.rate.fps if same_file else None)
        gop_s = self.clock.gop / self.clock.fps if same_file and self.clock.gop else None
        self._moment_path = moment.path
        self.transport.set_clock(FrameClock.for_media(fps, duration, source, gop_s))
        self.timeline.set_duration(duration)
        self.timeline.set_range(moment.start, moment.end)
        self._marks.reset(moment.start, moment.end)
        self._show_marks()
        self.timeline.set_position(moment.start)
        if not Path(moment.path).exists():
            self.transport.close()
            reason = "is offline (its drive is not mounted)" if moment.offline else "cannot be found"
            msg = f"{name} {reason}."
            self.surface.set_message(msg)
            self.playback_error.emit(msg)
            return False
        # The still of the in-point is decoded by core while libvlc opens the file: a picture at
        # once instead of a black surface (libvlc needs its demuxer, decoder and output first).
        self._picture = ""
        self._exact_shown = self._exact_asked = None
        self.surface.set_message("")
        self.surface.set_frame(placeholder if placeholder is not None and not placeholder.isNull() else None)
        self._media.request(moment.path, moment.start)
        clock = self.clock
        self.transport.open(moment.path, clock.frame_at(moment.start), play=True, stop_at=clock.end_frame(moment.end))
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        self.moment_loaded.emit(moment)
        if self.surface.frame() is not None:
            self.picture_shown.emit("thumbnail")
        return True

    def position(self) -> float:
        return self.transport.position()

    def frame(self) -> int:
        return self.transport.frame()

    def is_playing(self) -> bool:
        return self.transport.is_playing()

    def shuttle_rate(self) -> float:
        return self.transport.shuttle_rate()

    def marks(self) -> tuple[float, float]:
        """In and out in seconds from the file's first frame (out exclusive, like Moment.end)."""
        return self._marks.start, self._marks.end

    def mark_frames(self) -> tuple[int, int]:
        """In and out as frame numbers (out inclusive: the last frame of the range)."""
        return self._marks.frames()

    def marked_moment(self) -> Moment | None:
        """The moment with the marks as its range (what goes into the selects)."""
        if self._moment is None:
            return None
        return dataclasses.replace(self._moment, start=self._marks.start, end=self._marks.end)

    def set_timecode_mode(self, mode: str) -> None:
        """``smpte`` (source HH:MM:SS:FF) or ``seconds`` (HH:MM:SS.mmm)."""
        self._mode = mode
        self._show_marks()
        self._update_time_label()

    def toggle_play(self) -> None:
        """Space. At the end of the file (or on its last frame) playback restarts at the in mark."""
        if self._moment is None:
            return
        if self.transport.is_playing():
            self.transport.pause()
        elif self._at_end():
            self._restart()
        else:
            self.transport.forward(1.0)

    def pause(self) -> None:
        self.transport.pause()

    def shuttle_forward(self) -> None:
        if self._moment is None:
            return
        if not self.transport.is_playing() and self._at_end():
            self._restart()
        else:
            self.transport.shuttle_forward()

    def shuttle_reverse(self) -> None:
        self.transport.shuttle_reverse()

    def step_frames(self, n: int) -> None:
        self.transport.step(n)

    def step_seconds(self, n: int) -> None:
        self.transport.step(n * self.clock.rate.nominal)

    def seek(self, seconds: float) -> None:
        self.transport.seek(seconds)

    def mark_in(self) -> None:
        """I: the in mark at the frame under the playhead."""
        if self._moment is not None:
            self._marks.set_in(self.transport.frame())
            self._marks_edited()

    def mark_out(self) -> None:
        """O: the out mark includes the frame under the playhead."""
        if self._moment is not None:
            self._marks.set_out(self.transport.frame())
            self._marks_edited()

    def go_to_in(self) -> None:
        if self._moment is not None:
            self.transport.step(0)  # pause on a whole frame first
            self.transport.seek_frame(self.mark_frames()[0])

    def go_to_out(self) -> None:
        if self._moment is not None:
            self.transport.step(0)
            self.transport.seek_frame(self.mark_frames()[1])

    # Kept for the window's older callers: I/O used to jump to the range edges.
    jump_in = go_to_in
    jump_out = go_to_out

    def add_to_selects(self) -> None:
        m = self.marked_moment()
        if m is not None:
            self.add_to_selects_requested.emit(m)

    def shutdown(self) -> None:
        """Stop timers and free libvlc (stop() then release()); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.transport.shutdown()
        self._media.shutdown()
        self._vlc.release()

    # --- events -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.handle_key(event.key(), event.modifiers()):
            super().keyPressEvent(event)
            return
        event.accept()

    def handle_key(self, key: int, mods: Qt.KeyboardModifier) -> bool:
        """The player's keys (also sent here by the window from the results); True if handled."""
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False
        actions = {
            Qt.Key.Key_Space: self.toggle_play,
            Qt.Key.Key_K: self.pause,
            Qt.Key.Key_L: self.shuttle_forward,
            Qt.Key.Key_J: self.shuttle_reverse,
            Qt.Key.Key_I: self.go_to_in if shift else self.mark_in,
            Qt.Key.Key_O: self.go_to_out if shift else self.mark_out,
            Qt.Key.Key_B: self.add_to_selects,
            Qt.Key.Key_Home: lambda: self.transport.seek_frame(0),
            Qt.Key.Key_End: lambda: self.transport.seek_frame(self.clock.last()),
            Qt.Key.Key_Left: (lambda: self.step_seconds(-1)) if shift else lambda: self.step_frames(-1),
            Qt.Key.Key_Right: (lambda: self.step_seconds(1)) if shift else lambda: self.step_frames(1),
        }
        action = actions.get(Qt.Key(key))
        if action is None:
            return False
        action()
        return True

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mousePressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    @Slot()
    def _on_vlc_frame_ready(self) -> None:
        image = self._vlc.latest_frame()  # taken even when unused: it re-arms the notification
        if self.transport.settling():
            return  # a detour picture on the way to a frame near the end (see PlayerTransport)
        if self._exact_shown is not None and self._exact_shown == self._paused_key():
            return  # the exact picture of the paused frame is up; libvlc's may be a neighbour's
        self.surface.set_frame(image)
        if self._picture != "video" and self._moment is not None:
            self._picture = "video"
            self.picture_shown.emit("video")

    @Slot(int, object)
    def _on_media_still_ready(self, _rid: int, image: QImage) -> None:
        # Only until libvlc's own first picture: never cover video with the still.
        if self._picture or self._moment is None:
            return
        if self._vlc.render == "callback" and self._vlc.frame_count() > 0:
            return
        self._picture = "still"
        self.surface.set_frame(image)
        self.picture_shown.emit("still")

    @Slot(int, object)
    def _on_media_facts_ready(self, _rid: int, facts: MediaFacts) -> None:
        if self._moment is None or facts.path != self._moment.path:
            return
        if self._source is not None:  # core's stored rate and timecode win over a probe
            fps: object = self._source.rate.fps
        else:
            fps = facts.fps
        duration = facts.duration or self._moment.duration
        self.transport.set_clock(FrameClock.for_media(fps, duration, self._source, facts.keyframe_interval))
        if duration > 0:
            self.timeline.set_duration(duration)
        self._show_marks()

    @Slot(float)
    def _on_timeline_seek_requested(self, seconds: float) -> None:
        self.transport.seek(seconds)

    @Slot(int)
    def _on_transport_position_changed(self, _frame: int) -> None:
        self.timeline.set_position(self.transport.position())
        self._update_time_label()
        key = self._paused_key()
        if key != self._exact_shown:
            self._exact_shown = None  # moved or playing: libvlc's pictures until the new one comes
        if key is not None and key != self._exact_asked and key != self._exact_shown:
            self._exact_asked = key
            self._media.request_exact(key[0], key[1], self.clock.seek_time(key[1]))

    @Slot(int, object)
    def _on_media_exact_ready(self, _rid: int, exact: ExactFrame) -> None:
        if (exact.path, exact.frame) != self._paused_key():
            return  # the playhead moved on, or plays: libvlc's pictures are the right ones now
        self._exact_shown = (exact.path, exact.frame)
        self.surface.set_frame(exact.image)

    def _paused_key(self) -> tuple[str, int] | None:
        """(path, frame) while paused on a frame in callback mode, else None."""
        path = self._vlc.path()
        if self._vlc.render != "callback" or self._moment is None or path is None or self.transport.is_playing():
            return None
        return path, self.transport.frame()

    @Slot(str)
    def _on_transport_error(self, _msg: str) -> None:
        msg = f"VLC could not play {Path(self._vlc.path() or '').name}."
        self.surface.set_message(msg)
        self.playback_error.emit(msg)

    # --- helpers ----------------------------------------------------------------------------

    def _at_end(self) -> bool:
        t = self.transport
        return t.has_ended() or (self.clock.frames > 0 and t.frame() >= self.clock.last())

    def _restart(self) -> None:
        assert self._moment is not None
        self.transport.open(self._moment.path, self.mark_frames()[0], play=True)

    def _marks_edited(self) -> None:
        self._show_marks()
        self.marks_changed.emit(*self.marks())

    def _show_marks(self) -> None:
        self.timeline.set_marks(*self.marks())
        self.range_label.setText(self._marks.text(self._mode))

    def _label(self, frame: int) -> str:
        return self.clock.label(frame, self._mode)

    def _update_play_button(self) -> None:
        rate = self.transport.shuttle_rate()
        self.play_button.setIcon(theme.icon("pause" if rate != 0 else "play"))
        if rate in (0.0, 1.0):
            self.rate_label.setText("")
        else:
            arrow = "◀◀" if rate < 0 else "▶▶"
            self.rate_label.setText(f"{arrow} {abs(rate):g}×")

    def _update_time_label(self) -> None:
        frame = self.transport.frame()
        last = self.clock.last() if self.clock.frames else frame
        self.time_label.setText(f"{self._label(frame)} / {self._label(last)}")
