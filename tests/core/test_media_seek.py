"""read_frame (thumbnails, stills from clips) returns the same picture as decoding from the start."""

from __future__ import annotations

import av
import numpy as np
import pytest

from reelseek.core import media
from tests.footage import real_clip


def _sequential(path, t, width, height):
    with av.open(str(path)) as c:
        for f in c.decode(c.streams.video[0]):
            if f.time >= t - 0.026:
                return f.to_ndarray(format="rgb24", width=width, height=height).astype(float)
    raise AssertionError("no frame")


@pytest.mark.parametrize("t", [4.0, 8.4, 10.0, 11.0, 12.0, 13.5])
def test_seek_past_an_unclean_keyframe_still_gives_the_true_frame(t):
    # cockatoo.mp4's I-frames after the first are not clean entry points: a plain seek to them
    # decodes grey-green garbage (frames flagged corrupt) until the next real IDR.
    path = real_clip("cockatoo.mp4")
    got = media.read_frame(path, t, max_width=320).astype(float)
    want = _sequential(path, t, got.shape[1], got.shape[0])
    assert np.abs(got - want).mean() < 3.0
