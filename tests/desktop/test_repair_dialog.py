"""Opening a damaged library offers Repair; the repair runs off the GUI thread and brings it back."""

from __future__ import annotations

import pytest

from reelseek.core.backups import make_backup
from reelseek.core.library import Library, LibraryDamaged
from reelseek.desktop.repair_dialog import RepairDialog


def _library_with_backup(tmp_path):
    home = tmp_path / "home"
    folder = tmp_path / "footage"
    folder.mkdir()
    lib = Library(home)
    lib.add_folder(folder)
    assert make_backup(lib.store.conn, lib.paths.data) is not None
    lib.close()
    return home, folder


def test_zero_byte_database_is_refused_then_repaired_from_the_dialog(qtbot, tmp_path):
    home, folder = _library_with_backup(tmp_path)
    (home / "library.sqlite3").write_bytes(b"")
    with pytest.raises(LibraryDamaged) as info:
        Library(home)
    assert info.value.repairable and "doctor --repair" in str(info.value)
    dialog = RepairDialog(info.value, home)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.accepted, timeout=60_000):
        dialog.repair_button.click()
        assert not dialog.buttons.isEnabled()  # the GUI thread is free while it repairs
    assert any("restored the backup" in a for a in dialog.actions)
    lib = Library(home)
    try:
        assert [p for _, p in lib.store.folders()] == [str(folder.resolve())]
    finally:
        lib.close()


def test_repair_without_a_backup_says_so(qtbot, tmp_path):
    home = tmp_path / "home"
    lib = Library(home)
    lib.close()
    # An index file but no backup: the database was lost, nothing to restore it from.
    (home / "segments-x.usearch.json").write_text('{"generation": 3, "model_id": "x", "dim": 4, "count": 0}')
    (home / "library.sqlite3").unlink()
    with pytest.raises(LibraryDamaged) as info:
        Library(home)
    assert not info.value.repairable
    dialog = RepairDialog(info.value, home)
    qtbot.addWidget(dialog)
    assert "new library" in dialog.outcome.text()
