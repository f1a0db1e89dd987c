"""Rotation matrices that work on floats and CasADi symbols alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import casadi as ca
import numpy as np

__all__ = ["axis_angle", "body_fixed_xyz", "skew", "unskew"]


def axis_angle(axis: Sequence[float], angle: Any) -> Any:
    """Rotation by ``angle`` about the unit vector along ``axis`` (Rodrigues' formula)."""
    k = np.asarray(axis, dtype=float)
    norm = float(np.linalg.norm(k))
    if norm == 0.0:
        raise ValueError("rotation axis has zero length")
    k = k / norm
    kx = ca.DM([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    kk = ca.DM(np.outer(k, k))
    # Exact matrices for the coordinate axes keep expressions small.
    return ca.cos(angle) * ca.DM.eye(3) + ca.sin(angle) * kx + (1.0 - ca.cos(angle)) * kk


def _constant_rotation(axis: int, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    if axis == 0:
        return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    if axis == 1:
        return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def body_fixed_xyz(angles: Sequence[float]) -> np.ndarray:
    """Rotation matrix of body-fixed X-Y-Z Euler angles (OpenSim frame orientation)."""
    return (
        _constant_rotation(0, angles[0])
        @ _constant_rotation(1, angles[1])
        @ _constant_rotation(2, angles[2])
    )


def skew(v: Any) -> Any:
    """The cross-product matrix of a 3-vector."""
    return ca.vertcat(
        ca.horzcat(0, -v[2], v[1]),
        ca.horzcat(v[2], 0, -v[0]),
        ca.horzcat(-v[1], v[0], 0),
    )


def unskew(m: Any) -> Any:
    """The 3-vector of (the skew-symmetric part of) a cross-product matrix."""
    return 0.5 * ca.vertcat(m[2, 1] - m[1, 2], m[0, 2] - m[2, 0], m[1, 0] - m[0, 1])
