"""Choosing the torch device and the CPU features that decide the default precision."""

from __future__ import annotations

import os
import sys

from .registry import ModelError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(requested: str = "auto") -> str:
    """Resolve a device request to a torch device string.

    Args:
        requested: ``"auto"`` (CUDA, then Apple MPS, then CPU), ``"cpu"``, ``"cuda"``,
            ``"cuda:N"`` or ``"mps"``.

    Returns:
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.

    Raises:
        ModelError: the request is not understood, or names a device this machine lacks
            (the message says why).
    """
    req = (requested or "auto").strip().lower()
    base, _, index = req.partition(":")
    if base not in DEVICE_CHOICES or (index and (base != "cuda" or not index.isdigit())):
        raise ModelError(f"unknown device {requested!r}; use one of: auto, cpu, cuda, cuda:N, mps")
    if base == "cpu":
        return "cpu"

    import torch

    if base == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if _mps_available(torch):
            return "mps"
        return "cpu"
    if base == "cuda":
        if torch.version.cuda is None:
            raise ModelError("device 'cuda' requested, but this torch build has no CUDA support; use cpu")
        if not torch.cuda.is_available():
            raise ModelError(
                "device 'cuda' requested, but no usable NVIDIA GPU was found "
                "(no driver, no device, or CUDA_VISIBLE_DEVICES hides it); use cpu"
            )
        if index and int(index) >= torch.cuda.device_count():
            raise ModelError(
                f"device {req!r} requested, but this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
        return req
    # mps
    if not _mps_available(torch):
        why = "this is not a Mac" if sys.platform != "darwin" else "Metal is not available to this torch"
        raise ModelError(f"device 'mps' requested, but {why}; use cpu")
    return "mps"


def _mps_available(torch: object) -> bool:
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    try:
        return bool(mps is not None and mps.is_available())
    except Exception:
        return False


def cpu_count() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def cpu_has_native_bf16() -> bool:
    """Whether the CPU computes bf16 matrix products in hardware (AVX512-BF16 or AMX-BF16).

    Without it, bf16 on CPU is emulated and slower than fp32. Only Linux exposes the flags
    cheaply (/proc/cpuinfo); elsewhere this returns False and the CPU stays on fp32.
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False
