"""int8 weights for an exported tower: ONNX Runtime's dynamic quantisation, one setting for both towers."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path


def quantize_int8(src: Path, dst: Path, dst_data: Path) -> None:
    """Write ``src`` (an fp32 ONNX graph) to ``dst`` with int8 weights on its weight matrices,
    the weights in ``dst_data`` (beside it, memory-mapped by ONNX Runtime).

    The settings, and why:

    * **dynamic** (activations are scaled per batch at run time): needs no calibration set, so
      it works on any user's weights without pictures or texts to calibrate on; the export's
      self-check then decides on the user's own weights whether the result is close enough.
    * **per-channel** weight scales: one scale per output column, so a column with large
      weights (CLIP's towers have some) does not flatten the precision of all the others.
      Per-tensor scales measured a lower cosine to fp32 at the same speed (docs/benchmarks.md #11).
    * **signed int8 weights, full range** (``reduce_range=False``): the 7-bit range exists for
      CPUs without VNNI, whose u8*s8 multiply-add can saturate; ONNX Runtime picks its kernels
      per CPU at run time, and the self-check runs on the machine that will use the graph, so
      a saturating CPU fails the check and keeps the previous path instead of silently losing
      accuracy.
    * **MatMul only, constant B only**: the linear layers (>= 95 % of a ViT's FLOPs). Attention's
      activation-by-activation products stay fp32 (quantising both sides costs accuracy for
      little time), and so do convolutions: ONNX Runtime's ConvInteger has no fast kernels
      and a ViT's one patch convolution is ~3 % of its work. Gather (the token table) stays
      fp32, so the text tower's table is still mapped from disk, not copied.
    """
    import tempfile

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantiser logs a line per skipped node at INFO on the root logger.
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))
    try:
        # The quantiser names its own weights file; it is written aside, then saved under ours.
        with tempfile.TemporaryDirectory(dir=dst.parent, prefix=".quant-") as tmp, contextlib.redirect_stdout(None):
            q = Path(tmp) / "q.onnx"
            quantize_dynamic(
                str(src),
                str(q),
                op_types_to_quantize=["MatMul"],
                per_channel=True,
                reduce_range=False,
                weight_type=QuantType.QInt8,
                use_external_data_format=True,
                extra_options={"MatMulConstBOnly": True},
            )
            proto = onnx.load(str(q))
            onnx.save_model(proto, str(dst), save_as_external_data=True, location=dst_data.name, size_threshold=1024)
    finally:
        root.setLevel(level)
