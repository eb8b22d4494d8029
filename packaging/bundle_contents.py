"""What goes into the one-folder app: libvlc and its plugins, resources without the test model,
and (CPU variant) only the NVIDIA libraries torch cannot even be imported without.

Pure functions over paths and PyInstaller TOC tuples, so the spec uses them and the test suite
checks them without running a build (tests/core/test_packaging_contents.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

# Debian/Ubuntu's libvlc5 + vlc-plugin-base layout (multiarch lib folder).
SYSTEM_VLC_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib")
VLC_LIBS = ("libvlc.so.5", "libvlccore.so.9")
VLC_DEST = "vlc"  # plugins land in <app>/_internal/vlc/plugins; the runtime hook points libvlc there

# Packages the app never needs at run time (tests, benchmarks, the optional Ray and multilingual
# extras), each tens to hundreds of MB; PyInstaller would follow their imports inside functions.
ALWAYS_EXCLUDED_MODULES = (
    "ray",
    "transformers",
    "matplotlib",
    "pytest",
    "_pytest",
    "IPython",
    "tkinter",
    "skvideo",
    "tests",
    "PySide6.QtWebEngineCore",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.Qt3DCore",
)
# Only the GPU build needs triton (torch.compile's GPU kernels); torch imports it lazily.
CPU_EXCLUDED_MODULES = ("triton",)


def find_vlc(vlc_dir: str | None = None) -> tuple[Path, Path] | None:
    """(folder holding libvlc.so.5 and libvlccore.so.9, libvlc's plugins folder), or None.

    ``vlc_dir`` (``REELSEEK_VLC_DIR``) overrides the search; otherwise the system folders."""
    for d in [vlc_dir] if vlc_dir else SYSTEM_VLC_DIRS:
        lib = Path(d)
        plugins = lib / "vlc" / "plugins"
        if not plugins.is_dir():
            plugins = lib / "plugins"
        if all((lib / name).exists() for name in VLC_LIBS) and plugins.is_dir():
            return lib, plugins
    return None


def vlc_binaries(lib: Path, plugins: Path) -> list[tuple[str, str]]:
    """(source, destination folder) pairs: libvlc and libvlccore at the top (python-vlc loads the
    former by path, plugins link the latter), every plugin under vlc/plugins/<kind>/.

    Plugins go in as binaries, not data, so PyInstaller also collects the system libraries they
    link (libavcodec, libxcb, ...) for a clean machine that has no VLC installed."""
    pairs = [(str(lib / name), ".") for name in VLC_LIBS]
    for so in sorted(plugins.rglob("*.so")):
        pairs.append((str(so), str(Path(VLC_DEST, "plugins", so.parent.relative_to(plugins)))))
    return pairs


def resource_datas(resources: Path, package_dest: str = "reelseek/resources") -> list[tuple[str, str]]:
    """The app's resources (stylesheet, icons, .desktop, metainfo) without ``models/``: the tiny
    test model is for tests only; real weights are downloaded or imported at first run."""
    pairs = []
    for path in sorted(resources.rglob("*")):
        rel = path.relative_to(resources)
        if path.is_file() and rel.parts[0] not in ("models", "__pycache__") and path.suffix != ".pyc":
            pairs.append((str(path), str(Path(package_dest) / rel.parent)))
    return pairs


# NVIDIA's CUDA libraries by file name: PyInstaller's dependency analysis also places them at the
# bundle's top (libcublas.so.13 next to libvlc.so.5), not only under nvidia/. Exact stems: a
# wheel's own renamed copy (libcudart.faf08d9a.so.13 in ctranslate2.libs) is that wheel's.
NVIDIA_LIB = re.compile(
    r"lib(cudart|cublas|cublasLt|cufft|cufftw|curand|cusparse|cusparseLt|cusolver|cusolverMg|cufile|cufile_rdma"
    r"|cupti|nvrtc|nvrtc-builtins|nvJitLink|nvshmem_host|nccl|cudnn(_\w+)?|nvperf_\w+|nvblas|nvToolsExt"
    r"|pcsamplingutil|checkpoint|nvtx3interop)(\.alt)?\.so(\.[\d.]+)?$"
)


def is_gpu_only_path(dest: str) -> bool:
    """Bundle paths that only a GPU run can use: triton, nvidia/, and NVIDIA's CUDA libraries."""
    parts = Path(dest).parts
    return bool(parts) and (parts[0] in ("triton", "nvidia") or bool(NVIDIA_LIB.match(parts[-1])))


def needed_closure(roots: Iterable[str | os.PathLike[str]]) -> set[str]:
    """File names of every shared library the dynamic loader maps to load ``roots`` (ldd: the
    DT_NEEDED closure, resolved through each library's RUNPATH like at import time)."""
    names: set[str] = set()
    for root in roots:
        out = subprocess.run(["ldd", str(root)], capture_output=True, text=True, check=True).stdout
        names.update(parse_ldd(out))
    return names


def parse_ldd(text: str) -> set[str]:
    """Library names from ldd's output (a ``not found`` one too: torchvision's extensions rely on
    torch having loaded libtorch already, so ldd cannot resolve it on its own)."""
    names = set()
    for line in text.splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(.*)$", line)
        if not m:
            continue
        names.add(m.group(1))
        if m.group(2).strip() != "not found":
            names.add(Path(m.group(2).split(" (")[0]).name)
    return names


def torch_import_roots(site: Path) -> list[Path]:
    """The extension modules ``import torch, torchvision`` loads itself (not what torch dlopens
    later on a GPU: libtorch_cuda_linalg, libcaffe2_nvrtc, cuDNN's engines, nvrtc-builtins)."""
    roots = [*sorted(site.glob("torch/_C.*.so")), site / "torch" / "lib" / "libtorch_global_deps.so"]
    roots += sorted(site.glob("torchvision/*.so"))
    return [r for r in roots if r.exists()]


def cpu_binaries(binaries: Iterable[tuple[str, str, str]], needed: set[str]) -> tuple[list, list]:
    """Split a TOC into (kept, dropped) for the CPU build.

    Kept: everything outside triton/ and nvidia/, plus the NVIDIA libraries in ``needed`` (PyPI's
    Linux torch is a CUDA build: libtorch.so links libtorch_cuda.so, which links cudart, cuBLAS,
    cuFFT ..., so those must be there just to import torch). Dropped: triton and what torch only
    dlopens on a GPU, plus torch/lib's own GPU-only libraries that nothing loads at import."""
    kept, dropped = [], []
    for entry in binaries:
        dest = entry[0]
        name = Path(dest).name
        gpu_only = is_gpu_only_path(dest) and name not in needed
        torch_gpu_lib = dest.startswith("torch/lib/") and name in GPU_ONLY_TORCH_LIBS
        (dropped if gpu_only or torch_gpu_lib else kept).append(entry)
    return kept, dropped


# torch/lib libraries loaded only by CUDA code paths (dlopen on first use, never at import).
GPU_ONLY_TORCH_LIBS = frozenset({"libtorch_cuda_linalg.so", "libcaffe2_nvrtc.so"})


def nvidia_binaries(site: Path) -> list[tuple[str, str]]:
    """(source, destination) of every library in the nvidia-* wheels, at their site-packages path."""
    return [(str(so), str(so.parent.relative_to(site))) for so in sorted(site.glob("nvidia/*/lib/*.so*"))]


TORCH_OWN_LIB = re.compile(r"lib(torch\w*|c10\w*|shm|caffe2_nvrtc)\.so$")


def without_top_level_copies(binaries: Iterable[tuple[str, str, str]]) -> tuple[list, list]:
    """Drop the top-level copy of a library that torch/lib or nvidia/ already carries (1.1 GB of
    libtorch_cpu/libtorch_cuda/NCCL twice): PyInstaller's dependency analysis adds one for each
    library a binary links, but the loader takes torch's through its RPATH ($ORIGIN), before the
    bootloader's LD_LIBRARY_PATH (seen in /proc/PID/maps of the built reelseek-cli)."""
    entries = list(binaries)
    in_packages = {os.path.realpath(e[1]) for e in entries if e[0].startswith(("torch/lib/", "nvidia/"))}
    kept, dropped = [], []
    for entry in entries:
        # Only libraries nothing but torch loads: torch/lib's libgomp.so.1 also stands in for the
        # system's at the top, where VLC's libavcodec finds it before (or without) torch.
        torch_only = TORCH_OWN_LIB.match(entry[0]) or NVIDIA_LIB.match(entry[0])
        top_level_copy = "/" not in entry[0] and torch_only and os.path.realpath(entry[1]) in in_packages
        (dropped if top_level_copy else kept).append(entry)
    return kept, dropped


def cpu_datas(datas: Iterable[tuple[str, str, str]]) -> tuple[list, list]:
    """Data files the CPU build leaves out: anything under triton/ or nvidia/ (headers, ptxas...)."""
    kept, dropped = [], []
    for entry in datas:
        (dropped if is_gpu_only_path(entry[0]) else kept).append(entry)
    return kept, dropped


def toc_size(entries: Iterable[tuple[str, str, str]]) -> int:
    """Bytes on disk of a TOC's sources (what the dropped part would have added)."""
    total = 0
    for entry in entries:
        with contextlib.suppress(OSError):
            total += os.path.getsize(entry[1])
    return total


def app_modules(root: Path) -> list[str]:
    """Every module of reelseek.core and reelseek.desktop, named from the source tree."""
    names = []
    for top in ("core", "desktop"):
        for path in sorted((root / top).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join(("reelseek", *parts)))
    return names
