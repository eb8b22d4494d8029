"""core/ type-checks strict: mypy with the [tool.mypy] settings in pyproject.toml reports no error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_passes_mypy_strict(tmp_path: Path) -> None:
    # A private cache: a stale shared one could hide an error, and tests may run in parallel.
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache"), "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # a cold run takes ~30 s here; a loaded machine can take many times that
    )
    assert out.returncode == 0, f"mypy found errors in core/:\n{out.stdout}{out.stderr}"
