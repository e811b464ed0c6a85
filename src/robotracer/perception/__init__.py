"""Perception: find named objects in an RGB-D frame.

``grounding`` finds objects from a labelled segmentation image. In simulation the labels
are the simulator's ground truth (``label_source == "sim_ground_truth"``), not a detector.
"""

from robotracer.perception.grounding import (
    SIM_GROUND_TRUTH,
    GroundedObject,
    GroundingError,
    SegmentationGrounder,
    label_mask,
)

__all__ = ["SIM_GROUND_TRUTH", "GroundedObject", "GroundingError", "SegmentationGrounder", "label_mask"]
