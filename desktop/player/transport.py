"""PlayerTransport: play, pause, shuttle and frame-exact stepping over libvlc, with our own frame count.

Why not libvlc's clock and ``next_frame()``: measured with libvlc 3.0.24 on a 10 fps file whose
every frame has its own grey level (tests/desktop/test_player_frames.py):

* ``get_time()`` moves in steps and, while paused after a seek, reports a time up to 250 ms off
  the picture, so "one frame back from get_time()" landed anywhere (and at 00:00:00 near the start);
* ``next_frame()`` does nothing right after a seek and nothing in the last GOP of a file;
* a seek to a frame's *start* sometimes shows the frame before, a seek to its *middle* always
  shows that frame;
* once the input reaches the end (state Ended), play() and seeks are ignored until the media is
  loaded again;
* while paused in the file's last GOP (the demuxer has hit the end of the file), a seek to
  another frame of that GOP shows nothing; a seek out of it first, and back ~40 ms later, works.

So the transport keeps the exact frame number itself while paused, steps by seeking to the middle
of the wanted frame, takes that detour near the end of the file, and reloads the media when
playback has ended.
"""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from reelseek.desktop.player.frame_clock import FrameClock
from reelseek.desktop.player.vlc_player import VlcPlayer

POLL_MS = 40  # position refresh; also how late the stop at the out point can be noticed
SHUTTLE_MAX = 8.0
# A paused seek gets SETTLE_MS before the next one goes out. With frame callbacks it also waits
# for evidence that libvlc handled it: a picture that differs from the one before the seek, or
# REDISPLAYS redisplays after REDISPLAY_MS (a seek to an identical-looking frame), at most
# SETTLE_MAX_MS. On a busy machine libvlc redisplays the old picture before it applies the seek:
# with 300 ms / 4 redisplays, 5 of 25 runs of the stepping tests at load 8 settled on a picture
# libvlc never replaced (asked 5, showing 18); 1000 ms / 4 failed 4 of 25, 1000 ms / 8 none. The
# cost: a seek whose picture is bit-identical to the last one (black frames) settles in ~1.5 s.
SETTLE_MS = 60
REDISPLAY_MS, REDISPLAYS = 1000, 8
SETTLE_MAX_MS = 1500
# A seek that settled without the picture changing (no picture at all, or only redisplays of the
# old one) goes out again, up to SEEK_RETRIES times. Under load libvlc drops paused seeks: in CI at
# load ~10, back from the detour out of the last GOP, the seek into it showed nothing (asked 28,
# libvlc's latest picture the detour's 18, the screen 29); at load 9 here a seek from 10 to 15 got
# only redisplays of 10. The cost falls on seeks to a picture identical to the last one (black
# frames, or a step that stays on the last frame): they settle after up to 1 + SEEK_RETRIES waits.
SEEK_RETRIES = 2
TRACE = 48  # recent transport events kept for diagnostics (trace())


class PlayerTransport(QObject):
    """The playhead of one file. Frame numbers count from the file's first frame (0)."""

    position_changed = Signal(int)  # frame on screen (exact while paused, estimated while playing)
    state_changed = Signal()  # shuttle rate changed (play, pause, J/L)
    ended = Signal()  # playback reached the end of the file
    error = Signal(str)

    def __init__(self, vlc: VlcPlayer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._vlc = vlc
        self._path: str | None = None
        self.clock = FrameClock()
        self._frame = 0
        self._shuttle = 0.0  # <0 reverse, 0 paused, >0 forward rate
        self._stop_at: int | None = None  # frame to pause on while playing forward (the out mark)
        self._pause_when_shown = False  # after a reload for a paused seek: pause on the first picture
        self._ended = False
        # Paused seeks go out one at a time: libvlc drops a seek that arrives before the previous
        # one has shown its picture, so key repeat coalesces to the newest frame instead.
        self._shown = -1  # the frame last asked of libvlc while paused
        self._want: int | None = None  # the frame to ask for once the seek in flight has settled
        self._busy = False
        self._detouring = False
        self._awaiting_pause = False
        self._issued_count = 0
        self._issued_at = 0.0
        self._issued_image: object = None
        self._checked_count = 0
        self._retries = 0  # times the seek in flight has gone out again (see SEEK_RETRIES)
        self._trace: deque[str] = deque(maxlen=TRACE)
        # libvlc's clock advances in steps; the display interpolates between them while playing.
        # While playing: our own clock anchored where playback (re)started, re-anchored on each
        # fresh libvlc time that moves forward (libvlc reports stale or early times after a seek).
        self._raw = -1.0
        self._anchor = (0.0, 0.0)  # (seconds, monotonic time)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll_timeout)
        self._reverse = QTimer(self)
        self._reverse.setInterval(POLL_MS)
        self._reverse.timeout.connect(self._on_reverse_timeout)
        self._settle = QTimer(self)
        self._settle.setInterval(10)
        self._settle.timeout.connect(self._on_settle_timeout)

    # --- state ------------------------------------------------------------------------------

    def frame(self) -> int:
        return self._frame

    def position(self) -> float:
        """Seconds of the frame on screen."""
        return self.clock.seconds(self._frame)

    def shuttle_rate(self) -> float:
        return self._shuttle

    def is_playing(self) -> bool:
        return self._shuttle != 0

    def has_ended(self) -> bool:
        return self._ended

    def trace(self) -> list[str]:
        """Recent paused-seek events, oldest first (for error reports and failing tests)."""
        return list(self._trace)

    def _note(self, event: str) -> None:
        self._trace.append(f"{time.monotonic() % 1000:8.3f} {event}")

    def settling(self) -> bool:
        """True while libvlc shows a detour picture (callers should not display it)."""
        return self._detouring

    def set_clock(self, clock: FrameClock) -> None:
        """A better clock (the probed rate and length): the playhead keeps its time."""
        seconds = self.clock.seconds(self._frame)
        stop_s = self.clock.seconds(self._stop_at) if self._stop_at is not None else None
        self.clock = clock
        self._frame = clock.frame_at(seconds + 1e-6)
        if stop_s is not None:
            self._stop_at = clock.frame_at(stop_s + 1e-6)
        if self._path is not None and self._shuttle == 0 and not self._ended and not self._pause_when_shown:
            self._show_frame()  # paused: the picture follows the new frame grid exactly
        self.position_changed.emit(self._frame)

    # --- commands ---------------------------------------------------------------------------

    def open(self, path: str, frame: int, *, play: bool, stop_at: int | None = None) -> None:
        """Load ``path`` with the picture at ``frame``; play (until ``stop_at``) or hold it there."""
        self._path = path
        self._reverse.stop()
        self._shuttle = 0.0  # a new file starts at 1x, whatever the last one was shuttling at
        self._frame = self.clock.clamp(frame)
        self._stop_at = stop_at if play else None
        self._load(play=play)

    def close(self) -> None:
        self._poll.stop()
        self._reverse.stop()
        self._shuttle = 0.0
        self._vlc.stop()
        self._path = None

    def toggle(self) -> None:
        if self._shuttle != 0:
            self.pause()
        else:
            self.forward(1.0)

    def forward(self, rate: float = 1.0, stop_at: int | None = None) -> None:
        """Play forward at ``rate``; from the start of the range again when at the end of the file."""
        if self._path is None:
            return
        self._reverse.stop()
        self._stop_at = stop_at
        if self._ended or self._vlc.state() in ("ended", "stopped", "error"):
            self._shuttle = rate
            self._load(play=True)
            self._vlc.set_rate(rate)
            self.state_changed.emit()
            return
        if self._shuttle <= 0:
            # Resume exactly where the picture is (after a pause, a step or reverse shuttle).
            self._want, self._busy, self._detouring, self._awaiting_pause = None, False, False, False
            self._settle.stop()
            self._vlc.set_time(self.clock.seek_time(self._frame))
        self._shuttle = rate
        self._anchor_here()
        self._shown = -1
        self._vlc.set_rate(rate)
        self._vlc.play()
        self._poll.start()
        self.state_changed.emit()

    def shuttle_forward(self) -> None:
        """L: 1x, then 2, 4, 8x on each press."""
        self.forward(1.0 if self._shuttle <= 0 else min(SHUTTLE_MAX, self._shuttle * 2))

    def shuttle_reverse(self) -> None:
        """J: backwards at -1x, then -2, -4, -8x. libvlc cannot decode backwards, so the playhead
        steps back on a timer while paused (what NLEs do for long-GOP media too)."""
        if self._path is None:
            return
        if self._shuttle > 0:
            self.pause()
        self._shuttle = -1.0 if self._shuttle >= 0 else max(-SHUTTLE_MAX, self._shuttle * 2)
        self._stop_at = None
        self._reverse.start()
        self.state_changed.emit()

    def pause(self) -> None:
        """Stop on a whole frame: the picture and the frame number agree afterwards."""
        self._reverse.stop()
        was_forward = self._shuttle > 0
        self._shuttle = 0.0
        self._vlc.set_rate(1.0)
        if was_forward and not self._ended:
            self._vlc.pause()
            self._frame = self._shown = self.clock.frame_at(self._playing_time())
            self._show_frame()
        elif not self._ended:
            self._vlc.pause()
        self.state_changed.emit()
        self.position_changed.emit(self._frame)

    def step(self, frames: int) -> None:
        """Pause and move ``frames`` frames (clamped to the file)."""
        if self._path is None:
            return
        if self._shuttle != 0:
            self.pause()
        self.seek_frame(self._frame + frames)

    def seek_frame(self, frame: int) -> None:
        """Show ``frame`` (paused), or jump there and keep playing."""
        if self._path is None:
            return
        self._frame = self.clock.clamp(frame)
        if self._shuttle > 0 and not self._ended:
            self._vlc.set_time(self.clock.seek_time(self._frame))
            self._anchor_here()
        elif self._ended or self._vlc.state() in ("ended", "stopped", "error"):
            self._load(play=False)
        else:
            self._show_frame()
        self.position_changed.emit(self._frame)

    def seek(self, seconds: float) -> None:
        self.seek_frame(self.clock.frame_at(seconds))

    def shutdown(self) -> None:
        self._poll.stop()
        self._reverse.stop()

    # --- internals --------------------------------------------------------------------------

    def _load(self, *, play: bool) -> None:
        assert self._path is not None
        self._ended = False
        self._anchor_here()
        self._shown = self._frame
        self._want = None
        self._busy = self._detouring = self._awaiting_pause = False
        self._settle.stop()
        # Mid-frame start: the input seeks before the first picture, so it is already this frame.
        self._vlc.load(self._path, self.clock.seek_time(self._frame))
        # ":start-paused" leaves libvlc ignoring later seeks and frame steps (measured), so a
        # paused open plays and pauses on its first picture instead.
        self._pause_when_shown = not play
        if play:
            self._shuttle = self._shuttle if self._shuttle > 0 else 1.0
        else:
            self._shuttle = 0.0
        self._vlc.set_rate(self._shuttle or 1.0)
        self._poll.start()
        self.state_changed.emit()
        self.position_changed.emit(self._frame)

    def _show_frame(self) -> None:
        """Ask libvlc for the picture of ``self._frame`` (paused), one seek at a time."""
        self._want = self._frame
        if not self._busy:
            self._issue()

    def _issue(self, *, retries: int = 0) -> None:
        assert self._want is not None
        self._retries = retries
        self._busy = True
        self._issued_at = time.monotonic()
        self._settle.start()
        if self._vlc.state() == "playing":
            # libvlc applies a pause asynchronously: a seek before it has would play on from there.
            self._awaiting_pause = True
            return
        tail = self.clock.tail_start()
        if 0 < tail <= self._shown:
            # Paused inside the last GOP: out of it first (see the module docstring).
            # A retry detours one frame further back, so its picture differs from the last detour's.
            self._detouring = True
            self._shown = max(0, tail - 1 - self._retries)
            self._vlc.set_time(self.clock.seek_time(self._shown))
        else:
            self._shown, self._want = self._want, None
            self._vlc.set_time(self.clock.seek_time(self._shown))
        self._issued_count = self._checked_count = self._vlc.frame_count()
        kind = "detour" if self._detouring else "seek"
        self._note(f"{kind} {self._shown} try {self._retries} at picture {self._issued_count}")
        self._issued_image = self._vlc.latest_frame() if self._vlc.render == "callback" else None

    def _seek_shown(self, waited: float) -> bool:
        """Callback mode: has libvlc shown the picture of the seek in flight (see SETTLE_MS)?"""
        count = self._vlc.frame_count()
        if waited >= SETTLE_MAX_MS:
            return True
        # Redisplays are evidence only for a plain seek (whose picture may look like the last one);
        # the detour's picture must really have changed before the seek back into the tail.
        if not self._detouring and waited >= REDISPLAY_MS and count - self._issued_count >= REDISPLAYS:
            return True
        if count == self._checked_count:
            return False
        self._checked_count = count
        return self._new_picture()

    def _picture_changed(self) -> bool:
        """Callback mode: does libvlc show a picture other than the one before the seek in flight?"""
        return self._vlc.frame_count() != self._issued_count and self._new_picture()

    def _new_picture(self) -> bool:
        image = self._vlc.latest_frame()
        return image is not None and (self._issued_image is None or image != self._issued_image)

    @Slot()
    def _on_settle_timeout(self) -> None:
        waited = (time.monotonic() - self._issued_at) * 1000
        if self._awaiting_pause:
            if self._vlc.state() == "playing" and waited < SETTLE_MAX_MS:
                return
            self._awaiting_pause = self._busy = False
            if self._want is not None and self._shuttle <= 0:
                self._issue()
            else:
                self._settle.stop()
            return
        if waited < SETTLE_MS or (self._vlc.render == "callback" and not self._seek_shown(waited)):
            return
        unchanged = self._vlc.render == "callback" and not self._picture_changed()
        self._note(
            f"settled after {waited:.0f} ms, {self._vlc.frame_count() - self._issued_count} pictures"
            + (", unchanged" if unchanged else "")
        )
        dropped = unchanged and not self._detouring and self._retries < SEEK_RETRIES
        was_detour = self._detouring
        self._busy = self._detouring = False
        if self._want is not None and self._shuttle <= 0:
            self._issue(retries=self._retries if was_detour else 0)  # back from a detour: same try
        elif dropped and self._shuttle <= 0:
            self._want = self._shown  # nothing newer asked for: the same frame again
            self._issue(retries=self._retries + 1)
        else:
            self._want = None
            self._settle.stop()

    def _anchor_here(self) -> None:
        self._raw = self._vlc.time()  # whatever libvlc says now is stale until it changes
        self._anchor = (self.clock.seconds(self._frame), time.monotonic())

    def _playing_time(self) -> float:
        raw = self._vlc.time()
        now = time.monotonic()
        if raw != self._raw:
            self._raw = raw
            if raw >= self._anchor[0] - 0.05:
                self._anchor = (raw, now)
        seconds, at = self._anchor
        return seconds + (now - at) * max(self._shuttle, 0.0)

    @Slot()
    def _on_poll_timeout(self) -> None:
        state = self._vlc.state()
        if state == "error":
            self._poll.stop()
            self._shuttle = 0.0
            self.state_changed.emit()
            self.error.emit("VLC could not play this file.")
            return
        if self._pause_when_shown:
            shown = self._vlc.frame_count() > 0 if self._vlc.render == "callback" else state == "playing"
            if shown:
                self._pause_when_shown = False
                self._vlc.pause()
                self._show_frame()
            return
        if state == "ended":
            self._ended = True
            if self._shuttle > 0:
                self._shuttle = 0.0
                self._frame = self.clock.last() if self.clock.frames else self.clock.frame_at(self._vlc.time())
                self.state_changed.emit()
                self.position_changed.emit(self._frame)
                self.ended.emit()
            return
        if self._shuttle <= 0:
            return  # paused: the frame number is exact; reverse: its own timer owns the playhead
        t = self._playing_time()
        frame = self.clock.frame_at(t)
        if self._stop_at is not None and frame >= self._stop_at:
            self._stop_at, stop = None, self._stop_at
            self.pause()
            self.seek_frame(stop)  # the out mark exactly, not wherever the poll noticed it
            return
        if frame != self._frame:
            self._frame = frame
            self.position_changed.emit(frame)

    @Slot()
    def _on_reverse_timeout(self) -> None:
        step = max(1, round(-self._shuttle * self.clock.fps * POLL_MS / 1000))
        self.seek_frame(self._frame - step)
        if self._frame <= 0:
            self.pause()
