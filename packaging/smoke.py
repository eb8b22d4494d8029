"""Launch the BUILT one-folder app like a new user would, offscreen, and check each step.

    python packaging/smoke.py [dist/cpu/reelseek]

Runs with the build's Python (it needs open_clip and PyAV to make a weights file and a clip,
never the app's own code): checks what is in the folder, opens the GUI (``reelseek --smoke``),
then with the bundled ``reelseek-cli`` imports a randomly initialised ViT-B-32, indexes a few
seconds of generated H.264 (plus python3-imageio's cockatoo.mp4 when present), and searches.
Every step has a timeout and says what failed; exit 0 only when all passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COCKATOO = Path("/usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4")  # python3-imageio


# What the CPU build must not carry (torch loads them only on a GPU).
GPU_ONLY_SAMPLES = ("triton", "nvidia/cudnn/lib/libcudnn_engines_precompiled.so.9", "libcusolver.so.12")


class SmokeFailed(Exception):
    """One step failed; the message says which and why."""


def step(name: str):  # type: ignore[no-untyped-def]
    """Print the step's name, duration and outcome."""

    def wrap(fn):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            print(f"smoke: {name} ...", flush=True)
            start = time.monotonic()
            try:
                out = fn(*args, **kwargs)
            except SmokeFailed as e:
                raise SmokeFailed(f"{name}: {e}") from None
            print(f"smoke: {name} ok ({time.monotonic() - start:.1f} s)", flush=True)
            return out

        return run

    return wrap


def launch(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run one command of the built app; a timeout or a non-zero exit is a failure with its output."""
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, errors="replace")
    except subprocess.TimeoutExpired as e:
        tail = ((e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""))[-2000:]
        raise SmokeFailed(f"`{' '.join(cmd)}` did not finish within {timeout:.0f} s\n{tail}") from None
    if proc.returncode != 0:
        output = f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
        raise SmokeFailed(f"`{' '.join(cmd)}` exited {proc.returncode}\n{output}")
    return proc


@step("bundle contents")
def check_contents(app: Path) -> dict:
    internal = app / "_internal"
    info_file = internal / "build-info.json"
    must = [
        app / "reelseek",
        app / "reelseek-cli",
        info_file,
        internal / "libvlc.so.5",
        internal / "libvlccore.so.9",
        internal / "vlc" / "plugins" / "codec" / "libavcodec_plugin.so",
        internal / "PySide6" / "Qt" / "plugins" / "platforms" / "libqoffscreen.so",
        internal / "PySide6" / "Qt" / "plugins" / "platforms" / "libqxcb.so",
        internal / "reelseek" / "resources" / "style.qss",
    ]
    missing = [str(p.relative_to(app)) for p in must if not p.exists()]
    if missing:
        raise SmokeFailed(f"missing from {app}: {', '.join(missing)}")
    plugins = list((internal / "vlc" / "plugins").rglob("*.so"))
    if len(plugins) < 50:
        raise SmokeFailed(f"only {len(plugins)} VLC plugins bundled")
    if (internal / "reelseek" / "resources" / "models").exists():
        raise SmokeFailed("the test model (resources/models) is in the bundle")
    info = json.loads(info_file.read_text())
    if info.get("variant") == "cpu":
        gpu_only = [p for p in GPU_ONLY_SAMPLES if (internal / p).exists()]
        if gpu_only:
            raise SmokeFailed(f"the CPU build carries GPU-only files: {gpu_only}")
    print(f"smoke:   {info.get('variant')} build, {len(plugins)} VLC plugins", flush=True)
    return info


@step("GUI opens its window offscreen (reelseek --smoke)")
def check_gui(app: Path, env: dict[str, str]) -> None:
    proc = launch([str(app / "reelseek"), "--smoke"], env, timeout=300)
    if "reelseek smoke: window shown" not in proc.stdout:
        raise SmokeFailed(f"no 'window shown' line\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    libvlc_line = next((ln for ln in proc.stdout.splitlines() if "smoke: libvlc" in ln), "")
    if str(app.resolve() / "_internal") not in libvlc_line:
        raise SmokeFailed(f"the player did not load the bundled libvlc/plugins: {libvlc_line!r}")
    said = [ln for ln in proc.stdout.splitlines() if ln.startswith("reelseek smoke")]
    print("smoke:   " + " | ".join(said), flush=True)


# Hides the system's VLC (libvlc, libvlccore, plugins, FFmpeg 59) in a private mount namespace,
# then runs "$@": the built app must still start, on what it carries.
HIDE_SYSTEM_VLC = r"""
set -e
empty=$(mktemp -d); blank=$(mktemp)
for d in /usr/lib/*-linux-gnu/vlc; do [ -d "$d" ] && mount --bind "$empty" "$d"; done
for f in /usr/lib/*-linux-gnu/libvlc.so.5* /usr/lib/*-linux-gnu/libvlccore.so.9* \
         /usr/lib/*-linux-gnu/libavcodec.so.* /usr/lib/*-linux-gnu/libavformat.so.*; do
  [ -f "$f" ] && mount --bind "$blank" "$f"
done
exec "$@"
"""


@step("GUI without the system's VLC (private mount namespace)")
def check_gui_without_system_vlc(app: Path, env: dict[str, str]) -> None:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("smoke:   skipped: needs root and unshare to hide the system's VLC", flush=True)
        return
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        print("smoke:   skipped: this machine does not allow mount namespaces", flush=True)
        return
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", HIDE_SYSTEM_VLC, "hide-vlc"]
    proc = launch([*cmd, str(app / "reelseek"), "--smoke"], env, timeout=300)
    if "reelseek smoke: window shown" not in proc.stdout:
        raise SmokeFailed(f"no 'window shown' line\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


@step("make a random ViT-B-32 weights file (torch.save)")
def make_weights(folder: Path) -> Path:
    import open_clip
    import torch

    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None)
    path = folder / "vit-b-32-random.pt"
    torch.save(model.state_dict(), path)
    return path


@step("make a small H.264 folder (PyAV)")
def make_footage(folder: Path) -> Path:
    import av
    import numpy as np

    footage = folder / "footage"
    footage.mkdir()
    with av.open(str(footage / "red then blue.mp4"), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(60):  # 6 s: 3 s red, 3 s blue, with a moving white square
            img = np.zeros((240, 320, 3), np.uint8)
            img[:] = (200, 30, 30) if i < 30 else (30, 30, 200)
            x = 10 + 4 * i
            img[100:140, x : x + 40] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    if COCKATOO.exists():
        shutil.copy(COCKATOO, footage / "cockatoo.mp4")
    return footage


@step("bundled CLI: models import")
def cli_import(cli: Path, env: dict[str, str], weights: Path) -> None:
    launch([str(cli), "models", "import", str(weights), "--as", "vit-b-32"], env, timeout=900)


@step("bundled CLI: index (on the CPU)")
def cli_index(cli: Path, env: dict[str, str], footage: Path) -> None:
    proc = launch([str(cli), "--model", "vit-b-32", "index", str(footage), "--json"], env, timeout=900)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise SmokeFailed(f"index printed no JSON summary: {proc.stdout[-1000:]!r}") from None
    files = len(list(footage.iterdir()))
    if report.get("indexed") != files or report.get("errors"):
        raise SmokeFailed(f"indexed {report.get('indexed')} of {files} files, errors {report.get('errors')}")
    words = report.get("words") or {}
    # A new user has no speech model yet, so "said" may report that; on-screen text runs on
    # rapidocr's bundled ONNX models and subtitles need nothing: their errors are the bundle's.
    for err in words.get("errors", []):
        print(f"smoke:   words: {Path(err['path']).name}: {err['error']}", flush=True)
    bundle_errors = [e for e in words.get("errors", []) if not str(e.get("error", "")).startswith("said")]
    if bundle_errors:
        raise SmokeFailed(f"the words pass failed inside the bundle: {bundle_errors}")
    print(f"smoke:   indexed {files} files, {report.get('video_seconds')} video-s in {report.get('elapsed')} s")


@step("bundled CLI: search")
def cli_search(cli: Path, env: dict[str, str], footage: Path) -> None:
    proc = launch([str(cli), "--model", "vit-b-32", "search", "a red square", "--all", "--json"], env, timeout=300)
    try:
        moments = json.loads(proc.stdout)
    except ValueError:
        raise SmokeFailed(f"search printed no JSON: {proc.stdout[-1000:]!r}") from None
    if not moments or not all(str(m.get("path", "")).startswith(str(footage)) for m in moments):
        raise SmokeFailed(f"search printed no result from {footage}: {proc.stdout[-1000:]!r}")
    top = moments[0]
    print(f"smoke:   top result {Path(top['path']).name} {top['start']:.1f}-{top['end']:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", nargs="?", default="dist/cpu/reelseek", help="the built app folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home (printed)")
    args = parser.parse_args(argv)
    app = Path(args.app).resolve()
    tmp = Path(tempfile.mkdtemp(prefix="reelseek-smoke-"))
    # A new user's machine: empty home and data folder, offscreen Qt, nothing of this checkout.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "REELSEEK_", "QT_"))}
    (tmp / "home").mkdir()
    env.update(HOME=str(tmp / "home"), REELSEEK_HOME=str(tmp / "library"), QT_QPA_PLATFORM="offscreen")
    for xdg in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        env.pop(xdg, None)
    start = time.monotonic()
    try:
        check_contents(app)
        check_gui(app, env)
        check_gui_without_system_vlc(app, env)
        weights = make_weights(tmp)
        footage = make_footage(tmp)
        cli = app / "reelseek-cli"
        cli_import(cli, env, weights)
        cli_index(cli, env, footage)
        cli_search(cli, env, footage)
    except SmokeFailed as e:
        print(f"smoke FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        if args.keep:
            print(f"smoke: kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"smoke: all steps passed in {time.monotonic() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
