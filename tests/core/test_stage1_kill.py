"""kill -9 of a process that keeps saving stage 1 leaves a folder that opens whole, at one save's state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from reelseek.core.stage1 import FlatIndex

DIM = 16
ROWS = 40  # rows added per save; every 3rd save also removes the previous save's first 10

CHILD = """
import sys
import numpy as np
from reelseek.core.stage1 import FlatIndex

folder, dim, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fi = FlatIndex(dim, exact_max=100, rescore=32)
fi.shard_rows = 150  # several shards, the last one rewritten, masks: every kind of save
rng = np.random.default_rng(0)
for step in range(1, 10**6):
    fi.add(np.arange(step * rows, step * rows + rows), rng.standard_normal((rows, dim)).astype(np.float32))
    if step % 3 == 0:
        fi.remove(np.arange((step - 1) * rows, (step - 1) * rows + 10))
    fi.save(folder, {"step": step})
"""


def _expected(step: int) -> list[int]:
    keys: set[int] = set()
    for s in range(1, step + 1):
        keys |= set(range(s * ROWS, s * ROWS + ROWS))
        if s % 3 == 0:
            keys -= set(range((s - 1) * ROWS, (s - 1) * ROWS + 10))
    return sorted(keys)


def test_a_writer_killed_at_any_moment_leaves_a_whole_folder(tmp_path: Path) -> None:
    folder = tmp_path / "s.stage1"
    for target in (3, 9, 17):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), str(DIM), str(ROWS)])
        step = 0
        # No clock: the writer only goes forward; pytest-timeout bounds a writer that hangs.
        while proc.poll() is None:
            try:
                step = int(json.loads((folder / "manifest.json").read_text())["step"])
            except (OSError, ValueError, KeyError):
                step = 0  # not there yet, or being renamed
            if step >= target:
                break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)  # while it writes its next save, most likely
        proc.wait()
        assert step >= target, "the writer never got that far"
        fi = FlatIndex(DIM, exact_max=100, rescore=32)
        fi.load(folder)  # never raises: the manifest names whole files only
        saved = int(json.loads((folder / "manifest.json").read_text())["step"])
        assert saved >= target
        assert sorted(fi.keys.tolist()) == _expected(saved)
        q = np.ones(DIM, np.float32)
        assert len(fi.search(q, 5)[0]) == 5
        # The next writer carries on from the saved state and sweeps what the killed save left.
        fi.add(np.array([10**9]), q[None])
        fi.save(folder, {"step": -1})
        manifest = json.loads((folder / "manifest.json").read_text())
        named = {
            "manifest.json",
            *(e["file"] for e in manifest["shards"]),
            *([manifest["mask"]] * bool(manifest["mask"])),
        }
        assert {p.name for p in folder.iterdir()} == named
        FlatIndex(DIM).load(folder)  # and opens whole
        import shutil

        shutil.rmtree(folder)  # the child starts a new folder each round
