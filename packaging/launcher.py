"""PyInstaller entry point (a script, so the frozen app imports reelseek as a package)."""

import sys

from reelseek.desktop.app import main

sys.exit(main())
