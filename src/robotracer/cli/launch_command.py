"""``robotracer launch <robot>``: run the node graph of config/<robot>.yaml (what ``ros2 launch`` does)."""

from __future__ import annotations

import argparse

from robotracer.graph import load_graph


def parse_overrides(items: list[str]) -> dict[str, dict]:
    """``node.param=value`` (value parsed as YAML) -> ``{node: {param: value}}``; nested params use dots."""
    import yaml

    out: dict[str, dict] = {}
    for item in items:
        key, sep, value = item.partition("=")
        node, dot, param = key.partition(".")
        if not sep or not dot or not param:
            raise argparse.ArgumentTypeError(f"bad override {item!r}: use node.param=value, e.g. sim.seed=3")
        target = out.setdefault(node, {})
        *parents, leaf = param.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = yaml.safe_load(value)
    return out


def register(subparsers) -> None:
    p = subparsers.add_parser("launch", help="run a robot's node graph (sim, tracer, lifter, controller, task server)")
    p.add_argument("robot", help="graph name: a config/<robot>.yaml (ur5, g1) or a path to one")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.PARAM=VALUE",
                   help="override a node parameter, e.g. --set sim.seed=3 --set tracer.backend=http")
    p.add_argument("--log-dir", help="also write each node's output to <dir>/<node>.log")
    p.set_defaults(func=run)


def run(args) -> int:
    from robotracer.cli.process_graph import ProcessGraph

    graph = load_graph(args.robot, parse_overrides(args.overrides))
    print(f"[robotracer] launching {graph.robot}: {', '.join(n.name for n in graph.nodes)} (Ctrl-C to stop)")
    with ProcessGraph(graph, log_dir=args.log_dir) as running:
        return running.wait()
