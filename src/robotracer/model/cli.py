"""``robotracer model …``: make a random checkpoint of a given size, describe a checkpoint."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    parser = subparsers.add_parser("model", help="RoboTracer model checkpoints")
    sub = parser.add_subparsers(dest="model_command", metavar="MODEL_COMMAND")
    make = sub.add_parser(
        "make-tiny-checkpoint",
        help="write a random-weight checkpoint in the release layout (for tests and wiring checks)",
    )
    make.add_argument("dir", help="output folder")
    make.add_argument("--size", choices=("tiny", "2b"), default="tiny", help="tiny (hidden 32) or the full 2B configuration")
    make.add_argument("--seed", type=int, default=0)
    make.set_defaults(func=_make)
    info = sub.add_parser("info", help="describe a checkpoint folder without loading its weights")
    info.add_argument("dir")
    info.set_defaults(func=_info)
    parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _make(args: argparse.Namespace) -> int:
    import torch

    from robotracer.model.modeling import RoboTracerForConditionalGeneration
    from robotracer.model.presets import build_tokenizer, config_for_size

    tokenizer = build_tokenizer()
    torch.manual_seed(args.seed)
    model = RoboTracerForConditionalGeneration(config_for_size(args.size, tokenizer))
    model.save_pretrained(args.dir, tokenizer=tokenizer)
    print(f"wrote a random {args.size} RoboTracer checkpoint to {args.dir}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from robotracer.model.checkpoint import CheckpointError, describe

    try:
        print(json.dumps(describe(args.dir), indent=2))
    except CheckpointError as exc:
        print(f"error: {exc}")
        return 1
    return 0
