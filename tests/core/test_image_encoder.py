"""The image tower on ONNX Runtime: parity with torch on decoded frames, the int8 check, and the cache's life."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from reelseek.core.models import ModelError, get_spec
from reelseek.core.models import image_encoder as ie
from reelseek.core.models.image_encoder import MANIFEST, cache_dir, load_image_encoder
from tests.core.tiny_clip import bundled_spec, write_local_dir

COCKATOO = Path("/usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4")  # camera footage


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def _decoded_frames(tmp: Path, size: int) -> np.ndarray:
    """Frames as the indexer gets them: decoded by PyAV, resized and cropped by core.media."""
    from reelseek.core import media
    from tests.synth.videos import SceneSpec, write_video

    clip = tmp / "scenes.mp4"
    write_video(
        clip,
        [
            SceneSpec("red", "circle", "sky", "left", 0.0, 2.0),
            SceneSpec("blue", "square", "grass", "still", 2.0, 4.0),
            SceneSpec("yellow", "star", "night", "up", 4.0, 6.0),
        ],
        width=256,
        height=144,
    )
    files = [clip] + ([COCKATOO] if COCKATOO.is_file() else [])
    frames = [f.pixels for p in files for f in media.sample_frames(p, every=1.0, size=size)]
    return np.stack(frames)


def _random_weights(arch: str, path: Path) -> None:
    import open_clip
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = open_clip.create_model(arch, pretrained=None)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(path))


@pytest.mark.parametrize("model_id", ["reelseek-test-tiny", "vit-b-32"])
def test_int8_tower_matches_torch_on_decoded_frames(model_id: str, tmp_path: Path) -> None:
    """The same vectors (cosine >= 0.999, the export's own bar) as the torch fp32 model on real
    decoded frames, for the test model and the default architecture with random weights."""
    from reelseek.core.models.embedder import load_embedder

    models = tmp_path / "models"
    spec = get_spec(model_id)
    if not spec.is_bundled:
        _random_weights(spec.arch, models / spec.id / "open_clip_model.safetensors")
    enc = load_image_encoder(spec, models)
    assert enc.dtype == "int8"
    manifest = json.loads((cache_dir(spec, models) / MANIFEST).read_text())
    assert manifest["check_cosine_int8"] >= 0.999 and manifest["dtype"] == "int8"
    full = load_embedder(spec, device="cpu", models_dir=models, precision="fp32")
    frames = _decoded_frames(tmp_path, enc.image_size)
    assert len(frames) >= 6
    a, b = enc.encode_frames(frames), full.encode_frames(frames)
    assert a.shape == b.shape == (len(frames), spec.dim)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert _cos(a, b).min() >= 0.999
    # Different pictures give different vectors (a constant output would pass the above).
    assert _cos(a[:1], a[-1:]).item() < 0.999
    with pytest.raises(ValueError, match="uint8 RGB frames"):
        enc.encode_frames(frames[:, :-1])


def test_cache_is_reused_and_rebuilt_when_the_weights_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reelseek.core.models.embedder import load_embedder

    folder = write_local_dir(tmp_path / "tiny", seed=1)
    spec = bundled_spec(folder, "fixture-image")
    models = tmp_path / "models"
    builds: list[int] = []
    real_build = ie.build_in_child
    monkeypatch.setattr(ie, "build_in_child", lambda *a, **k: (builds.append(1), real_build(*a, **k))[1])
    probe = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    v1 = load_image_encoder(spec, models).encode_frames(probe)
    manifest1 = json.loads((cache_dir(spec, models) / MANIFEST).read_text())
    v1b = load_image_encoder(spec, models).encode_frames(probe)  # reused: no second build
    assert builds == [1] and np.array_equal(v1, v1b)

    write_local_dir(folder, seed=2)  # new weights, same file name
    again = load_image_encoder(spec, models)
    assert builds == [1, 1]
    manifest2 = json.loads((cache_dir(spec, models) / MANIFEST).read_text())
    assert manifest2["graph"] != manifest1["graph"]
    assert not (cache_dir(spec, models) / manifest1["data"]).exists()  # the old export was removed
    assert sorted(p.name for p in cache_dir(spec, models).iterdir()) == sorted(
        [MANIFEST, manifest2["graph"], manifest2["data"]]
    )
    v2 = again.encode_frames(probe)
    assert _cos(v1, v2).max() < 0.999
    ref = load_embedder(spec, device="cpu", models_dir=models, precision="fp32").encode_frames(probe)
    assert _cos(v2, ref).min() >= 0.999


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    """The test model's export, built once; tests damage copies of it."""
    models = tmp_path_factory.mktemp("built") / "models"
    probe = np.random.default_rng(1).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    return models, probe, load_image_encoder(get_spec("reelseek-test-tiny"), models).encode_frames(probe)


@pytest.mark.parametrize("damage", ["flip", "truncate", "graph", "manifest", "delete", "cpu"])
def test_a_damaged_export_is_detected_and_rebuilt(
    damage: str, built: tuple[Path, np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    spec = get_spec("reelseek-test-tiny")
    models, probe, ref = tmp_path / "models", built[1], built[2]
    shutil.copytree(built[0], models)
    assert load_image_encoder(spec, models, build=False) is not None  # the copy is valid as it is
    d = cache_dir(spec, models)
    m = json.loads((d / MANIFEST).read_text())
    data, graph = d / m["data"], d / m["graph"]
    if damage == "flip":
        raw = bytearray(data.read_bytes())
        raw[:4096] = bytes(b ^ 0xFF for b in raw[:4096])
        data.write_bytes(bytes(raw))
    elif damage == "truncate":
        os.truncate(data, data.stat().st_size // 2)
    elif damage == "graph":
        graph.write_bytes(b"\0" * graph.stat().st_size)
    elif damage == "manifest":
        (d / MANIFEST).write_text("{not json")
    elif damage == "cpu":  # checked on a CPU with other int8 instructions: checked again here
        (d / MANIFEST).write_text(json.dumps({**m, "cpu": "avx2"}))
    else:
        data.unlink()
    with pytest.raises(ModelError):
        load_image_encoder(spec, models, build=False)  # detected, not used
    enc = load_image_encoder(spec, models)  # rebuilt
    assert _cos(enc.encode_frames(probe), ref).min() >= 0.9999
    assert load_image_encoder(spec, models, build=False) is not None


def test_int8_failing_its_check_keeps_fp32(tmp_path: Path) -> None:
    """A threshold int8 cannot meet (as real weights with outliers might) publishes the fp32 graph."""
    from reelseek.core.models.embedder import load_embedder

    spec = get_spec("reelseek-test-tiny")
    models = tmp_path / "models"
    ie.build_image_cache(spec, models, int8_min_cosine=1.01)
    enc = load_image_encoder(spec, models, build=False)
    m = json.loads((cache_dir(spec, models) / MANIFEST).read_text())
    assert enc.dtype == "float32" and m["dtype"] == "float32" and m["check_cosine_int8"] < 1.01
    assert sorted(p.name for p in cache_dir(spec, models).iterdir()) == sorted([MANIFEST, m["graph"], m["data"]])
    probe = np.random.default_rng(2).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    ref = load_embedder(spec, device="cpu", models_dir=models, precision="fp32").encode_frames(probe)
    assert _cos(enc.encode_frames(probe), ref).min() >= 0.9999


def test_a_quantiser_that_fails_keeps_fp32(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No onnxruntime.quantization in the install (a trimmed bundle), or it crashes: fp32 is published."""
    from reelseek.core.models import onnx_int8

    def broken(*a, **k):  # type: ignore[no-untyped-def]
        raise ImportError("No module named 'onnxruntime.quantization'")

    monkeypatch.setattr(onnx_int8, "quantize_int8", broken)
    spec = get_spec("reelseek-test-tiny")
    models = tmp_path / "models"
    ie.build_image_cache(spec, models)
    m = json.loads((cache_dir(spec, models) / MANIFEST).read_text())
    assert m["dtype"] == "float32" and m["check_cosine_int8"] is None
    assert load_image_encoder(spec, models, build=False).dtype == "float32"


def test_export_failing_its_check_publishes_nothing_and_indexing_keeps_torch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reelseek.core.library import Library

    spec = get_spec("reelseek-test-tiny")
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="differs from open_clip"):
        ie.build_image_cache(spec, models, fp32_min_cosine=1.01)
    assert list(cache_dir(spec, models).iterdir()) == []  # nothing half-written is left

    calls: list[int] = []

    def failing_build(spec, models_dir, timeout=0):  # type: ignore[no-untyped-def]
        calls.append(1)
        ie.build_image_cache(spec, models_dir, fp32_min_cosine=1.01)

    monkeypatch.setattr(ie, "build_in_child", failing_build)
    with Library(tmp_path / "home", model_id="reelseek-test-tiny", device="cpu") as lib:
        emb = lib.load_image_model()
        assert type(emb).__name__ == "Embedder"
        assert lib.load_image_model() is emb  # not retried in this process
    assert len(calls) == 1


def _index_counting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, device: str) -> dict[str, int]:
    """Index one generated clip; count the frames each engine embedded."""
    from reelseek.core.library import Library
    from reelseek.core.models.embedder import Embedder
    from reelseek.core.models.image_encoder import ImageEncoder
    from tests.synth.videos import SceneSpec, write_video

    footage = tmp_path / "footage"
    footage.mkdir()
    write_video(footage / "a.mp4", [SceneSpec("green", "ring", "sand", "right", 0.0, 4.0)], width=160, height=160)
    counts = {"onnx": 0, "torch": 0}
    for cls, key in ((ImageEncoder, "onnx"), (Embedder, "torch")):
        real = cls.encode_frames

        def counting(self, frames, _real=real, _key=key):  # type: ignore[no-untyped-def]
            counts[_key] += len(frames)
            return _real(self, frames)

        monkeypatch.setattr(cls, "encode_frames", counting)
    with Library(tmp_path / "home", model_id="reelseek-test-tiny", device=device) as lib:
        report = lib.index([footage])
        assert report.indexed == 1, report.errors
        assert lib.search("a green ring")  # the vectors it wrote are searchable
    return counts


def test_indexer_embeds_frames_on_onnx_runtime_on_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ie.ENGINE_ENV, raising=False)
    counts = _index_counting(tmp_path, monkeypatch, "cpu")
    assert counts["onnx"] >= 4 and counts["torch"] == 0, counts


def test_the_environment_variable_forces_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ie.ENGINE_ENV, "torch")
    counts = _index_counting(tmp_path, monkeypatch, "cpu")
    assert counts["torch"] >= 4 and counts["onnx"] == 0, counts
    assert not cache_dir(get_spec("reelseek-test-tiny"), tmp_path / "home" / "models").exists()
