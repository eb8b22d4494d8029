"""The Qt binding keeps Python's reference counts: a leak on True or False aborts the app.

PySide6 6.12.0's ``Signal.emit()`` returned True without taking a reference: each emit took one
from True, and after a few thousand signals (the player emits one per picture and one per 40 ms
poll) the interpreter aborted with "bool_dealloc: deallocating True or False". pyproject.toml keeps
PySide6 below 6.12; this test fails on any binding that brings the leak back.
"""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    plain = Signal()
    number = Signal(int)


def test_emitting_signals_leaves_the_reference_counts_of_true_and_false_alone(qapp) -> None:
    o = _Emitter()
    got: list[int] = []
    o.number.connect(got.append)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for i in range(200):
        o.plain.emit()
        o.number.emit(i)

    def from_a_thread() -> None:  # libvlc's picture callbacks emit from threads Python did not start
        for _ in range(100):
            o.plain.emit()

    t = threading.Thread(target=from_a_thread)
    t.start()
    t.join()
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert len(got) == 200
    # Other code may take or drop a few references meanwhile; a leak per emit would be >= 500.
    assert abs(after[0] - before[0]) < 50 and abs(after[1] - before[1]) < 50, (before, after)
