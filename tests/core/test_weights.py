"""Weights on disk: resumable verified downloads from a local HTTP server, and checked imports."""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from pathlib import Path

import numpy as np
import pytest

from reelseek.core.models import (
    DownloadCancelled,
    ModelError,
    download,
    get_spec,
    import_weights,
    is_available,
    load_embedder,
    weights_path,
)
from tests.core.tiny_clip import (
    OTHER_CFG,
    TINY_CFG,
    bundled_spec,
    hub_spec,
    random_state_dict,
    register_archs,
    write_local_dir,
    write_safetensors,
    write_torch_bin,
)

PAYLOAD = np.random.default_rng(7).integers(0, 256, size=3 * (1 << 20) + 12345, dtype=np.uint8).tobytes()
REPO = "fixture/tiny"
SAFE = "open_clip_model.safetensors"
BIN = "open_clip_pytorch_model.bin"


# -- a tiny hub: GET /<repo>/resolve/main/<file>, with Range support and failure switches ----------
@dataclass
class Hub:
    files: dict[str, bytes] = field(default_factory=dict)
    honour_range: bool = True
    cut_after: int | None = None  # send only this many body bytes, then drop the connection
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    url: str = ""


def _handler(hub: Hub) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            rng = self.headers.get("Range")
            hub.requests.append((self.path, rng))
            prefix = f"/{REPO}/resolve/main/"
            data = hub.files.get(self.path[len(prefix) :]) if self.path.startswith(prefix) else None
            if data is None:
                self.send_error(404)
                return
            start = 0
            if rng and hub.honour_range:
                start = int(rng.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if hub.cut_after is not None:
                self.wfile.write(body[: hub.cut_after])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)

    return Handler


@pytest.fixture()
def hub() -> Iterator[Hub]:
    h = Hub(files={SAFE: PAYLOAD})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(h))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    h.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield h
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module", autouse=True)
def _archs(tmp_path_factory: pytest.TempPathFactory) -> None:
    register_archs(tmp_path_factory.mktemp("archs"))


def _spec(**changes: object):  # type: ignore[no-untyped-def]
    return hub_spec(hf_repo=REPO, **changes)


def _leftovers(models_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(models_dir)) for p in models_dir.rglob("*") if p.is_file())


# -- download ------------------------------------------------------------------------------------
def test_download_streams_with_progress_and_lands_atomically(hub: Hub, tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    spec = _spec(sha256=hashlib.sha256(PAYLOAD).hexdigest(), size_bytes=len(PAYLOAD))
    assert not is_available(spec, tmp_path)
    path = download(spec, tmp_path, progress=lambda d, t: calls.append((d, t)), base_url=hub.url)
    assert path == tmp_path / spec.id / SAFE
    assert path.read_bytes() == PAYLOAD
    assert _leftovers(tmp_path) == [f"{spec.id}/{SAFE}"]  # no .part left behind
    assert is_available(spec, tmp_path) and weights_path(spec, tmp_path) == path
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(calls) >= 4  # several chunks reported, never backwards
    assert calls[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert all(t == len(PAYLOAD) for _, t in calls)
    # Already there: no second request.
    n = len(hub.requests)
    assert download(spec, tmp_path, base_url=hub.url) == path
    assert len(hub.requests) == n


def test_download_resumes_from_a_part_file(hub: Hub, tmp_path: Path) -> None:
    spec = _spec()
    part = tmp_path / spec.id / (SAFE + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD[:1_000_000])
    calls: list[tuple[int, int | None]] = []
    path = download(spec, tmp_path, progress=lambda d, t: calls.append((d, t)), base_url=hub.url)
    assert path.read_bytes() == PAYLOAD
    assert hub.requests[-1][1] == "bytes=1000000-"
    assert calls[0] == (1_000_000, len(PAYLOAD))
    assert not part.exists()


def test_download_restarts_when_the_server_ignores_range(hub: Hub, tmp_path: Path) -> None:
    hub.honour_range = False
    spec = _spec()
    part = tmp_path / spec.id / (SAFE + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 5000)  # garbage that must not end up in the file
    assert download(spec, tmp_path, base_url=hub.url).read_bytes() == PAYLOAD


def test_download_falls_back_to_the_pickle_file(hub: Hub, tmp_path: Path) -> None:
    hub.files = {BIN: PAYLOAD}
    path = download(_spec(), tmp_path, base_url=hub.url)
    assert path.name == BIN and path.read_bytes() == PAYLOAD
    assert [p for p, _ in hub.requests] == [f"/{REPO}/resolve/main/{SAFE}", f"/{REPO}/resolve/main/{BIN}"]


def test_download_with_wrong_checksum_leaves_nothing(hub: Hub, tmp_path: Path) -> None:
    spec = _spec(sha256="0" * 64)
    with pytest.raises(ModelError, match="checksum"):
        download(spec, tmp_path, base_url=hub.url)
    assert _leftovers(tmp_path) == []
    assert not is_available(spec, tmp_path)


def test_download_with_wrong_size_leaves_nothing(hub: Hub, tmp_path: Path) -> None:
    spec = _spec(size_bytes=len(PAYLOAD) + 1)
    with pytest.raises(ModelError, match="wrong size"):
        download(spec, tmp_path, base_url=hub.url)
    assert _leftovers(tmp_path) == []


def test_cancel_leaves_no_final_file_and_a_later_call_resumes(hub: Hub, tmp_path: Path) -> None:
    spec = _spec(sha256=hashlib.sha256(PAYLOAD).hexdigest())
    cancel = threading.Event()

    def progress(done: int, total: int | None) -> None:
        if done >= 1 << 20:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        download(spec, tmp_path, progress=progress, cancel=cancel, base_url=hub.url)
    assert not (tmp_path / spec.id / SAFE).exists()
    assert not is_available(spec, tmp_path)
    part = tmp_path / spec.id / (SAFE + ".part")
    assert 0 < part.stat().st_size < len(PAYLOAD)
    kept = part.stat().st_size
    path = download(spec, tmp_path, base_url=hub.url)
    assert path.read_bytes() == PAYLOAD
    assert hub.requests[-1][1] == f"bytes={kept}-"


def test_interrupted_transfer_keeps_the_part_for_resume(hub: Hub, tmp_path: Path) -> None:
    hub.cut_after = 1_500_000
    spec = _spec()
    with pytest.raises(ModelError, match="interrupted"):
        download(spec, tmp_path, base_url=hub.url)
    assert not (tmp_path / spec.id / SAFE).exists()
    hub.cut_after = None
    assert download(spec, tmp_path, base_url=hub.url).read_bytes() == PAYLOAD


def test_server_down_says_no_network_and_suggests_import(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ModelError, match="no network") as e:
        download(_spec(), tmp_path, base_url=f"http://127.0.0.1:{port}", timeout=5)
    assert "models import" in str(e.value) and "fixture-hub" in str(e.value)
    assert not is_available(_spec(), tmp_path)


def test_missing_on_server_is_a_clear_error(hub: Hub, tmp_path: Path) -> None:
    hub.files = {}
    with pytest.raises(ModelError, match="server has no weights"):
        download(_spec(), tmp_path, base_url=hub.url)


def test_download_of_the_bundled_model_needs_no_network(tmp_path: Path) -> None:
    folder = write_local_dir(tmp_path / "bundled")
    spec = bundled_spec(folder)
    assert download(spec, tmp_path / "models", base_url="http://127.0.0.1:9") == folder


# -- import --------------------------------------------------------------------------------------
def test_import_safetensors_then_load_gives_the_same_model(tmp_path: Path) -> None:
    src = write_safetensors(tmp_path / "downloaded-elsewhere.safetensors", TINY_CFG, seed=3)
    spec = _spec()
    models = tmp_path / "models"
    path = import_weights(src, spec, models)
    assert path == models / spec.id / SAFE and path.read_bytes() == src.read_bytes()
    assert _leftovers(models) == [f"{spec.id}/{SAFE}"]
    assert is_available(spec, models)
    # The imported weights are the ones used: same vectors as the same weights as a local-dir model.
    ref = load_embedder(bundled_spec(write_local_dir(tmp_path / "ref", seed=3)), models_dir=models)
    emb = load_embedder(spec, models_dir=models)
    frames = np.random.default_rng(1).integers(0, 256, size=(3, 64, 64, 3), dtype=np.uint8)
    np.testing.assert_allclose(emb.encode_frames(frames), ref.encode_frames(frames), atol=1e-6)
    np.testing.assert_allclose(emb.encode_texts(["a red circle"]), ref.encode_texts(["a red circle"]), atol=1e-6)


def test_import_torch_checkpoint_with_any_name_replaces_older_weights(tmp_path: Path) -> None:
    spec = _spec()
    models = tmp_path / "models"
    import_weights(write_safetensors(tmp_path / "a.safetensors"), spec, models)
    src = write_torch_bin(tmp_path / "weights.download", TINY_CFG, seed=1)
    path = import_weights(src, spec, models)
    assert path.name == BIN
    assert _leftovers(models) == [f"{spec.id}/{BIN}"]
    assert weights_path(spec, models) == path
    assert load_embedder(spec, models_dir=models).encode_texts(["x"]).shape == (1, 64)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("random-bytes", "neither a safetensors|not a readable"),
        ("truncated", "not a readable weights file"),
        ("wrong-arch", "does not fit fixture-hub"),
        ("nan", "NaN"),
        ("not-tensors", "not a dictionary of tensors"),
        ("empty", "neither a safetensors"),
    ],
)
def test_bad_import_is_refused_and_leaves_nothing(tmp_path: Path, kind: str, message: str) -> None:
    import torch

    good = write_safetensors(tmp_path / "good.safetensors")
    bad = tmp_path / f"bad-{kind}.safetensors"
    if kind == "random-bytes":
        bad.write_bytes(PAYLOAD[:100_000])
    elif kind == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind == "wrong-arch":
        write_safetensors(bad, OTHER_CFG)
    elif kind == "nan":
        from safetensors.torch import save_file

        sd = random_state_dict(TINY_CFG)
        sd["text_projection"][0, 0] = float("nan")  # type: ignore[index]
        save_file(sd, str(bad))  # type: ignore[arg-type]
    elif kind == "not-tensors":
        bad = tmp_path / "bad.pt"
        torch.save({"epoch": 3, "note": "not weights"}, str(bad))
    else:
        bad.write_bytes(b"")
    models = tmp_path / "models"
    with pytest.raises(ModelError, match=message) as e:
        import_weights(bad, _spec(), models)
    assert bad.name in str(e.value)
    assert not models.exists() or _leftovers(models) == []
    assert not is_available(_spec(), models)


def test_failed_import_keeps_the_weights_already_there(tmp_path: Path) -> None:
    spec = _spec()
    models = tmp_path / "models"
    kept = import_weights(write_safetensors(tmp_path / "good.safetensors"), spec, models)
    before = kept.read_bytes()
    wrong = write_torch_bin(tmp_path / "other.bin", OTHER_CFG)
    with pytest.raises(ModelError, match="does not fit"):
        import_weights(wrong, spec, models)
    assert _leftovers(models) == [f"{spec.id}/{SAFE}"] and kept.read_bytes() == before


def test_import_errors_for_missing_file_and_bundled_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such file"):
        import_weights(tmp_path / "nope.safetensors", _spec(), tmp_path)
    with pytest.raises(ModelError, match="nothing to import"):
        import_weights(write_safetensors(tmp_path / "w.safetensors"), get_spec("reelseek-test-tiny"), tmp_path)


def test_weights_path_ignores_a_file_of_the_wrong_size(tmp_path: Path) -> None:
    spec = _spec(size_bytes=123)
    f = tmp_path / spec.id / SAFE
    f.parent.mkdir(parents=True)
    f.write_bytes(b"x" * 100)
    assert weights_path(spec, tmp_path) is None
    assert weights_path(dc_replace(spec, size_bytes=100), tmp_path) == f


def test_hub_urls_of_the_registry_are_well_formed() -> None:
    from reelseek.core.models import list_models

    for spec in list_models():
        if spec.is_bundled:
            continue
        assert spec.download_url_path == f"{spec.hf_repo}/resolve/main/{spec.weights_file}"
        assert spec.weights_file in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
        assert os.sep not in spec.id and "/" not in spec.id
