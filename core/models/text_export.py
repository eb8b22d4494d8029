"""Export a model's text tower to ONNX once, so searches embed text without torch (imports torch)."""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .registry import ModelError

# Texts the export is checked on (short and long, so the variable sequence length is exercised).
CHECK_TEXTS = (
    "a photo of a red car parked on a street at night",
    "two people talking in a kitchen",
    "x",
    "a still from a film showing a crowded market full of fruit, people and bicycles in the rain",
)
MIN_COSINE = 0.9999  # below this the export is refused and searches keep the torch path
# int8 weights are kept only at this cosine to open_clip fp32 on every check text under every
# prompt template: the bar the product's bf16 image weights pass (embedder.SELF_CHECK_MIN_COSINE).
# Random weights reach it just (per-template minimum ~0.999); trained weights can quantise worse
# (a few large activation or weight channels flatten the int8 scale of the rest), so the check
# runs on the user's own weights at export, and a miss keeps the exact fp32 graph.
MIN_COSINE_INT8 = 0.999


def supports_truncation(model: Any) -> bool:
    """Whether the text tower is open_clip's causal CLIP transformer pooled at the end token.

    Then the padding after the end token never affects the output (each position attends only
    to earlier ones), so a query can run on its own length instead of the context length.
    """
    import torch

    mask = getattr(model, "attn_mask", None)
    if mask is None or getattr(model, "text_pool_type", None) != "argmax" or not hasattr(model, "token_embedding"):
        return False
    n = mask.shape[0]
    causal = torch.full((n, n), float("-inf")).triu_(1)
    return bool(torch.equal(mask.float(), causal))


def export_text_tower(model: Any, out_graph: Path, out_data: Path) -> None:
    """Write ``model``'s text tower (fp32) as an ONNX graph with its weights in ``out_data``.

    Input ``tokens`` int64 (N, L), any N and any L up to the context length; output ``text``
    float32 (N, dim), not normalised. The weights file is memory-mapped by ONNX Runtime.

    Raises:
        ModelError: the architecture has no exportable text tower of the supported kind.
    """
    import copy

    import onnx
    import torch

    if not supports_truncation(model):
        raise ModelError("only causal CLIP text towers pooled at the end token are exported")
    tower = _TextTower(copy.deepcopy(_text_parts(model))).eval()
    tokens = torch.tensor([[49406, 320, 1125, 539, 320, 2368, 49407], [49406, 320, 49407, 0, 0, 0, 0]])
    tmp = out_graph.with_name(out_graph.name + ".full")
    try:
        with torch.inference_mode(), warnings.catch_warnings(), contextlib.redirect_stdout(None):
            warnings.simplefilter("ignore")  # tracer notes about shapes: the check below is what counts
            torch.onnx.export(
                tower,
                (tokens,),
                str(tmp),
                dynamo=False,
                input_names=["tokens"],
                output_names=["text"],
                dynamic_axes={"tokens": {0: "n", 1: "length"}, "text": {0: "n"}},
                opset_version=17,
            )
        proto = onnx.load(str(tmp))
        onnx.save_model(proto, str(out_graph), save_as_external_data=True, location=out_data.name, size_threshold=1024)
    finally:
        tmp.unlink(missing_ok=True)


def reference_texts(model: Any, tokens: np.ndarray) -> np.ndarray:
    """open_clip's own ``encode_text`` on full-length tokens: the reference for the export check."""
    import torch

    full = np.zeros((tokens.shape[0], int(model.context_length)), dtype=np.int64)
    full[:, : tokens.shape[1]] = tokens
    with torch.inference_mode():
        ref: np.ndarray = model.encode_text(torch.from_numpy(full)).float().numpy()
        return ref


def _text_parts(model: Any) -> Any:
    import torch

    parts = torch.nn.Module()
    for name in ("token_embedding", "transformer", "ln_final"):
        setattr(parts, name, getattr(model, name))
    parts.positional_embedding = torch.nn.Parameter(model.positional_embedding.detach().float())
    proj = model.text_projection
    parts.text_projection = proj if isinstance(proj, torch.nn.Module) else torch.nn.Parameter(proj.detach().float())
    return parts.float()


class _Attention:
    """Stands in for ``nn.MultiheadAttention`` in the export: the same weights and maths, but
    written with reshapes of -1 so the traced graph keeps the sequence length dynamic (the
    built-in module bakes the traced length into its reshapes)."""

    @staticmethod
    def wrap(mha: Any) -> Any:
        import torch
        import torch.nn.functional as F

        class Attention(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.mha = mha

            def forward(self, q: Any, k: Any, v: Any, need_weights: bool = False, attn_mask: Any = None) -> Any:
                m = self.mha
                x = q if m.batch_first else q.transpose(0, 1)
                n, _, d = x.shape
                qkv = F.linear(x, m.in_proj_weight, m.in_proj_bias)
                qkv = qkv.reshape(n, -1, 3, m.num_heads, d // m.num_heads).permute(2, 0, 3, 1, 4)
                o = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=attn_mask)
                o = m.out_proj(o.transpose(1, 2).reshape(n, -1, d))
                return (o if m.batch_first else o.transpose(0, 1)), None

        return Attention()


def _build_tower_class() -> Any:
    import torch

    class TextTower(torch.nn.Module):
        def __init__(self, parts: Any) -> None:
            super().__init__()
            self.p = parts
            for block in parts.transformer.resblocks:
                if type(block.attn).__name__ != "MultiheadAttention":
                    raise ModelError(f"unsupported attention {type(block.attn).__name__} in the text tower")
                block.attn = _Attention.wrap(block.attn)

        def forward(self, tokens: Any) -> Any:
            p = self.p
            # Positions and the causal mask come from the input's own length (no Python ints,
            # which the tracer would freeze).
            pos = torch.ones_like(tokens[0]).cumsum(0) - 1
            x = p.token_embedding(tokens) + p.positional_embedding[pos]
            mask = torch.zeros_like(pos[:, None] * pos[None, :], dtype=x.dtype)
            mask = mask.masked_fill(pos[None, :] > pos[:, None], float("-inf"))
            x = p.ln_final(p.transformer(x, attn_mask=mask))
            x = x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)]
            proj = p.text_projection
            return proj(x) if isinstance(proj, torch.nn.Module) else x @ proj

    return TextTower


def _TextTower(parts: Any) -> Any:  # a class built lazily: torch loads only here
    return _build_tower_class()(parts)
