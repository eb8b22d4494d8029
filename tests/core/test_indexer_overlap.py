"""With small decoder chunks the indexer encodes a file's first frames while it is still being decoded.

Counts events, never time: the decoder holds its next frame until the encoder has been called,
so a pipeline that waits for a whole batch (16 frames: 16 s of video at 1 frame/s) before
encoding would never get past that point; the wait has a generous guard so a regression fails
instead of hanging.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelseek.core import media
from tests.bench.embedders import bundled_model_available

pytestmark = pytest.mark.skipif(not bundled_model_available(), reason="the bundled test model is not in the repository")
TEST_MODEL = "reelseek-test-tiny"
GUARD_S = 300.0  # only against a hang; the event normally comes in well under a second


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s at 5 fps: 12 sampled frames at 1 frame/s, fewer than one encoder batch."""
    import av
    import numpy as np

    path = tmp_path_factory.mktemp("overlap") / "twelve.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=5, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        for i in range(60):
            img = np.full((96, 128, 3), (i * 4) % 256, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_encoding_starts_before_the_file_is_decoded(clip: Path, tmp_path: Path, monkeypatch):
    from reelseek.core.indexer import IndexerConfig
    from reelseek.core.library import Library

    encoded = threading.Event()
    yielded: list[float] = []
    yielded_at_first_encode: list[int] = []
    sample_frames = media.sample_frames

    def held_sampler(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for i, frame in enumerate(sample_frames(*args, **kwargs)):
            if i == 6:  # past the first chunk: wait until the encoder has had frames of this file
                encoded.wait(GUARD_S)
            yielded.append(frame.t)
            yield frame

    monkeypatch.setattr(media, "sample_frames", held_sampler)
    cfg = IndexerConfig(batch_size=16, chunk_frames=4)
    with Library(tmp_path / "home", model_id=TEST_MODEL, indexer_config=cfg) as lib:
        emb = lib.load_image_model()
        encode = emb.encode_frames

        def counting(frames: Any) -> Any:
            yielded_at_first_encode.append(len(yielded)) if not encoded.is_set() else None
            encoded.set()
            return encode(frames)

        monkeypatch.setattr(emb, "encode_frames", counting)
        report = lib.index([clip.parent], words=False)
    assert report.errors == [] and report.indexed == 1
    assert len(yielded) == 12, "every second sampled"
    assert yielded_at_first_encode and yielded_at_first_encode[0] < 12, (
        "the encoder waited for the whole file to be decoded"
    )


def test_a_chunk_is_never_larger_than_a_batch_nor_empty():
    from reelseek.core.indexer import Indexer, IndexerConfig

    ix = Indexer.__new__(Indexer)  # only the config is read
    ix.config = IndexerConfig(batch_size=16, chunk_frames=64)
    assert ix._chunk_frames() == 16
    ix.config = IndexerConfig(chunk_frames=0)
    assert ix._chunk_frames() == 1
