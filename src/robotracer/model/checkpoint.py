"""Checkpoints in the NVILA / RoboRefer release layout, with RoboTracer's parts in the same style.

::

    CKPT/
      config.json                 top-level RoboTracerConfig with one ``*_cfg`` dict per part
      llm/                        Qwen2ForCausalLM: config.json, model*.safetensors (+ index), tokenizer
      vision_tower/               SigLIP: config.json, model.safetensors, preprocessor_config.json
      mm_projector/               config.json, model.safetensors (``layers.{i}.*``)
      depth_tower/, depth_projector/            RoboRefer (optional)
      spatial_encoder/, spatial_projector/      RoboTracer (optional)
      scale_projector/, scale_decoder/          RoboTracer (optional)

Loading follows RoboRefer's ``get_model_config``: each ``*_cfg`` present in the top-level config
is loaded from the subfolder named like the key without ``_cfg``. Keys and shapes are checked
part by part; a mismatch names the part, what was expected and what was found. The LLM's
embedding rows follow its weights (NVILA resizes them after adding media tokens).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from robotracer.model.configuration import PART_KEYS, RoboTracerConfig

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
ATTRIBUTE_OF_PART = {key: key[: -len("_cfg")] for key in PART_KEYS}
# SigLIP towers are stored with the keys of the released checkpoints (``vision_model.*``);
# transformers 5 names the module's own keys without that prefix.
DISK_PREFIX = {"vision_tower_cfg": "vision_model.", "depth_tower_cfg": "vision_model."}
SIGLIP_PREPROCESSOR = {
    "image_processor_type": "SiglipImageProcessor",
    "do_resize": True,
    "resample": 3,
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
}


class CheckpointError(RuntimeError):
    """The checkpoint folder is missing, incomplete or does not match its configuration."""


def _listing(path: Path) -> str:
    if not path.is_dir():
        return "(folder does not exist)"
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
    return ", ".join(names) if names else "(empty)"


def save_checkpoint(model, path: str | Path, tokenizer=None) -> Path:
    """Write ``model`` (a :class:`RoboTracerForConditionalGeneration`) in the layout above."""
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    config: RoboTracerConfig = model.config
    for key in config.parts:
        attr = ATTRIBUTE_OF_PART[key]
        module = getattr(model, attr)
        folder = root / attr
        folder.mkdir(exist_ok=True)
        if key == "llm_cfg":
            module.save_pretrained(folder, safe_serialization=True)
            continue
        prefix = DISK_PREFIX.get(key, "")
        state = {prefix + k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}
        save_file(state, str(folder / WEIGHTS_NAME), metadata={"format": "pt"})
        if prefix:  # a SigLIP tower: HF config + preprocessor, keys under vision_model.
            module.config.to_json_file(str(folder / CONFIG_NAME))
            size = module.config.image_size
            (folder / "preprocessor_config.json").write_text(
                json.dumps(SIGLIP_PREPROCESSOR | {"size": {"height": size, "width": size}}, indent=2)
            )
        else:
            (folder / CONFIG_NAME).write_text(json.dumps(getattr(config, key), indent=2))
    if tokenizer is not None:
        tokenizer.save_pretrained(root / "llm")
    config.save_pretrained(root)
    return root


def read_config(path: str | Path) -> RoboTracerConfig:
    """The top-level config of a checkpoint folder (NVILA's ``llava_llama`` configs are accepted)."""
    root = Path(path)
    cfg_file = root / CONFIG_NAME
    if not cfg_file.is_file():
        raise CheckpointError(
            f"no checkpoint at {root}: expected {CONFIG_NAME} with llm_cfg / vision_tower_cfg / mm_projector_cfg "
            f"and the part subfolders; found: {_listing(root)}"
        )
    try:
        data = json.loads(cfg_file.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{cfg_file} is not valid JSON: {exc}") from exc
    data.pop("model_type", None)
    for key in PART_KEYS:  # RoboRefer writes a path string for parts stored elsewhere: not supported here
        if isinstance(data.get(key), str):
            raise CheckpointError(f"{cfg_file}: {key} is a path ({data[key]!r}); expected the part's config dict")
    try:
        config = RoboTracerConfig(**data)
        config.validate_parts()
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{cfg_file}: {exc}") from exc
    return config


def _weight_files(folder: Path) -> list[Path]:
    index = folder / WEIGHTS_INDEX_NAME
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        missing = [s for s in shards if not (folder / s).is_file()]
        if missing:
            raise CheckpointError(f"{folder}: the index lists shards that are missing: {', '.join(missing)}")
        return [folder / s for s in shards]
    single = folder / WEIGHTS_NAME
    if single.is_file():
        return [single]
    raise CheckpointError(f"{folder}: expected {WEIGHTS_NAME} or {WEIGHTS_INDEX_NAME}; found: {_listing(folder)}")


def _module_key(disk_key: str, prefix: str) -> str:
    return disk_key[len(prefix) :] if prefix and disk_key.startswith(prefix) else disk_key


def _read_shapes(files: list[Path], prefix: str = "") -> dict[str, tuple[int, ...]]:
    shapes = {}
    for f in files:
        with safe_open(str(f), framework="pt") as sf:
            for k in sf.keys():
                shapes[_module_key(k, prefix)] = tuple(sf.get_slice(k).get_shape())
    return shapes


def _load_state(files: list[Path], device: torch.device, prefix: str = "") -> dict[str, torch.Tensor]:
    state = {}
    for f in files:
        with safe_open(str(f), framework="pt", device=str(device)) as sf:
            for k in sf.keys():
                state[_module_key(k, prefix)] = sf.get_tensor(k)
    return state


def _check_part(name: str, module: torch.nn.Module, shapes: dict[str, tuple[int, ...]]) -> None:
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    tied = set()
    if name == "llm" and getattr(module.config, "tie_word_embeddings", False):
        tied = {"lm_head.weight"}
    missing = sorted(set(expected) - set(shapes) - tied)
    unexpected = sorted(set(shapes) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{name}/ does not match its config: missing {len(missing)} weight(s) {missing[:5]}, "
            f"unexpected {len(unexpected)} {unexpected[:5]}"
        )
    for k, shape in shapes.items():
        if expected[k] != shape:
            raise CheckpointError(f"{name}/{k}: the config expects shape {list(expected[k])}, the checkpoint has {list(shape)}")


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype | None = None):
    """Build the model from a checkpoint folder on ``device`` in ``dtype`` (default: the config's / float32).

    Raises:
        CheckpointError: missing folder/config/part/weights, or weights that do not fit the config.
    """
    from robotracer.model.modeling import RoboTracerForConditionalGeneration

    root = Path(path)
    config = read_config(root)
    files, shapes = {}, {}
    for key in config.parts:
        folder = root / ATTRIBUTE_OF_PART[key]
        if not folder.is_dir():
            raise CheckpointError(
                f"{root}: config.json has {key} but the subfolder {folder.name}/ is missing; found: {_listing(root)}"
            )
        files[key] = _weight_files(folder)
        shapes[key] = _read_shapes(files[key], DISK_PREFIX.get(key, ""))
    emb = shapes["llm_cfg"].get("model.embed_tokens.weight")
    if emb is not None and emb[0] != config.llm_cfg.get("vocab_size"):
        config.llm_cfg = dict(config.llm_cfg, vocab_size=int(emb[0]))  # resized after adding media tokens
    device = torch.device(device)
    dtype = dtype or torch.float32
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with device:
            model = RoboTracerForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(previous)
    for key in config.parts:
        attr = ATTRIBUTE_OF_PART[key]
        module = getattr(model, attr)
        _check_part(attr, module, shapes[key])
        state = _load_state(files[key], device, DISK_PREFIX.get(key, ""))
        module.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}, strict=False)
    if getattr(model.llm.config, "tie_word_embeddings", False):
        model.llm.tie_weights()
    model.eval()
    return model


def load_tokenizer(path: str | Path):
    """The tokenizer stored in ``llm/`` (NVILA keeps it there)."""
    from transformers import AutoTokenizer

    folder = Path(path) / "llm"
    if not (folder / "tokenizer_config.json").is_file():
        raise CheckpointError(f"{folder}: no tokenizer (tokenizer_config.json); found: {_listing(folder)}")
    return AutoTokenizer.from_pretrained(str(folder))


def describe(path: str | Path) -> dict:
    """A summary of a checkpoint folder without loading weights: parts, parameter counts, dtypes."""
    root = Path(path)
    config = read_config(root)
    parts = {}
    for key in config.parts:
        folder = root / ATTRIBUTE_OF_PART[key]
        shapes = _read_shapes(_weight_files(folder)) if folder.is_dir() else {}
        parts[folder.name] = {"tensors": len(shapes), "parameters": int(sum(int(torch.tensor(s).prod()) if s else 1 for s in shapes.values()))}
    return {
        "path": str(root),
        "projector": config.mm_projector_cfg.get("mm_projector_type"),
        "image_aspect_ratio": config.image_aspect_ratio,
        "max_tiles": config.max_tiles,
        "hidden_size": config.llm_cfg.get("hidden_size"),
        "parts": parts,
    }
