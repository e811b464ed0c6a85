"""NVILA's multimodal projectors (``llava/model/multimodal_projector/base_projector.py``) and RoboTracer's heads.

Parameter names follow the released checkpoints: ``layers.{i}.weight/bias`` in a ``nn.Sequential``
whose index 0 is the parameter-free token merge.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class TokenMerge(nn.Module):
    """Merge ``k×k`` neighbouring patch tokens: ``(B, N, C)`` → ``(B, ceil(√N/k)², k²·C)``.

    The sequence is a row-major √N×√N grid, zero-padded at the bottom and right to a multiple of
    ``k``; blocks are taken row-major with channels ordered ``(dr, dc, c)``, c fastest (NVILA's
    ``DownSample3x3BlockFix`` / ``DownSampleBlock``).
    """

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        side = int(math.isqrt(n))
        if side * side != n:
            raise ValueError(f"token merge needs a square grid of tokens, got {n}")
        k = self.k
        pad = (-side) % k
        grid = x.reshape(b, side, side, c)
        if pad:
            grid = nn.functional.pad(grid, (0, 0, 0, pad, 0, pad))
        s = side + pad
        grid = grid.reshape(b, s // k, k, s // k, k, c).permute(0, 1, 3, 2, 4, 5)
        return grid.reshape(b, (s // k) ** 2, k * k * c)


def _mlp_downsample_3x3(mm_hidden: int, hidden: int) -> list[nn.Module]:
    c = 9 * mm_hidden
    return [
        TokenMerge(3),
        nn.LayerNorm(c),
        nn.Linear(c, mm_hidden * 3),
        nn.GELU(),
        nn.LayerNorm(mm_hidden * 3),
        nn.Linear(mm_hidden * 3, hidden),
        nn.GELU(),
        nn.Linear(hidden, hidden),
    ]


def _mlp_downsample_2x2(mm_hidden: int, hidden: int) -> list[nn.Module]:
    c = 4 * mm_hidden
    return [TokenMerge(2), nn.LayerNorm(c), nn.Linear(c, hidden), nn.GELU(), nn.Linear(hidden, hidden)]


PROJECTOR_BUILDERS = {
    "mlp_downsample_3x3_fix": _mlp_downsample_3x3,
    "mlp_downsample": _mlp_downsample_2x2,
    "mlp_downsample_2x2_fix": _mlp_downsample_2x2,
    "linear": lambda mm_hidden, hidden: [nn.Linear(mm_hidden, hidden)],
}


class MultimodalProjector(nn.Module):
    """Vision features ``(B, N, mm_hidden)`` → LLM embeddings ``(B, N', hidden)``."""

    def __init__(self, projector_type: str, mm_hidden_size: int, hidden_size: int) -> None:
        super().__init__()
        if projector_type not in PROJECTOR_BUILDERS:
            raise ValueError(f"unknown mm_projector_type {projector_type!r}; valid: {', '.join(PROJECTOR_BUILDERS)}")
        self.projector_type = projector_type
        self.layers = nn.Sequential(*PROJECTOR_BUILDERS[projector_type](mm_hidden_size, hidden_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    def tokens_per_tile(self, patches: int) -> int:
        """How many tokens one tile of ``patches`` (square) patch tokens becomes."""
        first = self.layers[0]
        if not isinstance(first, TokenMerge):
            return patches
        side = int(math.isqrt(patches))
        return math.ceil(side / first.k) ** 2


class SpatialProjector(nn.Module):
    """RoboTracer's trainable linear projector: spatial tokens ``(B, N, D)`` → ``(B, N, hidden)``."""

    def __init__(self, input_dim: int, hidden_size: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(input_dim, hidden_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class ScaleProjector(nn.Module):
    """The ``<SCALE>`` token's last hidden state ``(B, hidden)`` → ``(B, dim)``."""

    def __init__(self, hidden_size: int, dim: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(hidden_size, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class ScaleDecoder(nn.Module):
    """MLP from the projected ``<SCALE>`` feature ``(B, dim)`` to ``log ŝ`` ``(B,)`` (ŝ = exp of it)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).squeeze(-1)
