"""Export a model's image tower to ONNX with the Embedder's pixel normalisation inside (imports torch)."""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .registry import ModelError

# int8 is kept only when every probe frame's vector is this close to torch fp32. 0.999 is the
# bar the product's bf16 weights already pass (embedder.SELF_CHECK_MIN_COSINE), so the int8 path
# is held to the precision of the path it replaces: at cosine 0.999 a unit vector moves by
# sqrt(2 * 0.001) = 0.045, about 0.002 of score against a query in 512 dimensions, well under
# the gap between neighbouring results that retrieval depends on. Random ViT-B-32 weights give
# 0.9998 (docs/benchmarks.md #11); real weights with activation outliers may quantise worse,
# which is why the check runs on the user's own weights, on this CPU, at export time.
MIN_COSINE_INT8 = 0.999
MIN_COSINE_FP32 = 0.9999  # the fp32 graph is the same maths: anything less is an export bug


def probe_frames(size: int) -> np.ndarray:
    """Eight fixed uint8 frames (N, size, size, 3) spanning what footage looks like: a
    synthetic outdoor scene, shapes on a gradient, a dark and a bright frame, fine stripes,
    smooth noise, seeded static, and a flat grey card."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    # A scene: sky gradient, sun, hills with texture, a red building.
    scene = np.stack([80 + 100 * yy, 140 + 80 * yy, 230 - 60 * yy], axis=-1)
    scene[(xx - 0.75) ** 2 + (yy - 0.2) ** 2 < 0.01] = (255, 230, 120)
    hill = yy > 0.6 + 0.1 * np.sin(xx * 9)
    scene[hill] = np.stack([40 + 30 * xx, 120 + 40 * yy, 40 + 20 * xx], axis=-1)[hill]
    scene[hill] += rng.normal(0, 12, size=(int(hill.sum()), 3)).astype(np.float32)
    scene[int(size * 0.45) : int(size * 0.8), int(size * 0.15) : int(size * 0.35)] = (190, 40, 35)
    shapes = np.stack([xx * 255, yy * 200 + 30, (1 - xx) * 120 + 60], axis=-1)
    shapes[(xx - 0.35) ** 2 + (yy - 0.5) ** 2 < 0.04] = (230, 40, 30)
    shapes[int(size * 0.6) : int(size * 0.85), int(size * 0.55) : int(size * 0.9)] = (20, 60, 220)
    dark = scene * 0.12 + rng.normal(0, 3, size=scene.shape)
    bright = 255 - (255 - scene) * 0.15
    stripes = np.repeat(((np.sin(xx * size * 1.3 + yy * 7) > 0) * 200 + 30)[..., None], 3, axis=-1)
    coarse = rng.normal(128, 50, size=(max(size // 16, 2), max(size // 16, 2), 3))
    smooth = np.kron(coarse, np.ones((16, 16, 1)))[:size, :size]
    smooth = np.pad(smooth, ((0, size - smooth.shape[0]), (0, size - smooth.shape[1]), (0, 0)), mode="edge")
    static = rng.integers(0, 256, size=(size, size, 3))
    grey = np.full((size, size, 3), 118.0)
    frames = np.stack([scene, shapes, dark, bright, stripes, smooth, static, grey])
    out: np.ndarray = frames.clip(0, 255).astype(np.uint8)
    return out


def export_image_tower(model: Any, size: int, mean: Any, std: Any, out_graph: Path, out_data: Path) -> None:
    """Write ``model``'s image tower (fp32) as an ONNX graph with its weights in ``out_data``.

    Input ``frames`` uint8 (N, size, size, 3) RGB, already resized and centre-cropped as the
    indexer's decoder delivers them; the graph normalises them exactly as
    ``Embedder._encode_uint8_batch`` does (``x * (1 / (255 * std)) - mean / std`` in fp32), so
    the two paths share one preprocessing. Output ``image`` float32 (N, dim), not normalised.

    Raises:
        ModelError: the image tower does not trace to ONNX.
    """
    import copy

    import onnx
    import torch

    visual = copy.deepcopy(model.visual).float().eval()
    std_t = torch.tensor([float(v) for v in std], dtype=torch.float32).view(1, 3, 1, 1)
    mean_t = torch.tensor([float(v) for v in mean], dtype=torch.float32).view(1, 3, 1, 1)
    tower = _build_tower_class()(visual, 1.0 / (255.0 * std_t), mean_t / std_t).eval()
    example = torch.zeros(2, size, size, 3, dtype=torch.uint8)
    tmp = out_graph.with_name(out_graph.name + ".full")
    fastpath = torch.backends.mha.get_fastpath_enabled()
    try:
        # nn.MultiheadAttention's fused fast path has no ONNX export; its plain ops do.
        torch.backends.mha.set_fastpath_enabled(False)
        with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stdout(None):
            warnings.simplefilter("ignore")  # tracer notes: the self-check is what counts
            torch.onnx.export(
                tower,
                (example,),
                str(tmp),
                dynamo=False,
                input_names=["frames"],
                output_names=["image"],
                dynamic_axes={"frames": {0: "n"}, "image": {0: "n"}},
                opset_version=17,
            )
        proto = onnx.load(str(tmp))
        onnx.save_model(proto, str(out_graph), save_as_external_data=True, location=out_data.name, size_threshold=1024)
    except ModelError:
        raise
    except Exception as e:  # an architecture the tracer cannot follow
        raise ModelError(f"the image tower does not export to ONNX: {type(e).__name__}: {str(e)[:200]}") from None
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        tmp.unlink(missing_ok=True)


def _build_tower_class() -> Any:
    import torch

    class ImageTower(torch.nn.Module):
        def __init__(self, visual: Any, scale: Any, shift: Any) -> None:
            super().__init__()
            self.visual = visual
            self.register_buffer("scale", scale)
            self.register_buffer("shift", shift)

        def forward(self, frames: Any) -> Any:
            # The same op order as Embedder._encode_uint8_batch: permute, float, mul, sub.
            x = frames.permute(0, 3, 1, 2).float() * self.scale - self.shift
            return self.visual(x)

    return ImageTower
