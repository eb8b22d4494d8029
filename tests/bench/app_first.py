"""The app's first search: from the main window's first paint to the result cards painted.

The real app (``reelseek.desktop.app.main``, Qt offscreen) opens a real library (the startup
benchmark's: product files, ViT-B-32 random weights imported). The moment the main window
first paints, the driver types the query and presses Return, as a user who starts typing at
once would: the search then waits for whatever the warm-up has not finished. The clock stops
at the first paint of the results view after the search finished. Each run is a fresh
process; "before" forces the old text path (``REELSEEK_TEXT_ENGINE=torch``), alternating.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.common import REPO_ROOT, log, median

QUERY = "a person walking a dog on a beach at sunset"
TARGET_S = 2.0


def _child(home: str, query: str) -> int:
    """Run the app with the driver hooked in; print one JSON line of marks (perf_counter s)."""
    t_start = time.perf_counter()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication([sys.argv[0]])
    marks: dict[str, float] = {"start": t_start}
    state: dict[str, Any] = {}

    def _in_results(obj: QObject) -> bool:
        # The cards' viewport, or the "no good match" notice that replaces it: whatever the
        # results panel paints first once the search is done (a toy library may match nothing).
        panel = state.get("panel")
        return isinstance(obj, QWidget) and panel is not None and (obj is panel or panel.isAncestorOf(obj))

    class Watch(QObject):
        def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # Qt's name
            if ev.type() == QEvent.Type.Paint:
                name = type(obj).__name__
                if "shown" not in marks and name == "MainWindow":
                    marks["shown"] = time.perf_counter()
                    state["window"] = obj
                    QTimer.singleShot(0, type_query)
                elif "finished" in marks and "painted" not in marks and _in_results(obj):
                    marks["painted"] = time.perf_counter()
                    QTimer.singleShot(0, app.quit)
            return False

    def type_query() -> None:
        win = state["window"]
        state["viewport"] = win.results.view.viewport()
        state["panel"] = win.results
        win.search.finished.connect(on_finished)
        win.search.failed.connect(lambda _q, msg: (state.update(error=msg), app.quit()))
        win.search_bar.field.setText(query)
        win.search_bar.search_now()
        marks["typed"] = time.perf_counter()

    def on_finished(_q: object, result: Any, seconds: float) -> None:
        marks["finished"] = time.perf_counter()
        state["moments"] = len(result.moments)
        state["timings"] = {k: float(v) for k, v in result.timings.items()}
        state["viewport"].update()  # the model reset already asked for a repaint; this makes sure

    watch = Watch()
    app.installEventFilter(watch)
    QTimer.singleShot(600_000, app.quit)  # never hang the benchmark
    from reelseek.desktop.app import main

    rc = main(["reelseek", "--home", home])
    kept = {k: v for k, v in state.items() if k not in ("window", "viewport", "panel")}
    print(json.dumps({"rc": rc, "marks": marks, **kept}))
    sys.stdout.flush()
    # Measured: skip the teardown (an index worker still loading may keep Qt's threads busy).
    os._exit(0)


def _run(home: Path, env: dict[str, str]) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench.app_first", "--child", str(home), QUERY],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"app run exited {proc.returncode}: {proc.stderr[-2000:]}")
    got = json.loads(lines[-1])
    m = got["marks"]
    if "painted" not in m:
        raise RuntimeError(f"no results painted: {got}")
    return {
        "first_search_s": m["painted"] - m["shown"],
        "window_shown_s": m["shown"] - m["start"],
        "search_done_s": m["finished"] - m["shown"],
        "process_wall_s": wall,
        "moments": got.get("moments"),
        "timings": got.get("timings"),
    }


def app_first_search(
    home: Path, pycache: Path, model_id: str, *, runs: int, before_runs: int | None = None
) -> dict[str, Any]:
    """First-search figures for the product (after) and the old torch path (before), alternating."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("REELSEEK_")}
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base.update(REELSEEK_MODEL=model_id, PYTHONPYCACHEPREFIX=str(pycache), QT_QPA_PLATFORM="offscreen")
    after_env = dict(base)
    before_env = {**base, "REELSEEK_TEXT_ENGINE": "torch"}
    _run(home, after_env)  # bytecode and the settings the app writes on its first start
    before, after = [], []
    n_before = runs if before_runs is None else before_runs
    for i in range(runs):
        log(f"app first search: run {i + 1}/{runs}")
        if i < n_before:  # the old path takes minutes on a loaded machine: fewer runs may be asked for
            before.append(_run(home, before_env))
        after.append(_run(home, after_env))

    def summary(rs: list[dict[str, Any]]) -> dict[str, Any] | None:
        if not rs:
            return None
        return {
            "first_search_s_median": median([r["first_search_s"] for r in rs]),
            "first_search_s_best": min(r["first_search_s"] for r in rs),
            "window_shown_s_median": median([r["window_shown_s"] for r in rs]),
            "runs": rs,
        }

    return {
        "query": QUERY,
        "target_s": TARGET_S,
        "before": summary(before),
        "after": summary(after),
        "loadavg": list(os.getloadavg()),
    }


def markdown(af: dict[str, Any]) -> list[str]:
    b, a = af["before"], af["after"]
    out = [
        "",
        f"The app's first search (window's first paint to result cards painted, query typed at once; "
        f"median of {len(a['runs'])} runs; load average {af['loadavg'][0]:.1f}; target {af['target_s']:.0f} s):",
        "",
        "| path | first search s median (best) | launch to window s |",
        "| --- | ---: | ---: |",
    ]
    if b:
        out.append(
            f"| before: torch text path | {b['first_search_s_median']:.2f} ({b['first_search_s_best']:.2f}) | "
            f"{b['window_shown_s_median']:.2f} |"
        )
    out.append(
        f"| after: ONNX Runtime text tower, warmed at launch | {a['first_search_s_median']:.2f} "
        f"({a['first_search_s_best']:.2f}) | {a['window_shown_s_median']:.2f} |"
    )
    return out


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        sys.exit(_child(sys.argv[2], sys.argv[3]))
    from tests.bench.embedders import default_spec

    res = app_first_search(Path(sys.argv[1]), Path(sys.argv[2]), default_spec().id, runs=int(sys.argv[3]))
    print(json.dumps({k: v for k, v in res.items()}, indent=1, default=str))
