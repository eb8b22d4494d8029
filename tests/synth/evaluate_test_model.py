"""Check the tiny test model as the app would use it: offline local-dir load, fresh frames, fresh videos."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from tests.synth.preprocess import app_input, av_frame_input, to_tensor
from tests.synth.scenes import all_triples, canonical_caption, captions, is_heldout_pair, random_scene, render_frame
from tests.synth.scenes_ko import canonical_caption_ko
from tests.synth.videos import CODECS, make_library

EVAL_SIZES = ((256, 144), (192, 144), (160, 160), (144, 192), (320, 240))


def load(model_dir: Path):
    """(model in eval mode, open_clip preprocess, tokenizer) through open_clip's offline local-dir path."""
    import open_clip

    name = f"local-dir:{Path(model_dir).resolve()}"
    model, _, preprocess = open_clip.create_model_and_transforms(name)
    model.eval()  # open_clip returns train mode; the ResNet tower's BatchNorm needs eval
    return model, preprocess, open_clip.get_tokenizer(name)


def _encode_text(model, tokenizer, texts: list[str]) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model.encode_text(tokenizer(texts), normalize=True).numpy()


def _encode_templated(model, tokenizer, texts: list[str], templates: tuple[str, ...] | None = None) -> np.ndarray:
    """Queries as the app's search embeds them: mean over its prompt templates, normalised."""
    from reelseek.core.search import DEFAULT_TEMPLATES

    templates = templates or DEFAULT_TEMPLATES
    vecs = np.stack([_encode_text(model, tokenizer, [t.format(x) for x in texts]) for t in templates])
    mean = vecs.mean(0)
    return mean / np.linalg.norm(mean, axis=1, keepdims=True)


def _encode_images(model, batch: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model.encode_image(to_tensor(batch), normalize=True).numpy()


def text_to_frame(model, preprocess, tokenizer, seed: int) -> dict:
    """R@1 of canonical and held-out captions over one fresh frame per (colour, shape, background) triple."""
    import torch
    from PIL import Image

    rng = np.random.default_rng(seed)
    triples = all_triples()
    scenes = [random_scene(rng, c, s, b) for c, s, b in triples]
    frames = [
        render_frame(sc, float(rng.random()), *EVAL_SIZES[i % len(EVAL_SIZES)], rng) for i, sc in enumerate(scenes)
    ]
    img_app = _encode_images(model, np.stack([app_input(f) for f in frames]))
    with torch.no_grad():
        ref = torch.stack([preprocess(Image.fromarray(f)) for f in frames])
        img_ref = model.encode_image(ref, normalize=True).numpy()
    canon = _encode_text(model, tokenizer, [canonical_caption(*t) for t in triples])
    canon_ko = _encode_text(model, tokenizer, [canonical_caption_ko(*t) for t in triples])
    held_texts = [str(rng.choice(captions(sc, "heldout"))) for sc in scenes]
    held = _encode_text(model, tokenizer, held_texts)
    heldout_pair = np.array([is_heldout_pair(c, s) for c, s, _ in triples])
    target = np.arange(len(triples))

    def r1(img: np.ndarray, txt: np.ndarray, mask: np.ndarray | None = None) -> float:
        hit = (txt @ img.T).argmax(1) == target
        return round(float(hit[mask].mean() if mask is not None else hit.mean()), 4)

    return {
        "frames": len(triples),
        "r1_canonical": r1(img_app, canon),
        "r1_canonical_trained_pairs": r1(img_app, canon, ~heldout_pair),
        "r1_canonical_heldout_pairs": r1(img_app, canon, heldout_pair),
        "r1_heldout_phrasings": r1(img_app, held),
        "r1_canonical_openclip_pil_preprocess": r1(img_ref, canon),
        "r1_korean_canonical": r1(img_app, canon_ko),
        "r1_korean_canonical_heldout_pairs": r1(img_app, canon_ko, heldout_pair),
        "min_cosine_app_vs_pil_preprocess": round(float((img_app * img_ref).sum(1).min()), 4),
    }


def _sample_video(path: Path, fps: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Frames at ~1 fps (first frame at or after each whole second + 0.5), preprocessed as in the app."""
    import av

    times, inputs = [], []
    next_t = 0.5 / fps
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base) if frame.pts is not None else float(frame.time or 0.0)
            if t + 1e-6 >= next_t:
                times.append(t)
                inputs.append(av_frame_input(frame))
                next_t += 1.0 / fps
    return np.array(times), np.stack(inputs)


def text_to_moment(model, tokenizer, n_videos: int, seed: int) -> dict:
    """Accuracy of finding each scene of a fresh library from its caption (mean frame vector per scene)."""
    with tempfile.TemporaryDirectory() as tmp:
        videos = make_library(tmp, n_videos=n_videos, codecs=tuple(CODECS), seed=seed)
        scene_vecs, scene_video, scenes, frame_hits, frame_total = [], [], [], 0, 0
        for vi, v in enumerate(videos):
            times, inputs = _sample_video(v.path)
            emb = _encode_images(model, inputs)
            own = _encode_text(model, tokenizer, [s.caption() for s in v.scenes])
            for si, s in enumerate(v.scenes):
                sel = (times >= s.start) & (times < s.end)
                vec = emb[sel].mean(0)
                scene_vecs.append(vec / np.linalg.norm(vec))
                scene_video.append(vi)
                scenes.append(s)
                # Within the file, does each frame score its own scene's caption highest?
                frame_hits += int(((emb[sel] @ own.T).argmax(1) == si).sum())
                frame_total += int(sel.sum())
    vecs = np.stack(scene_vecs)
    scene_video_arr = np.array(scene_video)
    canon = _encode_text(model, tokenizer, [s.caption() for s in scenes])
    templated = _encode_templated(model, tokenizer, [s.caption() for s in scenes])
    from reelseek.core.search_lang import TEMPLATES

    ko_texts = [canonical_caption_ko(s.colour, s.shape, s.background) for s in scenes]
    canon_ko = _encode_text(model, tokenizer, ko_texts)
    templated_ko = _encode_templated(model, tokenizer, ko_texts, TEMPLATES["ko"])
    rng = np.random.default_rng(seed)
    held = _encode_text(model, tokenizer, [str(rng.choice(captions(_scene(s), "heldout"))) for s in scenes])
    heldout_pair = np.array([s.heldout for s in scenes])
    target = np.arange(len(scenes))

    def acc(txt: np.ndarray, mask: np.ndarray | None = None) -> float:
        hit = (txt @ vecs.T).argmax(1) == target
        return round(float(hit[mask].mean() if mask is not None else hit.mean()), 4)

    sims = canon @ vecs.T
    per_video = np.stack([sims[:, scene_video_arr == vi].max(1) for vi in range(len(videos))], 1)
    return {
        "videos": len(videos),
        "scenes": len(scenes),
        "heldout_pair_scenes": int(heldout_pair.sum()),
        "codecs": sorted({v.codec for v in videos}),
        "moment_acc_canonical": acc(canon),
        "moment_acc_canonical_heldout_pairs": acc(canon, heldout_pair),
        "moment_acc_search_templates": acc(templated),
        "moment_acc_heldout_phrasings": acc(held),
        "moment_acc_korean_canonical": acc(canon_ko),
        "moment_acc_korean_search_templates": acc(templated_ko),
        "video_r1_canonical": round(float((per_video.argmax(1) == scene_video_arr).mean()), 4),
        "in_video_frame_acc": round(frame_hits / max(1, frame_total), 4),
    }


def _scene(spec):
    return random_scene(np.random.default_rng(0), spec.colour, spec.shape, spec.background, spec.motion)


def evaluate(model_dir: Path, *, n_videos: int = 20, seed: int = 1000) -> dict:
    """All metrics for a saved model folder (loaded offline through open_clip's local-dir path)."""
    import torch

    model, preprocess, tokenizer = load(model_dir)
    with torch.no_grad():
        return {
            "text_to_frame": text_to_frame(model, preprocess, tokenizer, seed),
            "text_to_moment": text_to_moment(model, tokenizer, n_videos, seed + 1),
        }


def write_report(out: Path, info: dict, metrics: dict) -> None:
    """Write training.json and TRAINING.md (human-readable, with the same JSON) next to the checkpoint."""
    size = (out / "open_clip_model.safetensors").stat().st_size
    f, m = metrics["text_to_frame"], metrics["text_to_moment"]
    ctx = json.loads((out / "open_clip_config.json").read_text())["model_cfg"]["text_cfg"]["context_length"]
    lib = f"{m['scenes']} scenes in {m['videos']} videos ({', '.join(m['codecs'])})"
    data = {"training": info, "metrics": metrics, "checkpoint_bytes": size}
    (out / "training.json").write_text(json.dumps(data, indent=1) + "\n")
    init = ""
    if info.get("init"):
        init = (
            "; the Korean was taught by fine-tuning the English-only checkpoint "
            f"({info.get('init_source', info['init'])}) "
            f"on {round(100 * float(info.get('korean_share') or 0))}% Korean captions"
            + (" with the image tower frozen" if info.get("freeze_image") else "")
        )
    text = f"""# reelseek-test-tiny

A tiny open_clip model (ModifiedResNet image tower, 64 px input, 64-d embeddings) trained from
scratch on generated scenes by `tests/synth/train_test_model.py`, for tests and benchmarks only.
It knows 7 colours x 6 shapes x 6 backgrounds; the colour-shape pairs in
`tests.synth.scenes.HELDOUT_PAIRS` were never shown in training. It reads English and Korean
captions (`tests/synth/scenes_ko.py`, e.g. "풀밭 위의 빨간 원" = "a red circle on grass"){init}.

Load offline: `open_clip.create_model_and_transforms("local-dir:<this folder>")`, then `model.eval()`
(the ResNet tower has BatchNorm). Tokenizer: open_clip's built-in BPE, context length
{ctx}.

## Reproduce

    {info.get("command", "")}

seed {info.get("seed")}, {info.get("steps")} steps x batch {info.get("batch")}, pool of {info.get("pool")} frames,
{info.get("threads")} CPU threads; wall time {info.get("wall_seconds_training")} s (pool
{info.get("pool_seconds")} s, training {info.get("train_seconds")} s), peak RSS {info.get("peak_rss_mb")} MB;
torch {info.get("torch")}, open_clip {info.get("open_clip")}. Checkpoint {size / 1e6:.1f} MB (fp16,
{info.get("token_rows_used")} token-embedding rows used, the rest zeroed).

## Metrics (fresh data, app-like preprocessing: swscale AREA, short side 64, centre crop)

| metric | value |
| --- | --- |
| text->frame R@1, canonical captions, {f["frames"]} frames | {f["r1_canonical"]} |
| ... trained colour-shape pairs | {f["r1_canonical_trained_pairs"]} |
| ... held-out colour-shape pairs | {f["r1_canonical_heldout_pairs"]} |
| ... held-out phrasings | {f["r1_heldout_phrasings"]} |
| ... with open_clip's PIL preprocess | {f["r1_canonical_openclip_pil_preprocess"]} |
| text->moment accuracy, {lib} | {m["moment_acc_canonical"]} |
| ... held-out colour-shape pair scenes ({m["heldout_pair_scenes"]}) | {m["moment_acc_canonical_heldout_pairs"]} |
| ... held-out phrasings | {m["moment_acc_heldout_phrasings"]} |
| ... canonical captions under the search's prompt templates (averaged) | {m["moment_acc_search_templates"]} |
| text->video R@1 | {m["video_r1_canonical"]} |
| Korean: text->frame R@1, canonical captions (e.g. "풀밭 위의 빨간 원") | {f.get("r1_korean_canonical", "-")} |
| ... held-out colour-shape pairs | {f.get("r1_korean_canonical_heldout_pairs", "-")} |
| Korean: text->moment accuracy, canonical captions | {m.get("moment_acc_korean_canonical", "-")} |
| ... under the Korean prompt templates (core/search_lang.py) | {m.get("moment_acc_korean_search_templates", "-")} |
| frames scoring their own scene's caption highest within the file | {m["in_video_frame_acc"]} |

```json
{json.dumps(data, indent=1)}
```
"""
    (out / "TRAINING.md").write_text(text)
