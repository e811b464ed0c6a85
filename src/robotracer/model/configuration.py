"""RoboTracer configuration: NVILA's top-level config with one ``*_cfg`` dict per part.

The layout follows the NVILA / RoboRefer releases: the top-level ``config.json`` holds
``llm_cfg`` (Qwen2), ``vision_tower_cfg`` (SigLIP), ``mm_projector_cfg``, optionally RoboRefer's
``depth_tower_cfg`` / ``depth_projector_cfg``, and RoboTracer's additions in the same style:
``spatial_encoder_cfg`` (MapAnything's encoder without heads), ``spatial_projector_cfg``,
``scale_projector_cfg`` and ``scale_decoder_cfg``. Each part is stored in the subfolder named
like its key without ``_cfg``.
"""

from __future__ import annotations

import enum
from typing import Any

from transformers import PretrainedConfig

PROJECTOR_TYPES = ("mlp_downsample_3x3_fix", "mlp_downsample", "mlp_downsample_2x2_fix", "linear")
PART_KEYS = (
    "llm_cfg",
    "vision_tower_cfg",
    "mm_projector_cfg",
    "depth_tower_cfg",
    "depth_projector_cfg",
    "spatial_encoder_cfg",
    "spatial_projector_cfg",
    "scale_projector_cfg",
    "scale_decoder_cfg",
)
REQUIRED_PARTS = ("llm_cfg", "vision_tower_cfg", "mm_projector_cfg")

IMAGE_TOKEN = "<image>"
DEPTH_TOKEN = "<depth>"
SPATIAL_TOKEN = "<spatial>"
SCALE_TOKEN = "<SCALE>"


class InputMode(str, enum.Enum):
    """The four input modes of RoboTracer's official evaluation."""

    RGB = "rgb"  # RGB through SigLIP only (enable_spatial=0)
    RGB_SPATIAL = "rgb+spatial"  # RGB also through the spatial encoder
    RGB_INTRINSICS = "rgb+intrinsics"  # + intrinsics (ray directions)
    RGB_INTRINSICS_DEPTH = "rgb+intrinsics+depth"  # + intrinsics + metric depth

    @classmethod
    def parse(cls, value: "str | InputMode") -> "InputMode":
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown input mode {value!r}; valid: {', '.join(m.value for m in cls)}") from None

    @property
    def uses_spatial_encoder(self) -> bool:
        return self is not InputMode.RGB

    @property
    def uses_intrinsics(self) -> bool:
        return self in (InputMode.RGB_INTRINSICS, InputMode.RGB_INTRINSICS_DEPTH)

    @property
    def uses_depth(self) -> bool:
        return self is InputMode.RGB_INTRINSICS_DEPTH


class RoboTracerConfig(PretrainedConfig):
    """Composite configuration of the RoboTracer model.

    Args:
        llm_cfg: a ``Qwen2Config`` dict (``model_type: qwen2``).
        vision_tower_cfg: a ``SiglipVisionConfig`` dict.
        mm_projector_cfg: ``{"mm_projector_type": one of PROJECTOR_TYPES}``.
        depth_tower_cfg, depth_projector_cfg: RoboRefer's depth SigLIP and its projector (optional).
        spatial_encoder_cfg: :class:`~robotracer.model.spatial_encoder.SpatialEncoder` settings (optional).
        spatial_projector_cfg, scale_projector_cfg, scale_decoder_cfg: RoboTracer's heads.
        image_aspect_ratio: ``dynamic`` (tiles + thumbnail, 2B) or ``resize`` (one 448 tile).
        min_tiles, max_tiles: tile-count bounds of dynamic tiling.
        mm_vision_select_layer: which SigLIP hidden state feeds the projector (-2: second to last).
        scale_loss_weight: α of ``L = L_ntp + α‖log ŝ − sg(log s*)‖²``.
        image_token_id, depth_token_id, spatial_token_id, scale_token_id: media token ids.
    """

    model_type = "robotracer"

    def __init__(
        self,
        llm_cfg: dict | None = None,
        vision_tower_cfg: dict | None = None,
        mm_projector_cfg: dict | None = None,
        depth_tower_cfg: dict | None = None,
        depth_projector_cfg: dict | None = None,
        spatial_encoder_cfg: dict | None = None,
        spatial_projector_cfg: dict | None = None,
        scale_projector_cfg: dict | None = None,
        scale_decoder_cfg: dict | None = None,
        hidden_size: int | None = None,
        mm_hidden_size: int | None = None,
        image_aspect_ratio: str = "dynamic",
        min_tiles: int = 1,
        max_tiles: int = 12,
        mm_vision_select_layer: int = -2,
        mm_vision_select_feature: str = "cls_patch",
        mm_use_im_start_end: bool = False,
        enable_depth: bool = False,
        use_depth_tower: bool = False,
        scale_loss_weight: float = 0.1,
        chat_template: str = "qwen2",
        image_token_id: int | None = None,
        depth_token_id: int | None = None,
        spatial_token_id: int | None = None,
        scale_token_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.llm_cfg = llm_cfg
        self.vision_tower_cfg = vision_tower_cfg
        self.mm_projector_cfg = mm_projector_cfg
        self.depth_tower_cfg = depth_tower_cfg
        self.depth_projector_cfg = depth_projector_cfg
        self.spatial_encoder_cfg = spatial_encoder_cfg
        self.spatial_projector_cfg = spatial_projector_cfg
        self.scale_projector_cfg = scale_projector_cfg
        self.scale_decoder_cfg = scale_decoder_cfg
        self.hidden_size = hidden_size if hidden_size is not None else (llm_cfg or {}).get("hidden_size")
        self.mm_hidden_size = mm_hidden_size if mm_hidden_size is not None else (vision_tower_cfg or {}).get("hidden_size")
        if image_aspect_ratio not in ("dynamic", "resize"):
            raise ValueError(f"image_aspect_ratio {image_aspect_ratio!r} is not supported; valid: dynamic, resize")
        self.image_aspect_ratio = image_aspect_ratio
        if not 1 <= min_tiles <= max_tiles:
            raise ValueError(f"need 1 <= min_tiles <= max_tiles, got {min_tiles}, {max_tiles}")
        self.min_tiles = min_tiles
        self.max_tiles = max_tiles
        self.mm_vision_select_layer = mm_vision_select_layer
        self.mm_vision_select_feature = mm_vision_select_feature
        self.mm_use_im_start_end = mm_use_im_start_end
        self.enable_depth = enable_depth
        self.use_depth_tower = use_depth_tower
        self.scale_loss_weight = scale_loss_weight
        self.chat_template = chat_template
        self.image_token_id = image_token_id
        self.depth_token_id = depth_token_id
        self.spatial_token_id = spatial_token_id
        self.scale_token_id = scale_token_id
        kwargs.setdefault("architectures", ["RoboTracerForConditionalGeneration"])
        super().__init__(**kwargs)

    def validate_parts(self) -> None:
        """Raise ``ValueError`` naming the missing or inconsistent parts."""
        missing = [k for k in REQUIRED_PARTS if not getattr(self, k)]
        if missing:
            raise ValueError(f"RoboTracer config lacks {', '.join(missing)}; a checkpoint needs {', '.join(REQUIRED_PARTS)}")
        ptype = self.mm_projector_cfg.get("mm_projector_type")
        if ptype not in PROJECTOR_TYPES:
            raise ValueError(f"unknown mm_projector_type {ptype!r}; valid: {', '.join(PROJECTOR_TYPES)}")
        heads = [bool(self.spatial_encoder_cfg), bool(self.spatial_projector_cfg)]
        if any(heads) and not all(heads):
            raise ValueError("spatial_encoder_cfg and spatial_projector_cfg come together; the config has only one")
        if bool(self.scale_projector_cfg) != bool(self.scale_decoder_cfg):
            raise ValueError("scale_projector_cfg and scale_decoder_cfg come together; the config has only one")
        if bool(self.depth_tower_cfg) != bool(self.depth_projector_cfg):
            raise ValueError("depth_tower_cfg and depth_projector_cfg come together; the config has only one")

    @property
    def parts(self) -> list[str]:
        """The part keys this configuration holds (e.g. ``["llm_cfg", "vision_tower_cfg", ...]``)."""
        return [k for k in PART_KEYS if getattr(self, k)]
