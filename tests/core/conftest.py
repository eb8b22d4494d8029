"""Core tests never need Qt or vlc; with REELSEEK_BLOCK_GUI=1 importing them fails outright."""

from __future__ import annotations

import importlib.abc
import os
import sys

import pytest

BLOCKED = ("PySide6", "shiboken6", "vlc", "reelseek.desktop")


class _BlockGui(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):  # type: ignore[no-untyped-def]
        if fullname.split(".")[0] in BLOCKED or fullname.startswith("reelseek.desktop"):
            raise ImportError(f"{fullname} is blocked: reelseek.core must not need it")
        return None


if os.environ.get("REELSEEK_BLOCK_GUI") == "1":
    sys.meta_path.insert(0, _BlockGui())


# The Qt-free run (test_architecture.py) is the whole core suite in a child process. When it is
# part of this session, the core tests run there only, not a second time here: running them
# twice was 12 of the suite's 62 minutes. Run on their own (a file, a -k selection without the
# Qt-free run) they run here as usual.
QT_FREE_RUN = "tests/core/test_architecture.py::test_core_tests_pass_with_qt_unavailable"
IN_CHILD_ENV = "REELSEEK_CORE_TESTS_IN_CHILD"


def _runs_in_child(nodeid: str) -> bool:
    return nodeid.startswith("tests/core/") and not nodeid.startswith("tests/core/test_architecture.py::")


@pytest.hookimpl(trylast=True)  # after -k / -m deselection: only a Qt-free run that really runs counts
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("REELSEEK_BLOCK_GUI") == "1" or not any(i.nodeid == QT_FREE_RUN for i in items):
        return
    moved = [i for i in items if _runs_in_child(i.nodeid)]
    if moved:
        config.hook.pytest_deselected(items=moved)
        items[:] = [i for i in items if not _runs_in_child(i.nodeid)]
    os.environ[IN_CHILD_ENV] = str(len(moved))  # the Qt-free run checks it ran at least these
