"""The arm contract: registry, clipping, the MuJoCo driver, the ur_rtde driver against fakes (no network)."""

from __future__ import annotations

import socket
import threading

import numpy as np
import pytest

from robotracer.robots.base import ArmRobot, RobotNotConnectedError, clip_joint_command, make_robot, robot_names
from robotracer.robots.ur5e.mujoco_driver import UR5eMujocoConfig, UR5eMujocoRobot
from robotracer.robots.ur5e.rtde_driver import RobotiqURCapGripper, UR5eRTDEConfig, UR5eRTDERobot, UR5E_JOINT_LIMITS


def test_registry_builds_by_name_or_config_and_lists_choices():
    assert {"ur5e_mujoco", "ur5e_rtde"} <= set(robot_names())
    assert isinstance(make_robot("ur5e_mujoco"), UR5eMujocoRobot)
    assert isinstance(make_robot(UR5eRTDEConfig(host="127.0.0.1")), UR5eRTDERobot)
    with pytest.raises(KeyError, match="known robots: .*ur5e_mujoco"):
        make_robot("ur10")


def test_configs_validate():
    with pytest.raises(ValueError, match="lookahead_time"):
        UR5eRTDEConfig(host="127.0.0.1", lookahead_time=0.5)
    with pytest.raises(ValueError, match="choices: robotiq_urcap, none"):
        UR5eRTDEConfig(host="127.0.0.1", gripper="hand-e")
    with pytest.raises(ValueError, match="multiple of the physics timestep"):
        UR5eMujocoConfig(control_period=0.003)


def test_clip_joint_command_limits_position_and_velocity():
    ref = np.zeros(6)
    q, clipped = clip_joint_command(np.full(6, 0.001), ref, UR5E_JOINT_LIMITS, 1.0, 0.01)
    assert not clipped and np.allclose(q, 0.001)
    q, clipped = clip_joint_command(np.full(6, 1.0), ref, UR5E_JOINT_LIMITS, 1.0, 0.01)
    assert clipped and np.allclose(q, 0.01)
    q, clipped = clip_joint_command(np.array([0, 0, 4.0, 0, 0, 0]), np.array([0, 0, 3.1, 0, 0, 0]), UR5E_JOINT_LIMITS, 100.0, 0.01)
    assert clipped and q[2] == pytest.approx(np.pi)
    with pytest.raises(ValueError, match="NaN"):
        clip_joint_command(np.full(6, np.nan), ref, UR5E_JOINT_LIMITS, 1.0, 0.01)


@pytest.mark.slow
def test_mujoco_driver_follows_commands_and_stops():
    robot: ArmRobot = make_robot("ur5e_mujoco")
    with pytest.raises(RobotNotConnectedError, match="connect"):
        robot.get_observation()
    with robot:
        obs = robot.get_observation()
        assert obs.joint_names == robot.joint_names and obs.positions.shape == (6,)
        goal = obs.positions + np.array([0.3, -0.2, 0.2, 0.1, 0.0, 0.5])
        sent = robot.send_action(goal, 1.0)
        assert sent.clipped and np.max(np.abs(sent.q_target - obs.positions)) <= np.pi / 2 * 0.01 + 0.02
        for _ in range(200):
            robot.send_action(goal, 1.0)
        obs2 = robot.get_observation()
        np.testing.assert_allclose(obs2.positions, goal, atol=0.03)
        assert obs2.gripper > 0.9 and obs2.stamp > obs.stamp
        robot.stop()
        q_hold = robot.get_observation().positions
        robot.sim.step(200)
        np.testing.assert_allclose(robot.get_observation().positions, q_hold, atol=0.02)
    assert not robot.is_connected


class FakeRTDE:
    """Stands in for RTDEControlInterface + RTDEReceiveInterface and records the calls."""

    def __init__(self, q0):
        self.q = list(q0)
        self.calls: list[tuple] = []

    # receive
    def getActualQ(self):
        return list(self.q)

    def getActualQd(self):
        return [0.0] * 6

    def getTimestamp(self):
        return 12.5

    # control
    def initPeriod(self):
        return 0

    def waitPeriod(self, t0):
        pass

    def servoJ(self, q, speed, acc, t, lookahead, gain):
        self.calls.append(("servoJ", tuple(q), t, lookahead, gain))
        self.q = list(q)
        return True

    def servoStop(self):
        self.calls.append(("servoStop",))

    def stopScript(self):
        self.calls.append(("stopScript",))

    def disconnect(self):
        self.calls.append(("disconnect",))


class FakeGripper:
    def __init__(self):
        self.moves: list[float] = []
        self.connected = False

    def connect(self):
        self.connected = True

    def disconnect(self):
        self.connected = False

    def move(self, c):
        self.moves.append(c)

    def closure(self):
        return self.moves[-1] if self.moves else 0.0


def test_rtde_driver_streams_clipped_servoj_and_stops():
    q0 = np.array([0.0, -1.57, 1.57, -1.57, -1.57, 0.0])
    fake, grip = FakeRTDE(q0), FakeGripper()
    cfg = UR5eRTDEConfig(host="127.0.0.1", control_period=0.008, max_joint_velocity=1.0)
    robot = UR5eRTDERobot(cfg, interfaces=lambda host: (fake, fake), gripper=grip)
    with robot:
        assert grip.connected
        # a recorded sequence: a small step, a too-large jump, then the gripper closing
        a1 = robot.send_action(q0 + 0.004, 0.0)
        a2 = robot.send_action(q0 + 1.0, 0.0)
        a3 = robot.send_action(q0 + 1.0, 1.0)
        assert not a1.clipped and a2.clipped
        np.testing.assert_allclose(a2.q_target, q0 + 0.004 + 0.008)
        np.testing.assert_allclose(a3.q_target, q0 + 0.004 + 0.016)
        assert [c[0] for c in fake.calls] == ["servoJ"] * 3
        assert fake.calls[0][2:] == (0.008, 0.1, 300.0)
        assert grip.moves == [1.0]
        obs = robot.get_observation()
        np.testing.assert_allclose(obs.positions, a3.q_target)
        assert obs.gripper == 1.0 and obs.stamp == 12.5
        robot.stop()
    # stop(), then disconnect(): servo off, script off, both interfaces (one fake here) closed
    assert [c[0] for c in fake.calls[3:]] == ["servoStop", "servoStop", "stopScript", "disconnect", "disconnect"]
    assert not grip.connected


def test_rtde_driver_needs_a_host():
    with pytest.raises(Exception, match="host is empty"):
        UR5eRTDERobot(UR5eRTDEConfig(), interfaces=lambda h: (None, None)).connect()


def test_robotiq_urcap_gripper_protocol_on_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    received: list[str] = []
    state = {"POS": 0, "ACT": 0}

    def serve():
        conn, _ = server.accept()
        with conn:
            buf = b""
            while True:
                data = conn.recv(1024)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    cmd = line.decode().split()
                    received.append(line.decode())
                    if cmd[0] == "SET":
                        state[cmd[1]] = int(cmd[2])
                        conn.sendall(b"ack")
                    else:
                        conn.sendall(f"{cmd[1]} {state.get(cmd[1], 0)}".encode())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    g = RobotiqURCapGripper("127.0.0.1", port, speed=200, force=50)
    g.connect()
    g.move(1.0)
    assert g.closure() == pytest.approx(1.0)
    g.move(0.5)
    g.disconnect()
    thread.join(timeout=2)
    server.close()
    assert received[:5] == ["GET ACT", "SET ACT 1", "SET GTO 1", "SET SPE 200", "SET FOR 50"]
    assert received[5:] == ["SET POS 255", "GET POS", "SET POS 128"]
