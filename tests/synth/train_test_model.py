"""Train reelseek's tiny open_clip test model on generated scenes (CPU, seeded, a few minutes).

Run: python -m tests.synth.train_test_model --out resources/models/reelseek-test-tiny
Bilingual fine-tune (English + Korean) from an earlier checkpoint:
    python -m tests.synth.train_test_model --init <folder> --korean 0.4 --steps 300 --lr 1e-3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.synth.preprocess import OPENAI_MEAN, OPENAI_STD, augmented_input, to_tensor
from tests.synth.scenes import (
    BACKGROUNDS,
    COLOURS,
    SHAPES,
    all_triples,
    captions,
    is_heldout_pair,
    random_scene,
    render_frame,
    sample_training_caption,
)
from tests.synth.scenes_ko import WRAPPERS_KO, captions_ko, sample_training_caption_ko

MODEL_NAME = "reelseek-test-tiny"  # not an open_clip built-in name
IMAGE_SIZE = 64
# 64, not 32: byte-level BPE spends 2-3 tokens per Hangul syllable, so Korean captions run long.
CONTEXT_LENGTH = 64
MODEL_CFG: dict = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": IMAGE_SIZE, "layers": [1, 1, 1, 1], "width": 16, "head_width": 32},
    "text_cfg": {"context_length": CONTEXT_LENGTH, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
PREPROCESS_CFG: dict = {
    "size": IMAGE_SIZE,
    "mode": "RGB",
    "mean": list(OPENAI_MEAN),
    "std": list(OPENAI_STD),
    "interpolation": "bicubic",
    "resize_mode": "shortest",
    "fill_color": 0,
}
# Source frame sizes for training: the library's sizes, plus smaller/larger and other aspect ratios.
TRAIN_SIZES = (
    (256, 144),
    (192, 144),
    (160, 160),
    (144, 192),
    (320, 180),
    (128, 128),
    (112, 84),
    (96, 96),
    (64, 64),
    (114, 64),
    (144, 256),
    (240, 160),
)
_C, _S, _B = list(COLOURS), list(SHAPES), list(BACKGROUNDS)


@dataclass
class Pool:
    """Pre-rendered, preprocessed training frames and what is in them."""

    images: np.ndarray  # (n, 64, 64, 3) uint8
    background: np.ndarray  # (n,) background index
    colour: np.ndarray  # (n, 2) colour index per object, -1 when absent
    shape: np.ndarray  # (n, 2) shape index per object, -1 when absent
    motion: list[str]


def build_pool(n: int, seed: int, *, log_every: int = 2000) -> Pool:
    """Render n training frames from trained (non-held-out) colour-shape pairs."""
    rng = np.random.default_rng(seed)
    triples = [t for t in all_triples() if not is_heldout_pair(t[0], t[1])]
    pairs = sorted({(c, s) for c, s, _ in triples})
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    bg = np.zeros(n, np.int64)
    col = np.full((n, 2), -1, np.int64)
    shp = np.full((n, 2), -1, np.int64)
    motion = []
    t0 = time.time()
    for i in range(n):
        c, s, b = triples[int(rng.integers(len(triples)))]
        second = None
        if rng.random() < 0.2:
            second = pairs[int(rng.integers(len(pairs)))]
            while second == (c, s):
                second = pairs[int(rng.integers(len(pairs)))]
        scene = random_scene(rng, c, s, b, second=second)
        w, h = TRAIN_SIZES[int(rng.integers(len(TRAIN_SIZES)))]
        frame = render_frame(scene, float(rng.random()), w, h, rng)
        images[i] = augmented_input(frame, rng, IMAGE_SIZE)
        bg[i] = _B.index(b)
        for k, o in enumerate(scene.objects):
            col[i, k], shp[i, k] = _C.index(o.colour), _S.index(o.shape)
        motion.append(scene.motion)
        if log_every and (i + 1) % log_every == 0:
            print(f"  pool {i + 1}/{n} ({time.time() - t0:.0f} s)", flush=True)
    return Pool(images, bg, col, shp, motion)


def truth_matrix(pool: Pool, idx: np.ndarray, attrs: list[tuple[int, int, int]]) -> np.ndarray:
    """M[i, j] = caption j (stated attributes, -1 = unstated) truly describes image idx[i]."""
    cc, cs, cb = (np.array(a)[None, :] for a in zip(*attrs, strict=True))
    col, shp = pool.colour[idx][:, :, None], pool.shape[idx][:, :, None]  # (B, 2, 1)
    obj_ok = (col >= 0) & ((cc[:, None] < 0) | (col == cc[:, None])) & ((cs[:, None] < 0) | (shp == cs[:, None]))
    bg_ok = (cb < 0) | (pool.background[idx][:, None] == cb)
    return obj_ok.any(axis=1) & bg_ok


def sample_batch(pool: Pool, groups: dict, rng: np.random.Generator, batch: int) -> np.ndarray:
    """Half the batch in groups of 8 sharing two of three attributes (hard negatives), half at random."""
    n_groups = batch // 2 // 8
    idx = []
    singles = groups["single"]
    for _ in range(n_groups):
        anchor = singles[int(rng.integers(len(singles)))]
        kind = ("cs", "cb", "sb")[int(rng.integers(3))]
        key = _group_key(pool, anchor, kind)
        members = groups[kind][key]
        idx.extend(rng.choice(members, size=8, replace=len(members) < 8).tolist())
    idx.extend(rng.integers(0, len(pool.images), size=batch - len(idx)).tolist())
    return np.array(idx)


def _group_key(pool: Pool, i: int, kind: str) -> tuple[int, int]:
    c, s, b = int(pool.colour[i, 0]), int(pool.shape[i, 0]), int(pool.background[i])
    return {"cs": (c, s), "cb": (c, b), "sb": (s, b)}[kind]


def index_groups(pool: Pool) -> dict:
    """Single-object frames indexed by each pair of attributes."""
    groups: dict = {"single": [], "cs": {}, "cb": {}, "sb": {}}
    for i in range(len(pool.images)):
        if pool.colour[i, 1] >= 0:
            continue
        groups["single"].append(i)
        for kind in ("cs", "cb", "sb"):
            groups[kind].setdefault(_group_key(pool, i, kind), []).append(i)
    return groups


def param_groups(model, weight_decay: float) -> list[dict]:
    """AdamW groups: no weight decay on embeddings, norms, biases and the logit scale."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        skip = p.ndim < 2 or "embedding" in name or "logit_scale" in name or ".ln" in name or "bn" in name
        (no_decay if skip else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


class CachedTokenizer:
    """open_clip's built-in BPE tokenizer with a cache (training re-tokenises the same captions often)."""

    def __init__(self, context_length: int) -> None:
        from open_clip.tokenizer import SimpleTokenizer

        self.tok = SimpleTokenizer(context_length=context_length)
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]):
        import torch

        rows = []
        for t in texts:
            if t not in self.cache:
                self.cache[t] = self.tok([t])[0].numpy()
            rows.append(self.cache[t])
        return torch.from_numpy(np.stack(rows))

    def used_ids(self) -> set[int]:
        """Every token id in the captions seen so far."""
        return {int(v) for row in self.cache.values() for v in row if v != 0}


def train(args: argparse.Namespace) -> tuple[object, CachedTokenizer, dict]:
    """Train the model; returns (model in eval mode, tokenizer, training stats)."""
    import open_clip
    import torch
    import torch.nn.functional as F

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    print(f"rendering {args.pool} training frames...", flush=True)
    pool = build_pool(args.pool, args.seed + 1)
    groups = index_groups(pool)
    t_pool = time.time() - t0
    print(f"pool ready in {t_pool:.0f} s", flush=True)

    model = open_clip.CLIP(**MODEL_CFG)
    if args.init:
        load_init(model, Path(args.init))
    model.visual.to(memory_format=torch.channels_last)  # BatchNorm and convs run faster on CPU this way
    model.train()
    frozen = None
    if args.freeze_image:
        frozen = embed_pool(model, pool)
        print(f"image tower frozen: pool embedded in {time.time() - t0 - t_pool:.0f} s", flush=True)
    tokenizer = CachedTokenizer(CONTEXT_LENGTH)
    opt = torch.optim.AdamW(param_groups(model, args.wd), lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    warmup = max(1, int(0.05 * args.steps))

    def lr_at(step: int) -> float:
        if step < warmup:
            return args.lr * (step + 1) / warmup
        return 0.5 * args.lr * (1 + math.cos(math.pi * (step - warmup) / max(1, args.steps - warmup)))

    labels = torch.arange(args.batch)
    t_train = time.time()
    losses = []
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        idx = sample_batch(pool, groups, rng, args.batch)
        imgs = pool.images[idx]
        flip = rng.random(len(idx)) < 0.5  # mirror images are the same scene
        imgs[flip] = imgs[flip, :, ::-1]
        texts, attrs = [], []
        for j, i in enumerate(idx):
            n_obj = 1 + int(pool.colour[i, 1] >= 0)
            k = int(rng.integers(n_obj))
            c, s, b = _C[pool.colour[i, k]], _S[pool.shape[i, k]], _B[pool.background[i]]
            bias = 0.6 if j < args.batch // 2 else 0.4
            if args.korean and rng.random() < args.korean:  # no draw when 0: the English-only run stays reproducible
                text, (ac, as_, ab) = sample_training_caption_ko(rng, c, s, b, full_bias=bias)
            else:
                text, (ac, as_, ab) = sample_training_caption(rng, c, s, b, pool.motion[i], full_bias=bias)
            texts.append(text)
            attrs.append((_C.index(ac) if ac else -1, _S.index(as_) if as_ else -1, _B.index(ab) if ab else -1))
        truth = torch.from_numpy(truth_matrix(pool, idx, attrs)).float()
        if frozen is not None:
            img_f = frozen[torch.from_numpy(flip.astype(np.int64)), torch.from_numpy(idx)]
        else:
            img_f = model.encode_image(to_tensor(imgs).contiguous(memory_format=torch.channels_last), normalize=True)
        txt_f = model.encode_text(tokenizer(texts), normalize=True)
        logits = model.logit_scale.exp() * img_f @ txt_f.T
        clip_loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        # Multi-positive: spread each target over every caption in the batch that truly describes it.
        t_i2t = truth / truth.sum(1, keepdim=True)
        t_t2i = truth.T / truth.T.sum(1, keepdim=True)
        mp_loss = (
            -((t_i2t * F.log_softmax(logits, 1)).sum(1).mean() + (t_t2i * F.log_softmax(logits.T, 1)).sum(1).mean()) / 2
        )
        loss = 0.5 * mp_loss + 0.5 * clip_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        losses.append(loss.item())
        if step % 25 == 0 or step == args.steps - 1:
            el = time.time() - t_train
            print(
                f"step {step:4d}/{args.steps} loss {np.mean(losses[-25:]):.3f} "
                f"scale {model.logit_scale.exp().item():.1f} lr {lr_at(step):.2e} {el:.0f} s",
                flush=True,
            )
    model.eval()  # BatchNorm in the ResNet tower must use running statistics from here on
    stats = {
        "pool_seconds": round(t_pool, 1),
        "train_seconds": round(time.time() - t_train, 1),
        "final_loss": round(float(np.mean(losses[-25:])), 4),
        "logit_scale": round(model.logit_scale.exp().item(), 2),
    }
    return model, tokenizer, stats


def embed_pool(model, pool: Pool, chunk: int = 512):
    """Freeze the image tower and embed every pool frame, plain and mirrored: (2, n, dim).

    A bilingual fine-tune only has to teach the text tower new words; with the image side fixed,
    English image embeddings stay exactly as they were and each step costs a text pass only.
    """
    import torch

    model.visual.eval()  # BatchNorm keeps its running statistics
    model.visual.requires_grad_(False)
    out = []
    with torch.no_grad():
        for mirrored in (False, True):
            rows = []
            for i in range(0, len(pool.images), chunk):
                imgs = pool.images[i : i + chunk]
                imgs = imgs[:, :, ::-1] if mirrored else imgs
                x = to_tensor(np.ascontiguousarray(imgs)).contiguous(memory_format=torch.channels_last)
                rows.append(model.encode_image(x, normalize=True))
            out.append(torch.cat(rows))
    return torch.stack(out)


def load_init(model, folder: Path) -> None:
    """Start from an earlier checkpoint: copy its weights, grow the position table, wake zeroed token rows."""
    import torch
    from safetensors.torch import load_file

    state = {k: v.float() for k, v in load_file(str(folder / "open_clip_model.safetensors")).items()}
    pos = state["positional_embedding"]
    own = model.state_dict()["positional_embedding"]
    if pos.shape[0] < own.shape[0]:
        # New positions only matter for long (Korean) captions; start them near the last trained one.
        extra = pos[-1:].repeat(own.shape[0] - pos.shape[0], 1) + 0.01 * torch.randn(
            own.shape[0] - pos.shape[0], pos.shape[1]
        )
        state["positional_embedding"] = torch.cat([pos, extra])
    emb = state["token_embedding.weight"]
    dead = emb.abs().sum(1) == 0  # rows zeroed at save time would all start identical
    emb[dead] = 0.02 * torch.randn(int(dead.sum()), emb.shape[1])
    model.load_state_dict(state, strict=False)
    model.kept_rows = set(torch.nonzero(~dead).flatten().tolist())  # rows the earlier run trained


def save(model, tokenizer: CachedTokenizer, out: Path) -> dict:
    """Write open_clip_config.json and fp16 open_clip_model.safetensors (unused token rows zeroed)."""
    import torch
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    used = tokenizer.used_ids()
    # Rows for held-out phrasings must be trained ones, or the benchmark's paraphrases would hit zeros.
    probe_scene = random_scene(np.random.default_rng(0), "red", "circle", "grass")
    for split in ("test", "heldout"):
        for text in captions(probe_scene, split):
            tokenizer([text])
    for c, s, b in all_triples():
        for text in captions_ko(c, s, b):
            tokenizer([w.format(text) for w in WRAPPERS_KO])
    missing = tokenizer.used_ids() - used
    if missing:
        print(f"warning: {len(missing)} token ids in test/held-out captions were never trained", file=sys.stderr)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    emb = state["token_embedding.weight"]
    keep = torch.zeros(emb.shape[0], dtype=torch.bool)
    keep[sorted(used | getattr(model, "kept_rows", set()))] = True
    emb[~keep] = 0
    state = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}
    save_file(state, str(out / "open_clip_model.safetensors"), metadata={"format": "pt"})
    config = {"model_cfg": MODEL_CFG, "preprocess_cfg": PREPROCESS_CFG}
    (out / "open_clip_config.json").write_text(json.dumps(config, indent=2) + "\n")
    return {"token_rows_used": int(keep.sum()), "untrained_test_tokens": len(missing)}


def _run_facts(args: argparse.Namespace, argv: list[str] | None) -> dict:
    """The command and environment of this run, for training.json."""
    import open_clip
    import torch

    # --out does not change the weights; record the canonical folder so the command reads the same.
    raw = argv if argv is not None else sys.argv[1:]
    rest = [a for a in raw if a not in ("--out", str(args.out), "--no-eval")]
    return dict(
        command=" ".join(["python -m tests.synth.train_test_model --out resources/models/reelseek-test-tiny", *rest]),
        seed=args.seed,
        steps=args.steps,
        batch=args.batch,
        pool=args.pool,
        lr=args.lr,
        weight_decay=args.wd,
        threads=args.threads,
        init=str(args.init) if args.init else None,
        korean_share=args.korean,
        freeze_image=args.freeze_image,
        torch=torch.__version__,
        open_clip=open_clip.__version__,
        python=platform.python_version(),
        machine=platform.machine(),
        load_average_at_end=[round(x, 1) for x in os.getloadavg()],
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("resources/models/reelseek-test-tiny"))
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--pool", type=int, default=20000, help="pre-rendered training frames")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--wd", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--init", type=Path, default=None, help="fine-tune from this checkpoint folder")
    p.add_argument("--korean", type=float, default=0.0, help="share of captions written in Korean")
    p.add_argument("--freeze-image", action="store_true", help="keep the image tower fixed (needs --init)")
    p.add_argument("--no-eval", action="store_true", help="train and save only (evaluate later with --eval-only)")
    p.add_argument("--eval-only", action="store_true", help="only evaluate the model already in --out")
    p.add_argument("--eval-videos", type=int, default=20)
    args = p.parse_args(argv)

    out = args.out.resolve()
    t0 = time.time()
    info: dict = {}
    if not args.eval_only:
        model, tokenizer, stats = train(args)
        info = {**stats, **save(model, tokenizer, out)}
        info["wall_seconds_training"] = round(time.time() - t0, 1)
        info["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if args.no_eval:
        (out / "training.json").write_text(
            json.dumps({"training": {**info, **_run_facts(args, argv)}}, indent=1) + "\n"
        )
        return 0
    from tests.synth.evaluate_test_model import evaluate, write_report

    print("evaluating the saved model through open_clip's local-dir loader...", flush=True)
    metrics = evaluate(out, n_videos=args.eval_videos, seed=args.seed + 1000)
    print(json.dumps(metrics, indent=1))
    if args.eval_only:
        # Keep the recorded training facts; only the metrics are refreshed.
        previous = out / "training.json"
        if previous.exists():
            write_report(out, json.loads(previous.read_text())["training"], metrics)
    else:
        info.update(_run_facts(args, argv))
        write_report(out, info, metrics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
