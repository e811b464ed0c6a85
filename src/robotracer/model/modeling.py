"""The RoboTracer model: NVILA (SigLIP → projector → Qwen2) + spatial encoder + ``<SCALE>`` decoder.

``RoboTracerForConditionalGeneration`` composes, in one ``__init__``:

* ``vision_tower`` (SigLIP, features of layer ``mm_vision_select_layer``) → ``mm_projector``;
* optionally RoboRefer's ``depth_tower`` → ``depth_projector`` (depth image tiles);
* optionally the universal ``spatial_encoder`` (MapAnything without heads) → ``spatial_projector``;
* ``llm`` (Qwen2ForCausalLM);
* optionally ``scale_projector`` → ``scale_decoder`` reading the ``<SCALE>`` token's last hidden state.

Media enter the prompt as placeholder tokens that the processor has already expanded to one
placeholder per feature row; :meth:`embed_inputs` scatters the features into those rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import (
    GenerationConfig,
    PreTrainedModel,
    Qwen2Config,
    Qwen2ForCausalLM,
    SiglipVisionConfig,
    SiglipVisionModel,
)
from transformers.utils import ModelOutput

from robotracer.model.configuration import RoboTracerConfig
from robotracer.model.losses import scale_loss
from robotracer.model.projector import MultimodalProjector, ScaleDecoder, ScaleProjector, SpatialProjector
from robotracer.model.spatial_encoder import SpatialEncoder, SpatialEncoderConfig


@dataclass
class RoboTracerOutput(ModelOutput):
    """Forward output.

    Attributes:
        loss: ``L_ntp + α·L_scale`` when labels are given.
        ntp_loss, scale_loss: the two terms.
        logits: ``(B, L, V)``.
        log_scale: ``(B,)`` predicted ``log ŝ`` (None without a scale decoder or ``<SCALE>`` token).
    """

    loss: torch.Tensor | None = None
    ntp_loss: torch.Tensor | None = None
    scale_loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    log_scale: torch.Tensor | None = None


@dataclass
class RoboTracerGeneration(ModelOutput):
    """Generation output: ``sequences`` ``(B, T_new)`` new token ids; ``log_scale`` ``(B,)`` or None."""

    sequences: torch.Tensor | None = None
    log_scale: torch.Tensor | None = None


def _sub_config(cls, data: dict, attn: str | None):
    data = {k: v for k, v in data.items() if k not in ("model_type", "architectures", "transformers_version")}
    cfg = cls(**data)
    cfg._attn_implementation = attn or "sdpa"
    return cfg


class RoboTracerForConditionalGeneration(PreTrainedModel):
    config_class = RoboTracerConfig
    base_model_prefix = "robotracer"
    main_input_name = "input_ids"
    _supports_sdpa = True
    _no_split_modules = ["Qwen2DecoderLayer", "SiglipEncoderLayer"]

    def __init__(self, config: RoboTracerConfig) -> None:
        super().__init__(config)
        config.validate_parts()
        attn = getattr(config, "_attn_implementation", None)
        self.llm = Qwen2ForCausalLM(_sub_config(Qwen2Config, config.llm_cfg, attn))
        hidden = self.llm.config.hidden_size
        self.vision_tower = SiglipVisionModel(_sub_config(SiglipVisionConfig, config.vision_tower_cfg, attn))
        mm_hidden = self.vision_tower.config.hidden_size
        self.mm_projector = MultimodalProjector(config.mm_projector_cfg["mm_projector_type"], mm_hidden, hidden)
        self.depth_tower = self.depth_projector = None
        if config.depth_tower_cfg:
            self.depth_tower = SiglipVisionModel(_sub_config(SiglipVisionConfig, config.depth_tower_cfg, attn))
            self.depth_projector = MultimodalProjector(
                config.depth_projector_cfg["mm_projector_type"], self.depth_tower.config.hidden_size, hidden
            )
        self.spatial_encoder = self.spatial_projector = None
        if config.spatial_encoder_cfg:
            self.spatial_encoder = SpatialEncoder(SpatialEncoderConfig.from_dict(config.spatial_encoder_cfg))
            self.spatial_encoder.requires_grad_(False)  # frozen, as in the paper
            self.spatial_projector = SpatialProjector(self.spatial_encoder.output_dim, hidden)
        self.scale_projector = self.scale_decoder = None
        if config.scale_projector_cfg:
            dim = int(config.scale_projector_cfg["dim"])
            self.scale_projector = ScaleProjector(hidden, dim)
            self.scale_decoder = ScaleDecoder(dim, int(config.scale_decoder_cfg["hidden_size"]))
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:  # parts initialise themselves
        pass

    # -- parts -------------------------------------------------------------------------------
    def get_input_embeddings(self) -> nn.Module:
        return self.llm.get_input_embeddings()

    def _tower_features(self, tower: SiglipVisionModel, projector: MultimodalProjector, pixels: torch.Tensor) -> torch.Tensor:
        out = tower(pixel_values=pixels.to(self.dtype), output_hidden_states=True)
        feats = out.hidden_states[self.config.mm_vision_select_layer]
        if self.config.mm_vision_select_feature == "patch" and feats.shape[1] % 2:
            feats = feats[:, 1:]
        return projector(feats)

    def embed_inputs(
        self,
        input_ids: torch.Tensor,
        pixel_values: torch.Tensor | None = None,
        depth_pixel_values: torch.Tensor | None = None,
        spatial_pixel_values: torch.Tensor | None = None,
        ray_directions: torch.Tensor | None = None,
        depth_along_ray: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Token embeddings ``(B, L, hidden)`` with the media features in their placeholder rows.

        Args:
            input_ids: ``(B, L)`` with placeholder ids already expanded by the processor.
            pixel_values: ``(T, 3, S, S)`` SigLIP tiles of all images in order.
            depth_pixel_values: ``(T, 3, S, S)`` RoboRefer depth tiles.
            spatial_pixel_values: ``(B, 3, H, W)`` spatial-encoder images; ray_directions ``(B, 3, H, W)``,
                depth_along_ray ``(B, 1, H, W)`` optional geometric inputs.
        """
        embeds = self.get_input_embeddings()(input_ids)
        media = [
            (self.config.image_token_id, "image", pixel_values, lambda: self._tower_features(self.vision_tower, self.mm_projector, pixel_values)),
            (self.config.depth_token_id, "depth", depth_pixel_values, lambda: self._tower_features(self.depth_tower, self.depth_projector, depth_pixel_values)),
            (
                self.config.spatial_token_id,
                "spatial",
                spatial_pixel_values,
                lambda: self.spatial_projector(
                    self.spatial_encoder(
                        spatial_pixel_values.to(self.dtype),
                        None if ray_directions is None else ray_directions.to(self.dtype),
                        depth_along_ray,
                    )
                ),
            ),
        ]
        for token_id, name, given, features in media:
            mask = (input_ids == token_id) if token_id is not None else torch.zeros_like(input_ids, dtype=torch.bool)
            n_slots = int(mask.sum())
            if given is None:
                if n_slots:
                    raise ValueError(f"the prompt has {n_slots} {name} placeholder(s) but no {name} input was given")
                continue
            if name == "depth" and self.depth_tower is None:
                raise ValueError("depth tiles were given but this checkpoint has no depth_tower")
            if name == "spatial" and self.spatial_encoder is None:
                raise ValueError(
                    "spatial inputs were given but this checkpoint has no spatial_encoder; use input mode 'rgb'"
                )
            feats = features().reshape(-1, embeds.shape[-1])
            if feats.shape[0] != n_slots:
                raise ValueError(f"{name} features have {feats.shape[0]} rows but the prompt has {n_slots} placeholders")
            embeds = embeds.masked_scatter(mask.unsqueeze(-1), feats.to(embeds.dtype))
        return embeds

    def _log_scale(self, input_ids: torch.Tensor, last_hidden: torch.Tensor) -> torch.Tensor | None:
        if self.scale_decoder is None or self.config.scale_token_id is None:
            return None
        mask = input_ids == self.config.scale_token_id
        if not bool(mask.any(dim=1).all()):
            return None
        first = mask.int().argmax(dim=1)
        h = last_hidden[torch.arange(input_ids.shape[0], device=input_ids.device), first]
        return self.scale_decoder(self.scale_projector(h)).float()

    # -- forward / generate ------------------------------------------------------------------
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        scale_target: torch.Tensor | None = None,
        pixel_values: torch.Tensor | None = None,
        depth_pixel_values: torch.Tensor | None = None,
        spatial_pixel_values: torch.Tensor | None = None,
        ray_directions: torch.Tensor | None = None,
        depth_along_ray: torch.Tensor | None = None,
        **kwargs,
    ) -> RoboTracerOutput:
        """Teacher-forced forward; with ``labels`` (``-100`` = ignored) the SFT loss.

        ``scale_target``: ``(B,)`` ground-truth metric scale factors ``s*`` (> 0) for the scale loss.
        """
        embeds = self.embed_inputs(input_ids, pixel_values, depth_pixel_values, spatial_pixel_values, ray_directions, depth_along_ray)
        out = self.llm(inputs_embeds=embeds, attention_mask=attention_mask, labels=labels, output_hidden_states=True, use_cache=False)
        log_scale = self._log_scale(input_ids, out.hidden_states[-1])
        ntp = out.loss
        l_scale = None
        loss = ntp
        if scale_target is not None:
            if log_scale is None:
                raise ValueError("a scale target was given but the model has no scale decoder or the prompt no <SCALE> token")
            l_scale = scale_loss(log_scale, scale_target.to(log_scale.device))
            loss = l_scale * self.config.scale_loss_weight if ntp is None else ntp + self.config.scale_loss_weight * l_scale
        return RoboTracerOutput(loss=loss, ntp_loss=ntp, scale_loss=l_scale, logits=out.logits, log_scale=log_scale)

    @torch.no_grad()
    def generate(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        max_new_tokens: int = 256,
        eos_token_id: int | list[int] | None = None,
        pad_token_id: int | None = None,
        return_scale: bool = False,
        min_new_tokens: int | None = None,
        **media,
    ) -> RoboTracerGeneration:
        """Greedy decoding with the KV cache; returns the new tokens (and ``log ŝ`` if asked)."""
        embeds = self.embed_inputs(input_ids, **media)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        gen_cfg = GenerationConfig(
            do_sample=False,
            num_beams=1,
            max_new_tokens=max_new_tokens,
            min_new_tokens=min_new_tokens,
            eos_token_id=eos_token_id,
            pad_token_id=pad_token_id if pad_token_id is not None else (eos_token_id[0] if isinstance(eos_token_id, list) else eos_token_id),
            use_cache=True,
            return_dict_in_generate=True,
            output_hidden_states=return_scale,
        )
        out = self.llm.generate(inputs_embeds=embeds, attention_mask=attention_mask, generation_config=gen_cfg)
        log_scale = None
        if return_scale:
            prefill_last = out.hidden_states[0][-1]  # step 0 = the prompt, last layer
            log_scale = self._log_scale(input_ids, prefill_last)
        return RoboTracerGeneration(sequences=out.sequences, log_scale=log_scale)

    # -- checkpoints ---------------------------------------------------------------------------
    def save_pretrained(self, save_directory, tokenizer=None, **kwargs) -> None:  # noqa: D401
        """Write the NVILA-style layout (see :mod:`robotracer.model.checkpoint`)."""
        from robotracer.model.checkpoint import save_checkpoint

        save_checkpoint(self, save_directory, tokenizer=tokenizer)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, device: str | torch.device = "cpu", dtype: torch.dtype | None = None, **kwargs):
        """Load a checkpoint in the NVILA / RoboRefer / RoboTracer layout from a local folder."""
        from robotracer.model.checkpoint import load_checkpoint

        return load_checkpoint(pretrained_model_name_or_path, device=device, dtype=dtype)
