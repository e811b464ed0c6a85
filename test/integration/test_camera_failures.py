"""No simulator, no camera: a goal ends in the capture stage with a clear reason."""

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_no_camera_frame_fails_at_capture(graph_without_camera):
    outcome = graph_without_camera.client.send("put the cup left of the plate", timeout_s=60)
    assert not outcome.success
    assert outcome.failed_stage == "capture"
    assert "no camera frame received" in outcome.reason
