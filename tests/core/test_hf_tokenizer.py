"""Multilingual models: tokenizer files download and import with the weights, and load with no hub contact."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from reelseek.core.models import ModelError, download, import_weights, is_available, load_embedder, weights_path
from reelseek.core.models.hf_tokenizer import tokenizer_dir
from tests.core.tiny_hf import TOKENIZER_FILES, hf_spec, register_hf_arch, write_bundle, write_tokenizer, write_weights


@pytest.fixture(scope="module", autouse=True)
def _arch(tmp_path_factory: pytest.TempPathFactory) -> None:
    register_hf_arch(tmp_path_factory.mktemp("archs"))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundle(tmp_path_factory.mktemp("bundle") / "xlmr")


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every outgoing connection attempt is recorded and refused (a hub contact would show up here)."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # loading must switch it on by itself
    return attempts


def _leftovers(models_dir: Path) -> list[str]:
    return (
        sorted(str(p.relative_to(models_dir)) for p in models_dir.rglob("*") if p.is_file())
        if models_dir.exists()
        else []
    )


def _check_loads_offline(spec, models_dir: Path, attempts: list[object]) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, str | None] = {}
    import transformers

    real = transformers.AutoTokenizer.from_pretrained

    def spy(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        seen["offline"] = os.environ.get("HF_HUB_OFFLINE")
        seen["source"] = str(args[0])
        seen["local_files_only"] = str(kwargs.get("local_files_only"))
        return real(*args, **kwargs)

    transformers.AutoTokenizer.from_pretrained = spy  # type: ignore[method-assign]
    try:
        emb = load_embedder(spec, device="cpu", models_dir=models_dir, precision="fp32")
    finally:
        transformers.AutoTokenizer.from_pretrained = real  # type: ignore[method-assign]
    vecs = emb.encode_texts(["빨간 원", "파란 별", "red circle"])
    assert vecs.shape == (3, spec.dim) and np.isfinite(vecs).all()
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(vecs[0], vecs[1])  # the tokenizer really told the words apart
    assert attempts == []
    assert seen == {"offline": "1", "source": str(tokenizer_dir(spec, models_dir)), "local_files_only": "True"}


@pytest.mark.parametrize("form", ["folder", "zip", "tar.gz"])
def test_import_of_weights_and_tokenizer_then_offline_load(
    bundle: Path, tmp_path: Path, no_network: list[object], form: str
) -> None:
    spec = hf_spec()
    src = bundle
    if form == "zip":
        src = tmp_path / "xlmr.zip"
        with zipfile.ZipFile(src, "w") as z:
            for p in bundle.rglob("*"):
                z.write(p, p.relative_to(bundle.parent))
    elif form == "tar.gz":
        src = tmp_path / "xlmr.tar.gz"
        with tarfile.open(src, "w:gz") as t:
            t.add(bundle, arcname="xlmr")
    models = tmp_path / "models"
    assert not is_available(spec, models)
    dest = import_weights(src, spec, models)
    assert dest == models / spec.id / "open_clip_model.safetensors"
    assert sorted(p.name for p in tokenizer_dir(spec, models).iterdir()) == sorted(TOKENIZER_FILES)
    assert is_available(spec, models)
    _check_loads_offline(spec, models, no_network)
    assert not [p for p in (models / spec.id).iterdir() if p.name.startswith(".")]  # no staging left


@pytest.mark.parametrize("missing", ["tokenizer.json", "config.json"])
def test_partial_import_names_the_missing_file_and_changes_nothing(bundle: Path, tmp_path: Path, missing: str) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(bundle, partial)
    (partial / "tokenizer" / missing).unlink()
    models = tmp_path / "models"
    with pytest.raises(ModelError) as e:
        import_weights(partial, hf_spec(), models)
    assert missing in str(e.value) and "models import" in str(e.value)
    assert _leftovers(models) == []


def test_lone_weights_file_without_tokenizer_is_refused(bundle: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    with pytest.raises(ModelError, match=r"tokenizer\.json"):
        import_weights(bundle / "open_clip_model.safetensors", hf_spec(), models)
    assert _leftovers(models) == []
    # With the tokenizer already in place, a new weights file alone is enough.
    import_weights(bundle, hf_spec(), models)
    import_weights(bundle / "open_clip_model.safetensors", hf_spec(), models)
    assert is_available(hf_spec(), models)


def test_broken_tokenizer_json_is_refused_and_keeps_the_working_model(bundle: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    import_weights(bundle, hf_spec(), models)
    before = (tokenizer_dir(hf_spec(), models) / "tokenizer.json").read_bytes()
    broken = tmp_path / "broken"
    shutil.copytree(bundle, broken)
    (broken / "tokenizer" / "tokenizer.json").write_text("{not json")
    with pytest.raises(ModelError, match="do not load"):
        import_weights(broken, hf_spec(), models)
    assert (tokenizer_dir(hf_spec(), models) / "tokenizer.json").read_bytes() == before
    assert is_available(hf_spec(), models)


def test_deleting_a_tokenizer_file_makes_the_model_unavailable(bundle: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    import_weights(bundle, hf_spec(), models)
    (tokenizer_dir(hf_spec(), models) / "config.json").unlink()
    assert weights_path(hf_spec(), models) is None
    with pytest.raises(ModelError, match="not on this machine"):
        load_embedder(hf_spec(), device="cpu", models_dir=models)


# -- download: weights and tokenizer files from a local stand-in for the hub ----------------------
class _Hub(http.server.ThreadingHTTPServer):
    files: dict[str, bytes]
    requests: list[str]


def _handler() -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        server: _Hub

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.server.requests.append(self.path)
            data = self.server.files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture()
def hub(bundle: Path) -> Iterator[_Hub]:
    server = _Hub(("127.0.0.1", 0), _handler())
    server.requests = []
    server.files = {
        "/fixture/xlmr/resolve/main/open_clip_model.safetensors": (bundle / "open_clip_model.safetensors").read_bytes()
    }
    for name in TOKENIZER_FILES:
        server.files[f"/fixture/xlmr-tokenizer/resolve/main/{name}"] = (bundle / "tokenizer" / name).read_bytes()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_download_fetches_tokenizer_files_with_progress_then_loads_offline(
    hub: _Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    spec = hf_spec()
    calls: list[tuple[int, int | None]] = []
    url = f"http://127.0.0.1:{hub.server_address[1]}"
    path = download(spec, models, progress=lambda d, t: calls.append((d, t)), base_url=url)
    assert path == models / spec.id / "open_clip_model.safetensors"
    got = {r.rsplit("/", 1)[1] for r in hub.requests}
    assert set(TOKENIZER_FILES) | {"sentencepiece.bpe.model", "open_clip_model.safetensors"} <= got
    assert sorted(p.name for p in tokenizer_dir(spec, models).iterdir()) == sorted(TOKENIZER_FILES)  # optional 404 ok
    sizes = {len(b) for b in hub.files.values()}
    assert {t for _, t in calls if t} >= sizes  # every file reported its progress to completion
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    _check_loads_offline(spec, models, attempts)


def test_download_without_a_required_tokenizer_file_fails_clearly(hub: _Hub, tmp_path: Path) -> None:
    del hub.files["/fixture/xlmr-tokenizer/resolve/main/tokenizer.json"]
    models = tmp_path / "models"
    with pytest.raises(ModelError, match=r"no tokenizer\.json"):
        download(hf_spec(), models, base_url=f"http://127.0.0.1:{hub.server_address[1]}")
    assert not is_available(hf_spec(), models)
    assert [p for p in _leftovers(models) if "tokenizer" in p] == []


def test_tokenizer_fixture_builds_from_local_files_only(tmp_path: Path) -> None:
    """The fixture itself never needs a hub: config.json drives the text tower's shape."""
    tok = write_tokenizer(tmp_path / "tok")
    write_weights(tmp_path / "w.safetensors", tok)
    from safetensors import safe_open

    with safe_open(str(tmp_path / "w.safetensors"), framework="pt") as f:
        assert any(k.startswith("text.transformer.") for k in f.keys())  # noqa: SIM118 (safe_open is not iterable)
