"""The model registry, device choice and the open_clip embedder (on tiny checkpoints, CPU)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelseek.core.models import (
    DEFAULT_MODEL_ID,
    TEST_MODEL_ID,
    ModelError,
    get_spec,
    is_available,
    list_models,
    load_embedder,
    pick_device,
    resolve_model_id,
    weights_path,
)
from reelseek.core.models import embedder as embedder_mod
from tests.core.tiny_clip import bundled_spec, write_local_dir

REAL_TEST_MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / TEST_MODEL_ID


def _frames(n: int, size: int = 64, seed: int = 0) -> np.ndarray:
    """Structured pictures (gradients, a disc, a bar) rather than pure noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    out = []
    for _ in range(n):
        c = rng.uniform(0, 255, size=(3, 3))
        img = c[0] * xx[..., None] + c[1] * yy[..., None] + c[2] * (1 - xx[..., None]) * 0.5
        cx, cy, r = rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.75), rng.uniform(0.1, 0.25)
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < r**2] = rng.uniform(0, 255, 3)
        y0 = rng.integers(0, size // 2)
        img[y0 : y0 + size // 8, :] = rng.uniform(0, 255, 3)
        out.append(img)
    return np.clip(np.stack(out), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_local_dir(tmp_path_factory.mktemp("tiny") / "fixture-bundled")


@pytest.fixture(scope="module")
def tiny(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return load_embedder(bundled_spec(tiny_dir), device="cpu", models_dir=tmp_path_factory.mktemp("models"))


# -- registry ------------------------------------------------------------------------------------
def test_registry_ids_are_unique_and_the_default_is_a_cpu_model() -> None:
    ids = [s.id for s in list_models()]
    assert len(ids) == len(set(ids))
    assert DEFAULT_MODEL_ID in ids and list_models()[0].id == DEFAULT_MODEL_ID
    assert not get_spec(DEFAULT_MODEL_ID).gpu_recommended
    assert any(s.gpu_recommended for s in list_models())
    assert TEST_MODEL_ID in ids and get_spec(TEST_MODEL_ID).is_bundled


def test_registry_entries_agree_with_open_clip() -> None:
    """Arch, tag, dimension, input size and hub repository must match open_clip's own tables."""
    import open_clip

    for spec in list_models():
        assert spec.id == spec.id.lower() and " " not in spec.id
        assert spec.dim > 0 and spec.image_size > 0 and spec.description
        if spec.is_bundled:
            assert spec.arch.startswith("local-dir:") and spec.hf_repo is None
            continue
        cfg = open_clip.get_model_config(spec.arch)
        assert cfg is not None, spec.arch
        assert cfg["embed_dim"] == spec.dim, spec.id
        assert cfg["vision_cfg"]["image_size"] == spec.image_size, spec.id
        assert spec.pretrained in open_clip.list_pretrained_tags_by_model(spec.arch), spec.id
        hub = open_clip.get_pretrained_cfg(spec.arch, spec.pretrained)["hf_hub"].strip("/")
        assert hub == spec.hf_repo, spec.id
        assert spec.weights_file and spec.alt_weights_files
        assert spec.sha256 is None or len(spec.sha256) == 64
        # Tokenizers that live on the hub (SigLIP, HF text towers) would break offline use unless
        # their files are fetched with the weights (models/hf_tokenizer.py).
        if "hf_tokenizer_name" in cfg["text_cfg"] or "hf_model_name" in cfg["text_cfg"]:
            assert spec.tokenizer_repo and "tokenizer.json" in spec.tokenizer_files, spec.id
            assert "*" in spec.languages, spec.id
        if "hf_model_name" in cfg["text_cfg"]:
            assert "config.json" in spec.tokenizer_files, spec.id  # the HF text tower's shape


def test_unknown_id_lists_the_known_ones() -> None:
    with pytest.raises(ModelError) as e:
        get_spec("vit-z-99")
    for spec in list_models():
        assert spec.id in str(e.value)


def test_resolve_model_id_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REELSEEK_MODEL", raising=False)
    assert resolve_model_id(None, settings_default="") == DEFAULT_MODEL_ID
    assert resolve_model_id(None, settings_default="vit-l-14") == "vit-l-14"
    monkeypatch.setenv("REELSEEK_MODEL", "vit-b-16")
    assert resolve_model_id(None, settings_default="vit-l-14") == "vit-b-16"
    assert resolve_model_id("vit-h-14", settings_default="vit-l-14") == "vit-h-14"
    monkeypatch.setenv("REELSEEK_MODEL", "nonsense")
    with pytest.raises(ModelError, match=r"REELSEEK_MODEL"):
        resolve_model_id(None)
    with pytest.raises(ModelError, match="requested"):
        resolve_model_id("nonsense-too")


def test_resolve_model_id_reads_the_settings_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from reelseek.core.paths import data_paths
    from reelseek.core.settings import Settings

    monkeypatch.delenv("REELSEEK_MODEL", raising=False)
    monkeypatch.setenv("REELSEEK_HOME", str(tmp_path))
    assert resolve_model_id() == DEFAULT_MODEL_ID
    Settings(model_id="vit-b-16").save(data_paths().settings_file)
    assert resolve_model_id() == "vit-b-16"


def test_importing_the_models_package_does_not_import_torch() -> None:
    code = (
        "import sys, reelseek.core.models as m; m.get_spec('vit-b-32'); m.list_models(); "
        "heavy = [k for k in ('torch', 'open_clip', 'numpy', 'safetensors') if k in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# -- device and precision ------------------------------------------------------------------------
def test_pick_device() -> None:
    import torch

    assert pick_device("cpu") == "cpu"
    with pytest.raises(ModelError, match="unknown device"):
        pick_device("tpu")
    with pytest.raises(ModelError, match="unknown device"):
        pick_device("cpu:1")
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="cuda"):
            pick_device("cuda")
        with pytest.raises(ModelError, match="cuda"):
            pick_device("cuda:0")
        if not torch.backends.mps.is_available():
            assert pick_device("auto") == "cpu"
    if not torch.backends.mps.is_available():
        with pytest.raises(ModelError, match="mps"):
            pick_device("mps")


def test_bad_precision_requests_are_refused(tiny_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="fp16 is for GPUs"):
        load_embedder(bundled_spec(tiny_dir), device="cpu", precision="fp16", models_dir=tmp_path)
    with pytest.raises(ModelError, match="unknown precision"):
        load_embedder(bundled_spec(tiny_dir), device="cpu", precision="int3", models_dir=tmp_path)


# -- the embedder --------------------------------------------------------------------------------
def test_outputs_are_normalised_float32_of_the_registered_size(tiny) -> None:  # type: ignore[no-untyped-def]
    assert (tiny.dim, tiny.image_size, tiny.device, tiny.dtype) == (64, 64, "cpu", "float32")
    assert tiny.mean == pytest.approx((0.48145466, 0.4578275, 0.40821073))
    img = tiny.encode_frames(_frames(37))  # more than one internal batch of 16
    txt = tiny.encode_texts(["a red circle", "a blue square on grass", "night"])
    for v, n in ((img, 37), (txt, 3)):
        assert v.dtype == np.float32 and v.shape == (n, 64)
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert tiny.encode_frames(np.zeros((0, 64, 64, 3), np.uint8)).shape == (0, 64)
    assert tiny.encode_texts([]).shape == (0, 64)
    assert tiny.encode_texts("one string").shape == (1, 64)


def test_eval_mode_batch_statistics_are_not_used(tiny) -> None:  # type: ignore[no-untyped-def]
    """With BatchNorm in train mode a frame's vector would depend on the rest of its batch."""
    frames = _frames(8, seed=3)
    alone = tiny.encode_frames(frames[:1])
    batched = tiny.encode_frames(frames)
    np.testing.assert_allclose(alone[0], batched[0], atol=1e-5)
    assert not any(m.training for m in tiny._model.modules())


def test_embeddings_are_deterministic(tiny) -> None:  # type: ignore[no-untyped-def]
    frames = _frames(5, seed=4)
    np.testing.assert_array_equal(tiny.encode_frames(frames), tiny.encode_frames(frames))
    texts = ["a green triangle", "a yellow star in the sand"]
    np.testing.assert_array_equal(tiny.encode_texts(texts), tiny.encode_texts(texts))
    # Different inputs give different vectors (the model is not constant).
    assert float((tiny.encode_texts(texts[:1]) @ tiny.encode_texts(texts[1:]).T)[0, 0]) < 0.9999


def test_fast_path_matches_open_clip_preprocessing(tiny) -> None:  # type: ignore[no-untyped-def]
    frames = _frames(6, seed=5)
    fast = tiny.encode_frames(frames)
    ref = tiny.encode_pil([Image.fromarray(f) for f in frames])
    assert float((fast * ref).sum(axis=1).min()) >= 0.999


def test_encode_frames_rejects_bad_input(tiny) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=r"\(N, 64, 64, 3\)"):
        tiny.encode_frames(np.zeros((2, 32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        tiny.encode_frames(np.zeros((2, 64, 64, 3), np.float32))
    with pytest.raises(ValueError):
        tiny.encode_frames(np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="strings"):
        tiny.encode_texts([1, 2])  # type: ignore[list-item]


def test_missing_weights_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as e:
        load_embedder("vit-b-32", device="cpu", models_dir=tmp_path)
    msg = str(e.value)
    assert "not on this machine" in msg
    assert "reelseek-cli models download vit-b-32" in msg
    assert "reelseek-cli models import FILE --as vit-b-32" in msg
    spec = replace(get_spec(TEST_MODEL_ID), bundled_dir=str(tmp_path / "gone"))
    assert weights_path(spec, tmp_path) is None and not is_available(spec, tmp_path)
    with pytest.raises(ModelError, match="bundled"):
        load_embedder(spec, device="cpu", models_dir=tmp_path)


def test_corrupt_bundled_checkpoint_is_a_model_error(tmp_path: Path) -> None:
    folder = write_local_dir(tmp_path / "broken")
    ckpt = folder / "open_clip_model.safetensors"
    ckpt.write_bytes(ckpt.read_bytes()[:1000])
    with pytest.raises(ModelError, match="cannot load"):
        load_embedder(bundled_spec(folder), device="cpu", models_dir=tmp_path)


def test_explicit_bf16_stays_close_to_fp32(tiny_dir: Path, tiny, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    emb = load_embedder(bundled_spec(tiny_dir), device="cpu", precision="bf16", models_dir=tmp_path)
    assert emb.dtype == "bfloat16"
    frames = _frames(4, seed=6)
    assert float((emb.encode_frames(frames) * tiny.encode_frames(frames)).sum(axis=1).min()) > 0.99
    out = emb.encode_frames(frames)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_auto_precision_keeps_fp32_when_the_self_check_fails(
    tiny_dir: Path,
    tiny,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = replace(bundled_spec(tiny_dir), cpu_bf16=True)
    monkeypatch.setattr(embedder_mod, "cpu_has_native_bf16", lambda: True)
    ok = load_embedder(spec, device="cpu", models_dir=tmp_path)
    assert ok.dtype == "bfloat16" and ok.precision_check is not None and ok.precision_check >= 0.999

    monkeypatch.setattr(embedder_mod, "SELF_CHECK_MIN_COSINE", 1.01)  # impossible to meet
    emb = load_embedder(spec, device="cpu", models_dir=tmp_path)
    assert emb.dtype == "float32" and "self-check failed" in emb.precision_note
    frames = _frames(3, seed=7)
    np.testing.assert_allclose(emb.encode_frames(frames), tiny.encode_frames(frames), atol=1e-6)

    monkeypatch.setattr(embedder_mod, "cpu_has_native_bf16", lambda: False)
    assert load_embedder(spec, device="cpu", models_dir=tmp_path).dtype == "float32"


def test_auto_precision_never_uses_bf16_for_the_test_model() -> None:
    assert embedder_mod._resolve_precision("auto", "cpu", get_spec(TEST_MODEL_ID)) == "float32"
    assert embedder_mod._resolve_precision("auto", "cuda", get_spec(DEFAULT_MODEL_ID)) == "float16"


# -- the project's trained test model, once it is committed -----------------------------------------
needs_real_test_model = pytest.mark.skipif(
    not (REAL_TEST_MODEL / "open_clip_model.safetensors").is_file(), reason="test model not trained yet"
)


@needs_real_test_model
def test_bundled_test_model_loads_through_the_registry(tmp_path: Path) -> None:
    spec = get_spec(TEST_MODEL_ID)
    assert is_available(spec, tmp_path)
    assert weights_path(spec, tmp_path) == REAL_TEST_MODEL
    emb = load_embedder(TEST_MODEL_ID, device="cpu", models_dir=tmp_path)
    assert (emb.dim, emb.image_size, emb.dtype) == (spec.dim, spec.image_size, "float32")
    frames = _frames(6, seed=8)
    fast = emb.encode_frames(frames)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    ref = emb.encode_pil([Image.fromarray(f) for f in frames])
    assert float((fast * ref).sum(axis=1).min()) >= 0.999
    np.testing.assert_allclose(emb.encode_frames(frames[:1])[0], fast[0], atol=1e-5)


@needs_real_test_model
def test_bundled_test_model_ranks_the_described_scene_first(tmp_path: Path) -> None:
    from tests.synth import scenes

    emb = load_embedder(TEST_MODEL_ID, device="cpu", models_dir=tmp_path)
    picks = [("red", "circle"), ("blue", "square"), ("yellow", "triangle")]  # none held out of training
    rng = np.random.default_rng(0)
    frames = [
        scenes.render_frame(
            scenes.Scene(background="plain", objects=(scenes.SceneObject(colour=c, shape=s),)),
            0.0,
            emb.image_size,
            emb.image_size,
            rng,
        )
        for c, s in picks
    ]
    img = emb.encode_frames(np.stack(frames))
    txt = emb.encode_texts([scenes.canonical_caption(c, s, "plain") for c, s in picks])
    assert list((txt @ img.T).argmax(axis=1)) == [0, 1, 2]


def test_speed_measurement_runs_on_a_tiny_architecture(tmp_path: Path) -> None:
    from tests.bench.model_speed import measure
    from tests.core.tiny_clip import hub_spec, register_archs

    register_archs(tmp_path)
    results = measure(hub_spec(), ["fp32", "bf16"], batch_size=4, batches=1, text_repeats=1, threads=1)
    assert [r.precision for r in results] == ["fp32", "bf16"]
    assert results[0].min_cosine_to_fp32 == pytest.approx(1.0, abs=1e-6)
    assert 0.9 < results[1].min_cosine_to_fp32 <= 1.0 + 1e-6
    assert all(r.images_per_s > 0 and r.text_ms > 0 and r.cpu_ms_per_image > 0 for r in results)
    assert results[0].row().startswith("| fixture-hub | fp32 | 4 | 1 |")
    assert all(r.images_per_s_best >= r.images_per_s and r.text_ms_best <= r.text_ms for r in results)
