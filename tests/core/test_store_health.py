"""The library-open health check's time budget holds even inside SQLite's one-instruction quick_check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reelseek.core.store_health import _Interrupter, quick_check

ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def _db(path: Path, rows: int = 20_000) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    conn.execute("CREATE INDEX t_b ON t (b)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", ((i, f"row {i:08d} " * 8) for i in range(rows)))
    conn.commit()
    return conn


def test_the_timer_interrupts_a_statement_that_never_yields(tmp_path: Path) -> None:
    conn = _db(tmp_path / "a.sqlite3", rows=10)
    stopper = _Interrupter(conn, 0.05)
    with pytest.raises(sqlite3.OperationalError, match="interrupt"):
        conn.execute(ENDLESS).fetchall()  # would run forever without the timer
    stopper.stop()
    assert stopper.fired
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (10,)


def test_a_stopped_timer_never_interrupts_later_statements(tmp_path: Path) -> None:
    conn = _db(tmp_path / "b.sqlite3", rows=10)
    stopper = _Interrupter(conn, 3600.0)
    stopper.stop()
    stopper._fire()  # a timer thread that woke just after stop() must do nothing
    assert not stopper.fired
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (10,)


def test_quick_check_with_a_spent_budget_gives_no_verdict_and_leaves_the_connection_usable(tmp_path: Path) -> None:
    conn = _db(tmp_path / "c.sqlite3")
    for _ in range(10):  # interrupted or finished in time, a sound library is never called damaged
        assert quick_check(conn, budget_s=0.0) is None
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (20_000,)
    assert quick_check(conn, budget_s=None) is None


def test_quick_check_reports_damage_it_finds(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite3"
    conn = _db(path)
    conn.close()
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(page * 3, len(data) - page, page * 5):  # garble some pages' cell areas
        data[start + 200 : start + 1200] = b"\xff" * 1000
    path.write_bytes(bytes(data))
    conn = sqlite3.connect(path)
    found = quick_check(conn, budget_s=None)
    assert found and found != "ok"
