"""UR5e + Robotiq 2F-85 kinematics in ``base_link``.

Forward kinematics is MuJoCo's, on the same Menagerie model the simulation uses. Inverse
kinematics takes the analytic solutions of ``ur-analytic-ik`` (official UR link lengths,
about 1 mm off the Menagerie model), picks the one nearest the seed within the joint
limits, and refines it with damped least-squares steps against the MuJoCo model.

The TCP is Menagerie's ``pinch`` site: midway between the fingertips, z pointing out of
the gripper, so a top-down grasp has the TCP z axis along the base's -z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import robotracer.sim  # noqa: F401  (selects headless rendering before mujoco is first imported)

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import ur_analytic_ik  # noqa: E402

from robotracer.geometry.transforms import RigidTransform  # noqa: E402
from robotracer.sim import ur5e_model  # noqa: E402

# Farthest the flange gets from the shoulder joint centre (the data sheet's 850 mm reach is to
# the wrist; the flange adds the wrist offsets). Measured over 20k random configurations.
UR5E_FLANGE_REACH = 0.97
SHOULDER_HEIGHT = 0.1625
_TWO_PI = 2.0 * math.pi
_INV_TWO_PI = 1.0 / _TWO_PI
# Data-sheet joint speed limits (rad/s) and a conservative acceleration for planning.
UR5E_MAX_VELOCITY = (math.pi,) * 6
UR5E_MAX_ACCELERATION = (4.0,) * 6


class KinematicsError(ValueError):
    """Base class of the kinematics errors."""


class UnreachableError(KinematicsError):
    """No joint configuration reaches the target; ``reason`` says why, naming the target."""

    def __init__(self, target: np.ndarray, reason: str) -> None:
        super().__init__(reason)
        self.target = np.asarray(target, dtype=np.float64)
        self.reason = reason


@dataclass(frozen=True)
class IKSolution:
    """An IK answer: ``q`` ``(6,)`` radians and its residual errors."""

    q: np.ndarray
    position_error: float  # metres
    rotation_error: float  # radians


def _fmt(p: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.2f}" for v in p) + ")"


class UR5eKinematics:
    """FK/IK of the UR5e with a 2F-85, TCP between the fingertips, all in ``base_link``."""

    joint_names = ur5e_model.ARM_JOINT_NAMES

    def __init__(self, position_tol: float = 1e-4, rotation_tol: float = 1e-3, max_refine_steps: int = 10) -> None:
        self.model = ur5e_model.ur5e_2f85_spec().compile()
        self._data = mujoco.MjData(self.model)
        m = self.model
        self._qadr = np.array([m.joint(j).qposadr[0] for j in self.joint_names])
        self._dadr = np.array([m.joint(j).dofadr[0] for j in self.joint_names])
        self._tcp = m.site(ur5e_model.TCP_SITE).id
        self._flange = m.site(ur5e_model.FLANGE_SITE).id
        self.joint_limits = m.jnt_range[[m.joint(j).id for j in self.joint_names]].copy()
        self._limits_lo, self._limits_hi = self.joint_limits[:, 0].copy(), self.joint_limits[:, 1].copy()
        self.velocity_limits = np.array(UR5E_MAX_VELOCITY)
        self.acceleration_limits = np.array(UR5E_MAX_ACCELERATION)
        self.position_tol, self.rotation_tol, self.max_refine_steps = position_tol, rotation_tol, max_refine_steps
        # the last refinement's (analytic solution, refined - analytic): along a path the offset between
        # the analytic and the Menagerie model changes slowly, so the next refinement starts from it
        self._last_correction: tuple[np.ndarray, np.ndarray] | None = None
        self._jacp, self._jacr = np.zeros((3, self.model.nv)), np.zeros((3, self.model.nv))
        self._damping = 1e-6 * np.eye(6)
        self._run_fk(np.zeros(6))
        self.T_flange_tcp = self._site(self._flange).inverse() @ self._site(self._tcp)
        self._T_tcp_flange = self.T_flange_tcp.inverse().matrix

    # ---- forward ---------------------------------------------------------------------------
    def _run_fk(self, q: np.ndarray) -> None:
        self._data.qpos[self._qadr] = q
        mujoco.mj_kinematics(self.model, self._data)

    def _site(self, site_id: int) -> RigidTransform:
        s = self._data.site(site_id)
        return RigidTransform(s.xmat.reshape(3, 3).copy(), s.xpos.copy())

    def fk(self, q: np.ndarray) -> RigidTransform:
        """``T_base_tcp`` for joint angles ``q`` ``(6,)`` radians."""
        self._run_fk(np.asarray(q, dtype=np.float64).reshape(6))
        return self._site(self._tcp)

    def fk_flange(self, q: np.ndarray) -> RigidTransform:
        """``T_base_flange`` (the tool flange, ROS ``tool0`` position) for ``q`` ``(6,)``."""
        self._run_fk(np.asarray(q, dtype=np.float64).reshape(6))
        return self._site(self._flange)

    def tcp_positions(self, qs: np.ndarray) -> np.ndarray:
        """``(N, 3)`` TCP positions in ``base_link`` of ``(N, 6)`` joint configurations."""
        out = np.empty((len(qs), 3))
        for i, q in enumerate(np.asarray(qs, dtype=np.float64).reshape(-1, 6)):
            self._run_fk(q)
            out[i] = self._data.site_xpos[self._tcp]
        return out

    def within_limits(self, q: np.ndarray, margin: float = 0.0) -> bool:
        q = np.asarray(q, dtype=np.float64)
        return bool(((q >= self._limits_lo + margin) & (q <= self._limits_hi - margin)).all())

    # ---- inverse ---------------------------------------------------------------------------
    def ik(self, T_base_tcp: RigidTransform, q_seed: np.ndarray) -> np.ndarray:
        """Joint angles ``(6,)`` reaching ``T_base_tcp``, nearest ``q_seed`` ``(6,)`` within the joint limits.

        Raises:
            UnreachableError: out of reach, or every solution violates the joint limits / fails to converge.
        """
        return self.ik_solution(T_base_tcp, q_seed).q

    def ik_solution(self, T_base_tcp: RigidTransform, q_seed: np.ndarray) -> IKSolution:
        """Like :meth:`ik`, with the residual errors."""
        q_seed = np.asarray(q_seed, dtype=np.float64).reshape(6)
        target = T_base_tcp.translation
        T_flange = T_base_tcp.matrix @ self._T_tcp_flange
        solutions, at_boundary = self._analytic(T_flange)
        if not solutions:
            raise UnreachableError(target, self._why_unreachable(target, T_flange))
        shifted, ok = self._nearest_equivalents(np.asarray(solutions, dtype=np.float64), q_seed)
        if not ok.any():
            raise UnreachableError(
                target, f"target {_fmt(target)} m: all {len(solutions)} IK solutions violate the UR5e joint limits"
            )
        in_limits = shifted[ok]
        in_limits = in_limits[np.argsort(np.sum((in_limits - q_seed) ** 2, axis=1), kind="stable")]
        for c in in_limits:
            sol = self._refine(c, T_base_tcp)
            if sol is not None and self.within_limits(sol.q):
                return sol
        if at_boundary:
            raise UnreachableError(target, self._why_unreachable(target, T_flange))
        raise UnreachableError(target, f"target {_fmt(target)} m: IK did not converge (near a singularity)")

    @staticmethod
    def _analytic(T_flange: np.ndarray) -> tuple[list[np.ndarray], bool]:
        """Analytic solutions; at the workspace boundary, those of the flange pulled up to 5 mm towards the
        shoulder (the analytic model is ~1 mm off the Menagerie one; refinement closes the gap). The flag
        says whether the target had to be pulled in."""
        sols = ur_analytic_ik.ur5e.inverse_kinematics(T_flange)
        if sols:
            return sols, False
        shoulder = np.array([0.0, 0.0, SHOULDER_HEIGHT])
        direction = shoulder - T_flange[:3, 3]
        direction /= max(np.linalg.norm(direction), 1e-9)
        for pull in (0.002, 0.005):
            T = T_flange.copy()
            T[:3, 3] += pull * direction
            sols = ur_analytic_ik.ur5e.inverse_kinematics(T)
            if sols:
                return sols, True
        return [], True

    def _nearest_equivalents(self, Q: np.ndarray, seed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Shift each joint of each solution ``(K, 6)`` by multiples of 2*pi to be nearest the seed inside the
        limits; returns the shifted solutions and a ``(K,)`` mask of those that fit the limits."""
        lo, hi = self._limits_lo, self._limits_hi
        out = np.rint((seed - Q) * _INV_TWO_PI)
        out *= _TWO_PI
        out += Q
        for _ in range(2):
            out -= _TWO_PI * (out > hi)
            out += _TWO_PI * (out < lo)
        return out, ((out >= lo) & (out <= hi)).all(axis=1)

    def _refine(self, q_analytic: np.ndarray, T_target: RigidTransform) -> IKSolution | None:
        """Damped least-squares steps from the analytic solution to the Menagerie model's exact one."""
        m, d, tcp = self.model, self._data, self._tcp
        target_pos = T_target.translation
        target_quat, cur_quat, err_rot = np.zeros(4), np.zeros(4), np.zeros(3)
        mujoco.mju_mat2Quat(target_quat, np.ascontiguousarray(T_target.rotation).reshape(-1))
        q = q_analytic.copy()
        last = self._last_correction
        if last is not None and float(np.abs(q_analytic - last[0]).max()) < 0.1:  # same branch, close by
            q += last[1]
        pos_tol2 = self.position_tol * self.position_tol
        rot_tol2 = self.rotation_tol * self.rotation_tol
        for _ in range(self.max_refine_steps + 1):
            self._run_fk(q)
            xpos, xmat = d.site_xpos[tcp], d.site_xmat[tcp]
            err_pos = target_pos - xpos
            mujoco.mju_mat2Quat(cur_quat, xmat)
            mujoco.mju_subQuat(err_rot, target_quat, cur_quat)  # in the current TCP frame
            pe2, re2 = float(err_pos @ err_pos), float(err_rot @ err_rot)
            if pe2 < pos_tol2 and re2 < rot_tol2:
                self._last_correction = (q_analytic.copy(), q - q_analytic)
                return IKSolution(q, math.sqrt(pe2), math.sqrt(re2))
            mujoco.mj_comPos(m, d)
            mujoco.mj_jacSite(m, d, self._jacp, self._jacr, tcp)
            J = np.vstack([self._jacp[:, self._dadr], self._jacr[:, self._dadr]])
            e = np.concatenate([err_pos, xmat.reshape(3, 3) @ err_rot])
            q = q + J.T @ np.linalg.solve(J @ J.T + self._damping, e)
        return None

    def _why_unreachable(self, target: np.ndarray, T_flange: np.ndarray) -> str:
        """Explain a target without IK solutions: how far beyond the reach (at this orientation and height) it is."""
        shoulder = np.array([0.0, 0.0, SHOULDER_HEIGHT])
        dist = float(np.linalg.norm(T_flange[:3, 3] - shoulder))
        if dist > UR5E_FLANGE_REACH:
            return (
                f"target {_fmt(target)} m is {dist - UR5E_FLANGE_REACH:.2f} m beyond the UR5e's reach "
                f"(flange at most {UR5E_FLANGE_REACH} m from the shoulder)"
            )

        def solvable(scale: float) -> bool:
            T = T_flange.copy()
            T[:2, 3] *= scale
            return bool(ur_analytic_ik.ur5e.inverse_kinematics(T))

        radial = float(np.hypot(target[0], target[1]))
        lo, hi = 0.0, 1.0
        if radial > 1e-6 and solvable(0.5):  # reachable closer in: bisect the radial reach at this height
            lo = 0.5
            for _ in range(12):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if solvable(mid) else (lo, mid)
            return (
                f"target {_fmt(target)} m is {radial * (1.0 - lo):.2f} m beyond the UR5e's reach with this "
                f"gripper orientation (reach ends {radial * lo:.2f} m from the base axis at z = {target[2]:.2f} m)"
            )
        if radial > 1e-6 and solvable(1.5):
            return f"target {_fmt(target)} m is too close to the UR5e's base axis ({radial:.2f} m from it)"
        return f"target {_fmt(target)} m is not reachable with the requested orientation"
