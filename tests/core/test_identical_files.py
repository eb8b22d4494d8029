"""Indexing byte-identical files is linear in their number: counted in rows and look-ups, never timed."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelseek.core.library import Library
from reelseek.core.store import Store

TEST_MODEL = "reelseek-test-tiny"


def _work_for(tmp_path: Path, n: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Index n empty (so byte-identical) files; count file rows built and fingerprint look-ups."""
    root = tmp_path / f"same{n}"
    root.mkdir()
    for i in range(n):
        (root / f"copy{i:05d}.mp4").write_bytes(b"")
    counts = {"rows": 0, "fingerprint_sql": 0, "sql": 0}
    real_file = Store._file

    def counting_file(row):  # type: ignore[no-untyped-def]
        counts["rows"] += 1
        return real_file(row)

    monkeypatch.setattr(Store, "_file", staticmethod(counting_file))

    def trace(sql: str) -> None:
        counts["sql"] += 1
        # The trace shows statements with their values bound: "WHERE fingerprint='…'".
        if sql.lstrip().upper().startswith("SELECT") and "WHERE fingerprint=" in sql:
            counts["fingerprint_sql"] += 1

    lib = Library(tmp_path / f"home{n}", model_id=TEST_MODEL)
    try:
        lib.store.conn.set_trace_callback(trace)
        report = lib.index([root])
        lib.store.conn.set_trace_callback(None)
    finally:
        lib.close()
    monkeypatch.setattr(Store, "_file", staticmethod(real_file))
    assert report.indexed == 0 and len(report.errors) == n  # empty files fail with a reason
    assert all("empty file" in e for _, e in report.errors)
    return counts


@pytest.mark.slow
def test_identical_files_cost_a_linear_number_of_lookups(tmp_path, monkeypatch):
    small = _work_for(tmp_path, 1000, monkeypatch)
    large = _work_for(tmp_path, 2000, monkeypatch)
    # All copies share one fingerprint: one donor look-up for the lot, not one per file.
    assert 1 <= small["fingerprint_sql"] <= 2 and 1 <= large["fingerprint_sql"] <= 2, (small, large)
    # Doubling the files at most doubles the rows read and statements run (the quadratic
    # version read every identical row for every file: 4x).
    for key in ("rows", "sql"):
        assert large[key] <= 2.2 * small[key] + 100, (key, small, large)
