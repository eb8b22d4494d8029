"""The ``reelseek`` entry point: start Qt, open the library, show the main window."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from reelseek.core import __version__
from reelseek.core.models.device import DEVICE_CHOICES
from reelseek.core.paths import HOME_ENV
from reelseek.desktop import theme
from reelseek.desktop.settings_dialog import HOME_KEY


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="reelseek", description="Find moments in your own footage.")
    parser.add_argument("--home", help=f"data folder (default: ${HOME_ENV} or the platform's data folder)")
    parser.add_argument("--model", help="model id to use instead of the one in settings")
    parser.add_argument("--device", choices=DEVICE_CHOICES, help="where the model runs")
    parser.add_argument("--version", action="version", version=f"reelseek {__version__}")
    parser.add_argument("--smoke", action="store_true", help="self-test: quit once the window is shown")
    # Qt takes its own options (-platform, -style, ...); argparse must leave them alone.
    args, _qt_args = parser.parse_known_args(list(argv))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the desktop app; returns the process exit code."""
    argv = list(sys.argv if argv is None else argv)
    args = parse_args(argv[1:])
    logging.basicConfig(level=os.environ.get("REELSEEK_LOG", "WARNING").upper())
    app = QApplication.instance() or QApplication(argv)
    assert isinstance(app, QApplication)
    app.setOrganizationName("reelseek")
    app.setApplicationName("reelseek")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("io.github.reelseek.Reelseek")
    theme.apply_theme(app)

    from reelseek.core.library import Library, LibraryDamaged, LibraryError
    from reelseek.core.lock import set_owner_label
    from reelseek.desktop import self_test

    smoke = self_test.smoke_requested(args.smoke)
    try:
        from reelseek.desktop.main_window import MainWindow
    except (OSError, NotImplementedError, SystemExit) as exc:  # python-vlc could not load libvlc
        return self_test.fatal(self_test.player_unavailable_message(exc), interactive=not smoke)

    set_owner_label("the reelseek app")
    qsettings = QSettings()
    home = args.home or os.environ.get(HOME_ENV) or qsettings.value(HOME_KEY) or None
    try:
        try:
            library = Library(home, model_id=args.model, device=args.device)
        except LibraryDamaged as damage:
            from reelseek.desktop.repair_dialog import offer_repair

            if not offer_repair(damage, home):
                return 1
            library = Library(home, model_id=args.model, device=args.device)
    except (LibraryError, OSError, ValueError) as exc:
        QMessageBox.critical(None, "reelseek", f"Could not open the library:\n{exc}")
        return 1
    try:
        window = MainWindow(library, qsettings=qsettings)
    except RuntimeError as exc:
        if "libvlc" not in str(exc):
            raise
        library.close()
        return self_test.fatal(self_test.player_unavailable_message(exc), interactive=not smoke)
    window.show()
    if smoke:
        self_test.quit_when_shown(app, window)
    window.search.warm_up()  # the first search then finds the text tower loaded
    try:
        return app.exec()
    finally:
        window.shutdown()
        window.deleteLater()
        library.close()


if __name__ == "__main__":
    sys.exit(main())
