"""From a walking solution to a full stride of the quantities people look at.

A half-cycle solution is completed into a full stride by left/right mirroring: the
second half is the first with every ``_r``/``_l`` quantity swapped and the forward
position advanced by the distance covered. Ground reaction forces are the summed contact
forces of each foot's spheres; the centre of pressure is the vertical-force-weighted mean
of their contact points (undefined below :data:`COP_THRESHOLD`). Joint moments are the
net generalised forces that the muscles, passive structures and actuators supply:
inverse dynamics with the contact forces applied.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from gaitsim import __version__
from gaitsim.mechanics.model_functions import ModelFunctions
from gaitsim.model.description import Model, TendonModel
from gaitsim.ocp import Solution, Trajectory
from gaitsim.simulate.result import WalkingResult
from gaitsim.simulate.walking import (
    FORWARD,
    WalkingLayout,
    WalkingSpec,
    foot_contacts,
    mirror_name,
)

__all__ = ["COP_THRESHOLD", "full_stride", "stride_result", "walking_result"]

COP_THRESHOLD = 10.0
"""Vertical force (N) below which a foot's centre of pressure is undefined."""


def full_stride(
    time: np.ndarray, names: tuple[str, ...], values: np.ndarray, distance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Complete a half cycle by mirroring: ``(time, values)`` over the whole stride.

    The last point of the half cycle equals the mirrored first one (periodicity), so the
    stride has ``2 n - 1`` points.
    """
    duration = time[-1] - time[0]
    index = {n: i for i, n in enumerate(names)}
    perm = [index.get(mirror_name(n), i) for i, n in enumerate(names)]
    second = values[1:, perm].copy()
    if FORWARD in index:
        second[:, index[FORWARD]] += distance
    return (np.concatenate([time, time[1:] + duration]), np.concatenate([values, second], axis=0))


def walking_result(
    model: Model,
    functions: ModelFunctions,
    layout: WalkingLayout,
    spec: WalkingSpec,
    solution: Solution,
    *,
    kind: str = "predictive",
) -> WalkingResult:
    """The :class:`WalkingResult` of a solved walking problem (one full stride)."""
    return stride_result(
        model,
        functions,
        layout,
        spec,
        solution.trajectory,
        kind=kind,
        settings=solution.settings,
        solver=solution.report(),
    )


def stride_result(
    model: Model,
    functions: ModelFunctions,
    layout: WalkingLayout,
    spec: WalkingSpec,
    traj: Trajectory,
    *,
    kind: str = "predictive",
    settings: dict[str, Any] | None = None,
    solver: dict[str, Any] | None = None,
) -> WalkingResult:
    """The :class:`WalkingResult` of a walking trajectory (states and controls as laid out
    by :func:`~gaitsim.simulate.walking.walking_problem`), e.g. a solution's trajectory or
    a saved one. ``settings`` and ``solver`` are recorded in the result as given.
    """
    distance = float(traj.state(FORWARD)[-1] - traj.state(FORWARD)[0])
    names = traj.state_names + traj.control_names
    values = np.hstack([traj.states, traj.controls])
    if spec.half_cycle:
        time, values = full_stride(traj.time, names, values, distance)
        distance *= 2.0
    else:
        time = traj.time
    col = {n: i for i, n in enumerate(names)}
    q = values[:, [col[c] for c in layout.coordinates]]
    qd = values[:, [col[f"{c}_u"] for c in layout.coordinates]]
    qdd = values[:, [col[f"{c}_acc"] for c in layout.coordinates]]
    act = values[:, [col[f"{m}_activation"] for m in layout.muscles]]
    exc = values[:, [col[f"{m}_excitation"] for m in layout.muscles]]
    n = time.size
    lmt = np.asarray(functions.muscle_tendon_lengths.map(n)(q.T))
    vmt = np.asarray(functions.lengthening_velocities.map(n)(q.T, qd.T))
    tendon = np.asarray(functions.muscle_rigid.map(n)(lmt, vmt, act.T)[0]).T
    for i in layout.compliant:
        m = model.muscles[i]
        if m.tendon is TendonModel.COMPLIANT:
            tendon[:, i] = m.max_isometric_force * values[:, col[f"{m.name}_tendon_force"]]
    forces, points, tau_contact = (
        np.asarray(a) for a in functions.contact_forces.map(n)(q.T, qd.T)
    )
    n_c = len(model.contacts)
    # Mapped outputs are [time 0: contacts..., time 1: contacts...]: to (3, time, contact).
    forces = forces.reshape(3, n_c, n, order="F").transpose(0, 2, 1) if n_c else np.zeros((3, n, 0))
    points = points.reshape(3, n_c, n, order="F").transpose(0, 2, 1) if n_c else np.zeros((3, n, 0))
    grf: dict[str, np.ndarray] = {}
    cop: dict[str, np.ndarray] = {}
    for side, idx in foot_contacts(model).items():
        total = forces[:, :, idx].sum(axis=2).T if idx else np.zeros((n, 3))
        grf[side] = total
        weights = np.clip(forces[1][:, idx], 0.0, None) if idx else np.zeros((n, 0))
        wsum = weights.sum(axis=1)
        centre = np.full((n, 3), np.nan)
        ok = wsum > COP_THRESHOLD
        if idx:
            for d in (0, 2):
                centre[ok, d] = (weights[ok] * points[d][:, idx][ok]).sum(axis=1) / wsum[ok]
            centre[ok, 1] = 0.0
        cop[side] = centre
    bf = np.zeros((6, len(model.bodies) * n))
    tau_id = np.asarray(functions.inverse_dynamics.map(n)(q.T, qd.T, qdd.T, bf))
    moments = (tau_id - tau_contact).T
    return WalkingResult(
        model_name=model.name,
        kind=kind,
        time=time - time[0],
        coordinate_names=layout.coordinates,
        q=q,
        qd=qd,
        qdd=qdd,
        joint_moments=moments,
        muscle_names=layout.muscles,
        excitations=exc,
        activations=act,
        tendon_forces=tendon,
        grf=grf,
        cop=cop,
        body_mass=model.total_mass,
        speed=distance / (time[-1] - time[0]),
        settings={
            "gaitsim_version": __version__,
            "model": model.name,
            # Every field of what was asked (the tracking reference is a data set, named
            # by the caller's settings instead).
            **{
                f.name: list(v) if isinstance(v := getattr(spec, f.name), tuple) else v
                for f in dataclasses.fields(spec)
                if f.name != "tracking"
            },
            **(settings or {}),
        },
        solver=dict(solver or {}),
        contact_forces={c.name: forces[:, :, k].T for k, c in enumerate(model.contacts)},
    )
