"""Ways to run the image tower that the encoder benchmark compares with the product's path."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _inputs(emb: Any) -> Callable[[np.ndarray], Any]:
    """uint8 NHWC -> normalised float32 NCHW, exactly as Embedder._encode_uint8_batch does."""
    import torch

    def prep(frames: np.ndarray) -> Any:
        x = torch.from_numpy(np.ascontiguousarray(frames))
        return x.permute(0, 3, 1, 2).float().mul_(emb._scale).sub_(emb._shift).contiguous()

    return prep


def bench_variant(emb: Any, mode: str) -> Callable[[np.ndarray], np.ndarray]:
    """An images->vectors function for one variant, built from an fp32 embedder's model."""
    import torch

    prep = _inputs(emb)
    visual = emb._model.visual.eval()
    if mode == "autocast":

        def run(frames: np.ndarray) -> np.ndarray:
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
                return visual(prep(frames)).float().numpy()

        return run
    if mode == "int8_dynamic":
        q = torch.ao.quantization.quantize_dynamic(copy.deepcopy(visual), {torch.nn.Linear}, dtype=torch.qint8)

        def run_q(frames: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return q(prep(frames)).float().numpy()

        return run_q
    if mode.startswith("ort"):
        return _ort(visual, prep, emb.image_size, int8=mode == "ort_int8")
    bf = copy.deepcopy(visual).to(torch.bfloat16)
    if mode == "channels_last":
        bf = bf.to(memory_format=torch.channels_last)

        def run_cl(frames: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                x = prep(frames).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
                return bf(x).float().numpy()

        return run_cl
    if mode == "jit_freeze":
        example = torch.zeros(16, 3, emb.image_size, emb.image_size, dtype=torch.bfloat16)
        with torch.inference_mode(False), torch.no_grad():
            traced = torch.jit.trace(bf, example, check_trace=False)
            frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))

        def run_jit(frames: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return frozen(prep(frames).to(torch.bfloat16)).float().numpy()

        return run_jit
    if mode == "compile":
        compiled = torch.compile(bf, dynamic=False)

        def run_c(frames: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return compiled(prep(frames).to(torch.bfloat16)).float().numpy()

        return run_c
    raise ValueError(f"unknown variant {mode!r}")


def _ort(
    visual: Any, prep: Callable[[np.ndarray], Any], size: int, *, int8: bool
) -> Callable[[np.ndarray], np.ndarray]:
    import onnxruntime as ort
    import torch

    tmp = Path(tempfile.mkdtemp(prefix="reelseek-enc-"))
    path = tmp / "visual.onnx"
    # The native multi-head-attention fast path has no ONNX export; the plain ops do.
    torch.backends.mha.set_fastpath_enabled(False)
    with torch.no_grad():
        torch.onnx.export(
            visual.float(),
            (torch.zeros(1, 3, size, size),),
            str(path),
            dynamo=False,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "n"}, "y": {0: "n"}},
            opset_version=17,
        )
    torch.backends.mha.set_fastpath_enabled(True)
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        qpath = tmp / "visual.int8.onnx"
        quantize_dynamic(str(path), str(qpath), weight_type=QuantType.QInt8)
        path = qpath
    so = ort.SessionOptions()
    so.intra_op_num_threads = torch.get_num_threads()
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    def run(frames: np.ndarray) -> np.ndarray:
        return sess.run(None, {"x": prep(frames).numpy()})[0]

    return run
