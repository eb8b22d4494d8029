"""Throwaway tiny open_clip checkpoints (random weights) for the model and weights tests.

Same shape as the project's test model (ModifiedResNet tower with BatchNorm, 64 px, 64-d),
so the tests do not depend on the trained checkpoint and still catch a missing model.eval().
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

TINY_ARCH = "reelseek-fixture-tiny"  # names must not collide with open_clip's built-in configs
OTHER_ARCH = "reelseek-fixture-other"  # same family, different widths: a "wrong architecture"

TINY_CFG: dict[str, object] = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16, "head_width": 32},
    "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
OTHER_CFG: dict[str, object] = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 8, "head_width": 32},
    "text_cfg": {"context_length": 24, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def register_archs(folder: Path) -> None:
    """Make the fixture architectures known to open_clip by name (like a built-in ViT-B-32)."""
    import open_clip

    folder.mkdir(parents=True, exist_ok=True)
    for name, cfg in ((TINY_ARCH, TINY_CFG), (OTHER_ARCH, OTHER_CFG)):
        path = folder / f"{name}.json"
        path.write_text(json.dumps(cfg))
        open_clip.add_model_config(path)


def random_state_dict(cfg: dict[str, object], seed: int = 0) -> dict[str, object]:
    """A full state dict with random weights and non-trivial BatchNorm running statistics."""
    import open_clip
    import torch

    torch.manual_seed(seed)
    model = open_clip.CLIP(**cfg)  # type: ignore[arg-type]
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            # Running stats far from batch stats: train-mode and eval-mode outputs then differ a lot.
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def write_safetensors(path: Path, cfg: dict[str, object] = TINY_CFG, seed: int = 0) -> Path:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(random_state_dict(cfg, seed), str(path))  # type: ignore[arg-type]
    return path


def write_torch_bin(path: Path, cfg: dict[str, object] = TINY_CFG, seed: int = 0) -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(random_state_dict(cfg, seed), str(path))
    return path


def write_local_dir(folder: Path, seed: int = 0) -> Path:
    """An open_clip ``local-dir:`` folder: open_clip_config.json + open_clip_model.safetensors."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "model_cfg": TINY_CFG,
        "preprocess_cfg": {"mean": list(OPENAI_MEAN), "std": list(OPENAI_STD), "interpolation": "bicubic"},
    }
    (folder / "open_clip_config.json").write_text(json.dumps(config))
    write_safetensors(folder / "open_clip_model.safetensors", TINY_CFG, seed)
    return folder


def bundled_spec(folder: Path, model_id: str = "fixture-bundled"):  # type: ignore[no-untyped-def]
    """A registry-style spec for a local-dir fixture folder (absolute bundled_dir)."""
    from reelseek.core.models import get_spec

    return replace(get_spec("reelseek-test-tiny"), id=model_id, bundled_dir=str(folder), arch=f"local-dir:{folder}")


def hub_spec(model_id: str = "fixture-hub", **changes):  # type: ignore[no-untyped-def]
    """A hub-style spec (weights downloaded or imported) for the fixture architecture."""
    from reelseek.core.models import ModelSpec

    base = ModelSpec(
        id=model_id,
        arch=TINY_ARCH,
        pretrained=None,
        hf_repo="fixture/tiny",
        weights_file="open_clip_model.safetensors",
        alt_weights_files=("open_clip_pytorch_model.bin",),
        sha256=None,
        size_bytes=None,
        dim=64,
        image_size=64,
        description="fixture",
        gpu_recommended=False,
        cpu_bf16=False,
    )
    return replace(base, **changes)
