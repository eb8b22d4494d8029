"""Load torch and the model off the GUI thread without starving it of the GIL.

Importing torch and open_clip from a worker thread froze the GUI thread for up to ~800 ms at a
time on the 2-core build machines (a 5 ms ticker thread measured the gaps): ``dlopen`` of the
multi-hundred-MB libtorch libraries runs inside ``import`` with the GIL held, and the garbage
collector walks the million new objects while the GIL is held too. Two changes bring the
worst gap to ~100 ms:

* ``dlopen`` the libraries first through libc via ctypes: a ctypes foreign call releases the GIL,
  so their static initialisers run while the GUI thread keeps going; ``import torch`` then finds
  them already loaded.
* No garbage collection while importing and building the model; afterwards ``gc.freeze()``
  moves those objects out of the collector's sight so later collections stay short.
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import logging
import os
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from reelseek.core.library import Library

log = logging.getLogger(__name__)
_lock = threading.Lock()
_loaded_models: set[tuple[int, str]] = set()

# Order matters: each library's dependencies first.
_TORCH_LIBS = (
    "libtorch_global_deps.so",
    "libc10.so",
    "libtorch_cpu.so",
    "libc10_cuda.so",
    "libtorch_cuda.so",
    "libtorch.so",
)


def _dlopen() -> Callable[[bytes, int], int | None] | None:
    """libc's dlopen, typed; None where there is none (preloading is only an optimisation)."""
    try:
        dlopen = ctypes.CDLL(None).dlopen
    except (OSError, AttributeError):
        return None
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return dlopen  # type: ignore[no-any-return]


def _preload_torch_libraries() -> None:
    if not sys.platform.startswith("linux") or "torch" in sys.modules:
        return
    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        return
    folder = os.path.join(os.path.dirname(spec.origin), "lib")
    dlopen = _dlopen()
    if dlopen is None:
        return
    # RTLD_GLOBAL only for the one library torch itself loads globally; the others stay local,
    # as when import torch loads them, so no symbol of theirs can interpose on another library's.
    rtld_now, rtld_global = 0x2, 0x100
    for name in _TORCH_LIBS:
        path = os.path.join(folder, name)
        flags = rtld_now | (rtld_global if name == "libtorch_global_deps.so" else 0)
        if os.path.exists(path) and not dlopen(path.encode(), flags):
            log.debug("preloading %s failed; import torch will load it", name)


def _preload_onnxruntime() -> None:
    # onnxruntime (OCR, the speech VAD) must be imported before usearch (core/index.py says why);
    # doing it here, with its libraries dlopen-ed first, keeps that import inside the model load.
    if not sys.platform.startswith("linux") or "onnxruntime" in sys.modules:
        return
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or spec.origin is None:
        return
    folder = os.path.join(os.path.dirname(spec.origin), "capi")
    dlopen = _dlopen()
    if dlopen is None:
        return
    for name in sorted(os.listdir(folder)):
        if name.startswith("libonnxruntime") and ".so" in name:
            dlopen(os.path.join(folder, name).encode(), 0x2)


def _import_heavy_modules() -> None:
    _preload_torch_libraries()
    _preload_onnxruntime()
    import contextlib

    import open_clip  # noqa: F401 - imported here on purpose, see the module docstring
    import torch  # noqa: F401

    with contextlib.suppress(ImportError):
        import onnxruntime  # noqa: F401


def load_model_gently(library: Library, *, for_indexing: bool = False) -> None:
    """``library.load_model()`` with the heavy imports arranged not to freeze the GUI thread.
    ``for_indexing``: what the indexer embeds frames with instead (``library.load_image_model()``:
    on a CPU the ONNX Runtime image tower, exported once in a child process the first time).

    Safe to call from several threads; the model loads once per library and model id.
    """
    key = (id(library), library.model_id(), for_indexing)
    with _lock:
        if key in _loaded_models:
            return
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            _import_heavy_modules()
            if for_indexing and hasattr(library, "load_image_model"):
                library.load_image_model()
            else:
                library.load_model()
            _loaded_models.add(key)
        finally:
            gc.freeze()
            if was_enabled:
                gc.enable()


def load_text_model_gently(library: Library) -> None:
    """What a text query needs, without torch: ``library.load_text_model()`` (ONNX Runtime and
    the exported text tower, ~0.3 s) under the same no-GC rule; the vector index too, so the
    first search finds everything loaded. Falls back to the full model when the library has no
    torch-free path (or cannot build one: it then loads the full model itself).
    """
    if not hasattr(library, "load_text_model"):
        load_model_gently(library)
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        library.load_text_model()
        if hasattr(library, "vector_index"):
            library.vector_index(library.search_model())
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
