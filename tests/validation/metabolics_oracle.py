"""Standalone OpenSim oracle for Moco's ``Bhargava2004SmoothedMuscleMetabolics``.

Usage::

    python metabolics_oracle.py request.json result.npz

Runs in its own process because ``opensim`` bundles a libcasadi that clashes with the
``casadi`` wheel gaitsim uses; it imports only ``opensim``, ``numpy`` and the standard
library. ``test_metabolics_vs_opensim.py`` calls it.

It builds a one-muscle model: a ``DeGrooteFregly2016Muscle`` with a rigid tendon from the
ground origin to the origin of a block on a slider along ground X, so that the
muscle-tendon length is the slider coordinate. Excitation comes from a
``PrescribedController`` (constant), activation is set as a state.

Request (JSON)::

    {"muscle": {"max_isometric_force": ..., "optimal_fiber_length": ...,
                "tendon_slack_length": ..., "pennation_angle_at_optimal": ...,
                "max_contraction_velocity": ..., "fiber_damping": ...},
     "slow_twitch_ratio": 0.6, "specific_tension": 0.25e6, "smoothing": 10.0,
     "use_force_dependent_shortening_prop_constant": true,
     "include_negative_mechanical_work": true,
     "states": [[l_mt, v_mt, excitation, activation], ...]}

Result (.npz), one entry per state: ``activation_rate``, ``maintenance_rate``,
``shortening_rate``, ``mechanical_work_rate``, ``metabolic_rate`` (W, the muscle's
total without basal rate), and the muscle quantities OpenSim used:
``norm_fiber_length``, ``fiber_velocity``, ``active_fiber_force``,
``passive_fiber_force``, ``active_force_length_multiplier``; and ``opensim_version``.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import opensim as osim

FIELDS = (
    "activation_rate",
    "maintenance_rate",
    "shortening_rate",
    "mechanical_work_rate",
    "metabolic_rate",
    "norm_fiber_length",
    "fiber_velocity",
    "active_fiber_force",
    "passive_fiber_force",
    "active_force_length_multiplier",
)


def _model(request: dict) -> tuple[osim.Model, osim.Bhargava2004SmoothedMuscleMetabolics]:
    model = osim.Model()
    model.setName("metabolics_oracle")
    block = osim.Body("block", 1.0, osim.Vec3(0), osim.Inertia(1.0))
    model.addBody(block)
    joint = osim.SliderJoint("slider", model.getGround(), block)
    joint.updCoordinate().setName("x")
    joint.updCoordinate().setRangeMin(0.0)
    joint.updCoordinate().setRangeMax(2.0)
    model.addJoint(joint)

    p = request["muscle"]
    muscle = osim.DeGrooteFregly2016Muscle()
    muscle.setName("muscle")
    muscle.set_max_isometric_force(p["max_isometric_force"])
    muscle.set_optimal_fiber_length(p["optimal_fiber_length"])
    muscle.set_tendon_slack_length(p["tendon_slack_length"])
    muscle.set_pennation_angle_at_optimal(p["pennation_angle_at_optimal"])
    muscle.set_max_contraction_velocity(p["max_contraction_velocity"])
    muscle.set_fiber_damping(p["fiber_damping"])
    muscle.set_ignore_tendon_compliance(True)
    muscle.addNewPathPoint("origin", model.getGround(), osim.Vec3(0))
    muscle.addNewPathPoint("insertion", block, osim.Vec3(0))
    model.addForce(muscle)

    controller = osim.PrescribedController()
    controller.setName("excitation")
    controller.addActuator(muscle)
    controller.prescribeControlForActuator("muscle", osim.Constant(0.0))
    model.addController(controller)

    metabolics = osim.Bhargava2004SmoothedMuscleMetabolics()
    metabolics.setName("metabolics")
    metabolics.set_use_smoothing(True)
    metabolics.set_smoothing_type("tanh")
    metabolics.set_velocity_smoothing(request["smoothing"])
    metabolics.set_power_smoothing(request["smoothing"])
    metabolics.set_heat_rate_smoothing(request["smoothing"])
    metabolics.set_use_force_dependent_shortening_prop_constant(
        request["use_force_dependent_shortening_prop_constant"]
    )
    metabolics.set_include_negative_mechanical_work(request["include_negative_mechanical_work"])
    metabolics.addMuscle(
        "muscle", muscle, request["slow_twitch_ratio"], request["specific_tension"]
    )
    model.addComponent(metabolics)
    model.finalizeConnections()
    return model, metabolics


def main(request_path: str, result_path: str) -> None:
    with open(request_path) as f:
        request = json.load(f)
    out: dict[str, list[float]] = {k: [] for k in FIELDS}
    for l_mt, v_mt, excitation, activation in request["states"]:
        # A fresh model per state: the controller's constant is a property.
        model, metabolics = _model(request)
        controller = osim.PrescribedController.safeDownCast(
            model.updComponent("/controllerset/excitation")
        )
        controller.prescribeControlForActuator("muscle", osim.Constant(excitation))
        state = model.initSystem()
        coordinate = model.getCoordinateSet().get("x")
        coordinate.setValue(state, l_mt)
        coordinate.setSpeedValue(state, v_mt)
        muscle = osim.DeGrooteFregly2016Muscle.safeDownCast(model.getMuscles().get("muscle"))
        muscle.setActivation(state, activation)
        model.realizeDynamics(state)
        out["activation_rate"].append(metabolics.getTotalActivationRate(state))
        out["maintenance_rate"].append(metabolics.getTotalMaintenanceRate(state))
        out["shortening_rate"].append(metabolics.getTotalShorteningRate(state))
        out["mechanical_work_rate"].append(metabolics.getTotalMechanicalWorkRate(state))
        out["metabolic_rate"].append(
            metabolics.getMuscleMetabolicRate(state, muscle.getAbsolutePathString())
        )
        out["norm_fiber_length"].append(muscle.getNormalizedFiberLength(state))
        out["fiber_velocity"].append(muscle.getFiberVelocity(state))
        out["active_fiber_force"].append(muscle.getActiveFiberForce(state))
        out["passive_fiber_force"].append(muscle.getPassiveFiberForce(state))
        out["active_force_length_multiplier"].append(muscle.getActiveForceLengthMultiplier(state))
        if abs(muscle.getControl(state) - excitation) > 1e-12:
            raise RuntimeError("the prescribed excitation did not reach the muscle")
    arrays = {k: np.asarray(v, dtype=float) for k, v in out.items()}
    np.savez(result_path, opensim_version=np.asarray(osim.__version__), **arrays)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
