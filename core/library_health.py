"""The checks a library passes on open: never a silent new library, damage named with the way out."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from .backups import list_backups
from .errors import REPAIR_HINT, LibraryDamaged, as_library_error
from .paths import DataPaths
from .store_health import CHECK_BUDGET_S, has_library_tables, header_problem, quick_check

if TYPE_CHECKING:
    from .library import Library


def index_sidecars(data: Path) -> list[Path]:
    """The JSON that says which model and generation each saved vector index holds: the manifest
    of a stage-1 folder, or an older version's ``.usearch.json`` sidecar."""
    data = Path(data)
    return sorted([*data.glob("segments-*.stage1/manifest.json"), *data.glob("segments-*.usearch.json")])


def index_of(sidecar: Path) -> Path:
    """The saved index a sidecar describes: the stage-1 folder, or an older version's single file."""
    return sidecar.parent if sidecar.name == "manifest.json" else sidecar.with_suffix("")


def remove_index(sidecar: Path) -> None:
    """Delete a saved index and its sidecar (the store can always rebuild it)."""
    import contextlib
    import shutil

    target = index_of(sidecar)
    if target.is_dir():
        shutil.rmtree(target, ignore_errors=True)
    for p in (sidecar, target):
        with contextlib.suppress(OSError):
            p.unlink()


def guard_blank_database(paths: DataPaths) -> None:
    """A missing, 0-byte or blank database beside backups or a vector index is a lost library,
    not a new one: refuse (``doctor --repair`` restores the newest backup)."""
    db = paths.database
    problem = header_problem(db) if db.exists() and db.stat().st_size else None
    if problem:
        raise LibraryDamaged(
            f"the library database {db} is damaged ({problem}); {REPAIR_HINT}",
            path=db,
            repairable=bool(list_backups(paths.data)),
        )
    if has_library_tables(db):
        return
    backups = list_backups(paths.data)
    traces = index_sidecars(paths.data)
    if not backups and not traces:
        return  # a genuinely new library
    state = "missing" if not db.exists() else "empty (0 bytes)" if db.stat().st_size == 0 else "blank"
    found = f"{len(backups)} backup(s)" if backups else "a vector index"
    raise LibraryDamaged(
        f"the library database {db} is {state}, but {found} of a library exist beside it, so it is not "
        f"a new library; {REPAIR_HINT}"
        + ("" if backups else " (no backup to restore: repair starts a new library; add your folders again)"),
        path=db,
        repairable=bool(backups),
    )


def check_library(lib: Library, budget_s: float | None = None) -> None:
    """Header, a bounded quick_check, and the index-ahead-of-store test; raises LibraryDamaged."""
    db = lib.paths.database
    if not db.exists():
        return
    problem = header_problem(db)
    if problem is None:
        try:
            problem = quick_check(lib.store.conn, CHECK_BUDGET_S if budget_s is None else budget_s)
        except sqlite3.Error as e:
            err = as_library_error(e, db)
            problem = str(e) if err is None or isinstance(err, LibraryDamaged) else None
    if problem:
        raise LibraryDamaged(
            f"the library database {db} is damaged ({problem}); {REPAIR_HINT}",
            path=db,
            repairable=bool(list_backups(lib.paths.data)),
        )
    try:
        behind = store_behind_index(lib)
    except sqlite3.DatabaseError as e:
        raise LibraryDamaged(f"the library database {db} is damaged ({e}); {REPAIR_HINT}", path=db) from e
    if behind:
        raise LibraryDamaged(
            f"the library database {db} has lost recent changes ({behind}): was its -wal file deleted "
            f"or an old copy put back? {REPAIR_HINT}",
            path=db,
            repairable=True,
        )


def store_behind_index(lib: Library) -> str | None:
    """An index saved at a later generation than the store has: the store went back in time.
    Generations only grow, and an index is only saved after its commits."""
    for sidecar in index_sidecars(lib.paths.data):
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            model, gen = str(meta["model_id"]), int(meta["generation"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        have = lib.store.generation(model)
        if gen > have:
            return f"its vector index for {model} is at generation {gen}, the database at {have}"
    return None
