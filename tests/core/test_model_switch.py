"""Model switching in core: coverage per model, which model serves, pruning, user-imported models."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from reelseek.core.cli_progress import ProgressBar
from reelseek.core.errors import LibraryError
from reelseek.core.library import Library
from reelseek.core.model_switch import prune_model, switch_state, use_model
from reelseek.core.models import ModelError
from reelseek.core.models.custom import import_custom, register_custom_models
from reelseek.core.store import NewSegment
from reelseek.core.types import IndexProgress
from tests.core.tiny_clip import OTHER_CFG, write_safetensors

OLD, NEW = "reelseek-test-tiny", "vit-b-32"


def _commit(lib: Library, file_id: int, model: str) -> None:
    v = np.ones(64, np.float32) / 8.0
    seg = NewSegment(0.0, 1.0, 0.5, v, np.array([0.5], np.float32), v[None].astype(np.float16), None)
    lib.store.commit_file(file_id, model, [seg], duration=2.0, width=64, height=64)


@pytest.fixture
def lib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Library:
    monkeypatch.delenv("REELSEEK_MODEL", raising=False)
    (tmp_path / "f").mkdir()
    lib = Library(tmp_path / "home")
    folder = lib.store.add_folder(tmp_path / "f")
    lib.ids = [lib.store.upsert_file(tmp_path / "f" / f"{i}.mp4", folder, 9, 1, f"fp{i}") for i in range(4)]  # type: ignore[attr-defined]
    for i in lib.ids:  # type: ignore[attr-defined]
        _commit(lib, i, OLD)
    lib.store.set_meta("complete_model", OLD)
    lib.settings.model_id = OLD
    return lib


def test_serving_model_follows_coverage_of_the_chosen_model(lib: Library) -> None:
    ids = lib.ids  # type: ignore[attr-defined]
    lib.settings.model_id = NEW
    st = switch_state(lib)
    assert (st.target, st.serving, st.covered, st.total, st.percent) == (NEW, OLD, 0, 4, 0)
    _commit(lib, ids[0], NEW)
    lib.store.fail_file(ids[3], "broken")  # errors are not counted: no model can embed them
    st = switch_state(lib)
    assert (st.covered, st.total, st.percent, st.switching) == (1, 3, 33, True)
    assert "new model vit-b-32 33% (1/3 files); searches use reelseek-test-tiny" in st.line()
    _commit(lib, ids[1], NEW)
    _commit(lib, ids[2], NEW)
    st = switch_state(lib)
    assert (st.serving, st.switching, st.prunable) == (NEW, False, [OLD])
    assert lib.search_model() == NEW


def test_search_model_is_recomputed_only_after_a_commit(lib: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each search asks which model serves; the answer reads every file row, so it is cached
    until anything is committed: by this connection, another thread's, or another process."""
    import sqlite3
    import threading

    from reelseek.core import store_models

    calls: list[str] = []
    real = store_models.coverage
    monkeypatch.setattr(store_models, "coverage", lambda store, mid: (calls.append(mid), real(store, mid))[1])
    ids = lib.ids  # type: ignore[attr-defined]
    lib.settings.model_id = NEW
    assert [lib.search_model() for _ in range(3)] == [OLD] * 3
    assert len(calls) == 1
    for i in ids[:3]:  # the same connection commits: the new model now covers the library
        _commit(lib, i, NEW)
    lib.store.fail_file(ids[3], "broken")
    assert lib.search_model() == NEW
    assert len(calls) == 2
    other = sqlite3.connect(lib.store.path)  # as another process would
    other.execute("DELETE FROM segments WHERE file_id=? AND model_id=?", (ids[0], NEW))
    other.execute("UPDATE files SET model_id=NULL, status='pending' WHERE id=?", (ids[0],))
    other.commit()
    other.close()
    assert lib.search_model() == OLD
    assert len(calls) == 3
    t = threading.Thread(target=lambda: _commit(lib, ids[0], NEW))  # another thread's connection
    t.start()
    t.join()
    assert lib.search_model() == NEW
    assert len(calls) == 4
    lib.settings.model_id = OLD  # the chosen model is part of the key
    assert lib.search_model() == OLD
    assert len(calls) == 5


def test_prune_refuses_the_models_in_use_and_removes_only_on_request(lib: Library) -> None:
    lib.settings.model_id = NEW
    _commit(lib, lib.ids[0], NEW)  # type: ignore[attr-defined]
    for m in (OLD, NEW):  # serving and chosen
        with pytest.raises(LibraryError, match="nothing was removed"):
            prune_model(lib, m)
    assert lib.store.segment_count(OLD) == 4
    with pytest.raises(LibraryError, match="no vectors of vit-h-14"):
        prune_model(lib, "vit-h-14")
    for i in lib.ids[1:]:  # type: ignore[attr-defined]
        _commit(lib, i, NEW)
    (lib.paths.data / "segments-reelseek-test-tiny.usearch").write_bytes(b"x")  # an older version's file
    (lib.paths.data / "segments-reelseek-test-tiny.stage1").mkdir()
    (lib.paths.data / "segments-reelseek-test-tiny.stage1" / "manifest.json").write_text("{}")
    assert prune_model(lib, OLD) == 4
    assert lib.store.segment_count(OLD) == 0 and lib.store.segment_count(NEW) == 4
    assert not (lib.paths.data / "segments-reelseek-test-tiny.usearch").exists()
    assert not (lib.paths.data / "segments-reelseek-test-tiny.stage1").exists()


def test_use_model_refuses_missing_weights_and_keeps_settings(lib: Library) -> None:
    lib.save_settings()
    with pytest.raises(ModelError, match="not on this machine"):
        use_model(lib, NEW)
    with pytest.raises(ModelError, match="unknown model"):
        use_model(lib, "nope")
    assert json.loads(lib.paths.settings_file.read_text())["model_id"] == OLD


def test_custom_import_checks_id_base_and_architecture(tmp_path: Path) -> None:
    models = tmp_path / "models"
    good = write_safetensors(tmp_path / "bad-arch.safetensors", OTHER_CFG)
    with pytest.raises(ModelError, match="does not fit"):
        import_custom(good, "mine", OLD, models)
    assert not (models / "mine").exists()
    with pytest.raises(ModelError, match="not a usable model id"):
        import_custom(good, "../evil", OLD, models)
    with pytest.raises(ModelError, match="built-in"):
        import_custom(good, NEW, OLD, models)
    with pytest.raises(ModelError, match="unknown model"):
        import_custom(good, "mine", "no-such-base", models)
    assert register_custom_models(models) == []


def test_progress_shows_the_new_models_share() -> None:
    p = IndexProgress(3, 8, "/x/a.mp4", 10.0, 20.0, 2.0, switch="new model b 43%")
    assert "new model b 43%" in ProgressBar(io.StringIO()).render(p, None)


def test_serving_model_is_kept_until_the_database_or_the_choice_changes(
    lib: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reelseek.core import store_models
    from reelseek.core.store import Store

    calls: list[str] = []
    real = store_models.coverage

    def counting(store: Store, model_id: str) -> tuple[int, int]:
        calls.append(model_id)
        return real(store, model_id)

    monkeypatch.setattr(store_models, "coverage", counting)
    ids = lib.ids  # type: ignore[attr-defined]
    assert lib.search_model() == OLD
    assert lib.search_model() == OLD and lib.search_model() == OLD
    assert calls == [OLD]  # asked once: nothing changed in between
    lib.settings.model_id = NEW  # another model chosen: asked again
    assert lib.search_model() == OLD and calls == [OLD, NEW]
    for i in ids:  # this connection commits: the new model covers the library now
        _commit(lib, i, NEW)
    assert lib.search_model() == NEW and len(calls) == 3
    # Another connection (another process's indexer) commits: seen through PRAGMA data_version.
    other = Store(lib.store.path)
    other.fail_file(ids[0], "broken")
    store_models.delete_model_vectors(other, NEW)
    other.close()
    got = lib.search_model()
    assert len(calls) == 4  # asked again
    from reelseek.core.model_switch import serving_model

    assert got == serving_model(lib.store, NEW) == OLD  # and the old model serves again
