"""RoboTracer's universal spatial encoder: MapAnything's encoder with its DPT, pose and scale heads removed.

Structure (MapAnything, ``mapanything/models/mapanything/model.py``, built from UniCeption parts):

1. a DINOv2 ViT image encoder (ViT-L/14 in MapAnything; here transformers' ``Dinov2Model``);
2. optional geometric inputs, each encoded to the ViT width and *added* to the patch features:
   ray directions from the intrinsics and the depth along each ray (normalised by its mean
   over valid pixels) through dense representation encoders (pixel-unshuffle → conv → residual
   blocks → 1×1 conv → LayerNorm), and the log of that depth normalisation factor through a
   global representation encoder (MLP), so metric scale is kept;
3. a fusion LayerNorm, MapAnything's learned scale token appended to the patch tokens;
4. the multi-view alternating-attention transformer (one view here, so frame and global
   attention see the same tokens) with a final LayerNorm.

The output is the last transformer layer's patch tokens ``(B, h·w, D)``, the features RoboTracer
projects into the language model. UniCeption (PyPI 0.1.7) holds these parts, but its encoders
package imports its perception-encoder module (timm → torchvision) and its DINOv2 wrapper loads
from torch hub, so neither imports nor builds offline beside torch 2.13: the parts are written here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from transformers import Dinov2Config, Dinov2Model


@dataclass(frozen=True)
class SpatialEncoderConfig:
    """Settings of :class:`SpatialEncoder` (defaults: MapAnything's sizes).

    Attributes:
        image_size: long side of the encoder input in pixels (a multiple of ``patch_size``).
        dinov2: ``Dinov2Config`` fields of the image encoder.
        dense_intermediate_dims: channel widths of the dense (ray / depth) encoders' residual stages.
        global_intermediate_dims: widths of the depth-scale MLP.
        info_sharing_dim, info_sharing_depth, info_sharing_heads: the alternating-attention transformer.
    """

    image_size: int = 518
    patch_size: int = 14
    dinov2: dict = field(
        default_factory=lambda: dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)
    )
    dense_intermediate_dims: tuple[int, ...] = (588, 768)
    global_intermediate_dims: tuple[int, ...] = (256, 512)
    info_sharing_dim: int = 768
    info_sharing_depth: int = 24
    info_sharing_heads: int = 12
    mlp_ratio: float = 4.0

    @classmethod
    def from_dict(cls, data: dict) -> "SpatialEncoderConfig":
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown spatial encoder settings {sorted(unknown)}; valid: {sorted(known)}")
        data = dict(data)
        for key in ("dense_intermediate_dims", "global_intermediate_dims"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["dense_intermediate_dims"] = list(self.dense_intermediate_dims)
        d["global_intermediate_dims"] = list(self.global_intermediate_dims)
        return d

    @property
    def embed_dim(self) -> int:
        return int(self.dinov2["hidden_size"])


class _ResidualBlock(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.act = nn.GELU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2(self.act(self.conv1(x))) + self.shortcut(x))


class DenseRepresentationEncoder(nn.Module):
    """A per-pixel map ``(B, C, H, W)`` → patch features ``(B, D, H/p, W/p)``."""

    def __init__(self, in_chans: int, embed_dim: int, patch_size: int, intermediate_dims: tuple[int, ...]) -> None:
        super().__init__()
        self.unshuffle = nn.PixelUnshuffle(patch_size)
        self.conv_in = nn.Conv2d(in_chans * patch_size**2, intermediate_dims[0], 3, 1, 1)
        dims = list(intermediate_dims)
        self.encoder = nn.Sequential(*[_ResidualBlock(a, b) for a, b in zip(dims, dims[1:] + dims[-1:])])
        self.conv_out = nn.Conv2d(dims[-1], embed_dim, 1)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_out(self.encoder(self.conv_in(self.unshuffle(x))))
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class GlobalRepresentationEncoder(nn.Module):
    """A per-view vector ``(B, C)`` → ``(B, D)`` (an MLP)."""

    def __init__(self, in_chans: int, embed_dim: int, intermediate_dims: tuple[int, ...]) -> None:
        super().__init__()
        dims = [in_chans, *intermediate_dims]
        layers: list[nn.Module] = []
        for a, b in zip(dims, dims[1:]):
            layers += [nn.Linear(a, b), nn.GELU()]
        layers.append(nn.Linear(dims[-1], embed_dim))
        self.encoder = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.encoder(x))


class _Block(nn.Module):
    """Pre-norm self-attention block (SDPA) as in UniCeption's ``SelfAttentionBlock``."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c)
        x = x + self.proj(attn)
        return x + self.mlp(self.norm2(x))


class AlternatingAttentionTransformer(nn.Module):
    """MapAnything's info-sharing transformer: layers alternate frame and global attention.

    Input ``(B, V, N, D_in)`` (V views of N tokens); frame layers attend within a view, global
    layers across all views' tokens. Output ``(B, V, N, D)``.
    """

    def __init__(self, input_dim: int, dim: int, depth: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.proj_embed = nn.Linear(input_dim, dim)
        self.blocks = nn.ModuleList([_Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, v, n, _ = x.shape
        x = self.proj_embed(x)
        for i, block in enumerate(self.blocks):
            if i % 2 == 0:  # frame attention
                x = block(x.reshape(b * v, n, -1)).reshape(b, v, n, -1)
            else:  # global attention
                x = block(x.reshape(b, v * n, -1)).reshape(b, v, n, -1)
        return self.norm(x)


class SpatialEncoder(nn.Module):
    """MapAnything's encoder (no heads): RGB [+ ray directions] [+ metric depth] → spatial tokens.

    Inputs (one view per batch element):
        pixel_values: ``(B, 3, H, W)`` float, DINOv2-normalised, H and W multiples of the patch size.
        ray_directions: ``(B, 3, H, W)`` unit rays in the camera frame, or None.
        depth_along_ray: ``(B, 1, H, W)`` metres (0 = hole), or None; needs ``ray_directions``.

    Output: ``(B, H/p · W/p, info_sharing_dim)`` patch features.
    """

    def __init__(self, config: SpatialEncoderConfig) -> None:
        super().__init__()
        self.config = config
        d = config.embed_dim
        dino = Dinov2Config(patch_size=config.patch_size, image_size=config.image_size, **config.dinov2)
        dino._attn_implementation = "sdpa"
        self.image_encoder = Dinov2Model(dino)
        self.ray_dirs_encoder = DenseRepresentationEncoder(3, d, config.patch_size, config.dense_intermediate_dims)
        self.depth_encoder = DenseRepresentationEncoder(1, d, config.patch_size, config.dense_intermediate_dims)
        self.depth_scale_encoder = GlobalRepresentationEncoder(1, d, config.global_intermediate_dims)
        self.fusion_norm_layer = nn.LayerNorm(d, eps=1e-6)
        self.scale_token = nn.Parameter(torch.zeros(d))
        nn.init.trunc_normal_(self.scale_token, std=0.02)
        self.info_sharing = AlternatingAttentionTransformer(
            d, config.info_sharing_dim, config.info_sharing_depth, config.info_sharing_heads, config.mlp_ratio
        )

    @property
    def output_dim(self) -> int:
        return self.config.info_sharing_dim

    def forward(
        self,
        pixel_values: torch.Tensor,
        ray_directions: torch.Tensor | None = None,
        depth_along_ray: torch.Tensor | None = None,
    ) -> torch.Tensor:
        b, _, h, w = pixel_values.shape
        p = self.config.patch_size
        if h % p or w % p:
            raise ValueError(f"spatial encoder input {w}x{h} is not a multiple of the patch size {p}")
        gh, gw = h // p, w // p
        tokens = self.image_encoder(pixel_values=pixel_values).last_hidden_state  # normed, CLS first
        feats = tokens[:, -gh * gw :].transpose(1, 2).reshape(b, -1, gh, gw)
        if ray_directions is not None:
            feats = feats + self.ray_dirs_encoder(ray_directions.to(feats.dtype))
        if depth_along_ray is not None:
            if ray_directions is None:
                raise ValueError("depth input needs the intrinsics (ray directions) too, as in MapAnything")
            depth = depth_along_ray.to(torch.float32)
            valid = depth > 0
            norm = (depth * valid).flatten(1).sum(1) / valid.flatten(1).sum(1).clamp(min=1)  # mean valid depth
            norm = norm.clamp(min=1e-6)
            feats = feats + self.depth_encoder((depth / norm.view(b, 1, 1, 1)).to(feats.dtype))
            scale = self.depth_scale_encoder(torch.log(norm).unsqueeze(1).to(feats.dtype))
            feats = feats + scale[:, :, None, None]
        feats = self.fusion_norm_layer(feats.flatten(2).transpose(1, 2))  # (B, N, D)
        feats = torch.cat([feats, self.scale_token.expand(b, 1, -1).to(feats.dtype)], dim=1)
        out = self.info_sharing(feats.unsqueeze(1)).squeeze(1)
        return out[:, :-1]  # drop the scale token: its head is removed


def spatial_grid(width: int, height: int, image_size: int, patch_size: int) -> tuple[int, int]:
    """Encoder input size ``(W', H')`` for an image: long side ``image_size``, both multiples of the patch."""
    scale = image_size / max(width, height)
    w = max(patch_size, int(round(width * scale / patch_size)) * patch_size)
    h = max(patch_size, int(round(height * scale / patch_size)) * patch_size)
    return w, h
