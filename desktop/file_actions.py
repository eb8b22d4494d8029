"""Hand a file to the rest of the desktop: reveal it, open it, put its path on the clipboard."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PySide6.QtCore import QProcess, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication


def copy_text(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


def open_in_default_app(path: str | Path) -> bool:
    """Open the file with whatever the desktop associates with it (QDesktopServices)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def reveal_in_file_manager(path: str | Path) -> bool:
    """Show the file selected in the platform's file manager; falls back to opening its folder."""
    p = Path(path)
    if sys.platform == "darwin":
        return QProcess.startDetached("open", ["-R", str(p)])[0]
    if sys.platform == "win32":
        return QProcess.startDetached("explorer", [f"/select,{p}"])[0]
    # freedesktop: most file managers (Nautilus, Dolphin, Nemo, Thunar) implement FileManager1.
    if shutil.which("dbus-send"):
        ok = QProcess.startDetached(
            "dbus-send",
            [
                "--session",
                "--dest=org.freedesktop.FileManager1",
                "--type=method_call",
                "/org/freedesktop/FileManager1",
                "org.freedesktop.FileManager1.ShowItems",
                f"array:string:{QUrl.fromLocalFile(str(p)).toString()}",
                "string:",
            ],
        )[0]
        if ok:
            return True
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(p.parent)))
