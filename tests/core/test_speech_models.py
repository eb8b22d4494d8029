"""Speech models: registry, import of a real Whisper folder, check, load by id, download with resume."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from reelseek.core import cli
from reelseek.core.models import DownloadCancelled, ModelError
from reelseek.core.models.speech_registry import (
    DEFAULT_SPEECH_MODEL,
    SPEECH_MODEL_ENV,
    get_speech_spec,
    list_speech_models,
    resolve_speech_model_id,
)
from reelseek.core.settings import Settings
from reelseek.core.words import speech_models as sm
from reelseek.core.words.ocr import ScreenTextSource
from reelseek.core.words.sources import build_sources
from reelseek.core.words.speech import SpeechSource
from tests.core.speech_helpers import bundled_tiny_en, speech_models_dir  # noqa: F401 (a fixture)
from tests.core.test_weights import REPO, Hub, _handler

TINY = get_speech_spec("tiny.en")


def test_registry_covers_tiny_to_turbo_english_and_multilingual() -> None:
    ids = [s.id for s in list_speech_models()]
    for needed in ("tiny", "tiny.en", "base", "small", "medium", "large-v3", "large-v3-turbo"):
        assert needed in ids
    assert get_speech_spec("tiny.en").english_only and not get_speech_spec("base").english_only
    assert "preprocessor_config.json" in get_speech_spec("large-v3").files  # 128 mel bins
    assert all(s.hf_repo.count("/") == 1 for s in list_speech_models())
    assert set(DEFAULT_SPEECH_MODEL.values()) <= set(ids)
    with pytest.raises(ModelError, match=r"unknown speech model 'huge'.*tiny.en"):
        get_speech_spec("huge")


def test_model_choice_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SPEECH_MODEL_ENV, raising=False)
    assert resolve_speech_model_id(None, "cpu") == DEFAULT_SPEECH_MODEL["cpu"]
    assert resolve_speech_model_id(None, "cuda") == DEFAULT_SPEECH_MODEL["cuda"]
    assert resolve_speech_model_id(None, "cpu", settings_value="small") == "small"
    monkeypatch.setenv(SPEECH_MODEL_ENV, "tiny")
    assert resolve_speech_model_id(None, "cpu", settings_value="small") == "tiny"
    assert resolve_speech_model_id("base.en", "cpu") == "base.en"
    monkeypatch.setenv(SPEECH_MODEL_ENV, "nope")
    with pytest.raises(ModelError, match=SPEECH_MODEL_ENV):
        resolve_speech_model_id(None, "cpu")


def test_imported_model_loads_by_id_and_transcribes(speech_models_dir: Path) -> None:  # noqa: F811
    assert sm.is_available(TINY, speech_models_dir)
    assert (speech_models_dir / "speech" / "tiny.en" / "model.bin").is_file()
    sm.check_model_dir(sm.model_folder(TINY, speech_models_dir), TINY)
    model = sm.load_speech_model("tiny.en", speech_models_dir, device="cpu", cpu_threads=1)
    import numpy as np

    segments, info = model.transcribe(np.zeros(16000, dtype=np.float32), vad_filter=True)
    assert list(segments) == [] and info.language == "en"


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    assert not sm.is_available(TINY, tmp_path)
    with pytest.raises(ModelError, match=r"speech model base is not on this machine.*download-speech base"):
        sm.load_speech_model("base", tmp_path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("drop-model", "missing model.bin"),
        ("drop-vocab", "missing vocabulary.txt or vocabulary.json"),
        ("bad-config", "config.json is damaged"),
        ("truncated-model", "does not load"),
    ],
)
def test_bad_folders_are_refused_and_leave_nothing(tmp_path: Path, damage: str, message: str) -> None:
    src = tmp_path / "src"
    shutil.copytree(bundled_tiny_en(), src)
    if damage == "drop-model":
        (src / "model.bin").unlink()
    elif damage == "drop-vocab":
        (src / "vocabulary.txt").unlink()
    elif damage == "bad-config":
        (src / "config.json").write_text("{ not json")
    else:
        data = (src / "model.bin").read_bytes()
        (src / "model.bin").write_bytes(data[: len(data) // 3])
    models = tmp_path / "models"
    with pytest.raises(ModelError, match=message):
        sm.import_model(src, TINY, models)
    assert not sm.is_available(TINY, models)
    assert not [p for p in models.rglob("*") if p.is_file()]


def test_wrong_kind_and_failed_reimport_keep_the_model_there(tmp_path: Path) -> None:
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="holds an English-only Whisper model, but base is multilingual"):
        sm.import_model(bundled_tiny_en(), get_speech_spec("base"), models)
    sm.import_model(bundled_tiny_en(), TINY, models)
    with pytest.raises(ModelError, match="no such folder"):
        sm.import_model(tmp_path / "nowhere", TINY, models)
    assert sm.is_available(TINY, models)
    assert sorted(p.name for p in (models / "speech").iterdir()) == ["tiny.en"]  # no temp folders left


def test_import_from_a_hugging_face_cache_folder(tmp_path: Path) -> None:
    # huggingface_hub's layout: snapshots/<rev>/<file> symlinks into blobs/.
    cache = tmp_path / "models--Systran--faster-whisper-tiny.en"
    (cache / "blobs").mkdir(parents=True)
    snap = cache / "snapshots" / "0123abc"
    snap.mkdir(parents=True)
    for f in bundled_tiny_en().iterdir():
        if f.is_file() and f.suffix in (".bin", ".json", ".txt"):
            blob = cache / "blobs" / f"blob-{f.name}"
            shutil.copyfile(f, blob)
            (snap / f.name).symlink_to(blob)
    models = tmp_path / "models"
    folder = sm.import_model(cache, TINY, models)
    assert sm.is_available(TINY, models) and not (folder / "model.bin").is_symlink()


def test_cli_import_check_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "home")
    assert cli.main(["--home", home, "models", "check-speech", "tiny.en"]) == 2
    assert "import-speech DIR --as tiny.en" in capsys.readouterr().err
    assert cli.main(["--home", home, "models", "import-speech", str(bundled_tiny_en()), "--as", "tiny.en"]) == 0
    assert cli.main(["--home", home, "models", "check-speech", "tiny.en"]) == 0
    assert "complete and loads" in capsys.readouterr().out
    assert cli.main(["--home", home, "models", "list-speech"]) == 0
    listed = capsys.readouterr().out
    assert "* tiny.en" in listed and "  base " in listed


def test_build_sources_follows_the_settings(speech_models_dir: Path) -> None:  # noqa: F811
    sources = build_sources(Settings(), speech_models_dir, "cpu")
    assert [type(s) for s in sources] == [SpeechSource, ScreenTextSource]
    assert [s.name for s in sources] == ["said", "written"]

    class WordsSettings(Settings):
        words_ocr = False
        speech_model_id = "tiny.en"
        speech_language = "en"

    (speech,) = build_sources(WordsSettings(), speech_models_dir, "cpu")
    assert isinstance(speech, SpeechSource) and speech.model_id == "tiny.en" and speech.language == "en"
    assert speech.model_dir == speech_models_dir / "speech" / "tiny.en"


# -- download from a local hub (the image models' downloader, reused) ----------------------------
@pytest.fixture()
def hub():  # type: ignore[no-untyped-def]
    import http.server
    import threading

    h = Hub(files={p.name: p.read_bytes() for p in bundled_tiny_en().iterdir() if p.is_file()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(h))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    h.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield h
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_download_fetches_every_file_with_progress_and_resumes(hub: Hub, tmp_path: Path) -> None:
    spec = replace(TINY, hf_repo=REPO)
    models = tmp_path / "models"
    folder = sm.model_folder(spec, models)
    folder.mkdir(parents=True)
    # A previous attempt left half of model.bin: only the rest is asked for.
    half = len(hub.files["model.bin"]) // 2
    (folder / "model.bin.part").write_bytes(hub.files["model.bin"][:half])
    seen: list[tuple[int, int | None]] = []
    assert sm.download(spec, models, progress=lambda d, t: seen.append((d, t)), base_url=hub.url) == folder
    assert sm.is_available(spec, models)
    assert (folder / "model.bin").read_bytes() == hub.files["model.bin"]
    assert (f"/{REPO}/resolve/main/model.bin", f"bytes={half}-") in hub.requests
    assert seen and seen[-1][0] >= len(hub.files["model.bin"])
    assert not list(folder.glob("*.part"))


def test_download_cancel_keeps_the_part_and_errors_name_the_speech_commands(hub: Hub, tmp_path: Path) -> None:
    import threading

    spec = replace(TINY, hf_repo=REPO)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DownloadCancelled):
        sm.download(spec, tmp_path, cancel=cancel, base_url=hub.url)
    assert not sm.is_available(spec, tmp_path)
    del hub.files["tokenizer.json"]
    with pytest.raises(ModelError, match=r"no tokenizer.json for tiny.en.*import-speech DIR --as tiny.en"):
        sm.download(spec, tmp_path / "b", base_url=hub.url)
    with pytest.raises(ModelError, match=r"no network.*import-speech DIR --as tiny.en"):
        sm.download(spec, tmp_path / "c", base_url="http://127.0.0.1:9", timeout=2)
