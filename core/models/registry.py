"""The model registry: every open_clip model reelseek offers, as data (no torch import here)."""

from __future__ import annotations

import os
from dataclasses import dataclass

MODEL_ENV = "REELSEEK_MODEL"
SAFETENSORS_NAME = "open_clip_model.safetensors"  # open_clip's hub file names (open_clip/constants.py)
PICKLE_NAME = "open_clip_pytorch_model.bin"


class ModelError(Exception):
    """A model cannot be found, fetched, imported or loaded; the message says what to do next."""


class DownloadCancelled(ModelError):
    """The caller's cancel event was set; the partial download was kept for a later resume."""


@dataclass(frozen=True)
class ModelSpec:
    """One entry of the registry.

    ``arch`` is the open_clip model name (``ViT-B-32``); for a model shipped inside
    ``reelseek.resources`` it is ``local-dir:`` plus ``bundled_dir``, resolved at load time.
    ``pretrained`` is the open_clip pretrained tag the weights correspond to: it is only used
    to look up the preprocessing (mean, std, interpolation) in open_clip's tables, never to
    download. The download URL is ``{base_url}/{hf_repo}/resolve/main/{weights_file}``; when the
    repository lacks that file the ``alt_weights_files`` are tried in order. ``sha256`` and
    ``size_bytes`` refer to ``weights_file``.
    """

    id: str
    arch: str
    pretrained: str | None
    hf_repo: str | None
    weights_file: str | None
    sha256: str | None
    size_bytes: int | None
    dim: int
    image_size: int
    description: str
    gpu_recommended: bool
    bundled_dir: str | None = None  # relative to the reelseek.resources package, or absolute
    alt_weights_files: tuple[str, ...] = ()
    license: str = ""
    cpu_bf16: bool = True  # precision="auto" may use bf16 weights on CPUs with native bf16
    templates: tuple[str, ...] = ()  # text prompt templates for search; () means the search default
    # Languages the text tower was trained on (ISO 639-1; "*" = many): search picks prompt templates
    # by the query's script and warns when the model cannot read it (core/search_lang.py).
    languages: tuple[str, ...] = ("en",)
    # A Hugging Face tokenizer (and, for HF text towers, its config.json), fetched from
    # ``{base_url}/{tokenizer_repo}/resolve/main/<file>`` into ``<models>/<id>/tokenizer/`` with the
    # weights: loading never contacts a hub (models/hf_tokenizer.py). Optional files are kept when
    # the server has them.
    tokenizer_repo: str | None = None
    tokenizer_files: tuple[str, ...] = ()
    tokenizer_optional: tuple[str, ...] = ()

    @property
    def is_bundled(self) -> bool:
        return self.bundled_dir is not None

    @property
    def download_url_path(self) -> str | None:
        """``{hf_repo}/resolve/main/{weights_file}``, to be joined to a base URL."""
        if not self.hf_repo or not self.weights_file:
            return None
        return f"{self.hf_repo}/resolve/main/{self.weights_file}"


TEST_MODEL_ID = "reelseek-test-tiny"

# Retrieval figures quoted in descriptions are zero-shot text->image R@1 on Flickr30k / MSCOCO from
# open_clip's docs/openclip_retrieval_results.csv (MobileCLIP2: apple/ml-mobileclip results/).
# docs/models.md has the full comparison and the CPU speeds behind the default.
_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="vit-b-32",
        arch="ViT-B-32",
        pretrained="laion2b_s34b_b79k",
        hf_repo="laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
        weights_file=SAFETENSORS_NAME,
        alt_weights_files=(PICKLE_NAME,),
        sha256=None,
        size_bytes=None,
        dim=512,
        image_size=224,
        description="CLIP ViT-B/32, LAION-2B: the CPU default (fast, good retrieval), ~600 MB",
        gpu_recommended=False,
        license="MIT",
    ),
    ModelSpec(
        id="mobileclip-s1",
        arch="MobileCLIP-S1",
        pretrained="datacompdr",
        hf_repo="apple/MobileCLIP-S1-OpenCLIP",
        weights_file=SAFETENSORS_NAME,
        alt_weights_files=(PICKLE_NAME,),
        sha256=None,
        size_bytes=None,
        dim=512,
        image_size=256,
        description="Apple MobileCLIP-S1: better retrieval than vit-b-32, 1.3-3x slower on CPU, ~350 MB",
        gpu_recommended=False,
        license="Apple ML-MobileCLIP weights licence (use, modify, redistribute)",
    ),
    ModelSpec(
        id="mobileclip2-s0",
        arch="MobileCLIP2-S0",
        pretrained="dfndr2b",
        hf_repo="timm/MobileCLIP2-S0-OpenCLIP",
        weights_file=SAFETENSORS_NAME,
        alt_weights_files=(PICKLE_NAME,),
        sha256=None,
        size_bytes=None,
        dim=512,
        image_size=256,
        description="Apple MobileCLIP2-S0: better retrieval at ViT-B/32 speed; research-only licence",
        gpu_recommended=False,
        license="Apple Machine Learning Research Model License (research use only)",
    ),
    ModelSpec(
        id="vit-b-16",
        arch="ViT-B-16",
        pretrained="laion2b_s34b_b88k",
        hf_repo="laion/CLIP-ViT-B-16-laion2B-s34B-b88K",
        weights_file=SAFETENSORS_NAME,
        alt_weights_files=(PICKLE_NAME,),
        sha256=None,
        size_bytes=None,
        dim=512,
        image_size=224,
        description="CLIP ViT-B/16, LAION-2B: a little better than vit-b-32, ~3x slower on CPU, ~600 MB",
        gpu_recommended=False,
        license="MIT",
    ),
    ModelSpec(
        id="vit-l-14",
        arch="ViT-L-14",
        pretrained="laion2b_s32b_b82k",
        hf_repo="laion/CLIP-ViT-L-14-laion2B-s32B-b82K",
        weights_file=SAFETENSORS_NAME,
        alt_weights_files=(PICKLE_NAME,),
        sha256=None,
        size_bytes=None,
        dim=768,
        image_size=224,
        description="CLIP ViT-L/14, LAION-2B: high quality, needs a GPU, ~1.7 GB",
        gpu_recommended=True,
        license="MIT",
    ),
    ModelSpec(
        id="vit-h-14",
        arch="ViT-H-14",
        pretrained="laion2b_s32b_b79k",
        hf_repo="laion/CLIP-ViT-H-14-laion2B-s32B-b79K",
        weights_file=SAFETENSORS_NAME,
        alt_weights_files=(PICKLE_NAME,),
        sha256=None,
        size_bytes=None,
        dim=1024,
        image_size=224,
        description="CLIP ViT-H/14, LAION-2B: best quality offered, needs a GPU with 6+ GB, ~3.9 GB",
        gpu_recommended=True,
        license="MIT",
    ),
    ModelSpec(
        id="xlm-roberta-base-vit-b-32",
        arch="xlm-roberta-base-ViT-B-32",
        pretrained="laion5b_s13b_b90k",
        hf_repo="laion/CLIP-ViT-B-32-xlm-roberta-base-laion5B-s13B-b90k",
        weights_file=PICKLE_NAME,
        alt_weights_files=(SAFETENSORS_NAME,),
        sha256=None,
        size_bytes=None,
        dim=512,
        image_size=224,
        description="multilingual CLIP (XLM-RoBERTa text, ViT-B/32 images), LAION-5B: ~100 languages incl. Korean; "
        "indexing as fast as vit-b-32, ~1.4 GB",
        gpu_recommended=False,
        license="MIT",
        languages=("*",),
        tokenizer_repo="FacebookAI/xlm-roberta-base",
        tokenizer_files=("config.json", "tokenizer.json"),
        tokenizer_optional=("sentencepiece.bpe.model", "tokenizer_config.json"),
    ),
    ModelSpec(
        id="siglip-b16-i18n",
        arch="ViT-B-16-SigLIP-i18n-256",
        pretrained="webli",
        hf_repo="timm/ViT-B-16-SigLIP-i18n-256",
        weights_file=SAFETENSORS_NAME,
        alt_weights_files=(PICKLE_NAME,),
        sha256=None,
        size_bytes=None,
        dim=768,
        image_size=256,
        description="multilingual SigLIP B/16 (WebLI, 256 px): better Korean/Japanese/Chinese retrieval than "
        "xlm-roberta-base-vit-b-32, ~4x slower indexing on CPU, ~1.5 GB",
        gpu_recommended=False,
        license="Apache-2.0",
        languages=("*",),
        tokenizer_repo="timm/ViT-B-16-SigLIP-i18n-256",
        tokenizer_files=("tokenizer.json", "tokenizer_config.json"),
        tokenizer_optional=("special_tokens_map.json", "spiece.model"),
    ),
    ModelSpec(
        id=TEST_MODEL_ID,
        arch=f"local-dir:models/{TEST_MODEL_ID}",
        pretrained=None,
        hf_repo=None,
        weights_file=SAFETENSORS_NAME,
        sha256=None,
        size_bytes=None,
        dim=64,
        image_size=64,
        description="tiny model trained on generated scenes (shapes, colours); for tests and demos only",
        gpu_recommended=False,
        bundled_dir=f"models/{TEST_MODEL_ID}",
        license="MIT (trained by the reelseek project)",
        cpu_bf16=False,  # far too small for bf16 to buy anything
        languages=("en", "ko"),  # retrained on Korean captions too (TRAINING.md)
    ),
)

DEFAULT_MODEL_ID = "vit-b-32"


# Models the user made by importing weights for a known architecture under a new id
# (models/custom.py registers them from the models folder when a library opens).
_CUSTOM: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> None:
    """Make a user-imported model (``models.custom``) known by its id in this process."""
    if any(s.id == spec.id for s in _MODELS):
        raise ModelError(f"{spec.id} is a built-in model id; choose another name")
    _CUSTOM[spec.id] = spec


def list_models() -> list[ModelSpec]:
    """Every registered model, the CPU default first, then the user's own imports."""
    return [*_MODELS, *_CUSTOM.values()]


def get_spec(model_id: str) -> ModelSpec:
    """The spec for a registry id.

    Raises:
        ModelError: the id is unknown; the message lists the known ids.
    """
    for spec in _MODELS:
        if spec.id == model_id:
            return spec
    if model_id in _CUSTOM:
        return _CUSTOM[model_id]
    known = ", ".join(s.id for s in list_models())
    raise ModelError(f"unknown model {model_id!r}; known models: {known}")


def model_id_candidates(explicit: str | None, settings_default: str | None) -> list[tuple[str | None, str]]:
    """The one precedence of model ids, each with where it came from: ``explicit`` > ``$REELSEEK_MODEL``
    > settings; the first non-empty one wins, ``DEFAULT_MODEL_ID`` when none is set."""
    return [
        (explicit, "the requested model"),
        (os.environ.get(MODEL_ENV) or None, f"${MODEL_ENV}"),
        (settings_default, "the settings"),
    ]


def chosen_model_id(explicit: str | None, settings_default: str | None) -> str:
    """The id the precedence picks, unchecked (a library names its model even when it is unknown)."""
    return next((m for m, _ in model_id_candidates(explicit, settings_default) if m), DEFAULT_MODEL_ID)


def resolve_model_id(explicit: str | None = None, *, settings_default: str | None = None) -> str:
    """Pick the model to use: ``explicit`` > ``$REELSEEK_MODEL`` > settings > ``DEFAULT_MODEL_ID``.

    Args:
        explicit: an id the user gave for this run (command-line option, dialog).
        settings_default: the saved setting; when None it is read from the settings file.

    Raises:
        ModelError: the chosen id is not in the registry (the message says where it came from).
    """
    if settings_default is None:
        settings_default = _saved_model_id()
    for model_id, source in model_id_candidates(explicit, settings_default):
        if model_id:
            try:
                return get_spec(model_id).id
            except ModelError as e:
                raise ModelError(f"{e} (from {source})") from None
    return DEFAULT_MODEL_ID


def _saved_model_id() -> str | None:
    # Reading settings must never stop a run: a missing or broken file means "no preference".
    try:
        from ..paths import data_paths
        from ..settings import Settings

        return Settings.load(data_paths().settings_file).model_id
    except Exception:
        return None
