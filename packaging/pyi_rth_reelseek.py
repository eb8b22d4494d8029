"""PyInstaller runtime hook: python-vlc loads the bundled libvlc, and libvlc the bundled plugins.

Set before anything imports vlc. The bundled plugins win over a VLC_PLUGIN_PATH from the
environment: plugins of another VLC release do not load into this libvlccore.
"""

import json
import os
import sys


def _point_vlc_at_bundle(base: str, environ: "os._Environ[str] | dict[str, str]") -> None:
    candidates = [
        os.path.join(folder, name)
        for name in ("libvlc.so.5", "libvlc.dylib", "libvlc.dll")
        for folder in (base, os.path.join(base, "vlc"))
    ]
    found = [path for path in candidates if os.path.exists(path)]
    if found:
        environ["PYTHON_VLC_LIB_PATH"] = found[0]
    plugins = os.path.join(base, "vlc", "plugins")
    if os.path.isdir(plugins):
        environ["PYTHON_VLC_MODULE_PATH"] = plugins
        environ["VLC_PLUGIN_PATH"] = plugins
        environ["REELSEEK_BUNDLED_VLC"] = plugins  # the player's error message names it


def _hide_gpus_in_cpu_build(base: str, environ: "os._Environ[str] | dict[str, str]") -> None:
    """The CPU build lacks cuDNN's engines, nvrtc-builtins and triton: on a machine with an NVIDIA
    GPU, torch would still pick CUDA and fail at the first convolution, so it sees no GPU."""
    try:
        with open(os.path.join(base, "build-info.json"), encoding="utf-8") as f:
            variant = json.load(f).get("variant")
    except (OSError, ValueError):
        return
    if variant == "cpu":
        environ["CUDA_VISIBLE_DEVICES"] = ""


if getattr(sys, "_MEIPASS", None):
    _point_vlc_at_bundle(sys._MEIPASS, os.environ)
    _hide_gpus_in_cpu_build(sys._MEIPASS, os.environ)
