"""``robotracer`` entry point.

Each command lives in its own module exposing ``register(subparsers)``, which adds an
argparse sub-parser and sets ``func`` (called with the parsed args, returns an exit
code). Modules are imported only when present, so optional parts (bench, model) add
their commands without the core depending on them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "robotracer.cli.launch_command",  # robotracer launch ur5|g1
    "robotracer.cli.trace_command",  # robotracer trace "put the cup left of the plate"
    "robotracer.cli.demo_command",  # robotracer demo
    "robotracer.cli.estop_command",  # robotracer estop [--release]
    "robotracer.bench.cli",  # robotracer bench tracespatial|make-sim
    "robotracer.model.cli",  # robotracer model ...
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="robotracer", description="RoboTracer spatial tracing on ROS 2 robots.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # that part of the package is not there
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
