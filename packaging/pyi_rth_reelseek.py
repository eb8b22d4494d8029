"""PyInstaller runtime hook: point python-vlc at a bundled libvlc when the bundle carries one."""

import os
import sys

_base = getattr(sys, "_MEIPASS", None)
if _base:
    _vlc = os.path.join(_base, "vlc")
    if os.path.isdir(_vlc):
        for _name in ("libvlc.dll", "libvlc.dylib", "libvlc.so.5"):
            if os.path.exists(os.path.join(_vlc, _name)):
                os.environ.setdefault("PYTHON_VLC_LIB_PATH", os.path.join(_vlc, _name))
                break
        if os.path.isdir(os.path.join(_vlc, "plugins")):
            os.environ.setdefault("PYTHON_VLC_MODULE_PATH", os.path.join(_vlc, "plugins"))
            os.environ.setdefault("VLC_PLUGIN_PATH", os.path.join(_vlc, "plugins"))
