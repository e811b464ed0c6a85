"""Model sizes: the full 2B configuration (NVILA-Lite-2B / RoboRefer-2B + RoboTracer parts) and a tiny one.

No weights can be downloaded here, so a local byte-level BPE tokenizer with Qwen2's special and
media tokens stands in for Qwen's tokenizer in tests and benchmarks; real checkpoints carry theirs
in ``llm/``.
"""

from __future__ import annotations

from robotracer.model.configuration import DEPTH_TOKEN, IMAGE_TOKEN, SCALE_TOKEN, SPATIAL_TOKEN, RoboTracerConfig
from robotracer.model.prompts import PROMPT_2D, PROMPT_3D

QWEN2_SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "[BOS]", "[PAD]", "<vila/sentinel>")
MEDIA_TOKENS = (IMAGE_TOKEN, "<vila/video>", DEPTH_TOKEN, SPATIAL_TOKEN, SCALE_TOKEN)
SIZES = ("tiny", "2b")


def build_tokenizer(vocab_size: int = 400):
    """A small byte-level BPE tokenizer (Qwen2 special tokens + media tokens), trained on the prompts."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [
        PROMPT_3D.format(instruction="put the red cup left of the plate"),
        PROMPT_2D.format(instruction="move the apple into the bowl"),
        "[(412, 530, 0.82), (455, 480, 0.79), (600, 512, 0.91)] <think> </think> <answer> </answer>",
        "You are a helpful assistant system user assistant 0123456789 .,()[]",
    ]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus * 4, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=32768, clean_up_tokenization_spaces=False)
    fast.add_special_tokens(
        {"eos_token": "<|im_end|>", "pad_token": "[PAD]", "additional_special_tokens": list(QWEN2_SPECIAL_TOKENS + MEDIA_TOKENS)}
    )
    return fast


def _token_ids(tokenizer) -> dict[str, int]:
    return {
        "image_token_id": tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        "depth_token_id": tokenizer.convert_tokens_to_ids(DEPTH_TOKEN),
        "spatial_token_id": tokenizer.convert_tokens_to_ids(SPATIAL_TOKEN),
        "scale_token_id": tokenizer.convert_tokens_to_ids(SCALE_TOKEN),
    }


def tiny_config(tokenizer, spatial: bool = True, scale: bool = True, depth_tower: bool = False) -> RoboTracerConfig:
    """Hidden 32, 2 layers everywhere; 56-px tiles (16 patches → 4 tokens per tile), up to 4 tiles."""
    vt = dict(
        model_type="siglip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, image_size=56, patch_size=14, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6,
        vision_use_head=False,
    )
    llm = dict(
        model_type="qwen2", vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096, rope_theta=1e6,
        tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    proj = {"mm_projector_type": "mlp_downsample_3x3_fix"}
    cfg = dict(llm_cfg=llm, vision_tower_cfg=vt, mm_projector_cfg=proj, max_tiles=4, **_token_ids(tokenizer))
    if spatial:
        cfg["spatial_encoder_cfg"] = dict(
            image_size=56, patch_size=14,
            dinov2=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64),
            dense_intermediate_dims=[16, 16], global_intermediate_dims=[16], info_sharing_dim=32,
            info_sharing_depth=2, info_sharing_heads=4,
        )
        cfg["spatial_projector_cfg"] = {"mm_projector_type": "linear"}
    if scale:
        cfg["scale_projector_cfg"] = {"dim": 16}
        cfg["scale_decoder_cfg"] = {"hidden_size": 16}
    if depth_tower:
        cfg["depth_tower_cfg"] = dict(vt)
        cfg["depth_projector_cfg"] = dict(proj)
        cfg["enable_depth"] = cfg["use_depth_tower"] = True
    return RoboTracerConfig(**cfg)


def nvila_2b_config(tokenizer, vocab_size: int = 151936) -> RoboTracerConfig:
    """The full-size 2B configuration.

    Qwen2.5-1.5B LLM (hidden 1536, 28 layers, 12 heads / 2 KV heads), SigLIP so400m-patch14-448
    (27 layers, width 1152), ``mlp_downsample_3x3_fix`` (121 tokens per tile), dynamic tiling
    1…12 + thumbnail; MapAnything-sized spatial encoder (DINOv2 ViT-L/14 at 518 px, 24-layer
    768-wide alternating-attention transformer).
    """
    if vocab_size < len(tokenizer):
        raise ValueError(f"vocab_size {vocab_size} is smaller than the tokenizer ({len(tokenizer)} tokens)")
    llm = dict(
        model_type="qwen2", vocab_size=vocab_size, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
        num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=32768, rope_theta=1e6,
        rms_norm_eps=1e-6, tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    vt = dict(
        model_type="siglip_vision_model", hidden_size=1152, intermediate_size=4304, num_hidden_layers=27,
        num_attention_heads=16, image_size=448, patch_size=14, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6,
        vision_use_head=False,
    )
    return RoboTracerConfig(
        llm_cfg=llm,
        vision_tower_cfg=vt,
        mm_projector_cfg={"mm_projector_type": "mlp_downsample_3x3_fix"},
        spatial_encoder_cfg={"image_size": 518, "patch_size": 14},
        spatial_projector_cfg={"mm_projector_type": "linear"},
        scale_projector_cfg={"dim": 512},
        scale_decoder_cfg={"hidden_size": 512},
        max_tiles=12,
        **_token_ids(tokenizer),
    )


def config_for_size(size: str, tokenizer) -> RoboTracerConfig:
    if size == "tiny":
        return tiny_config(tokenizer)
    if size == "2b":
        return nvila_2b_config(tokenizer)
    raise ValueError(f"unknown model size {size!r}; valid: {', '.join(SIZES)}")
