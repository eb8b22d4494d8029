"""SettingsDialog persistence, and model setup: progress, cancel, no network, success."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from reelseek.core.library import Library
from reelseek.core.settings import Settings
from reelseek.desktop.model_setup import ModelSetupWidget
from reelseek.desktop.settings_dialog import HOME_KEY, SettingsDialog
from tests.desktop.fakes import Recorder


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    lib = Library(tmp_path / "home", model_id=None)
    yield lib
    lib.close()


def test_test_model_is_not_offered_but_kept_when_chosen(qtbot: QtBot, tmp_path: Path) -> None:
    """The menus leave out the test model; a library set to it (--model, $REELSEEK_MODEL) still shows it."""
    from reelseek.core.models import TEST_MODEL_ID

    lib = Library(tmp_path / "plain", model_id=None)
    try:
        dialog = SettingsDialog(lib, QSettings(str(tmp_path / "a.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(dialog)
        offered = [dialog.model_combo.itemData(i) for i in range(dialog.model_combo.count())]
        assert TEST_MODEL_ID not in offered and "vit-b-32" in offered
    finally:
        lib.close()
    lib = Library(tmp_path / "tiny", model_id=TEST_MODEL_ID)
    try:
        dialog = SettingsDialog(lib, QSettings(str(tmp_path / "b.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(dialog)
        assert dialog.model_combo.currentData() == TEST_MODEL_ID
        setup = ModelSetupWidget(lib)
        qtbot.addWidget(setup)
        assert setup.selected_model() == TEST_MODEL_ID
    finally:
        lib.close()


def test_settings_persist(qtbot: QtBot, library: Library, tmp_path: Path) -> None:
    qs = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    dialog = SettingsDialog(library, qs)
    qtbot.addWidget(dialog)
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("vit-b-16"))
    dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("cpu"))
    dialog.sample_spin.setValue(0.5)
    dialog.thumb_spin.setValue(256)
    dialog.rescan_spin.setValue(60)
    dialog.home_edit.setText(str(tmp_path / "elsewhere"))
    dialog.accept()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    saved = Settings.load(library.paths.settings_file)
    assert (saved.model_id, saved.device, saved.sample_every, saved.thumb_cache_mb, saved.rescan_interval_s) == (
        "vit-b-16",
        "cpu",
        0.5,
        256,
        60,
    )
    assert library.settings.sample_every == 0.5, "the running library sees the change too"
    assert QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat).value(HOME_KEY) == str(
        tmp_path / "elsewhere"
    )


def test_strict_sampling_is_a_setting_and_keyframes_plus_edges_the_default(
    qtbot: QtBot, library: Library, tmp_path: Path
) -> None:
    qs = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
    dialog = SettingsDialog(library, qs)
    qtbot.addWidget(dialog)
    assert not dialog.strict_check.isChecked(), "keyframes + edges is the default"
    dialog.strict_check.setChecked(True)
    dialog.accept()
    assert Settings.load(library.paths.settings_file).max_sample_every is None
    assert library.settings.indexer_max_every() is None, "the next index run samples strictly"
    again = SettingsDialog(library, qs)
    qtbot.addWidget(again)
    assert again.strict_check.isChecked()
    again.strict_check.setChecked(False)
    again.accept()
    assert Settings.load(library.paths.settings_file).max_sample_every == 2.0


def test_settings_that_fail_validation_are_not_saved(
    qtbot: QtBot, library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = SettingsDialog(library, QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(dialog)
    dialog.show()
    monkeypatch.setattr(library, "save_settings", lambda: (_ for _ in ()).throw(OSError("read-only disk")))
    dialog.accept()
    assert dialog.isVisible(), "the dialog stays open"
    assert "read-only disk" in dialog.error_label.text()


class _SlowWeights(http.server.BaseHTTPRequestHandler):
    """Pretends to be the hub: announces a big file and trickles it out."""

    total = 50_000_000
    stop = threading.Event()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(self.total))
        self.end_headers()
        chunk = b"\0" * (1 << 20)
        try:
            for _ in range(self.total // len(chunk)):
                if self.stop.is_set():
                    return
                self.wfile.write(chunk)
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            return

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hub() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowWeights)
    server.daemon_threads = True
    _SlowWeights.stop.clear()
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    _SlowWeights.stop.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def setup_widget(qtbot: QtBot, library: Library) -> Iterator[ModelSetupWidget]:
    w = ModelSetupWidget(library)
    qtbot.addWidget(w)
    w.show()
    w.combo.setCurrentIndex(w.combo.findData("vit-b-32"))
    yield w
    w.shutdown()


def test_download_shows_progress_and_can_be_cancelled(qtbot: QtBot, setup_widget: ModelSetupWidget, hub: str) -> None:
    w = setup_widget
    w.download_base_url = hub
    assert "not on this computer" in w.message.text()
    w.start_download()
    assert w.is_busy() and w.cancel_button.isVisible() and w.progress.isVisible()
    qtbot.waitUntil(lambda: w.progress.maximum() == 1000 and w.progress.value() > 0, timeout=10_000)
    assert " of " in w.progress.format() and "MB" in w.progress.format()
    w.cancel_download()
    qtbot.waitUntil(lambda: not w.is_busy(), timeout=10_000)
    assert "cancelled" in w.message.text().lower()
    assert not w.progress.isVisible()
    assert w.download_button.isEnabled(), "the editor can try again"


def test_no_network_says_so_and_suggests_import(qtbot: QtBot, setup_widget: ModelSetupWidget) -> None:
    w = setup_widget
    w.download_base_url = "http://127.0.0.1:9"  # discard port: nothing listens, like an offline machine
    rec = Recorder()
    w.model_ready.connect(rec.record)
    w.start_download()
    qtbot.waitUntil(lambda: not w.is_busy(), timeout=15_000)
    text = w.message.text()
    assert "no internet connection" in text and "Import weights file" in text
    assert w.message.property("state") == "error"
    assert w.import_button.isEnabled()
    assert rec.calls == []


def test_a_finished_download_announces_the_model(
    qtbot: QtBot, setup_widget: ModelSetupWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reelseek.core.models import weights

    def fake_download(spec, models_dir, *, progress=None, cancel=None, **_kw):  # type: ignore[no-untyped-def]
        for done in (0, 5, 10):
            progress(done * 1_000_000, 10_000_000)
        return Path(models_dir) / spec.id / "w.safetensors"

    monkeypatch.setattr(weights, "download", fake_download)
    with qtbot.waitSignal(setup_widget.model_ready, timeout=5000) as blocker:
        setup_widget.start_download()
    assert blocker.args == ["vit-b-32"]
    assert "is ready" in setup_widget.message.text()


def test_importing_a_bad_file_explains_why(qtbot: QtBot, setup_widget: ModelSetupWidget, tmp_path: Path) -> None:
    junk = tmp_path / "weights.bin"
    junk.write_bytes(b"definitely not a checkpoint")
    setup_widget.import_file(junk)
    qtbot.waitUntil(lambda: not setup_widget.is_busy(), timeout=10_000)
    assert "Could not import weights.bin" in setup_widget.message.text()
    assert setup_widget.message.property("state") == "error"
