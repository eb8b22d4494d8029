"""The .desktop entry and AppStream metadata pass the freedesktop validators."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed (Debian: desktop-file-utils / appstream; .ci/run installs both)")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120)


def test_desktop_entry_is_valid() -> None:
    proc = _run("desktop-file-validate", str(RESOURCES / "io.github.reelseek.Reelseek.desktop"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in (proc.stdout + proc.stderr).lower()


def test_appstream_metadata_is_valid() -> None:
    proc = _run("appstreamcli", "validate", "--no-net", str(RESOURCES / "io.github.reelseek.Reelseek.metainfo.xml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
