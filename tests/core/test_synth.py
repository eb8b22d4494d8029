"""Tests of the synthetic footage generator and of the committed tiny test model."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import av
import numpy as np
import pytest

from tests.synth.scenes import (
    BACKGROUNDS,
    COLOURS,
    HELDOUT_PAIRS,
    MOTIONS,
    SHAPES,
    Scene,
    SceneObject,
    all_triples,
    canonical_caption,
    captions,
    object_centre,
    object_extent,
    random_scene,
    render_frame,
    sample_training_caption,
)
from tests.synth.scenes_ko import WRAPPERS_KO, canonical_caption_ko, captions_ko, sample_training_caption_ko
from tests.synth.videos import (
    CODECS,
    SceneSpec,
    load_manifest,
    make_library,
    plan_library,
    save_manifest,
    write_video,
)

MODEL_DIR = Path(__file__).resolve().parents[2] / "resources" / "models" / "reelseek-test-tiny"
TWO_SCENES = (
    SceneSpec("red", "circle", "sky", "left", 0.0, 1.0),
    SceneSpec("yellow", "star", "grass", "still", 1.0, 2.0),
)


def _decode(path: Path) -> list[tuple[float, np.ndarray]]:
    with av.open(str(path)) as container:
        return [(float(f.time), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_every_codec_writes_a_decodable_file(tmp_path: Path, codec: str) -> None:
    ext, _, pix_fmt = CODECS[codec]
    spec = write_video(tmp_path / f"v.{ext}", TWO_SCENES, codec=codec, fps=8, width=96, height=64)
    frames = _decode(spec.path)
    assert spec.duration == 2.0
    assert len(frames) == 16
    assert frames[0][1].shape == (64, 96, 3)
    with av.open(str(spec.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.pix_fmt == pix_fmt
        assert float(stream.average_rate or stream.base_rate) == pytest.approx(8.0)


def test_decoded_frames_follow_the_scene_ranges(tmp_path: Path) -> None:
    spec = write_video(tmp_path / "v.mp4", TWO_SCENES, fps=8, width=128, height=96)
    for t, rgb in _decode(spec.path):
        r, g, b = rgb[:8].reshape(-1, 3).mean(0)  # top strip: background only
        scene = spec.scene_at(t)
        if scene.background == "sky":
            assert b > g > r, t
        else:
            assert g > r and g > b, t


def test_render_sizes_and_types() -> None:
    rng = np.random.default_rng(0)
    scene = random_scene(rng, "blue", "ring", "noise")
    for w, h in [(64, 64), (256, 144), (144, 256), (33, 17)]:
        img = render_frame(scene, 0.5, w, h, rng)
        assert img.shape == (h, w, 3) and img.dtype == np.uint8
    with pytest.raises(ValueError, match="too small"):
        render_frame(scene, 0.5, 4, 4, rng)
    with pytest.raises(ValueError, match="unknown colour"):
        Scene("plain", (SceneObject("mauve", "circle"),))
    with pytest.raises(ValueError, match="unknown background"):
        Scene("lava", (SceneObject("red", "circle"),))


def test_object_paths_stay_inside_the_square_and_apart() -> None:
    rng = np.random.default_rng(7)
    for i in range(3000):
        second = ("blue", SHAPES[(i + 1) % len(SHAPES)]) if i % 4 == 0 else None
        scene = random_scene(rng, "red", SHAPES[i % len(SHAPES)], "grass", second=second)
        for t in (0.0, 1.0):
            for obj in scene.objects:
                x, y = object_centre(scene, obj, t)
                ext = object_extent(obj)
                assert ext <= x <= 1 - ext and ext <= y <= 1 - ext, scene
        if second:
            a, b = scene.objects
            assert np.hypot(a.x - b.x, a.y - b.y) > object_extent(a) + object_extent(b), scene


@pytest.mark.parametrize("size", [(256, 144), (144, 256), (192, 144)])
def test_rendered_object_stays_inside_the_central_square(size: tuple[int, int]) -> None:
    w, h = size
    side = min(w, h)
    x0, y0 = (w - side) // 2, (h - side) // 2
    rng = np.random.default_rng(1)
    for i in range(40):
        shape = SHAPES[i % len(SHAPES)]
        second = ("blue", SHAPES[(i + 1) % len(SHAPES)]) if i % 3 == 0 else None
        scene = random_scene(rng, "red", shape, "plain", second=second)
        for t in (0.0, 1.0):
            img = render_frame(scene, t, w, h, rng).astype(int)
            outside = np.ones((h, w), bool)
            outside[y0 : y0 + side, x0 : x0 + side] = False
            # A plain background is flat, so anything else outside the square would be the object.
            assert np.abs(img[outside] - img[0, 0]).max() <= 2


def test_motion_moves_the_object() -> None:
    rng = np.random.default_rng(2)
    scene = random_scene(rng, "red", "square", "plain", "right")
    x_start, _ = object_centre(scene, scene.objects[0], 0.0)
    x_end, _ = object_centre(scene, scene.objects[0], 1.0)
    assert x_end - x_start == pytest.approx(scene.travel) and scene.travel > 0.1
    still = random_scene(rng, "red", "square", "plain", "still")
    assert object_centre(still, still.objects[0], 0.0) == object_centre(still, still.objects[0], 1.0)


def test_plan_gives_unique_triples_and_clear_cuts() -> None:
    plans = plan_library(20, (3, 4), (3.0, 5.0), fps=10, seed=5, heldout_share=0.15)
    scenes = [s for p in plans for s in p]
    triples = [s.triple for s in scenes]
    assert len(triples) == len(set(triples)) >= 60
    assert sum(s.heldout for s in scenes) >= 5
    for plan in plans:
        assert plan[0].start == 0 and 3 <= len(plan) <= 4
        for a, b in itertools.pairwise(plan):
            assert a.end == b.start
            assert a.colour != b.colour and a.shape != b.shape and a.background != b.background
        for s in plan:
            assert 3.0 - 0.1 <= s.end - s.start <= 5.0 + 0.1
    with pytest.raises(ValueError, match="distinct"):
        plan_library(80, (4, 4), (1.0, 1.0), fps=10, seed=0, heldout_share=0.0)


def test_make_library_and_manifest_round_trip(tmp_path: Path) -> None:
    videos = make_library(tmp_path / "lib", n_videos=5, scene_seconds=(1.0, 1.5), fps=6, seed=3)
    assert [v.codec for v in videos] == ["h264", "hevc", "vp9", "prores", "h264"]
    assert len({(v.width, v.height) for v in videos}) >= 3
    for v in videos:
        assert v.path.exists() and v.path.suffix == "." + CODECS[v.codec][0]
        frames = _decode(v.path)
        assert frames[0][1].shape == (v.height, v.width, 3)
        assert len(frames) == round(v.duration * v.fps)
    manifest = tmp_path / "lib" / "manifest.json"
    save_manifest(videos, manifest)
    assert json.loads(manifest.read_text())["videos"][0]["path"].startswith("clip_000")
    assert load_manifest(manifest) == videos
    manifest.write_text(json.dumps({"version": 99, "videos": []}))
    with pytest.raises(ValueError, match="version"):
        load_manifest(manifest)


def test_write_video_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown codec"):
        write_video(tmp_path / "a.mp4", TWO_SCENES, codec="divx")
    with pytest.raises(ValueError, match="contiguous"):
        write_video(tmp_path / "a.mp4", (TWO_SCENES[0], SceneSpec("red", "star", "sand", "up", 1.5, 2.0)))
    with pytest.raises(ValueError, match="even"):
        write_video(tmp_path / "a.mp4", TWO_SCENES, width=101)
    with pytest.raises(ValueError, match="start at 0"):
        write_video(tmp_path / "a.mp4", TWO_SCENES[1:])


def test_captions() -> None:
    assert canonical_caption("red", "circle", "grass") == "a red circle on grass"
    assert canonical_caption("orange", "ring", "sky") == "an orange ring in the sky"
    assert SceneSpec("white", "star", "night", "up", 0, 1).caption() == "a white star at night"
    assert len({canonical_caption(*t) for t in all_triples()}) == len(COLOURS) * len(SHAPES) * len(BACKGROUNDS)
    assert len(HELDOUT_PAIRS) == len(COLOURS)
    scene = random_scene(np.random.default_rng(0), "green", "cross", "sand")
    train, test, held = captions(scene, "train"), captions(scene, "test"), captions(scene, "heldout")
    assert test[0] == "a green cross on sand" and set(test) <= set(train)
    assert len(held) >= 5 and not set(held) & set(train)
    with pytest.raises(ValueError, match="split"):
        captions(scene, "dev")


def test_heldout_phrasings_only_use_trained_tokens() -> None:
    from open_clip.tokenizer import SimpleTokenizer

    tok = SimpleTokenizer(context_length=32)
    rng = np.random.default_rng(0)
    trained: set[int] = set()
    for c, s, b in all_triples():
        for k in range(12):
            motion = MOTIONS[k % len(MOTIONS)]
            trained.update(tok([sample_training_caption(rng, c, s, b, motion)[0]])[0].tolist())
    for c, s, b in all_triples():
        for text in captions(random_scene(rng, c, s, b), "heldout") + captions(random_scene(rng, c, s, b), "test"):
            assert set(tok([text])[0].tolist()) <= trained, text


@pytest.mark.skipif(not (MODEL_DIR / "open_clip_config.json").exists(), reason="test model not trained yet")
def test_committed_test_model_finds_scenes_offline() -> None:
    import open_clip
    import torch

    from tests.synth.preprocess import app_input, to_tensor

    name = f"local-dir:{MODEL_DIR}"
    model, _, _ = open_clip.create_model_and_transforms(name)
    model.eval()
    tokenizer = open_clip.get_tokenizer(name)
    rng = np.random.default_rng(42)
    picks = [
        ("red", "circle", "grass"),
        ("blue", "star", "sand"),
        ("yellow", "ring", "night"),
        ("white", "cross", "sky"),
        ("purple", "square", "noise"),
        ("green", "triangle", "plain"),
        ("orange", "star", "grass"),
        ("red", "square", "sky"),
    ]
    frames = [app_input(render_frame(random_scene(rng, *p), 0.5, 192, 144, rng)) for p in picks]
    with torch.no_grad():
        img = model.encode_image(to_tensor(np.stack(frames)), normalize=True)
        txt = model.encode_text(tokenizer([canonical_caption(*p) for p in picks]), normalize=True)
        txt_ko = model.encode_text(tokenizer([canonical_caption_ko(*p) for p in picks]), normalize=True)
    assert (txt @ img.T).argmax(1).tolist() == list(range(len(picks)))
    # The same scenes from Korean captions ("풀밭 위의 빨간 원"): the retrained model reads both.
    assert (txt_ko @ img.T).argmax(1).tolist() == list(range(len(picks)))


def test_korean_captions_fit_the_model_context() -> None:
    """Byte-level BPE spends 2-3 tokens per Hangul syllable: every wrapped caption must fit untruncated."""
    from open_clip.tokenizer import SimpleTokenizer

    from reelseek.core.search_lang import TEMPLATES

    ctx = json.loads((MODEL_DIR / "open_clip_config.json").read_text())["model_cfg"]["text_cfg"]["context_length"]
    tok = SimpleTokenizer(context_length=ctx)
    longest = 0
    for c, s, b in all_triples():
        for text in captions_ko(c, s, b):
            for t in (*WRAPPERS_KO, *TEMPLATES["ko"]):
                longest = max(longest, len(tok.encode(t.format(text))) + 2)  # + start/end tokens
    assert longest <= ctx, f"a Korean caption needs {longest} tokens, the model reads {ctx}"
    assert canonical_caption_ko("red", "circle", "grass") == "풀밭 위의 빨간 원"
    rng = np.random.default_rng(0)
    text, attrs = sample_training_caption_ko(rng, "blue", "star", "sky", full_bias=1.0)
    assert attrs == ("blue", "star", "sky") and "파란" in text and "별" in text
