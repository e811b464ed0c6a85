"""7-DoF arm inverse kinematics for the G1 with mink, in the pelvis frame.

Joint position limits are constraints of the IK (mink ``ConfigurationLimit``); velocity limits
are enforced when the solutions are timed into a trajectory (:mod:`robotracer.robots.g1.follower`);
torque limits are checked on the static gravity torque of the solution with the carried payload.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import mink
import mujoco
import numpy as np

from robotracer.robots.g1 import joints as J
from robotracer.robots.g1.model import arm_model

# Joint speed limits of the G1 arm motors (rad/s, conservative versus the motors' rating).
ARM_VELOCITY_LIMIT = np.array([3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0])


@dataclass(frozen=True)
class IKSolution:
    """One IK answer.

    Attributes:
        q: ``(7,)`` float64 arm angles, motor order.
        position_error: metres between the grasp site and the target.
        orientation_error: radians between the hand and the target orientation (constrained axes only).
        iterations: solver iterations used.
        seconds: wall time spent.
    """

    q: np.ndarray
    position_error: float
    orientation_error: float
    iterations: int
    seconds: float


class G1ArmIK:
    """IK for one arm's grasp site (``{side}_grasp``) in the pelvis frame.

    Args:
        side: ``left`` or ``right``.
        posture: ``(29,)`` posture of the frozen joints (default: standing).
        orientation_cost: weight of the hand orientation versus its position (1.0 = equal), scalar or
            ``(3,)`` about the hand's own x, y, z axes; the default leaves the yaw about the hand's z
            axis free (a side grasp of an upright object works at any yaw), widening the workspace.
        position_tolerance: metres at which the solver stops (with ``orientation_tolerance``, radians).
        max_iterations: cap on Gauss-Newton iterations per target.
    """

    def __init__(
        self,
        side: str,
        posture: np.ndarray | None = None,
        orientation_cost: float | np.ndarray = (0.2, 0.2, 0.0),
        position_tolerance: float = 1e-3,
        orientation_tolerance: float = 0.05,
        max_iterations: int = 30,
    ) -> None:
        J.check_side(side)
        self.side = side
        self.model = arm_model(side, posture)
        self.data = mujoco.MjData(self.model)
        self.site = f"{side}_grasp"
        self._site_id = self.model.site(self.site).id
        self.configuration = mink.Configuration(self.model)
        self._orientation_mask = np.broadcast_to(np.asarray(orientation_cost, dtype=np.float64), (3,)) > 0
        self.task = mink.FrameTask(self.site, "site", position_cost=1.0, orientation_cost=orientation_cost, lm_damping=1e-3)
        self.posture_task = mink.PostureTask(self.model, cost=1e-3)
        self.posture_task.set_target(np.asarray(J.STAND_POSTURE)[list(J.ARMS[side])])
        self.limits = [mink.ConfigurationLimit(self.model, gain=0.95)]
        self.position_tolerance = position_tolerance
        self.orientation_tolerance = orientation_tolerance
        self.max_iterations = max_iterations
        self.lower = self.model.jnt_range[:, 0].copy()
        self.upper = self.model.jnt_range[:, 1].copy()
        self.velocity_limit = ARM_VELOCITY_LIMIT.copy()
        self.torque_limit = self.model.jnt_actfrcrange[:, 1].copy()

    def forward(self, q: np.ndarray) -> np.ndarray:
        """``(4, 4)`` pose of the grasp site in the pelvis frame for arm angles ``q`` ``(7,)``."""
        self.data.qpos[:] = q
        mujoco.mj_kinematics(self.model, self.data)
        T = np.eye(4)
        T[:3, :3] = self.data.site_xmat[self._site_id].reshape(3, 3)
        T[:3, 3] = self.data.site_xpos[self._site_id]
        return T

    def gravity_torque(self, q: np.ndarray, payload_kg: float = 0.0) -> np.ndarray:
        """``(7,)`` joint torques holding the arm still at ``q`` with ``payload_kg`` at the grasp site."""
        d = self.data
        d.qpos[:] = q
        d.qvel[:] = 0.0
        d.qacc[:] = 0.0
        mujoco.mj_forward(self.model, d)
        tau = np.zeros(self.model.nv)
        mujoco.mj_rne(self.model, d, 0, tau)
        if payload_kg > 0.0:
            jacp = np.zeros((3, self.model.nv))
            mujoco.mj_jacSite(self.model, d, jacp, None, self._site_id)
            tau += jacp.T @ np.array([0.0, 0.0, payload_kg * 9.81])
        return tau

    def solve(self, position: np.ndarray, rotation: np.ndarray, q_init: np.ndarray) -> IKSolution:
        """Arm angles putting the grasp site at ``position`` ``(3,)`` with orientation ``rotation`` ``(3, 3)`` (pelvis frame).

        Starts from ``q_init`` ``(7,)`` (warm start: the previous waypoint's answer).
        """
        t0 = time.perf_counter()
        cfg = self.configuration
        cfg.update(np.clip(np.asarray(q_init, dtype=np.float64), self.lower, self.upper))
        target = mink.SE3.from_rotation_and_translation(mink.SO3.from_matrix(np.asarray(rotation)), np.asarray(position))
        self.task.set_target(target)
        tasks = [self.task, self.posture_task]
        it = 0
        for it in range(1, self.max_iterations + 1):
            vel = mink.solve_ik(cfg, tasks, 1.0, solver="daqp", damping=1e-4, limits=self.limits)
            cfg.integrate_inplace(vel, 1.0)
            err = self.task.compute_error(cfg)
            if np.linalg.norm(err[:3]) < self.position_tolerance and np.linalg.norm(err[3:][self._orientation_mask]) < self.orientation_tolerance:
                break
            if np.linalg.norm(vel) < 1e-4:  # converged to the closest reachable pose
                break
        err = self.task.compute_error(cfg)
        q = np.clip(cfg.q.copy(), self.lower, self.upper)
        ori = float(np.linalg.norm(err[3:][self._orientation_mask]))
        return IKSolution(q, float(np.linalg.norm(err[:3])), ori, it, time.perf_counter() - t0)
