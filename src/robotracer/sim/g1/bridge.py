"""unitree_sdk2py bridge for the simulated G1 (in the spirit of Unitree's ``unitree_mujoco``).

Runs :class:`~robotracer.sim.g1.sim.G1Sim` in real time at its 500 Hz physics rate and speaks the
robot's DDS topics on the loopback interface:

- publishes ``rt/lowstate`` (``LowState_``: 29 motor states + pelvis IMU, CRC-stamped) and, with
  hands, ``rt/dex3/{left,right}/state`` (``HandState_``);
- consumes ``rt/lowcmd`` and ``rt/arm_sdk`` (``LowCmd_``; the arm-SDK blend weight in
  ``motor_cmd[29].q``) and ``rt/dex3/{left,right}/cmd`` (``HandCmd_``). ``LowCmd_`` messages whose
  CRC does not match are dropped, as the real robot does.

Optionally renders the head camera at ``camera_hz`` in its own process and hands each
:class:`~robotracer.sim.camera.CameraFrame` to a callback, and calls ``on_step(sim)`` in the
physics thread after every step (where a host such as the ROS sim node publishes on the
simulation clock, and may reset the scene between two steps).

Run it as a process: ``python -m robotracer.sim.g1.bridge --domain 7`` (``--help`` lists options).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

from robotracer.robots.g1 import joints as J  # noqa: E402
from robotracer.robots.g1 import sdk  # noqa: E402
from robotracer.sim.g1.scene import G1SceneConfig  # noqa: E402
from robotracer.sim.g1.sim import G1Sim, MotorCommand  # noqa: E402


@dataclass(frozen=True)
class BridgeConfig:
    """Bridge settings.

    Attributes:
        domain_id: DDS domain (use a non-default one for tests).
        interface: network interface for DDS (loopback only in this project).
        state_hz: ``rt/lowstate`` publish rate (the robot's is 500 Hz).
        hand_state_hz: ``rt/dex3/*/state`` publish rate.
        camera_hz: head camera render rate, wall clock (0 = no rendering); frames are drawn in a
            separate process (:class:`~robotracer.sim.g1.camera_process.HeadCameraProcess`).
        render_threads: Mesa llvmpipe threads of the camera process (0 = Mesa's default).
        lowcmd_timeout: seconds after which a silent ``rt/lowcmd`` stream stops overriding.
        realtime: pace the simulation to the wall clock (False: as fast as possible).
    """

    domain_id: int = 1
    interface: str = "lo"
    state_hz: float = 500.0
    hand_state_hz: float = 100.0
    camera_hz: float = 0.0
    render_threads: int = 0
    lowcmd_timeout: float = 0.2
    realtime: bool = True


@dataclass
class BridgeStats:
    """Counters of a run: steps, wall and sim seconds, messages, dropped CRC failures, frames, and the
    wall seconds spent stepping physics (with the motor PD and grasp model), publishing ``rt/lowstate``
    and the hand states, applying received commands in the loop and decoding them in the DDS threads."""

    steps: int = 0
    wall_seconds: float = 0.0
    sim_seconds: float = 0.0
    states_published: int = 0
    lowcmd_received: int = 0
    arm_sdk_received: int = 0
    hand_cmd_received: int = 0
    crc_rejected: int = 0
    frames_rendered: int = 0
    physics_seconds: float = 0.0
    state_publish_seconds: float = 0.0
    command_apply_seconds: float = 0.0
    command_decode_seconds: float = 0.0
    max_pelvis_tilt: float = 0.0
    min_pelvis_height: float = float("inf")

    @property
    def real_time_factor(self) -> float:
        return self.sim_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0


def _motor_command(a: sdk.MotorArrays) -> MotorCommand:
    return MotorCommand(a.q, a.dq, a.kp, a.kd, a.tau, a.mode != 0)


class G1SdkBridge:
    """Connects a :class:`G1Sim` to the SDK's DDS topics. Drive it with :meth:`run` (blocking) or :meth:`start`."""

    def __init__(
        self,
        sim: G1Sim,
        config: BridgeConfig = BridgeConfig(),
        on_frame: Callable | None = None,
        on_step: Callable[[G1Sim], None] | None = None,
    ) -> None:
        self.sim = sim
        self.config = config
        self.on_frame = on_frame
        self.on_step = on_step
        self.stats = BridgeStats()
        self._lock = threading.Lock()
        self._pending_lowcmd: tuple[float, MotorCommand] | None = None
        self._pending_arm: tuple[MotorCommand, float] | None = None
        self._pending_hand: dict[str, MotorCommand] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reset_request = threading.Event()
        self._camera = None  # HeadCameraProcess, started by the first run() with camera_hz > 0
        sdk.init_channels(config.domain_id, config.interface)
        # rt/lowstate, rt/lowcmd, rt/arm_sdk and the hand states travel as serialized samples built and
        # read with numpy (sdk.LowStateEncoder, sdk.decode_lowcmd): byte-identical to the SDK's messages
        self._state_encoder = sdk.LowStateEncoder()
        self._state_pub = sdk.RawPublisher(sdk.TOPIC_LOWSTATE, sdk.LowState_)
        self._subs = [
            sdk.RawSubscriber(sdk.TOPIC_LOWCMD, sdk.LowCmd_, self._on_lowcmd),
            sdk.RawSubscriber(sdk.TOPIC_ARM_SDK, sdk.LowCmd_, self._on_arm_sdk),
        ]
        self._hand_pubs, self._hand_encoders, self._hand_cmd_subs = {}, {}, []
        for side in sim.scene.hand_actuator:
            cmd_topic, state_topic = J.HAND_TOPICS[side]
            sub = sdk.ChannelSubscriber(cmd_topic, sdk.HandCmd_)
            sub.Init(lambda msg, side=side: self._on_hand_cmd(side, msg), 10)
            self._hand_cmd_subs.append(sub)
            self._hand_pubs[side] = sdk.RawPublisher(state_topic, sdk.HandState_)
            self._hand_encoders[side] = sdk.HandStateEncoder()

    # -- DDS callbacks (reader threads) -------------------------------------------------------
    def _decode_command(self, payload: bytes) -> tuple[MotorCommand, float] | None:
        """A ``LowCmd_`` sample's command and arm-SDK weight; None (counted) if it is not one or its CRC fails."""
        t0 = time.perf_counter()
        try:
            arrays, weight, crc_ok = sdk.decode_lowcmd(payload)
        except ValueError:  # not a unitree_hg LowCmd_
            crc_ok = False
        self.stats.command_decode_seconds += time.perf_counter() - t0
        if not crc_ok:
            self.stats.crc_rejected += 1
            return None
        return _motor_command(arrays), weight

    def _on_lowcmd(self, payload: bytes) -> None:
        decoded = self._decode_command(payload)
        if decoded is not None:
            with self._lock:
                self._pending_lowcmd = (time.monotonic(), decoded[0])
                self.stats.lowcmd_received += 1

    def _on_arm_sdk(self, payload: bytes) -> None:
        decoded = self._decode_command(payload)
        if decoded is not None:
            with self._lock:
                self._pending_arm = decoded
                self.stats.arm_sdk_received += 1

    def _on_hand_cmd(self, side: str, msg: sdk.HandCmd_) -> None:
        try:
            cmd = _motor_command(sdk.hand_cmd_arrays(msg))
        except ValueError:
            return
        with self._lock:
            self._pending_hand[side] = cmd
            self.stats.hand_cmd_received += 1

    # -- loop ---------------------------------------------------------------------------------
    def _apply_commands(self) -> None:
        with self._lock:
            lowcmd, arm, hands = self._pending_lowcmd, self._pending_arm, dict(self._pending_hand)
            self._pending_hand.clear()
        if lowcmd is not None and time.monotonic() - lowcmd[0] < self.config.lowcmd_timeout:
            self.sim.set_lowcmd(lowcmd[1])
        else:
            self.sim.set_lowcmd(None)
        if arm is not None:
            self.sim.set_arm_sdk(*arm)
        for side, cmd in hands.items():
            self.sim.set_hand(side, cmd)

    def _publish_state(self) -> None:
        s = self.sim
        imu = s.imu()
        tick = int(round(s.time * 1000))
        payload = self._state_encoder.encode(
            s.motor_q(), s.motor_dq(), s.last_body_torque, imu.quaternion, imu.rpy, imu.gyroscope, imu.accelerometer, tick
        )
        self._state_pub.write(payload)
        self.stats.states_published += 1

    def _publish_hands(self) -> None:
        for side, pub in self._hand_pubs.items():
            pub.write(self._hand_encoders[side].encode(self.sim.hand_q(side), self.sim.hand_dq(side)))

    def _on_camera_frame(self, frame) -> None:
        self.stats.frames_rendered += 1
        if self.on_frame is not None:
            self.on_frame(frame)

    def run(self, duration: float | None = None) -> BridgeStats:
        """Step, publish and consume until :meth:`stop` (or for ``duration`` simulated seconds)."""
        cfg, sim = self.config, self.sim
        dt = sim.timestep
        state_every = max(1, int(round(1.0 / (cfg.state_hz * dt))))
        hand_every = max(1, int(round(1.0 / (cfg.hand_state_hz * dt))))
        camera, camera_period = None, 0.0
        if cfg.camera_hz > 0:
            if self._camera is None:  # started once, kept until close()
                from robotracer.sim.g1.camera_process import HeadCameraProcess

                self._camera = HeadCameraProcess(sim.scene, on_frame=self._on_camera_frame, render_threads=cfg.render_threads)
            camera, camera_period = self._camera, 1.0 / cfg.camera_hz
        t_start, sim_start = time.monotonic(), sim.time
        next_frame = t_start
        step = 0
        try:
            while not self._stop.is_set() and (duration is None or sim.time - sim_start < duration - 1e-9):
                if self._reset_request.is_set():
                    sim.reset()
                    self._reset_request.clear()
                t0 = time.perf_counter()
                self._apply_commands()
                t1 = time.perf_counter()
                sim.step(1)
                t2 = time.perf_counter()
                step += 1
                if step % 10 == 0:
                    self.stats.max_pelvis_tilt = max(self.stats.max_pelvis_tilt, sim.pelvis_tilt())
                    self.stats.min_pelvis_height = min(self.stats.min_pelvis_height, sim.pelvis_height())
                if step % state_every == 0:
                    self._publish_state()
                if self._hand_pubs and step % hand_every == 0:
                    self._publish_hands()
                t3 = time.perf_counter()
                self.stats.command_apply_seconds += t1 - t0
                self.stats.physics_seconds += t2 - t1
                self.stats.state_publish_seconds += t3 - t2
                if self.on_step is not None:
                    self.on_step(sim)
                if camera is not None and time.monotonic() >= next_frame and camera.submit(sim.data, wait=0.0):
                    # the camera process draws this state while physics goes on (wall-clock rate)
                    next_frame = max(next_frame + camera_period, time.monotonic())
                if cfg.realtime:
                    ahead = (sim.time - sim_start) - (time.monotonic() - t_start)
                    if ahead > 0.002:
                        time.sleep(ahead)
        finally:
            self.stats.steps += step
            self.stats.wall_seconds += time.monotonic() - t_start
            self.stats.sim_seconds += sim.time - sim_start
        return self.stats

    def reset(self, wait: float = 5.0) -> None:
        """Put the scene back to its start between two physics steps (the clock keeps running)."""
        self._reset_request.set()
        deadline = time.monotonic() + wait
        while self._reset_request.is_set() and time.monotonic() < deadline:
            time.sleep(0.001)

    def start(self) -> None:
        """Run in a background thread until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="g1-sdk-bridge", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def close(self) -> None:
        self.stop()
        if self._camera is not None:
            self._camera.close()
            self._camera = None
        for sub in self._subs:
            sub.close()
        for sub in self._hand_cmd_subs:
            sub.Close()
        self._state_pub.close()
        for pub in self._hand_pubs.values():
            pub.close()


def serve(config: BridgeConfig, scene: G1SceneConfig, conn) -> None:
    """Run a bridge in this process and answer ground-truth queries on a ``multiprocessing`` connection.

    Requests are tuples: a :class:`G1Sim` query (``("object_top", name)``, ``("object_pose", name)``,
    ``("body_pose", body)``, ``("head_camera_pose",)``...), ``("reset",)``, ``("stats",)``,
    ``("reset_stats",)``, ``("stop",)``. Each answer is the value or an ``Exception``. For tests and benchmarks
    that need the simulator's ground truth while the robot code runs in another process.
    """
    sim = G1Sim(scene)
    bridge = G1SdkBridge(sim, config)
    bridge.start()
    conn.send("ready")
    try:
        while True:
            request = conn.recv()
            if request[0] == "stop":
                break
            try:
                if request[0] == "stats":
                    answer = bridge.stats
                elif request[0] == "reset_stats":
                    bridge.stats.max_pelvis_tilt, bridge.stats.min_pelvis_height = 0.0, float("inf")
                    answer = None
                elif request[0] == "reset":
                    answer = bridge.reset()
                else:
                    answer = getattr(sim, request[0])(*request[1:])
            except Exception as exc:  # answered to the caller, not raised here
                answer = exc
            conn.send(answer)
    finally:
        bridge.close()
        conn.send(bridge.stats)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Simulated Unitree G1 speaking unitree_sdk2py DDS topics on loopback.")
    p.add_argument("--domain", type=int, default=1, help="DDS domain id (default 1)")
    p.add_argument("--interface", default="lo", help="network interface (default lo)")
    p.add_argument("--duration", type=float, default=0.0, help="simulated seconds to run (0 = until killed)")
    p.add_argument("--camera-hz", type=float, default=0.0, help="render the head camera at this rate")
    p.add_argument("--state-hz", type=float, default=500.0, help="rt/lowstate rate")
    p.add_argument("--pelvis-mode", choices=("free", "fixed"), default="free")
    p.add_argument("--no-hands", action="store_true", help="29-DoF model without Dex3 hands")
    args = p.parse_args(argv)
    sim = G1Sim(G1SceneConfig(variant="g1" if args.no_hands else "g1_with_hands", pelvis_mode=args.pelvis_mode))
    bridge = G1SdkBridge(sim, BridgeConfig(args.domain, args.interface, state_hz=args.state_hz, camera_hz=args.camera_hz))
    print(f"g1 bridge: domain {args.domain} on {args.interface}, {1 / sim.timestep:.0f} Hz", flush=True)
    try:
        stats = bridge.run(args.duration or None)
    except KeyboardInterrupt:
        stats = bridge.stats
    print(
        f"g1 bridge: {stats.steps} steps, real-time factor {stats.real_time_factor:.2f}, "
        f"{stats.states_published} states, {stats.arm_sdk_received} arm_sdk, {stats.lowcmd_received} lowcmd, "
        f"{stats.crc_rejected} bad CRC, {stats.frames_rendered} frames",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
