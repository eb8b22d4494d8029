"""Marks: a player's in/out points, set like in an NLE and labelled in source timecode."""

from __future__ import annotations

from collections.abc import Callable

from reelseek.desktop.player.frame_clock import FrameClock


class Marks:
    """In and out in seconds from the file's first frame (out exclusive, like ``Moment.end``).

    Set at a frame: the in mark at its start, the out mark after it (the out includes the frame
    under the playhead, as in an NLE). Labels count frames on ``clock()``, which may change when
    the file's rate becomes known; the marks keep their times.
    """

    def __init__(self, clock: Callable[[], FrameClock]) -> None:
        self._clock = clock
        self.start = 0.0
        self.end = 0.0

    def reset(self, start: float, end: float) -> None:
        self.start, self.end = start, end

    def frames(self) -> tuple[int, int]:
        """In and out as frame numbers (out inclusive: the last frame of the range)."""
        clock = self._clock()
        return clock.frame_at(self.start), clock.end_frame(self.end)

    def set_in(self, frame: int) -> None:
        """The in mark at ``frame``; the out moves along if it was before it (never an empty range)."""
        clock = self._clock()
        self.start = clock.seconds(frame)
        if clock.end_frame(self.end) < frame:
            self.end = clock.seconds(frame + 1)

    def set_out(self, frame: int) -> None:
        """The out mark includes ``frame``; the in moves along if it was after it."""
        clock = self._clock()
        self.end = clock.seconds(frame + 1)
        if clock.frame_at(self.start) > frame:
            self.start = clock.seconds(frame)

    def text(self, mode: str) -> str:
        """``IN … OUT … (n frames at r fps)``; in seconds mode the out is the exclusive end time."""
        clock = self._clock()
        a, b = self.frames()
        fps = clock.rate.label
        if mode == "smpte":
            return f"IN {clock.label(a, mode)}   OUT {clock.label(b, mode)}   ({b - a + 1} frames at {fps} fps)"
        return f"IN {clock.label(a, mode)}   OUT {clock.label(b + 1, mode)}   ({fps} fps)"
