"""RoboTracer's processor: image tiling, spatial inputs, the chat prompt and media-token expansion.

* RGB → NVILA dynamic tiling (InternVL's ``dynamic_preprocess``: the grid of ``min_tiles``…
  ``max_tiles`` 448-px tiles closest to the image's aspect ratio, plus a thumbnail when there is
  more than one tile), SigLIP normalisation (×1/255, mean = std = 0.5).
* Each tile becomes ``tokens_per_tile`` ``<image>`` placeholders followed by the ``"\\n"`` token
  (NVILA's ``BasicImageEncoder`` end token) and the prompt's own ``"\\n"``.
* Spatial encoder inputs (modes other than ``rgb``): the RGB resized to a patch multiple with
  DINOv2 (ImageNet) normalisation, unit ray directions from the intrinsics, the depth along each
  ray; ``<spatial>`` placeholders, one per encoder patch, then ``"\\n"``.
* The ``<SCALE>`` token (when the model has a scale decoder) after the media.
* The Qwen2 chat template of NVILA/RoboRefer (system ``You are a helpful assistant``, no BOS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from robotracer.geometry.camera import Intrinsics
from robotracer.model.configuration import (
    DEPTH_TOKEN,
    IMAGE_TOKEN,
    SCALE_TOKEN,
    SPATIAL_TOKEN,
    InputMode,
    RoboTracerConfig,
)
from robotracer.model.spatial_encoder import spatial_grid

SYSTEM_PROMPT = "You are a helpful assistant"
SIGLIP_MEAN = SIGLIP_STD = (0.5, 0.5, 0.5)
DINOV2_MEAN = (0.485, 0.456, 0.406)
DINOV2_STD = (0.229, 0.224, 0.225)


def chat_prompt(user_message: str, system: str = SYSTEM_PROMPT) -> str:
    """NVILA's ``qwen2`` chat template for one user turn, ready for the assistant's answer."""
    return (
        f"<|im_start|>system\n{system}<|im_end|>\n"
        f"<|im_start|>user\n{user_message.strip()}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def tile_grid(width: int, height: int, min_tiles: int, max_tiles: int, tile: int) -> tuple[int, int]:
    """``(cols, rows)`` of InternVL/NVILA dynamic tiling for a ``width`` x ``height`` image."""
    aspect = width / height
    ratios = sorted(
        {(i, j) for n in range(min_tiles, max_tiles + 1) for i in range(1, n + 1) for j in range(1, n + 1) if min_tiles <= i * j <= max_tiles},
        key=lambda r: r[0] * r[1],
    )
    best, best_diff = (1, 1), float("inf")
    area = width * height
    for cols, rows in ratios:
        diff = abs(aspect - cols / rows)
        if diff < best_diff:
            best, best_diff = (cols, rows), diff
        elif diff == best_diff and area > 0.5 * tile * tile * cols * rows:
            best = (cols, rows)
    return best


def dynamic_tiles(image: Image.Image, min_tiles: int, max_tiles: int, tile: int, thumbnail: bool = True) -> list[Image.Image]:
    """Split ``image`` into row-major tiles of ``tile`` px (+ a thumbnail last when > 1 tile)."""
    cols, rows = tile_grid(image.width, image.height, min_tiles, max_tiles, tile)
    resized = image.resize((tile * cols, tile * rows), Image.BICUBIC)
    tiles = [resized.crop((c * tile, r * tile, (c + 1) * tile, (r + 1) * tile)) for r in range(rows) for c in range(cols)]
    if thumbnail and len(tiles) > 1:
        tiles.append(image.resize((tile, tile), Image.BICUBIC))
    return tiles


def _normalize(images: list[Image.Image], mean, std) -> torch.Tensor:
    arr = np.stack([np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0 for im in images])
    arr = (arr - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()


def depth_to_image(depth: np.ndarray) -> Image.Image:
    """RoboRefer's depth image: min-max normalised inverse depth as 3-channel uint8 (holes = 0)."""
    d = np.asarray(depth, dtype=np.float32)
    valid = np.isfinite(d) & (d > 0)
    inv = np.zeros_like(d)
    inv[valid] = 1.0 / d[valid]
    if valid.any():
        lo, hi = inv[valid].min(), inv[valid].max()
        inv[valid] = (inv[valid] - lo) / max(hi - lo, 1e-12)
    u8 = np.floor(inv * 255.0).astype(np.uint8)
    return Image.fromarray(np.repeat(u8[..., None], 3, axis=2))


def ray_directions(intrinsics: Intrinsics, width: int, height: int) -> np.ndarray:
    """``(height, width, 3)`` float32 unit rays of a ``width`` x ``height`` resampling of the camera image."""
    sx, sy = intrinsics.width / width, intrinsics.height / height
    u = (np.arange(width, dtype=np.float64) + 0.5) * sx - 0.5
    v = (np.arange(height, dtype=np.float64) + 0.5) * sy - 0.5
    uu, vv = np.meshgrid(u, v)
    rays = np.stack([(uu - intrinsics.cx) / intrinsics.fx, (vv - intrinsics.cy) / intrinsics.fy, np.ones_like(uu)], axis=-1)
    return (rays / np.linalg.norm(rays, axis=-1, keepdims=True)).astype(np.float32)


@dataclass(frozen=True)
class ProcessorSettings:
    """What the processor needs to know about the model (read from :class:`RoboTracerConfig`)."""

    tile_size: int
    tokens_per_tile: int
    image_aspect_ratio: str = "dynamic"
    min_tiles: int = 1
    max_tiles: int = 12
    spatial_image_size: int | None = None  # None: the model has no spatial encoder
    spatial_patch_size: int = 14
    depth_tokens_per_tile: int | None = None  # None: no RoboRefer depth tower
    has_scale: bool = False

    @classmethod
    def from_config(cls, config: RoboTracerConfig) -> "ProcessorSettings":
        from robotracer.model.projector import MultimodalProjector

        vt = config.vision_tower_cfg
        tile, patch = int(vt["image_size"]), int(vt["patch_size"])
        patches = (tile // patch) ** 2

        def tokens(ptype: str) -> int:
            return MultimodalProjector(ptype, 1, 1).tokens_per_tile(patches)

        sp = config.spatial_encoder_cfg or None
        return cls(
            tile_size=tile,
            tokens_per_tile=tokens(config.mm_projector_cfg["mm_projector_type"]),
            image_aspect_ratio=config.image_aspect_ratio,
            min_tiles=config.min_tiles,
            max_tiles=config.max_tiles,
            spatial_image_size=int(sp.get("image_size", 518)) if sp else None,
            spatial_patch_size=int(sp.get("patch_size", 14)) if sp else 14,
            depth_tokens_per_tile=tokens(config.depth_projector_cfg["mm_projector_type"]) if config.depth_projector_cfg else None,
            has_scale=bool(config.scale_decoder_cfg) and config.scale_token_id is not None,
        )


class RoboTracerProcessor:
    """Turns ``(rgb, depth, intrinsics, text)`` into model inputs and token ids back into text."""

    def __init__(self, tokenizer, settings: ProcessorSettings) -> None:
        self.tokenizer = tokenizer
        self.settings = settings
        missing = [t for t in (IMAGE_TOKEN, SCALE_TOKEN, SPATIAL_TOKEN, DEPTH_TOKEN) if t not in tokenizer.get_vocab()]
        needed = {IMAGE_TOKEN} | ({SCALE_TOKEN} if settings.has_scale else set())
        needed |= {SPATIAL_TOKEN} if settings.spatial_image_size else set()
        needed |= {DEPTH_TOKEN} if settings.depth_tokens_per_tile else set()
        if needed & set(missing):
            raise ValueError(f"the tokenizer lacks the media tokens {sorted(needed & set(missing))}; add them before loading")

    @classmethod
    def from_config(cls, config: RoboTracerConfig, tokenizer) -> "RoboTracerProcessor":
        return cls(tokenizer, ProcessorSettings.from_config(config))

    @property
    def stop_token_ids(self) -> list[int]:
        """``<|im_end|>`` and the tokenizer's eos (NVILA's ``infer_stop_tokens``)."""
        ids = [self.tokenizer.convert_tokens_to_ids("<|im_end|>")]
        if self.tokenizer.eos_token_id is not None and self.tokenizer.eos_token_id not in ids:
            ids.append(self.tokenizer.eos_token_id)
        return ids

    def __call__(
        self,
        rgb: np.ndarray,
        text: str,
        mode: InputMode | str = InputMode.RGB,
        intrinsics: Intrinsics | None = None,
        depth: np.ndarray | None = None,
        answer: str | None = None,
    ) -> dict[str, torch.Tensor]:
        """Model inputs for one frame.

        Args:
            rgb: ``(H, W, 3)`` uint8.
            text: the user prompt (see :mod:`robotracer.model.prompts`).
            mode: which inputs feed the spatial encoder.
            intrinsics: required for the ``+intrinsics`` modes.
            depth: ``(H, W)`` float metres, required for ``rgb+intrinsics+depth``.
            answer: for training, the assistant's answer; adds ``labels`` (prompt tokens = -100).

        Returns:
            ``input_ids`` / ``attention_mask`` ``(1, L)``, ``pixel_values`` ``(T, 3, S, S)`` and, as the
            mode and model require, ``spatial_pixel_values``, ``ray_directions``, ``depth_along_ray``,
            ``depth_pixel_values``, ``labels``.
        """
        mode = InputMode.parse(mode)
        s = self.settings
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"rgb must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
        h, w = rgb.shape[:2]
        image = Image.fromarray(rgb)
        out: dict[str, torch.Tensor] = {}
        if s.image_aspect_ratio == "dynamic":
            tiles = dynamic_tiles(image, s.min_tiles, s.max_tiles, s.tile_size)
        else:
            tiles = [image.resize((s.tile_size, s.tile_size), Image.BICUBIC)]
        out["pixel_values"] = _normalize(tiles, SIGLIP_MEAN, SIGLIP_STD)
        nl = self._ids("\n")
        image_id, media = self._token_id(IMAGE_TOKEN), []
        for _ in tiles:  # features, the encoder's "\n" end token, then the prompt's "\n"
            media += [image_id] * s.tokens_per_tile + nl + nl
        if mode.uses_spatial_encoder:
            if s.spatial_image_size is None:
                raise ValueError(f"input mode {mode.value!r} needs a spatial encoder, which this checkpoint lacks; use 'rgb'")
            sw, sh = spatial_grid(w, h, s.spatial_image_size, s.spatial_patch_size)
            out["spatial_pixel_values"] = _normalize([image.resize((sw, sh), Image.BICUBIC)], DINOV2_MEAN, DINOV2_STD)
            if mode.uses_intrinsics:
                if intrinsics is None:
                    raise ValueError(f"input mode {mode.value!r} needs the camera intrinsics")
                if (intrinsics.width, intrinsics.height) != (w, h):
                    raise ValueError(f"intrinsics are for {intrinsics.width}x{intrinsics.height}, the image is {w}x{h}")
                rays = ray_directions(intrinsics, sw, sh)
                out["ray_directions"] = torch.from_numpy(rays).permute(2, 0, 1)[None].contiguous()
                if mode.uses_depth:
                    if depth is None:
                        raise ValueError(f"input mode {mode.value!r} needs a depth image")
                    z = np.nan_to_num(np.asarray(depth, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
                    if z.shape != (h, w):
                        raise ValueError(f"depth is {z.shape[1]}x{z.shape[0]}, the image {w}x{h}")
                    z = np.asarray(Image.fromarray(z).resize((sw, sh), Image.NEAREST))
                    along = z / np.maximum(rays[..., 2], 1e-6)  # z · |(x, y, 1)|
                    out["depth_along_ray"] = torch.from_numpy(np.where(z > 0, along, 0.0).astype(np.float32))[None, None]
            n_spatial = (sw // s.spatial_patch_size) * (sh // s.spatial_patch_size)
            media += [self._token_id(SPATIAL_TOKEN)] * n_spatial + nl
        if s.depth_tokens_per_tile and depth is not None and mode.uses_depth:
            dimg = depth_to_image(depth)
            if s.image_aspect_ratio == "dynamic":
                dtiles = dynamic_tiles(dimg, s.min_tiles, s.max_tiles, s.tile_size)
            else:
                dtiles = [dimg.resize((s.tile_size, s.tile_size), Image.BICUBIC)]
            out["depth_pixel_values"] = _normalize(dtiles, SIGLIP_MEAN, SIGLIP_STD)
            for _ in dtiles:
                media += [self._token_id(DEPTH_TOKEN)] * s.depth_tokens_per_tile + nl + nl
        if s.has_scale:
            media += [self._token_id(SCALE_TOKEN)] + nl
        head, tail = chat_prompt("\x00" + text.strip()).split("\x00")
        ids = self._ids(head) + media + self._ids(tail)
        labels = None
        if answer is not None:
            ans = self._ids(answer + "<|im_end|>")
            labels = [-100] * len(ids) + ans
            ids = ids + ans
        out["input_ids"] = torch.tensor([ids], dtype=torch.long)
        out["attention_mask"] = torch.ones_like(out["input_ids"])
        if labels is not None:
            out["labels"] = torch.tensor([labels], dtype=torch.long)
        return out

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _token_id(self, token: str) -> int:
        return int(self.tokenizer.convert_tokens_to_ids(token))

    def decode(self, token_ids) -> str:
        """Answer text: special tokens skipped, stripped (NVILA's decoding)."""
        if isinstance(token_ids, torch.Tensor):
            token_ids = token_ids.tolist()
        return self.tokenizer.decode(token_ids, skip_special_tokens=True).strip()
