"""Store SQL for several models side by side: coverage per model, vectors per model, pruning one."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Store

# Files a model must have vectors for to cover the library: the ones the indexer embeds
# (errors cannot be embedded by any model; offline files wait for their drive).
_WANTED = "('done', 'pending', 'indexing')"


def coverage(store: Store, model_id: str) -> tuple[int, int]:
    """(files this model has vectors for, files a model must cover), in one statement.

    A file counts when it has segments of the model (an older model keeps covering the library
    after a newer one took over), or when the model embedded it last and found no segment.
    """
    row = store.conn.execute(
        f"SELECT COALESCE(SUM(status IN {_WANTED}), 0), "
        f"COALESCE(SUM(status IN {_WANTED} AND ((status = 'done' AND model_id = ?) OR EXISTS "
        "(SELECT 1 FROM segments s WHERE s.file_id = f.id AND s.model_id = ?))), 0) FROM files f",
        (model_id, model_id),
    ).fetchone()
    return int(row[1]), int(row[0])


def vectors_per_model(store: Store) -> dict[str, int]:
    """Segment count of every model that has vectors in the library."""
    rows = store.conn.execute("SELECT model_id, COUNT(*) FROM segments GROUP BY model_id ORDER BY model_id")
    return {str(m): int(n) for m, n in rows}


def delete_model_vectors(store: Store, model_id: str) -> int:
    """Drop every segment of one model (one transaction); returns how many went.

    Files that model embedded forget it (model_id NULL), so an index run under it embeds them
    again rather than trusting vectors that are gone.
    """
    with store.transaction() as c:
        n = c.execute("DELETE FROM segments WHERE model_id=?", (model_id,)).rowcount
        c.execute("UPDATE files SET model_id=NULL WHERE model_id=?", (model_id,))
        c.execute("DELETE FROM meta WHERE key=?", (f"generation:{model_id}",))
        c.execute("DELETE FROM meta WHERE key='complete_model' AND value=?", (model_id,))
    return int(n)
