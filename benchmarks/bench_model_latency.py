"""Latency of one RoboTracer trace: a 640x480 RGB-D frame in, an 80-token answer out.

Random weights (no checkpoint needed): ``--size 2b`` is the full configuration (Qwen2.5-1.5B,
SigLIP so400m at 448 with 12 tiles + thumbnail, MapAnything-sized spatial encoder);
``--size tiny`` is the test configuration. On CUDA: bf16, SDPA attention, greedy decoding with
the KV cache; exactly ``--new-tokens`` tokens are generated (EOS disabled).

    python benchmarks/bench_model_latency.py --device cuda --size 2b            # target < 250 ms on an H100
    python benchmarks/bench_model_latency.py --device cpu --size tiny

Reports the median / p90 wall time per trace (processor + model), the prefill time, the number
of prompt tokens and the peak GPU memory.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from robotracer.geometry.camera import Intrinsics
from robotracer.model.modeling import RoboTracerForConditionalGeneration
from robotracer.model.presets import SIZES, build_tokenizer, config_for_size
from robotracer.model.processing import RoboTracerProcessor
from robotracer.model.prompts import trace_prompt


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--size", choices=SIZES, default="2b")
    ap.add_argument("--dtype", choices=("auto", "bfloat16", "float16", "float32"), default="auto")
    ap.add_argument("--mode", default="rgb+intrinsics+depth")
    ap.add_argument("--new-tokens", type=int, default=80)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    args = ap.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda requested but CUDA is not available; use --device cpu --size tiny")
    dtype = {"auto": torch.bfloat16 if args.device.startswith("cuda") else torch.float32}.get(args.dtype) or getattr(torch, args.dtype)

    tokenizer = build_tokenizer()
    config = config_for_size(args.size, tokenizer)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    t0 = time.perf_counter()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(args.device):
            model = RoboTracerForConditionalGeneration(config).eval()
    finally:
        torch.set_default_dtype(previous)
    build_s = time.perf_counter() - t0
    processor = RoboTracerProcessor.from_config(config, tokenizer)
    params = sum(p.numel() for p in model.parameters())

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (args.height, args.width, 3), dtype=np.uint8)
    depth = rng.uniform(0.4, 3.0, (args.height, args.width)).astype(np.float32)
    K = Intrinsics(600.0, 600.0, (args.width - 1) / 2, (args.height - 1) / 2, args.width, args.height)
    prompt = trace_prompt("put the red cup to the left of the plate")

    def one() -> tuple[float, float, int]:
        _sync(args.device)
        t = time.perf_counter()
        inputs = processor(rgb, prompt, args.mode, intrinsics=K, depth=depth)
        inputs = {k: v.to(args.device) for k, v in inputs.items()}
        with torch.inference_mode():
            tp = time.perf_counter()
            model.generate(**inputs, max_new_tokens=1, min_new_tokens=1, eos_token_id=None)
            _sync(args.device)
            prefill = time.perf_counter() - tp
            out = model.generate(**inputs, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, eos_token_id=None)
        _sync(args.device)
        assert out.sequences.shape[1] == args.new_tokens
        return time.perf_counter() - t - prefill, prefill, int(inputs["input_ids"].shape[1])

    for _ in range(args.warmup):
        one()
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    results = [one() for _ in range(args.runs)]
    totals = sorted(r[0] for r in results)
    report = {
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
        "size": args.size,
        "dtype": str(dtype).removeprefix("torch."),
        "mode": args.mode,
        "parameters_M": round(params / 1e6, 1),
        "build_s": round(build_s, 2),
        "prompt_tokens": results[0][2],
        "new_tokens": args.new_tokens,
        "trace_ms_median": round(1000 * statistics.median(totals), 1),
        "trace_ms_p90": round(1000 * totals[int(0.9 * (len(totals) - 1))], 1),
        "prefill_ms_median": round(1000 * statistics.median(r[1] for r in results), 1),
        "peak_gpu_memory_GiB": round(torch.cuda.max_memory_allocated() / 2**30, 2) if args.device.startswith("cuda") else None,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
