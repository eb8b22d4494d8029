"""Core tests never need Qt or vlc; with REELSEEK_BLOCK_GUI=1 importing them fails outright."""

from __future__ import annotations

import importlib.abc
import os
import sys

BLOCKED = ("PySide6", "shiboken6", "vlc", "reelseek.desktop")


class _BlockGui(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):  # type: ignore[no-untyped-def]
        if fullname.split(".")[0] in BLOCKED or fullname.startswith("reelseek.desktop"):
            raise ImportError(f"{fullname} is blocked: reelseek.core must not need it")
        return None


if os.environ.get("REELSEEK_BLOCK_GUI") == "1":
    sys.meta_path.insert(0, _BlockGui())
