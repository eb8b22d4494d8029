"""The GUI side of a model switch: the status bar shows the new model's coverage, Settings prunes
old vectors only on request and refuses a corrupt model file (the old model keeps serving)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from reelseek.core.library import Library
from reelseek.core.store import NewSegment
from reelseek.desktop.settings_dialog import SettingsDialog
from reelseek.desktop.status_widget import IndexStatusWidget

OLD, NEW = "reelseek-test-tiny", "vit-b-32"


def _commit(lib: Library, file_id: int, model: str, seed: int) -> None:
    v = np.random.default_rng(seed).standard_normal(64).astype(np.float32)
    v /= np.linalg.norm(v)
    seg = NewSegment(0.0, 2.0, 1.0, v, np.array([0.5, 1.5], np.float32), np.stack([v, v]).astype(np.float16), None)
    lib.store.commit_file(file_id, model, [seg], duration=2.0, width=64, height=64)


@pytest.fixture
def switching(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Library:
    """A library of two files, both embedded by OLD, one of them by NEW too; NEW is chosen."""
    monkeypatch.delenv("REELSEEK_MODEL", raising=False)
    (tmp_path / "footage").mkdir()
    lib = Library(tmp_path / "home")
    folder = lib.store.add_folder(tmp_path / "footage")
    ids = [lib.store.upsert_file(tmp_path / "footage" / f"{i}.mp4", folder, 10, 1, f"fp{i}") for i in range(2)]
    for i in ids:
        _commit(lib, i, OLD, i)
    lib.store.set_meta("complete_model", OLD)
    lib.store.set_status(ids[1], "pending")  # the switch put it back in the queue
    _commit(lib, ids[0], NEW, 10)
    lib.settings.model_id = NEW
    lib.save_settings()
    lib._ids = ids  # type: ignore[attr-defined]
    return lib


def test_status_widget_shows_the_new_models_coverage_until_it_is_done(qtbot: QtBot, switching: Library) -> None:
    w = IndexStatusWidget()
    qtbot.addWidget(w)
    w.show_switch(switching.status().models)
    assert w.switch_label.isVisibleTo(w)
    assert w.switch_label.text() == f"New model {NEW} 50% · searching with {OLD}"
    assert switching.search_model() == OLD
    _commit(switching, switching._ids[1], NEW, 11)  # type: ignore[attr-defined]
    w.show_switch(switching.status().models)
    assert not w.switch_label.isVisibleTo(w)
    assert switching.search_model() == NEW
    switching.close()


def test_progress_text_shows_the_new_models_share() -> None:
    from reelseek.core.types import IndexProgress
    from reelseek.desktop.status_widget import progress_text

    p = IndexProgress(3, 8, "/x/a.mp4", 10.0, 20.0, 2.0, switch="new model b 43%")
    assert progress_text(p).endswith("new model b 43%")
    assert "new model" not in progress_text(IndexProgress(3, 8, "/x/a.mp4", 10.0, 20.0, 2.0))


def test_settings_prunes_old_vectors_only_when_asked(qtbot: QtBot, switching: Library, tmp_path: Path) -> None:
    qs = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    # Mid-switch nothing can be pruned: the old model is still the one searches use.
    dialog = SettingsDialog(switching, qs)
    qtbot.addWidget(dialog)
    assert dialog.prune_buttons == {}
    _commit(switching, switching._ids[1], NEW, 11)  # type: ignore[attr-defined]
    assert switching.store.segment_count(OLD) == 2  # switched, old vectors kept
    asked: list[str] = []
    dialog = SettingsDialog(switching, qs, prune=asked.append)
    qtbot.addWidget(dialog)
    assert list(dialog.prune_buttons) == [OLD]
    dialog.prune_buttons[OLD].click()
    assert asked == [OLD] and switching.store.segment_count(OLD) == 2  # handed to the writer thread
    # Without a writer the dialog prunes itself.
    dialog = SettingsDialog(switching, qs)
    qtbot.addWidget(dialog)
    dialog.prune_buttons[OLD].click()
    assert switching.store.segment_count(OLD) == 0 and switching.store.segment_count(NEW) == 2
    assert not dialog.error_label.isVisibleTo(dialog)
    switching.close()


def test_settings_refuses_a_corrupt_model_and_keeps_the_old_one(qtbot: QtBot, tmp_path: Path, monkeypatch) -> None:
    from reelseek.core.models.custom import import_custom
    from tests.e2e.test_model_switch import random_weights

    monkeypatch.delenv("REELSEEK_MODEL", raising=False)
    lib = Library(tmp_path / "home")
    lib.settings.model_id = OLD
    lib.save_settings()
    path = import_custom(random_weights(tmp_path / "w.safetensors", 3), "mine", OLD, lib.paths.models)
    path.write_bytes(path.read_bytes()[:1000])
    dialog = SettingsDialog(lib, QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(dialog)
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("mine"))
    dialog.accept()
    assert dialog.error_label.text().startswith("Model not changed:")
    assert lib.settings.model_id == OLD and lib.model_id() == OLD
    lib.close()
