"""The simulation bridge and the driver talk unitree_sdk2py DDS on loopback across processes."""

import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from robotracer.robots.g1 import joints as J
from robotracer.robots.g1 import sdk
from robotracer.robots.g1.driver import G1Driver, G1DriverConfig

DOMAIN = 87  # unitree_sdk2py channels are initialised once per process: every G1 test module uses one domain


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_lowstate_and_arm_sdk_round_trip_between_processes():
    env = dict(os.environ, MUJOCO_GL="egl")
    bridge = subprocess.Popen(
        [sys.executable, "-m", "robotracer.sim.g1.bridge", "--domain", str(DOMAIN), "--duration", "12", "--pelvis-mode", "fixed"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        driver = G1Driver(G1DriverConfig(domain_id=DOMAIN, interface="lo", weight_rate=2.0))
        driver.connect(timeout=30.0)
        q0 = driver.state().q
        np.testing.assert_allclose(q0[list(J.LEFT_ARM)], J.STAND_POSTURE[list(J.LEFT_ARM)], atol=0.1)
        # a message with a wrong CRC on rt/lowcmd must be ignored
        bad = sdk.lowcmd(np.zeros(29), np.full(29, 50.0), np.ones(29))
        bad.crc ^= 0xFFFF
        pub = sdk.ChannelPublisher(sdk.TOPIC_LOWCMD, sdk.LowCmd_)
        pub.Init()
        for _ in range(20):
            pub.Write(bad)
            time.sleep(0.01)
        # arm SDK: raise the left shoulder pitch by 0.4 rad with a smooth fade-in
        driver.fade_in(wait=True)
        target = driver.state().q[list(J.LEFT_ARM)].copy()
        target[0] -= 0.4
        driver.set_arm_target(J.LEFT_ARM, target)
        time.sleep(2.5)
        moved = driver.state().q[J.LEFT_ARM[0]]
        legs_after = driver.state().q[list(J.LEGS)]
        driver.disconnect()
        pub.Close()
        assert abs(moved - target[0]) < 0.1, f"shoulder at {moved:.3f}, commanded {target[0]:.3f}"
        np.testing.assert_allclose(legs_after, q0[list(J.LEGS)], atol=0.05)  # legs stayed with the standing controller
        out, _ = bridge.communicate(timeout=60)
        rejected = re.search(r"(\d+) bad CRC", out)
        assert rejected and int(rejected.group(1)) > 0, out
    finally:
        if bridge.poll() is None:
            bridge.kill()
            bridge.wait()
