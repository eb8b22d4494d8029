"""A throwaway multilingual-style open_clip model: tiny XLM-RoBERTa text tower + HF tokenizer built locally.

Shaped like ``xlm-roberta-base-ViT-B-32`` (HF text tower named by hub id in the config, HF tokenizer),
but small enough to build in a second, so tests can check that loading never reaches a hub.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

HF_ARCH = "reelseek-fixture-xlmr"  # not an open_clip built-in name
HF_CFG: dict[str, object] = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
    # The hub names are what the real config has: loading must point them at the local folder.
    "text_cfg": {
        "hf_model_name": "xlm-roberta-base",
        "hf_tokenizer_name": "xlm-roberta-base",
        "hf_pooler_type": "mean_pooler",
    },
}
TOKENIZER_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json")
WORDS = ["빨간", "파란", "원", "별", "풀밭", "하늘", "red", "blue", "circle", "star", "grass", "sky", "의", "위의"]
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def register_hf_arch(folder: Path) -> None:
    import open_clip

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{HF_ARCH}.json"
    path.write_text(json.dumps(HF_CFG))
    open_clip.add_model_config(path)


def write_tokenizer(folder: Path) -> Path:
    """config.json (a 1-layer XLM-R), tokenizer.json (word-level, built with `tokenizers`), tokenizer_config.json."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {t: i for i, t in enumerate(SPECIALS + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "bos_token": "<s>",
                "eos_token": "</s>",
                "pad_token": "<pad>",
                "unk_token": "<unk>",
                "mask_token": "<mask>",
                "model_max_length": 32,
            }
        )
    )
    config = {
        "model_type": "xlm-roberta",
        "architectures": ["XLMRobertaModel"],
        "vocab_size": len(vocab),
        "hidden_size": 16,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": 32,
        "max_position_embeddings": 40,
        "type_vocab_size": 1,
        "pad_token_id": 1,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "layer_norm_eps": 1e-5,
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def write_weights(path: Path, tokenizer: Path, seed: int = 0) -> Path:
    """Random weights of the fixture model (built from the local config.json), as safetensors."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    from reelseek.core.models.hf_tokenizer import offline, text_cfg_override

    torch.manual_seed(seed)
    with offline():
        model = open_clip.create_model(
            HF_ARCH, pretrained=None, pretrained_text=False, text_cfg=text_cfg_override(hf_spec(), tokenizer)
        )
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    return path


def hf_spec(model_id: str = "fixture-xlmr", **changes):  # type: ignore[no-untyped-def]
    from reelseek.core.models import ModelSpec

    base = ModelSpec(
        id=model_id,
        arch=HF_ARCH,
        pretrained=None,
        hf_repo="fixture/xlmr",
        weights_file="open_clip_model.safetensors",
        alt_weights_files=("open_clip_pytorch_model.bin",),
        sha256=None,
        size_bytes=None,
        dim=32,
        image_size=32,
        description="fixture multilingual",
        gpu_recommended=False,
        cpu_bf16=False,
        languages=("*",),
        tokenizer_repo="fixture/xlmr-tokenizer",
        tokenizer_files=TOKENIZER_FILES,
        tokenizer_optional=("sentencepiece.bpe.model",),
    )
    return replace(base, **changes)


def write_bundle(folder: Path, *, drop: str | None = None) -> Path:
    """A folder as a user would import it: weights + tokenizer files (optionally one file missing)."""
    tok = write_tokenizer(folder / "tokenizer")
    write_weights(folder / "open_clip_model.safetensors", tok)
    if drop:
        (tok / drop).unlink()
    return folder
