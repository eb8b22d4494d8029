"""Look and feel: the dark Fusion palette, the stylesheet and the SVG icons from reelseek.resources."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

# Timeline and result-card colours live here rather than in the stylesheet because they are
# painted by hand (QSS cannot reach a QPainter).
ACCENT = QColor("#3b7de0")
RANGE = QColor("#f5a623")
CARD = QColor("#24262b")
CARD_HOVER = QColor("#2b2e34")
TEXT = QColor("#d6d8dd")
TEXT_DIM = QColor("#8d9099")
OFFLINE = QColor("#e0664f")


def resources_dir() -> Path:
    """The folder holding style.qss and icons/ (works for editable, wheel and PyInstaller installs)."""
    return Path(str(resources.files("reelseek.resources")))


@cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons by file stem, e.g. ``icon("play")``."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


def app_icon() -> QIcon:
    return icon("reelseek")


def stylesheet() -> str:
    text = (resources_dir() / "style.qss").read_text(encoding="utf-8")
    # QSS url() needs forward slashes, also on Windows.
    return text.replace("@ICONS@", (resources_dir() / "icons").as_posix())


def dark_palette() -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1c1d21",
        QPalette.ColorRole.WindowText: "#d6d8dd",
        QPalette.ColorRole.Base: "#18191c",
        QPalette.ColorRole.AlternateBase: "#212328",
        QPalette.ColorRole.ToolTipBase: "#2b2d33",
        QPalette.ColorRole.ToolTipText: "#e6e7ea",
        QPalette.ColorRole.PlaceholderText: "#6f727a",
        QPalette.ColorRole.Text: "#d6d8dd",
        QPalette.ColorRole.Button: "#2d3037",
        QPalette.ColorRole.ButtonText: "#d6d8dd",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#3b7de0",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#6aa5f5",
        QPalette.ColorRole.Mid: "#33363e",
        QPalette.ColorRole.Dark: "#141518",
        QPalette.ColorRole.Light: "#3b3e46",
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6e76"))
    return p


def apply_theme(app: QApplication) -> None:
    """Dark Fusion everywhere: editors grade colour, a bright UI around the footage gets in the way."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(stylesheet())
    app.setWindowIcon(app_icon())
