"""The node graph of a robot, read from ``config/<robot>.yaml``.

One file describes which nodes run and with which parameters; both
``launch/<robot>.launch.py`` (for ``ros2 launch``) and ``robotracer launch <robot>``
build the graph from it, so they cannot drift. Layout of the file::

    robot: ur5e
    shared:            # merged into every node's parameters (frames, camera extrinsics...)
      use_sim_time: true
    nodes:
      sim:             # node name
        executable: sim_node        # robotracer/lib/robotracer/<executable>, module robotracer.ros.nodes.<executable>
        parameters: {...}
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class GraphConfigError(ValueError):
    """The graph configuration is missing or malformed."""


@dataclass(frozen=True)
class NodeSpec:
    """One node of the graph: its ROS name, executable and (nested) parameters."""

    name: str
    executable: str
    parameters: dict = field(default_factory=dict)

    @property
    def module(self) -> str:
        return f"robotracer.ros.nodes.{self.executable}"

    def params_file_content(self) -> dict:
        """The node's parameters in ROS 2 params-file layout (``{name: {ros__parameters: ...}}``)."""
        return {self.name: {"ros__parameters": copy.deepcopy(self.parameters)}}


@dataclass(frozen=True)
class GraphSpec:
    robot: str
    nodes: tuple[NodeSpec, ...]
    source: Path

    def node(self, name: str) -> NodeSpec:
        for n in self.nodes:
            if n.name == name:
                return n
        raise GraphConfigError(f"no node {name!r} in {self.source.name}; nodes: {', '.join(n.name for n in self.nodes)}")


def config_dir() -> Path:
    """The installed (or source-tree) ``config/`` folder."""
    here = Path(__file__).resolve()
    candidates = []
    try:
        from robotracer.ros.environment import package_share_dir

        candidates.append(Path(package_share_dir()) / "config")
    except Exception:  # environment helper missing or no share dir: fall back to the source tree
        pass
    candidates.append(here.parents[2] / "config")  # <repo>/src/robotracer/graph.py -> <repo>/config
    for c in candidates:
        if c.is_dir():
            return c
    raise GraphConfigError(f"no robotracer config folder found; looked in: {', '.join(map(str, candidates))}")


def available_robots() -> list[str]:
    return sorted(p.stem for p in config_dir().glob("*.yaml") if _is_graph_file(p))


def _is_graph_file(path: Path) -> bool:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and "nodes" in data


def load_graph(robot_or_path: str | Path, overrides: dict[str, dict] | None = None) -> GraphSpec:
    """Read a graph by robot name (``ur5``) or path; ``overrides`` = ``{node: {param: value}}`` merged last."""
    path = Path(robot_or_path)
    if path.suffix != ".yaml":
        path = config_dir() / f"{robot_or_path}.yaml"
        if not path.exists():
            raise GraphConfigError(f"unknown robot {robot_or_path!r}; available: {', '.join(available_robots())}")
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), dict):
        raise GraphConfigError(f"{path.name}: expected a mapping with a 'nodes' section")
    shared = data.get("shared") or {}
    nodes = []
    for name, body in data["nodes"].items():
        if not isinstance(body, dict) or "executable" not in body:
            raise GraphConfigError(f"{path.name}: node {name!r} needs an 'executable'")
        params = _merge(copy.deepcopy(shared), body.get("parameters") or {})
        if overrides and name in overrides:
            params = _merge(params, overrides[name])
        nodes.append(NodeSpec(name=name, executable=str(body["executable"]), parameters=params))
    return GraphSpec(robot=str(data.get("robot", path.stem)), nodes=tuple(nodes), source=path)


def _merge(base: dict, extra: dict) -> dict:
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            base[k] = _merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def flatten_parameters(params: dict, prefix: str = "") -> dict:
    """Nested parameters -> ROS dotted names (``{'backend': {'url': x}}`` -> ``{'backend.url': x}``)."""
    flat = {}
    for k, v in params.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            flat.update(flatten_parameters(v, key + "."))
        else:
            flat[key] = v
    return flat
