"""Tracking measured walking: coordinates and ground reaction forces as goals.

A :class:`TrackingReference` holds measured coordinates (any OpenSim ``.sto``/``.mot``:
columns named by coordinate, or by OpenSim state path ``/jointset/<joint>/<coord>/value``)
and optionally ground reaction forces with the ``ExternalLoads`` description that says
which columns act on which foot. Its goals, added to the walking problem, are

* coordinate tracking ``w_q / T * integral of sum_j (q_j - q_ref_j(t))^2 dt``
  (radians and metres alike, as Moco's state tracking does by default);
* GRF tracking ``w_f / T * integral of sum_side,axis ((F - F_ref(t)) / (m g))^2 dt``
  for the horizontal and vertical components of each foot's summed contact force.

References are interpolated in time by natural cubic splines written as expressions
(:mod:`gaitsim.mechanics.functions`), so the goals keep exact derivatives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import casadi as ca
import numpy as np

from gaitsim.errors import GaitsimError
from gaitsim.io.external_loads import ExternalLoads, applied_loads
from gaitsim.io.storage import TimeSeriesTable
from gaitsim.mechanics.functions import evaluate
from gaitsim.model.description import Model, Motion, NaturalCubicSpline
from gaitsim.ocp import IntegralGoal
from gaitsim.simulate.walking import foot_contacts

__all__ = ["TrackingReference", "coordinate_columns"]


def coordinate_columns(table: TimeSeriesTable, model: Model) -> dict[str, np.ndarray]:
    """Coordinate values (rad or m) by coordinate name, from any OpenSim table."""
    names = set(model.coordinate_names)
    out: dict[str, np.ndarray] = {}
    for j, label in enumerate(table.labels):
        name = label
        if label.startswith("/"):
            parts = label.strip("/").split("/")
            if len(parts) < 2 or parts[-1] != "value":
                continue
            name = parts[-2]
        if name not in names:
            continue
        values = np.asarray(table.data[:, j], dtype=float)
        if table.in_degrees and model.coordinate(name).motion is Motion.ROTATIONAL:
            values = np.radians(values)
        out[name] = values
    if not out:
        raise GaitsimError(
            f"no column of {table.name!r} names a coordinate of model {model.name!r}"
        )
    return out


def _spline(time: np.ndarray, values: np.ndarray, t: Any) -> Any:
    return evaluate(NaturalCubicSpline(tuple(time), tuple(values)), t)


@dataclass(frozen=True)
class TrackingReference:
    """Measured walking to track (see the module docstring)."""

    coordinates: TimeSeriesTable
    grf: TimeSeriesTable | None = None
    external_loads: ExternalLoads | None = None
    coordinate_weight: float = 100.0
    grf_weight: float = 1.0
    weights: tuple[tuple[str, float], ...] = (("pelvis_tx", 0.0),)

    @property
    def start(self) -> float:
        """First time of the coordinate reference (s)."""
        return float(self.coordinates.time[0])

    @property
    def duration(self) -> float:
        """Duration of the coordinate reference (s)."""
        return float(self.coordinates.time[-1] - self.coordinates.time[0])

    def goals(
        self, model: Model, functions: Any, layout: Any, x: Any, u: Any, p: Any
    ) -> list[IntegralGoal]:
        """The tracking goals for the walking problem's symbols."""
        t = ca.SX.sym("t")
        time = np.asarray(self.coordinates.time) - self.start
        columns = coordinate_columns(self.coordinates, model)
        weights = dict(self.weights)
        nq = layout.n_q
        error: Any = 0.0
        tracked = []
        for j, name in enumerate(layout.coordinates):
            if name not in columns or weights.get(name, 1.0) == 0.0:
                continue
            tracked.append(name)
            ref = _spline(time, columns[name], t)
            error = error + weights.get(name, 1.0) * (x[j] - ref) ** 2
        goals = [
            IntegralGoal(
                name="coordinate tracking",
                weight=self.coordinate_weight,
                normalize_by_duration=True,
                integrand=ca.Function("coordinate_tracking", [x, u, p, t], [error]),
            )
        ]
        if self.grf is not None and self.external_loads is not None:
            goals.append(self._grf_goal(model, functions, x, u, p, t, nq))
        return goals

    def _grf_goal(
        self, model: Model, functions: Any, x: Any, u: Any, p: Any, t: Any, nq: int
    ) -> IntegralGoal:
        assert self.grf is not None and self.external_loads is not None
        loads = applied_loads(self.external_loads, self.grf)
        grf_time = np.asarray(self.grf.time) - self.start
        forces, _, _ = functions.contact_forces(x[:nq], x[nq : 2 * nq])
        sides = foot_contacts(model)
        weight = model.total_mass * float(np.linalg.norm(model.gravity))
        error: Any = 0.0
        for load in loads:
            side = load.body[-1]
            idx = sides.get(side, [])
            if not idx:
                raise GaitsimError(f"no contact sphere on the {side} foot for {load.name}")
            total = ca.SX.zeros(3, 1)
            for k in idx:
                total += forces[:, k]
            for axis in (0, 1):
                ref = _spline(grf_time, np.asarray(load.force)[:, axis], t)
                error = error + ((total[axis] - ref) / weight) ** 2
        return IntegralGoal(
            name="GRF tracking",
            weight=self.grf_weight,
            normalize_by_duration=True,
            integrand=ca.Function("grf_tracking", [x, u, p, t], [error]),
        )
