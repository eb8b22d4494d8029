"""What the one-folder app carries, checked without a build: libvlc and every plugin, resources
without the test model, the CPU build's NVIDIA/triton filter, the runtime hook and the launcher."""

from __future__ import annotations

import importlib.util
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"


def _load(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, PACKAGING / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bc = _load("bundle_contents")


def test_the_spec_uses_these_lists() -> None:
    spec = (PACKAGING / "reelseek.spec").read_text()
    uses = ("bc.resource_datas(", "bc.vlc_binaries(", "bc.cpu_binaries(", "bc.CPU_EXCLUDED_MODULES")
    uses += ("bc.app_modules(", "launcher.py")
    for used in uses:
        assert used in spec


def test_every_app_module_is_a_hidden_import_including_lazily_loaded_ones() -> None:
    modules = set(bc.app_modules(REPO))
    # core/media loads these by name on first use; the import graph alone would miss them.
    assert {"reelseek.core.media", "reelseek.core.media.probing", "reelseek.core.media.strategy"} <= modules
    assert {"reelseek.desktop.player.vlc_player", "reelseek.desktop.results.panel", "reelseek.core.cli"} <= modules
    assert not any(m.endswith(".__init__") or "tests" in m.split(".") for m in modules)
    # one name per source file under core/ and desktop/
    assert len(modules) == sum(1 for top in ("core", "desktop") for _ in (REPO / top).rglob("*.py"))


def test_every_system_vlc_plugin_is_bundled_as_a_binary() -> None:
    found = bc.find_vlc()
    assert found is not None, "libvlc5 + vlc-plugin-base must be installed to build (and for these tests)"
    lib, plugins = found
    pairs = bc.vlc_binaries(lib, plugins)
    assert (str(lib / "libvlc.so.5"), ".") in pairs and (str(lib / "libvlccore.so.9"), ".") in pairs
    on_disk = sorted(plugins.rglob("*.so"))
    assert len(on_disk) > 50
    bundled = {Path(src) for src, _ in pairs}
    assert set(on_disk) <= bundled
    dests = dict(pairs)
    codec = next(p for p in on_disk if p.name == "libavcodec_plugin.so")
    assert dests[str(codec)] == "vlc/plugins/codec"


def test_find_vlc_honours_the_override_and_says_none_when_missing(tmp_path: Path) -> None:
    (tmp_path / "plugins" / "codec").mkdir(parents=True)
    assert bc.find_vlc(str(tmp_path)) is None  # no libvlc.so.5 yet
    for name in bc.VLC_LIBS:
        (tmp_path / name).write_bytes(b"")
    assert bc.find_vlc(str(tmp_path)) == (tmp_path, tmp_path / "plugins")


def test_resources_leave_the_test_model_out() -> None:
    resources = REPO / "resources"
    assert any((resources / "models").rglob("*")), "the test model lives in resources/models"
    pairs = bc.resource_datas(resources)
    sources = [Path(src) for src, _ in pairs]
    assert resources / "style.qss" in sources
    assert any(p.parent.name == "icons" for p in sources)
    assert not any("models" in p.relative_to(resources).parts for p in sources)
    assert all(dest.startswith("reelseek/resources") for _, dest in pairs)


def test_cpu_build_keeps_only_what_torch_needs_at_import() -> None:
    toc = [
        ("triton/_C/libtriton.so", "/x/libtriton.so", "BINARY"),
        ("nvidia/cu13/lib/libcublas.so.13", "/x/libcublas.so.13", "BINARY"),
        ("nvidia/cudnn/lib/libcudnn_engines_precompiled.so.9", "/x/e.so", "BINARY"),
        ("nvidia/cu13/lib/libcusolver.so.12", "/x/s.so", "BINARY"),
        ("torch/lib/libtorch_cuda_linalg.so", "/x/l.so", "BINARY"),
        ("torch/lib/libtorch_cpu.so", "/x/c.so", "BINARY"),
        ("libvlc.so.5", "/usr/lib/libvlc.so.5", "BINARY"),
        # PyInstaller's dependency analysis puts CUDA libraries at the top as well
        ("libcusolver.so.12", "/x/s.so", "BINARY"),
        ("libcudart.so.13", "/x/r.so", "BINARY"),
        ("libcudart.faf08d9a.so.13", "/x/ctranslate2.libs/r.so", "BINARY"),  # a wheel's own copy
        ("libcurl.so.4", "/usr/lib/libcurl.so.4", "BINARY"),
    ]
    kept, dropped = bc.cpu_binaries(toc, {"libcublas.so.13", "libtorch_cpu.so", "libcudart.so.13"})
    assert [e[0] for e in kept] == [
        "nvidia/cu13/lib/libcublas.so.13",
        "torch/lib/libtorch_cpu.so",
        "libvlc.so.5",
        "libcudart.so.13",
        "libcudart.faf08d9a.so.13",
        "libcurl.so.4",
    ]
    assert len(dropped) == 5
    datas = [("triton/backends/nvidia/include/x.h", "/x", "DATA"), ("a", "/a", "DATA")]
    datas_kept, datas_dropped = bc.cpu_datas(datas)
    assert [e[0] for e in datas_kept] == ["a"] and len(datas_dropped) == 1
    assert "triton" in bc.CPU_EXCLUDED_MODULES and "ray" in bc.ALWAYS_EXCLUDED_MODULES


def test_top_level_copies_of_torch_and_nvidia_libraries_go() -> None:
    toc = [
        ("torch/lib/libtorch_cpu.so", "/t/libtorch_cpu.so", "BINARY"),
        ("libtorch_cpu.so", "/t/libtorch_cpu.so", "BINARY"),
        ("nvidia/nccl/lib/libnccl.so.2", "/n/libnccl.so.2", "BINARY"),
        ("libnccl.so.2", "/n/libnccl.so.2", "BINARY"),
        ("libcublasLt.so.13", "/n/libcublasLt.so.13", "BINARY"),  # the only copy
        ("av.libs/libavcodec.so", "/a/libavcodec.so", "BINARY"),
        ("libavcodec.so", "/a/libavcodec.so", "BINARY"),  # not torch's: left alone
        ("torch/lib/libgomp.so.1", "/t/libgomp.so.1", "BINARY"),
        ("libgomp.so.1", "/t/libgomp.so.1", "BINARY"),  # torch's, standing in for VLC's libavcodec too
    ]
    kept, dropped = bc.without_top_level_copies(toc)
    assert [e[0] for e in dropped] == ["libtorch_cpu.so", "libnccl.so.2"]
    assert len(kept) == 7 and ("libgomp.so.1", "/t/libgomp.so.1", "BINARY") in kept
    assert "bc.without_top_level_copies(" in (PACKAGING / "reelseek.spec").read_text()


def test_gpu_build_brings_every_nvidia_library_where_torch_looks(tmp_path: Path) -> None:
    for rel in ("nvidia/cu13/lib/libnvrtc-builtins.so.13.0", "nvidia/cudnn/lib/libcudnn_ops.so.9"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    pairs = bc.nvidia_binaries(tmp_path)
    assert sorted(dest for _, dest in pairs) == ["nvidia/cu13/lib", "nvidia/cudnn/lib"]
    assert "bc.nvidia_binaries(" in (PACKAGING / "reelseek.spec").read_text()


def test_torch_import_closure_leaves_out_lazy_gpu_libraries() -> None:
    import torch

    site = Path(torch.__file__).resolve().parent.parent
    needed = bc.needed_closure(bc.torch_import_roots(site))
    assert {"libtorch_cpu.so", "libc10.so"} <= needed
    lazy = [n for n in needed if n.startswith(("libcudnn_engines", "libcusolver", "libnvrtc-builtins", "libtriton"))]
    assert lazy == []


def test_parse_ldd_reads_resolved_and_missing_names() -> None:
    text = (
        "\tlinux-vdso.so.1 (0x00007ffd)\n"
        "\tlibcudart.so.13 => /v/nvidia/cu13/lib/libcudart.so.13 (0x00007f)\n"
        "\tlibtorch.so => not found\n"
    )
    assert bc.parse_ldd(text) == {"libcudart.so.13", "libtorch.so"}


def test_runtime_hook_points_python_vlc_and_libvlc_at_the_bundle(tmp_path: Path) -> None:
    hook = runpy.run_path(str(PACKAGING / "pyi_rth_reelseek.py"), run_name="hook")  # no sys._MEIPASS: no-op
    (tmp_path / "vlc" / "plugins").mkdir(parents=True)
    (tmp_path / "libvlc.so.5").write_bytes(b"")
    env = {"VLC_PLUGIN_PATH": "/usr/lib/x86_64-linux-gnu/vlc/plugins", "PYTHON_VLC_LIB_PATH": "/elsewhere"}
    hook["_point_vlc_at_bundle"](str(tmp_path), env)
    plugins = str(tmp_path / "vlc" / "plugins")
    assert env["VLC_PLUGIN_PATH"] == plugins and env["PYTHON_VLC_MODULE_PATH"] == plugins
    assert env["PYTHON_VLC_LIB_PATH"] == str(tmp_path / "libvlc.so.5")
    empty: dict[str, str] = {}
    hook["_point_vlc_at_bundle"](str(tmp_path / "nothing"), empty)
    assert empty == {}  # nothing bundled: the system's libvlc as before

    (tmp_path / "build-info.json").write_text('{"variant": "cpu"}')
    env = {"CUDA_VISIBLE_DEVICES": "0"}
    hook["_hide_gpus_in_cpu_build"](str(tmp_path), env)
    assert env == {"CUDA_VISIBLE_DEVICES": ""}
    (tmp_path / "build-info.json").write_text('{"variant": "gpu"}')
    env = {"CUDA_VISIBLE_DEVICES": "0"}
    hook["_hide_gpus_in_cpu_build"](str(tmp_path), env)
    assert env == {"CUDA_VISIBLE_DEVICES": "0"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["-m", "reelseek.core.cli", "--help"], "usage: "), (["--version"], "reelseek ")],
)
def test_launcher_runs_modules_and_the_app(args: list[str], expected: str) -> None:
    """`-m reelseek.X` is how core starts its children with sys.executable (the text export)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, str(PACKAGING / "launcher.py"), *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(expected), out.stdout
