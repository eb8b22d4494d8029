"""Shared checks for the concurrency and damage tests: the saved index equals the store, and
every file is found by a clip of itself."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from reelseek.core.index import VectorIndex
from reelseek.core.library import Library
from reelseek.core.types import Query
from tests.e2e.conftest import TEST_MODEL, cli_env, cli_path


def count_rows(db: Path, sql: str = "SELECT COUNT(*) FROM files WHERE status='done'") -> int:
    """A count read from a library another process is writing (files done by default); 0 while
    the database does not exist yet or is locked. Read-only: it never creates the file."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute(sql).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def spawn(home: Path, *args: object, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [cli_path(), *map(str, args)],
        env=cli_env(home),
        text=True,
        errors="surrogateescape",
        **popen,  # type: ignore[arg-type]
    )


def assert_index_equals_store(home: Path) -> None:
    """The SAVED index is accepted as-is (its sidecar matches the store) and holds exactly
    the store's segments: a reader would search it without rebuilding."""
    lib = Library(home, model_id=TEST_MODEL, readonly=True)
    try:
        mid = lib.model_id()
        saved = VectorIndex(lib.paths.data / f"segments-{mid}.stage1", mid, lib.vector_index().dim)
        meta = saved.read_meta()
        assert meta is not None, "no saved vector index"
        assert meta["generation"] == lib.store.generation(mid), (meta, lib.store.generation(mid))
        assert saved._try_load(lib.store.generation(mid), lib.store, view=True), "saved index rejected"
        seg_ids = sorted(int(r[0]) for r in lib.store.conn.execute("SELECT id FROM segments WHERE model_id=?", (mid,)))
        assert sorted(saved.keys().tolist()) == seg_ids
    finally:
        lib.close()


def assert_every_file_findable(home: Path, files: list[Path]) -> None:
    """Each file, queried by itself as a clip, comes back among the top results."""
    lib = Library(home, model_id=TEST_MODEL, readonly=True)
    try:
        missing = []
        for f in files:
            hits = lib.search(Query(clips=(f,)), limit=3, group=False)  # each copy on its own
            top = sorted([*hits.moments, *hits.more], key=lambda m: m.score, reverse=True)[:3]  # tail cut or not
            if str(f) not in {m.path for m in top}:
                missing.append((f.name, [Path(m.path).name for m in top]))
        assert not missing, missing
    finally:
        lib.close()


def lock_holder_pid(home: Path) -> int | None:
    try:
        return int(json.loads((home / "library.lock").read_text() or "{}").get("pid", 0)) or None
    except (OSError, ValueError):
        return None


def append_byte(files: list[Path]) -> None:
    for f in files:
        with open(f, "ab") as fh:
            fh.write(b"\0")
