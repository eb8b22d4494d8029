"""VlcPlayer: python-vlc behind a small Qt-friendly API, rendering natively or through frame callbacks.

Two ways to get pictures on screen:

* ``native``: libvlc draws into a window handle we give it (X11/xcb, Windows, macOS). Fast, no
  copies, but only where the platform has window handles.
* ``callback``: libvlc decodes into our buffer (``libvlc_video_set_callbacks`` with RV32) and we
  paint it as a QImage. Works everywhere (offscreen, Wayland) and lets tests read decoded pixels.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from pathlib import Path

import vlc
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QImage

log = logging.getLogger(__name__)

# libvlc's format callback, but with the chroma as a plain pointer: python-vlc declares it as
# c_char_p, which ctypes turns into an immutable bytes copy, so "RV32" could never be written back.
_FormatCb = ctypes.CFUNCTYPE(
    ctypes.c_uint,
    ctypes.POINTER(ctypes.c_void_p),
    ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_uint),
    ctypes.POINTER(ctypes.c_uint),
    ctypes.POINTER(ctypes.c_uint),
    ctypes.POINTER(ctypes.c_uint),
)
_set_format_callbacks = ctypes.CFUNCTYPE(None, ctypes.c_void_p, _FormatCb, vlc.CallbackDecorators.VideoCleanupCb)(
    ("libvlc_video_set_format_callbacks", vlc.dll), ((1,), (1,), (1,))
)

# The callback path copies every frame through Python; capping its size keeps that cheap.
MAX_CALLBACK_WIDTH = 1280


def native_render_available() -> bool:
    """True where Qt gives us a window handle libvlc can draw into."""
    return QGuiApplication.platformName() in ("xcb", "windows", "cocoa")


class VlcPlayer(QObject):
    """One libvlc instance and media player; frames arrive as ``frame_ready`` in callback mode."""

    frame_ready = Signal()  # a new frame is available from latest_frame() (callback mode)

    def __init__(self, *, render: str = "auto", audio: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if render == "auto":
            render = "native" if native_render_available() else "callback"
        if render not in ("native", "callback"):
            raise ValueError(f"render must be auto, native or callback, not {render!r}")
        self.render = render
        args = ["--quiet", "--no-video-title-show", "--no-snapshot-preview", "--no-osd"]
        if not audio:
            args.append("--no-audio")
        if render == "callback":
            args.append("--no-xlib")  # libvlc must not open its own X connection in this mode
        self._instance = vlc.Instance(args)
        if self._instance is None:
            raise RuntimeError("libvlc could not start (is libvlc5 with vlc-plugin-base installed?)")
        self._player = self._instance.media_player_new()
        self._player.video_set_key_input(False)  # keys go to Qt (J/K/L etc.), not to libvlc
        self._player.video_set_mouse_input(False)
        self._media: vlc.Media | None = None
        self._path: str | None = None
        self._fps = 25.0
        self._frame_lock = threading.Lock()
        self._buffer: ctypes.Array[ctypes.c_ubyte] | None = None
        self._frame_size = (0, 0)
        self._latest: QImage | None = None
        self._first: QImage | None = None  # the first picture after load(): what the user saw first
        self._frame_count = 0
        self._frame_unseen = False
        self._released = False
        if render == "callback":
            self._install_callbacks()

    # --- playback ---------------------------------------------------------------------------

    def set_window(self, win_id: int) -> None:
        """Native mode: draw into this window handle."""
        platform = QGuiApplication.platformName()
        if platform == "windows":
            self._player.set_hwnd(win_id)
        elif platform == "cocoa":
            self._player.set_nsobject(win_id)
        else:
            self._player.set_xwindow(win_id)

    def window_id(self) -> int:
        return int(self._player.get_xwindow() or 0)

    def load(self, path: str | Path, start: float = 0.0, *, paused: bool = False) -> None:
        """Open ``path`` and start playing at ``start`` seconds (the seek is done by the input itself)."""
        self._path = str(path)
        media = self._instance.media_new_path(self._path)
        if start > 0:
            # :start-time makes the input seek before the first frame is shown, so the first
            # picture is already from the moment, not a flash of the file's beginning.
            media.add_option(f":start-time={start:.3f}")
        if paused:
            media.add_option(":start-paused")
        self._player.set_media(media)  # the player keeps its own reference
        if self._media is not None:
            self._media.release()
        self._media = media
        with self._frame_lock:
            self._latest = self._first = None
            self._frame_count = 0
        self._player.play()

    def path(self) -> str | None:
        return self._path

    def play(self) -> None:
        self._player.set_pause(0) if self._player.get_state() == vlc.State.Paused else self._player.play()

    def pause(self) -> None:
        self._player.set_pause(1)

    def is_playing(self) -> bool:
        return bool(self._player.is_playing())

    def state(self) -> str:
        return str(self._player.get_state()).rsplit(".", 1)[-1].lower()

    def time(self) -> float:
        """Playback position in seconds (libvlc's, so it may lag a seek by a frame or two)."""
        t = self._player.get_time()
        return max(0.0, t / 1000.0) if t is not None and t >= 0 else 0.0

    def set_time(self, seconds: float) -> None:
        self._player.set_time(max(0, round(seconds * 1000)))

    def length(self) -> float:
        n = self._player.get_length()
        return n / 1000.0 if n and n > 0 else 0.0

    def set_rate(self, rate: float) -> None:
        self._player.set_rate(float(rate))

    def rate(self) -> float:
        return float(self._player.get_rate() or 1.0)

    def next_frame(self) -> None:
        self._player.next_frame()

    def fps(self) -> float:
        return self._fps

    def stop(self) -> None:
        if not self._released:
            self._player.stop()

    def release(self) -> None:
        """Stop and free libvlc; the frame callbacks are guaranteed not to run afterwards."""
        if self._released:
            return
        self._released = True
        self._player.stop()  # joins libvlc's decoder and video threads
        self._player.release()
        if self._media is not None:
            self._media.release()
            self._media = None
        self._instance.release()

    # --- frames (callback mode) -------------------------------------------------------------

    def latest_frame(self) -> QImage | None:
        """The most recent decoded frame (a copy safe to keep), or None before the first one."""
        with self._frame_lock:
            self._frame_unseen = False
            return self._latest

    def first_frame(self) -> QImage | None:
        """The first picture decoded since the last load() (callback mode)."""
        with self._frame_lock:
            return self._first

    def frame_count(self) -> int:
        with self._frame_lock:
            return self._frame_count

    def _install_callbacks(self) -> None:
        # Kept on self: libvlc holds raw pointers to these thunks until release().
        self._cb_format = _FormatCb(self._vlc_format)
        self._cb_cleanup = vlc.CallbackDecorators.VideoCleanupCb(self._vlc_cleanup)
        self._cb_lock = vlc.CallbackDecorators.VideoLockCb(self._vlc_lock)
        self._cb_unlock = vlc.CallbackDecorators.VideoUnlockCb(self._vlc_unlock)
        self._cb_display = vlc.CallbackDecorators.VideoDisplayCb(self._vlc_display)
        self._player.video_set_callbacks(self._cb_lock, self._cb_unlock, self._cb_display, None)
        _set_format_callbacks(self._player, self._cb_format, self._cb_cleanup)

    def _visible_size(self, coded_w: int, coded_h: int) -> tuple[int, int, float]:
        """Visible width/height and fps from the media's track info (libvlc pads coded sizes)."""
        media = self._player.get_media()
        if media is not None:
            for track in media.tracks_get() or []:
                if track.type != vlc.TrackType.video:
                    continue
                # libvlc 3 keeps audio/video/subtitle in a union; python-vlc's struct lists them
                # as separate fields, so the video pointer is the one named "audio".
                ptr = track.audio or track.video
                if not ptr:
                    continue
                v = ctypes.cast(ptr, ctypes.POINTER(vlc.VideoTrack)).contents
                if 0 < v.width <= 16384 and 0 < v.height <= 16384:
                    sar = v.sar_num / v.sar_den if v.sar_num and v.sar_den else 1.0
                    fps = v.frame_rate_num / v.frame_rate_den if v.frame_rate_den else 0.0
                    return round(v.width * sar), int(v.height), fps
        return coded_w, coded_h, 0.0

    def _vlc_format(self, _opaque, chroma, width, height, pitches, lines):  # type: ignore[no-untyped-def]
        w, h, fps = self._visible_size(width[0], height[0])
        if w > MAX_CALLBACK_WIDTH:
            w, h = MAX_CALLBACK_WIDTH, max(2, round(h * MAX_CALLBACK_WIDTH / w))
        w, h = max(2, w), max(2, h)
        ctypes.memmove(chroma, b"RV32", 4)
        width[0], height[0] = w, h
        pitches[0], lines[0] = w * 4, h
        with self._frame_lock:
            self._buffer = (ctypes.c_ubyte * (w * 4 * h))()
            self._frame_size = (w, h)
        if fps > 0:
            self._fps = fps
        return 1

    def _vlc_cleanup(self, _opaque) -> None:  # type: ignore[no-untyped-def]
        pass

    def _vlc_lock(self, _opaque, planes):  # type: ignore[no-untyped-def]
        planes[0] = ctypes.addressof(self._buffer) if self._buffer is not None else None
        return None

    def _vlc_unlock(self, _opaque, _picture, _planes) -> None:  # type: ignore[no-untyped-def]
        pass

    def _vlc_display(self, _opaque, _picture) -> None:  # type: ignore[no-untyped-def]
        # Runs on libvlc's video thread: copy out, then tell the GUI thread (queued signal).
        buf = self._buffer
        if buf is None:
            return
        w, h = self._frame_size
        image = QImage(bytes(buf), w, h, w * 4, QImage.Format.Format_RGB32).copy()
        with self._frame_lock:
            self._latest = image
            if self._first is None:
                self._first = image
            self._frame_count += 1
            notify = not self._frame_unseen
            self._frame_unseen = True
        if notify:  # one pending notification is enough: the GUI always takes the newest frame
            self.frame_ready.emit()
