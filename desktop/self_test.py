"""Start-up self-test (``reelseek --smoke``) and the start errors a user must be able to read.

``--smoke`` (or ``REELSEEK_SMOKE=1``) opens the library and the main window as usual, waits until
the window is shown and the event loop turns, prints one line and quits with 0: packaging/smoke.py
launches the built app this way, offscreen, to prove the bundle starts.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

SMOKE_ENV = "REELSEEK_SMOKE"
SMOKE_EXIT_NOT_SHOWN = 3  # the window never became visible
SMOKE_DEADLINE_MS = 120_000  # generous: a loaded machine may take long to paint


def smoke_requested(flag: bool) -> bool:
    return flag or os.environ.get(SMOKE_ENV, "") not in ("", "0")


def quit_when_shown(app: QApplication, window: QWidget) -> None:
    """Quit (0) at the first event-loop turn where ``window`` is visible; 3 at the deadline."""
    timer = QTimer(window)
    timer.setInterval(50)

    def check() -> None:
        if window.isVisible() and window.windowHandle() is not None:
            timer.stop()
            size = window.size()
            print(
                f"reelseek smoke: window shown ({size.width()}x{size.height()}, {QGuiApplication.platformName()})",
                flush=True,
            )
            # Which libvlc and plugins the player loaded: the bundle's own, not the system's.
            vlc = sys.modules.get("vlc")
            lib = getattr(getattr(vlc, "dll", None), "_name", None)
            plugins = os.environ.get("VLC_PLUGIN_PATH", "(libvlc's built-in path)")
            print(f"reelseek smoke: libvlc {lib}, plugins {plugins}", flush=True)
            app.exit(0)

    def give_up() -> None:
        if timer.isActive():
            timer.stop()
            print("reelseek smoke: the main window was never shown", file=sys.stderr, flush=True)
            app.exit(SMOKE_EXIT_NOT_SHOWN)

    timer.timeout.connect(check)
    timer.start()
    QTimer.singleShot(SMOKE_DEADLINE_MS, window, give_up)


def player_unavailable_message(exc: BaseException) -> str:
    """What to tell the user when libvlc cannot load or start (the window cannot exist without it)."""
    reason = "libvlc could not be loaded" if isinstance(exc, SystemExit) else str(exc)
    bundled = os.environ.get("REELSEEK_BUNDLED_VLC")
    if bundled:
        fix = f"This app brings its own VLC; its plugins should be in {bundled}. Reinstall the app."
    else:
        fix = "Install VLC's libraries, e.g. on Debian/Ubuntu: sudo apt-get install libvlc5 vlc-plugin-base"
    return f"The video player (libvlc) could not start: {reason}\n{fix}"


def fatal(message: str, *, interactive: bool) -> int:
    """Print ``message``; in an interactive session also show it in a dialog. Returns 1."""
    print(f"reelseek: {message}", file=sys.stderr, flush=True)
    if interactive and QGuiApplication.platformName() not in ("offscreen", "minimal"):
        QMessageBox.critical(None, "reelseek", message)
    return 1
