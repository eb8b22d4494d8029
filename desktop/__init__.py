"""reelseek.desktop: the PySide6 application, one client of reelseek.core."""
