"""Muscle-redundancy solve of the gait10dof18musc walking trial against OpenSim's CMC.

Inputs exactly as ``test_static_optimization_subject01.py``: OpenSim's scaled model
``subject01_scaled.osim``, OpenSim's inverse kinematics ``reference_subject01_walk_IK.mot``
and the ground reactions ``subject01_walk_grf.mot/.xml``; inverse dynamics with a 6 Hz
low-pass (validated against OpenSim's to 1e-3 N m RMS in
``test_inverse_dynamics_subject01.py``).

Reference: OpenSim's Computed Muscle Control of the same trial,
``reference_cmc_walk_subject_Actuation_force.sto`` (0.03-2.494 s), compared by
correlation over its time range, for the top half of the 18 muscles ranked by mean CMC
force (the issue's requirement: r >= 0.8 for the muscles that carry most load).

Two solves, both with the model's own activation and deactivation time constants (10 and
40 ms, from the .osim file) and squared excitations:

* ``rigid``: every tendon rigid (the default, as static optimisation);
* ``compliant``: every tendon compliant, as in the model file and in CMC's Millard
  muscles (``compliant_tendons="model"``).

Static optimisation misses r = 0.8 for ``soleus_r`` (0.785) and ``tib_ant_r`` (0.679)
because CMC co-contracts them around right heel strike. Activation dynamics and tendon
compliance are what CMC has and static optimisation lacks, so they were the candidates to
close the gap. They do not: measured r = 0.782 and 0.687 (rigid), 0.784 and 0.685
(compliant); exponent 3, compliant Achilles tendons only (the Moco paper's choice), fibre
damping 0.01, DeGroote-Fregly's 15/60 ms time constants or MocoInverse's 0.01 weight on
the tendon-force rates give 0.73-0.79 and 0.68-0.71 (``docs/muscle_redundancy.md``). The
minimum-effort solve, like static optimisation, does not co-contract the antagonists as
CMC does (checked below); the requirement for those two muscles is recorded as a strict
expected failure, with the figures printed.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gaitsim.analysis.muscle_redundancy import (
    MuscleRedundancyResult,
    MuscleRedundancySpec,
    muscle_redundancy,
)
from gaitsim.analysis.static_optimization import (
    StaticOptimizationResult,
    StaticOptimizationSpec,
    StaticOptimizationWarning,
    static_optimization,
)
from gaitsim.inverse_dynamics import InverseDynamicsResult, inverse_dynamics
from gaitsim.io.external_loads import read_external_loads
from gaitsim.io.storage import TimeSeriesTable, read_storage
from gaitsim.mechanics.model_functions import ModelFunctions, build
from gaitsim.model.builtin import load_model
from gaitsim.model.description import Model

FOLDER = Path("opensim") / "gait10dof18musc"
# The requirement for the muscles that carry most load.
MIN_CORRELATION = 0.8
# Muscles that CMC co-contracts around right heel strike: r < 0.8 is expected.
COCONTRACTED = ("soleus_r", "tib_ant_r")
# The requirement on the moment balance at every frame (N m or N).
BALANCE_TOLERANCE = 1e-6
# The issue: "well under a minute on one core" (MocoInverse takes a few tens of seconds).
# Measured 0.9-1.3 s (rigid) and 2.7-7.4 s (all compliant) on the shared 2-core machine.
MAX_SECONDS = 60.0

SPECS = {
    "rigid": MuscleRedundancySpec(),
    "compliant": MuscleRedundancySpec(compliant_tendons="model"),
}


class Trial:
    """Everything the tests share, computed once."""

    def __init__(self, shared_data: Path) -> None:
        folder = shared_data / FOLDER
        self.model: Model = load_model(folder / "subject01_scaled.osim")
        self.functions: ModelFunctions = build(self.model)
        loads = read_external_loads(folder / "subject01_walk_grf.xml")
        self.id: InverseDynamicsResult = inverse_dynamics(
            self.model,
            read_storage(folder / "reference_subject01_walk_IK.mot"),
            loads,
            read_storage(loads.resolve_datafile(folder / "subject01_walk_grf.xml")),
            lowpass_cutoff=6.0,
            functions=self.functions,
        )
        self.cmc: TimeSeriesTable = read_storage(
            folder / "reference_cmc_walk_subject_Actuation_force.sto"
        )
        self.results: dict[str, MuscleRedundancyResult] = {}
        self.seconds: dict[str, float] = {}
        self._static: StaticOptimizationResult | None = None

    def result(self, label: str) -> MuscleRedundancyResult:
        if label not in self.results:
            started = time.perf_counter()
            with warnings.catch_warnings():
                # The lumbar reserve (no muscle spans the lumbar joint) and the pelvis
                # residuals tx and ty (inverse dynamics without RRA) are flagged, as in
                # static optimisation.
                warnings.simplefilter("ignore", StaticOptimizationWarning)
                self.results[label] = muscle_redundancy(
                    self.model, self.id, SPECS[label], functions=self.functions
                )
            self.seconds[label] = time.perf_counter() - started
        return self.results[label]

    def static(self) -> StaticOptimizationResult:
        if self._static is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", StaticOptimizationWarning)
                self._static = static_optimization(
                    self.model, self.id, StaticOptimizationSpec(), functions=self.functions
                )
        return self._static

    def compared(self, result: StaticOptimizationResult) -> tuple[np.ndarray, np.ndarray]:
        """Frames inside the CMC time range, and CMC's forces there ``(n, n_m)``."""
        inside = (result.time >= self.cmc.time[0]) & (result.time <= self.cmc.time[-1])
        at = result.time[inside]
        reference = np.column_stack(
            [np.interp(at, self.cmc.time, self.cmc.column(m)) for m in result.muscle_names]
        )
        return inside, reference


@pytest.fixture(scope="module")
def subject01(shared_data: Path) -> Trial:
    return Trial(shared_data)


def correlations(trial: Trial, result: StaticOptimizationResult) -> dict[str, Any]:
    inside, reference = trial.compared(result)
    forces = result.forces[inside]
    r = {
        m: float(np.corrcoef(forces[:, i], reference[:, i])[0, 1])
        for i, m in enumerate(result.muscle_names)
    }
    mean = dict(zip(result.muscle_names, reference.mean(axis=0), strict=True))
    ranked = sorted(mean, key=lambda m: mean[m], reverse=True)
    return {"r": r, "mean_cmc": mean, "most_load": ranked[: len(ranked) // 2], "ranked": ranked}


@pytest.mark.parametrize("label", sorted(SPECS))
def test_converges_quickly_and_balances(subject01: Trial, label: str) -> None:
    result = subject01.result(label)
    print(
        f"\nmuscle redundancy ({label}) of {result.n_frames} frames: "
        f"{subject01.seconds[label]:.2f} s in all (build {result.build_seconds:.2f} s, "
        f"IPOPT {result.solve_seconds:.2f} s, {result.iterations[0]} iterations); "
        f"violations {result.constraint_violations}"
    )
    assert result.all_converged, result.status[0]
    assert subject01.seconds[label] < MAX_SECONDS
    np.testing.assert_array_equal(result.time, subject01.id.time)  # every frame
    # Sum check with moment arms evaluated frame by frame, independently of the solver's
    # mapped evaluation: muscles + coordinate actuators = inverse dynamics.
    model, functions = subject01.model, subject01.functions
    for k in range(result.n_frames):
        arms = np.asarray(functions.moment_arms(subject01.id.coordinates[k]))
        supplied = arms.T @ result.forces[k]
        for i, coordinate in enumerate(result.actuator_coordinates):
            supplied[model.coordinate_names.index(coordinate)] += result.actuator_forces[k, i]
        error = np.max(np.abs(supplied - subject01.id.generalized_forces[k]))
        assert error < BALANCE_TOLERANCE, f"t = {result.time[k]}: {error} N m"
    # The collocation defects and (compliant) fibre-tendon equilibria hold to IPOPT's
    # constraint tolerance, 1e-8.
    for block in ("activation dynamics", "fibre-tendon equilibrium", "tendon force dynamics"):
        assert result.constraint_violations[block] < 1e-8, block
    assert set(result.compliant_muscles) == (
        set(model.muscle_names) if label == "compliant" else set()
    )


def test_forces_correlate_with_cmc(subject01: Trial) -> None:
    so = correlations(subject01, subject01.static())
    found = {label: correlations(subject01, subject01.result(label)) for label in SPECS}
    rigid = subject01.result("rigid")
    inside, _ = subject01.compared(rigid)
    print("\nmuscle         CMC mean (N)  MR mean (N)   r SO  r rigid  r compliant")
    for m in so["ranked"]:
        mark = "*" if m in so["most_load"] else " "
        print(
            f"{mark}{m:14s} {so['mean_cmc'][m]:11.1f} {np.mean(rigid.force(m)[inside]):11.1f}"
            f" {so['r'][m]:6.3f} {found['rigid']['r'][m]:8.3f} {found['compliant']['r'][m]:11.3f}"
        )
    print("* most load: top half of the muscles by mean CMC force")
    assert set(COCONTRACTED) <= set(so["most_load"])  # the exception is not vacuous
    for label, figures in found.items():
        failing = {
            m: figures["r"][m]
            for m in figures["most_load"]
            if m not in COCONTRACTED and not figures["r"][m] >= MIN_CORRELATION
        }
        assert not failing, f"{label}: r below {MIN_CORRELATION}: {failing}"


@pytest.mark.parametrize("label", sorted(SPECS))
@pytest.mark.xfail(
    strict=True,
    reason="CMC co-contracts soleus_r and tib_ant_r around right heel strike; the "
    "minimum-effort solve does not (measured r: rigid 0.782 and 0.687, compliant 0.784 "
    "and 0.685; see the module docstring)",
)
def test_cocontracted_ankle_muscles_correlate_with_cmc(subject01: Trial, label: str) -> None:
    found = correlations(subject01, subject01.result(label))
    print(f"\n{label}: " + ", ".join(f"{m} r = {found['r'][m]:.3f}" for m in COCONTRACTED))
    assert all(found["r"][m] >= MIN_CORRELATION for m in COCONTRACTED)


def test_activation_dynamics_do_not_make_it_cocontract_like_cmc(subject01: Trial) -> None:
    """Where soleus_r or tib_ant_r differ most from CMC, the solve's opposing ankle
    moments stay far below CMC's, with rigid or compliant tendons: the remaining gap is
    CMC's co-contraction, not something activation dynamics or tendons would supply."""
    model, functions = subject01.model, subject01.functions
    ankle = model.coordinate_names.index("ankle_angle_r")
    columns = [model.muscle_names.index(m) for m in COCONTRACTED]
    for label in SPECS:
        result = subject01.result(label)
        inside, reference = subject01.compared(result)
        ours = result.forces[inside]
        q = subject01.id.coordinates[inside]
        arms = np.stack([np.asarray(functions.moment_arms(qk))[:, ankle] for qk in q])

        def cocontraction(forces: np.ndarray, arms: np.ndarray = arms) -> np.ndarray:
            """Smaller of the summed dorsiflexing and plantarflexing muscle moments (N m)."""
            moments = arms * forces
            return np.minimum(np.clip(moments, 0, None).sum(1), -np.clip(moments, None, 0).sum(1))

        disagree = np.any(
            np.abs(ours[:, columns] - reference[:, columns]) > 0.25 * reference[:, columns].max(0),
            axis=1,
        )
        cmc, solved = cocontraction(reference)[disagree], cocontraction(ours)[disagree]
        print(
            f"\n{label}: {disagree.sum()} frames where soleus_r or tib_ant_r differ from CMC "
            f"by more than 25 % of CMC's peak; mean co-contraction at the right ankle: CMC "
            f"{cmc.mean():.1f} N m, muscle redundancy {solved.mean():.1f} N m"
        )
        assert disagree.sum() >= 5
        # As for static optimisation: CMC's opposing moment is at least twice the solve's.
        assert cmc.mean() >= 2.0 * solved.mean()


def test_close_to_static_optimization_with_fast_activation(subject01: Trial) -> None:
    """With the model's 10/40 ms time constants against 16.7 ms frames, rigid tendons give
    almost static optimisation's forces: activation dynamics smooth only the fastest
    changes (measured r >= 0.99 for every muscle carrying more than 100 N on average)."""
    rigid, static = subject01.result("rigid"), subject01.static()
    for i, m in enumerate(rigid.muscle_names):
        if np.mean(static.forces[:, i]) > 100.0:
            r = np.corrcoef(rigid.forces[:, i], static.forces[:, i])[0, 1]
            assert r > 0.98, (m, r)
