"""The numpy wire codecs of the G1 SDK messages: byte for byte what unitree_sdk2py sends, the robot's CRC,
and samples that the SDK's own ChannelSubscriber / ChannelPublisher exchange with the raw channels."""

import threading
import time

import numpy as np
import pytest

from robotracer.robots.g1 import joints as J
from robotracer.robots.g1 import sdk

DOMAIN = 87  # unitree_sdk2py channels are initialised once per process: every G1 test module uses one domain


def _f32(x) -> list[float]:
    return [float(v) for v in np.asarray(x, dtype=np.float32)]


def _state_arrays(seed: int):
    rng = np.random.default_rng(seed)
    q, dq, tau = rng.normal(size=(3, J.NUM_BODY_MOTORS))
    quat = rng.normal(size=4)
    rpy, gyro, acc = rng.normal(size=(3, 3))
    return q, dq, tau, quat, rpy, gyro, acc, int(rng.integers(0, 2**32))


def _sdk_lowstate(q, dq, tau, quat, rpy, gyro, acc, tick):
    """The same state built the SDK way: field by field, CRC by unitree_sdk2py's CRC class."""
    msg = sdk.new_lowstate()
    for i in range(len(q)):
        m = msg.motor_state[i]
        m.mode, m.q, m.dq, m.tau_est = 1, *_f32([q[i], dq[i], tau[i]])
    msg.imu_state.quaternion, msg.imu_state.rpy = _f32(quat), _f32(rpy)
    msg.imu_state.gyroscope, msg.imu_state.accelerometer = _f32(gyro), _f32(acc)
    msg.tick = tick
    sdk.stamp_crc(msg)
    return msg


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lowstate_payload_is_the_sdk_serialisation_with_the_sdk_crc(seed):
    arrays = _state_arrays(seed)
    payload = sdk.LowStateEncoder().encode(*arrays)
    reference = _sdk_lowstate(*arrays)
    assert payload == reference.serialize()
    decoded = sdk.LowState_.deserialize(payload)
    assert decoded.crc == sdk.CRC().Crc(decoded) == reference.crc
    assert sdk.crc_ok(decoded)


def test_decode_lowstate_reads_the_fields_and_checks_the_crc():
    q, dq, tau, quat, rpy, gyro, acc, tick = _state_arrays(3)
    payload = _sdk_lowstate(q, dq, tau, quat, rpy, gyro, acc, tick).serialize()
    s = sdk.decode_lowstate(payload)
    assert s.crc_ok and s.tick == tick
    for got, want in ((s.q, q), (s.dq, dq), (s.tau, tau), (s.quaternion, quat), (s.rpy, rpy), (s.gyroscope, gyro), (s.accelerometer, acc)):
        np.testing.assert_array_equal(got, np.asarray(want, dtype=np.float32).astype(np.float64))
    corrupted = bytearray(payload)
    corrupted[200] ^= 0x01  # one bit of a motor angle
    assert not sdk.decode_lowstate(bytes(corrupted)).crc_ok
    with pytest.raises(ValueError, match="XCDR1"):
        sdk.decode_lowstate(payload[:-4])


@pytest.mark.parametrize("weight", [None, 0.3, 1.7])
def test_lowcmd_payload_is_the_sdk_serialisation_and_decodes_like_the_sdk_helpers(weight):
    rng = np.random.default_rng(4)
    q, dq, tau = rng.normal(size=(3, J.NUM_BODY_MOTORS))
    kp, kd = rng.uniform(10, 100, J.NUM_BODY_MOTORS), rng.uniform(0.5, 3, J.NUM_BODY_MOTORS)
    enabled = rng.random(J.NUM_BODY_MOTORS) > 0.5
    args = dict(dq=dq, tau=tau, enabled=enabled, arm_sdk_weight=weight, mode_machine=5)
    payload = sdk.encode_lowcmd(q, kp, kd, **args)
    assert payload == sdk.lowcmd(q, kp, kd, **args).serialize()
    msg = sdk.LowCmd_.deserialize(payload)  # what a subscriber of the SDK gets
    arrays, got_weight, crc_ok = sdk.decode_lowcmd(payload)
    assert crc_ok and sdk.crc_ok(msg)
    want = sdk.lowcmd_arrays(msg)
    for field in ("q", "dq", "kp", "kd", "tau", "mode"):
        np.testing.assert_array_equal(getattr(arrays, field), getattr(want, field))
    assert got_weight == sdk.arm_sdk_weight(msg)
    bad = sdk.lowcmd(q, kp, kd, **args)
    bad.crc ^= 0xFFFF
    assert not sdk.decode_lowcmd(bad.serialize())[2]


def test_hand_state_payload_is_the_sdk_serialisation():
    q, dq = np.linspace(-1, 1, 7), np.linspace(2, 3, 7)
    msg = sdk.new_hand_state()
    for i in range(7):
        msg.motor_state[i].q, msg.motor_state[i].dq = _f32([q[i], dq[i]])
    payload = sdk.HandStateEncoder().encode(q, dq)
    assert payload == msg.serialize()
    np.testing.assert_array_equal(sdk.decode_hand_state_q(payload), np.float32(q))


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.timeout(60)
def test_raw_channels_talk_to_the_sdk_channels_over_dds():
    sdk.init_channels(DOMAIN, "lo")
    arrays = _state_arrays(5)
    payload = sdk.LowStateEncoder().encode(*arrays)
    topic = "rt/test_wire_lowstate"
    received, lock = [], threading.Lock()

    def on_msg(msg):
        with lock:
            received.append(msg)

    sdk_sub = sdk.ChannelSubscriber(topic, sdk.LowState_)
    sdk_sub.Init(on_msg, 10)
    raw_pub = sdk.RawPublisher(topic, sdk.LowState_)
    raw_got = []
    raw_sub = sdk.RawSubscriber(topic, sdk.LowState_, raw_got.append)
    sdk_pub = sdk.ChannelPublisher(topic, sdk.LowState_)
    sdk_pub.Init()
    try:
        assert _wait_for(lambda: (raw_pub.write(payload), len(received) > 0 and len(raw_got) > 0)[1])
        msg = received[0]
        assert sdk.crc_ok(msg) and msg.serialize() == payload  # the SDK decodes identical values
        q, dq, tau, quat, rpy, gyro, acc, tick = arrays
        np.testing.assert_array_equal([m.q for m in msg.motor_state[: len(q)]], np.float32(q))
        assert msg.tick == tick and list(msg.imu_state.rpy) == _f32(rpy)
        assert raw_got[0] == payload
        # and the other way: an SDK publisher's message reaches a raw subscriber intact
        raw_got.clear()
        reference = _sdk_lowstate(*_state_arrays(6))
        assert _wait_for(lambda: (sdk_pub.Write(reference), len(raw_got) > 0)[1])
        assert sdk.decode_lowstate(raw_got[0]).crc_ok and raw_got[0] == reference.serialize()
    finally:
        sdk_sub.Close()
        sdk_pub.Close()
        raw_pub.close()
        raw_sub.close()
