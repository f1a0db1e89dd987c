"""Static optimisation of the gait10dof18musc walking trial against OpenSim's CMC forces.

Inputs, all OpenSim's (``../shared/data/opensim/gait10dof18musc``, from opensim-models
``Pipelines/Gait10dof18musc``): the scaled model ``subject01_scaled.osim`` (its Millard
muscles imported as DeGroote-Fregly, see :mod:`gaitsim.io.osim`), OpenSim's inverse
kinematics ``reference_subject01_walk_IK.mot`` (independent of gaitsim's IK), and the
ground reactions ``subject01_walk_grf.mot/.xml``; inverse dynamics as in
``test_inverse_dynamics_subject01.py`` (6 Hz low-pass, validated there against
OpenSim's to 1 N m RMS).

Reference: OpenSim's Computed Muscle Control of the same trial,
``reference_cmc_walk_subject_Actuation_force.sto`` (0.03 to 2.494 s: the "CMC time range"
used here is the range of that file). CMC differs from static optimisation by design: it
tracks RRA-adjusted kinematics with compliant tendons and activation dynamics, choosing
excitations over 5 ms windows, which lets it (and makes it) co-contract around fast
changes of joint moments. So the forces are compared by correlation, not value.

"Muscles that carry most load" is the top half of the 18 muscles ranked by their mean CMC
force over the compared frames. Two of those nine, ``soleus_r`` and ``tib_ant_r``, do
not reach r = 0.8 (measured 0.785 and 0.679, and below 0.8 for every option tried:
exponent 2 or 3, volume weighting, passive force on or off, force-only): CMC co-contracts
them around right heel strike (0.63-0.82 s, up to 2000 N of tibialis anterior against
1300 N of soleus for a net moment of 15 N m), which static optimisation, by minimising
effort, cannot do. :func:`test_cmc_cocontracts_where_the_ankle_muscles_disagree` checks
that explanation, and :func:`test_opensim_static_optimization_falls_short_of_cmc_alike`
shows that OpenSim's own static optimisation, on the model's own Millard muscles, falls
short for the same two muscles (r = 0.799 and 0.640); the requirement itself is recorded
as a strict expected failure for those two muscles.

A second, exact reference is OpenSim's own StaticOptimization on the same inputs, run in a
subprocess (``opensim`` and ``casadi`` cannot share a process) when the ``opensim``
package is installed: the model's muscles converted with OpenSim's
``DeGrooteFregly2016Muscle::replaceMuscles`` and made rigid, a reserve (optimal force
1 N m) on every joint and a residual (100) on every pelvis coordinate, exponent 2,
OpenSim's default convergence criterion (1e-4). OpenSim applies no passive fibre force in
static optimisation, and its DeGrooteFregly2016Muscle leaves ``cos(alpha)`` out of the
active force; the comparison therefore uses ``passive_fiber_force=False`` and pennation
set to zero in both programs, which makes the two problems identical.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gaitsim.analysis.static_optimization import (
    StaticOptimizationResult,
    StaticOptimizationSpec,
    StaticOptimizationWarning,
    static_optimization,
)
from gaitsim.inverse_dynamics import InverseDynamicsResult, inverse_dynamics
from gaitsim.io.external_loads import read_external_loads
from gaitsim.io.storage import TimeSeriesTable, read_storage
from gaitsim.mechanics.model_functions import BuildOptions, ModelFunctions, build
from gaitsim.model.builtin import load_model
from gaitsim.model.description import Model

FOLDER = Path("opensim") / "gait10dof18musc"
# The requirement for the muscles that carry most load.
MIN_CORRELATION = 0.8
# Muscles that CMC co-contracts (see the module docstring): r < 0.8 is expected.
COCONTRACTED = ("soleus_r", "tib_ant_r")
# The requirement on the moment balance at every frame (N m or N).
BALANCE_TOLERANCE = 1e-6


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
        self.data_folder = folder
        self.results: dict[str, StaticOptimizationResult] = {}
        self.seconds: dict[str, float] = {}

    def result(self, label: str, spec: StaticOptimizationSpec) -> StaticOptimizationResult:
        if label not in self.results:
            started = time.perf_counter()
            with warnings.catch_warnings():
                # The lumbar reserve and pelvis residuals are flagged (tested below).
                warnings.simplefilter("ignore", StaticOptimizationWarning)
                self.results[label] = static_optimization(
                    self.model, self.id, spec, functions=self.functions
                )
            self.seconds[label] = time.perf_counter() - started
        return self.results[label]

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


def test_every_frame_converges_and_balances(subject01: Trial) -> None:
    result = subject01.result("default", StaticOptimizationSpec())
    print(
        f"\nstatic optimization of {result.n_frames} frames ({result.method}): "
        f"{subject01.seconds['default']:.2f} s in all, solve {result.solve_seconds:.3f} s "
        f"= {result.frames_per_second:.0f} frames/s, build {result.build_seconds:.3f} s; "
        f"largest balance error {result.balance_error.max():.2e} N m"
    )
    assert result.all_converged, result.status
    # Sum check, frame by frame with moment arms evaluated independently of the solver's
    # mapped evaluation: muscles + coordinate actuators = inverse dynamics.
    model, functions = subject01.model, subject01.functions
    for k in range(result.n_frames):
        arms = np.asarray(functions.moment_arms(subject01.id.coordinates[k]))
        supplied = arms.T @ result.forces[k]
        for i, coordinate in enumerate(result.actuator_coordinates):
            supplied[model.coordinate_names.index(coordinate)] += result.actuator_forces[k, i]
        error = np.max(np.abs(supplied - subject01.id.generalized_forces[k]))
        assert error < BALANCE_TOLERANCE, f"t = {result.time[k]}: {error} N m"
    lower = result.spec.min_activation
    assert np.all((result.activations >= lower) & (result.activations <= 1.0))


def test_forces_correlate_with_cmc(subject01: Trial) -> None:
    result = subject01.result("default", StaticOptimizationSpec())
    found = correlations(subject01, result)
    opensim_like = correlations(
        subject01, subject01.result("no passive", StaticOptimizationSpec(passive_fiber_force=False))
    )
    print("\nmuscle         CMC mean (N)  SO mean (N)    r   r (no passive, as OpenSim)")
    inside, _ = subject01.compared(result)
    for m in found["ranked"]:
        mark = "*" if m in found["most_load"] else " "
        print(
            f"{mark}{m:14s} {found['mean_cmc'][m]:11.1f} {np.mean(result.force(m)[inside]):11.1f}"
            f" {found['r'][m]:6.3f} {opensim_like['r'][m]:6.3f}"
        )
    print("* most load: top half of the muscles by mean CMC force")
    assert set(COCONTRACTED) <= set(found["most_load"])  # the exception is not vacuous
    failing = {
        m: found["r"][m]
        for m in found["most_load"]
        if m not in COCONTRACTED and not found["r"][m] >= MIN_CORRELATION
    }
    assert not failing, f"r below {MIN_CORRELATION}: {failing}"


@pytest.mark.xfail(
    strict=True,
    reason="CMC co-contracts soleus_r and tib_ant_r around right heel strike (see module "
    "docstring and test_cmc_cocontracts_where_the_ankle_muscles_disagree)",
)
def test_cocontracted_ankle_muscles_correlate_with_cmc(subject01: Trial) -> None:
    found = correlations(subject01, subject01.result("default", StaticOptimizationSpec()))
    assert all(found["r"][m] >= MIN_CORRELATION for m in COCONTRACTED)


def test_cmc_cocontracts_where_the_ankle_muscles_disagree(subject01: Trial) -> None:
    result = subject01.result("default", StaticOptimizationSpec())
    inside, reference = subject01.compared(result)
    ours = result.forces[inside]
    q = subject01.id.coordinates[inside]
    model, functions = subject01.model, subject01.functions
    ankle = model.coordinate_names.index("ankle_angle_r")
    arms = np.stack([np.asarray(functions.moment_arms(qk))[:, ankle] for qk in q])

    def cocontraction(forces: np.ndarray) -> np.ndarray:
        """Smaller of the summed dorsiflexing and plantarflexing muscle moments (N m)."""
        moments = arms * forces
        return np.minimum(np.clip(moments, 0, None).sum(1), -np.clip(moments, None, 0).sum(1))

    columns = [result.muscle_names.index(m) for m in COCONTRACTED]
    disagree = np.any(
        np.abs(ours[:, columns] - reference[:, columns]) > 0.25 * reference[:, columns].max(0),
        axis=1,
    )
    cmc, so = cocontraction(reference)[disagree], cocontraction(ours)[disagree]
    print(
        f"\n{disagree.sum()} frames where soleus_r or tib_ant_r differ from CMC by more than "
        f"25 % of CMC's peak; mean co-contraction at the right ankle: CMC {cmc.mean():.1f} "
        f"N m, static optimisation {so.mean():.1f} N m"
    )
    assert disagree.sum() >= 5
    # "Co-contracts" here: at least twice the opposing muscle moment static optimisation
    # needs at the same frames.
    assert cmc.mean() >= 2.0 * so.mean()


def test_reserves_and_residuals_are_reported(subject01: Trial) -> None:
    result = subject01.result("default", StaticOptimizationSpec())
    summary = {s.name: s for s in result.actuator_summary()}
    lumbar = subject01.model.coordinate_names.index("lumbar_extension")
    # No muscle spans the lumbar joint in gait10dof18musc: its reserve carries the whole
    # net moment, and is flagged.
    np.testing.assert_allclose(
        result.actuator("lumbar_extension_reserve"),
        subject01.id.generalized_forces[:, lumbar],
        atol=BALANCE_TOLERANCE,
    )
    assert summary["lumbar_extension_reserve"].exceeds
    # Muscles span hips, knees and ankles: their reserves stay below 10 % of the peak
    # net moments (OpenSim's guideline), so none is flagged.
    for name in result.reserve_names:
        if name != "lumbar_extension_reserve":
            assert not summary[name].exceeds, summary[name]
    # Muscles do not span the floating base: the residuals are inverse dynamics' pelvis
    # forces, reported with their peaks (tx and ty exceed the 20 N guideline: this is
    # inverse dynamics without RRA).
    for name in result.residual_names:
        coordinate = summary[name].coordinate
        np.testing.assert_allclose(
            result.actuator(name),
            subject01.id.force(coordinate),
            atol=BALANCE_TOLERANCE,
        )
    print("\nactuator                       kind       RMS      peak  threshold  flagged")
    for s in result.actuator_summary():
        print(
            f"{s.name:30s} {s.kind:8s} {s.rms:8.3f} {s.peak:9.3f} {s.threshold:9.3f}  {s.exceeds}"
        )


# Runs OpenSim's StaticOptimization; imports opensim only (never gaitsim or casadi).
# argv: data folder, output folder, muscles ("flat": DeGrooteFregly, rigid, pennation
# zero; "rigid": DeGrooteFregly, rigid; "original": the model's own Millard muscles),
# convergence criterion (OpenSim's default 1e-4), iteration limit (OpenSim's default 100).
OPENSIM_SCRIPT = """
import math, sys, time
import opensim as osim
folder, out, kind = sys.argv[1], sys.argv[2], sys.argv[3]
convergence, iterations = float(sys.argv[4]), int(sys.argv[5])
osim.Logger.setLevelString("error")
model = osim.Model(folder + "/subject01_scaled.osim")
if kind != "original":
    osim.DeGrooteFregly2016Muscle.replaceMuscles(model)
    muscles = model.getMuscles()
    for i in range(muscles.getSize()):
        muscle = osim.DeGrooteFregly2016Muscle.safeDownCast(muscles.get(i))
        muscle.set_ignore_tendon_compliance(True)
        if kind == "flat":
            muscle.set_pennation_angle_at_optimal(0.0)
coordinates = model.getCoordinateSet()
for i in range(coordinates.getSize()):
    name = coordinates.get(i).getName()
    residual = name.startswith("pelvis")
    actuator = osim.CoordinateActuator(name)
    actuator.setName(name + ("_residual" if residual else "_reserve"))
    actuator.setOptimalForce(100.0 if residual else 1.0)
    actuator.setMinControl(-math.inf)
    actuator.setMaxControl(math.inf)
    model.addForce(actuator)
model.finalizeConnections()
model.printToXML(out + "/model.osim")
tool = osim.AnalyzeTool()
tool.setName("opensim")
tool.setModelFilename(out + "/model.osim")
tool.setCoordinatesFileName(folder + "/reference_subject01_walk_IK.mot")
tool.setLowpassCutoffFrequency(6.0)
tool.setExternalLoadsFileName(folder + "/subject01_walk_grf.xml")
tool.setInitialTime(0.0)
tool.setFinalTime(2.5)
tool.setResultsDir(out)
analysis = osim.StaticOptimization()
analysis.setUseModelForceSet(True)
analysis.setActivationExponent(2.0)
analysis.setUseMusclePhysiology(True)
analysis.setConvergenceCriterion(convergence)
analysis.setMaxIterations(iterations)
tool.getAnalysisSet().cloneAndAppend(analysis)
tool.printToXML(out + "/setup.xml")
started = time.perf_counter()
osim.AnalyzeTool(out + "/setup.xml").run()
print(f"seconds {time.perf_counter() - started:.3f}")
"""


def run_opensim(
    folder: Path,
    out: Path,
    *,
    convergence: float = 1e-4,
    iterations: int = 100,
    muscles: str = "flat",
) -> tuple[TimeSeriesTable, TimeSeriesTable, float]:
    """OpenSim's activation and force tables, and its run time (``muscles``: see
    ``OPENSIM_SCRIPT``; "flat" by default, the problem gaitsim solves identically)."""
    out.mkdir()
    arguments = [str(folder), str(out), muscles, repr(convergence), str(iterations)]
    done = subprocess.run(
        [sys.executable, "-c", OPENSIM_SCRIPT, *arguments],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seconds = float(done.stdout.split("seconds")[-1])
    return (
        read_storage(out / "opensim_StaticOptimization_activation.sto"),
        read_storage(out / "opensim_StaticOptimization_force.sto"),
        seconds,
    )


def compare_with_opensim(
    trial: Trial, activation: TimeSeriesTable, force: TimeSeriesTable, seconds: float
) -> tuple[float, float]:
    """Solve the same problem as OpenSim and print the differences; returns the largest
    activation difference and the largest actuator difference (N m or N)."""
    model = trial.model
    flat = dataclasses.replace(
        model,
        muscles=tuple(
            dataclasses.replace(m, pennation_angle_at_optimal=0.0) for m in model.muscles
        ),
    )
    # OpenSim switches conditional path points on and off sharply; gaitsim's default
    # smooths the switch, which changed gastrocnemius' force capacity by up to 50 % at a
    # frame near it. The hard switch reproduces OpenSim's paths.
    functions = build(flat, BuildOptions(conditional_smoothing=0.0))
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaticOptimizationWarning)
        ours = static_optimization(
            flat, trial.id, StaticOptimizationSpec(passive_fiber_force=False), functions=functions
        )
    elapsed = time.perf_counter() - started
    print(
        f"\nOpenSim StaticOptimization: {seconds:.2f} s for {force.n_rows} frames "
        f"({force.n_rows / seconds:.0f} frames/s); gaitsim {elapsed:.2f} s including the "
        f"first build of the muscle functions (solve {ours.solve_seconds:.3f} s)"
    )
    # OpenSim's frame times are its resampled ones (up to 1.5e-6 s off): interpolate.
    print("muscle          max |da|  max |dF| (N)   r(F)")
    worst_activation = 0.0
    for m in ours.muscle_names:
        a = np.interp(ours.time, activation.time, activation.column(m))
        f = np.interp(ours.time, force.time, force.column(m))
        difference = float(np.max(np.abs(ours.activation(m) - a)))
        worst_activation = max(worst_activation, difference)
        r = np.corrcoef(ours.force(m), f)[0, 1]
        print(f"{m:14s} {difference:9.5f} {np.max(np.abs(ours.force(m) - f)):9.2f} {r:9.5f}")
    worst_actuator = max(
        float(np.max(np.abs(ours.actuator(n) - np.interp(ours.time, force.time, force.column(n)))))
        for n in ours.actuator_names
    )
    print(f"largest reserve or residual difference: {worst_actuator:.4f} N m (N)")
    return worst_activation, worst_actuator


@pytest.mark.opensim
@pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None, reason="opensim package not installed"
)
def test_matches_opensim_static_optimization(subject01: Trial, tmp_path: Path) -> None:
    activation, force, seconds = run_opensim(subject01.data_folder, tmp_path / "opensim")
    worst_activation, worst_actuator = compare_with_opensim(subject01, activation, force, seconds)
    # OpenSim stops at its default convergence criterion 1e-4: its activations then differ
    # from gaitsim's by up to 4.8e-3, and by 5.7e-4 when it is run to 1e-6
    # (test_matches_opensim_static_optimization_converged), so the difference is OpenSim's
    # stopping point. 0.01 bounds it with a factor two.
    assert worst_activation < 0.01
    # Inverse dynamics agree with OpenSim's to 1e-3 N m RMS (0.011 N at most on the
    # pelvis); 0.05 N m (N) is far below any joint moment.
    assert worst_actuator < 0.05


@pytest.mark.slow
@pytest.mark.opensim
@pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None, reason="opensim package not installed"
)
def test_matches_opensim_static_optimization_converged(subject01: Trial, tmp_path: Path) -> None:
    """OpenSim run to 1e-6 (about 150 s): the activations agree ten times closer."""
    activation, force, seconds = run_opensim(
        subject01.data_folder, tmp_path / "opensim", convergence=1e-6, iterations=1000
    )
    worst_activation, worst_actuator = compare_with_opensim(subject01, activation, force, seconds)
    # Measured 5.7e-4 (OpenSim's 1e-6 in its scaled units); 1e-3 bounds it.
    assert worst_activation < 1e-3
    assert worst_actuator < 0.05


@pytest.mark.opensim
@pytest.mark.skipif(
    importlib.util.find_spec("opensim") is None, reason="opensim package not installed"
)
def test_opensim_static_optimization_falls_short_of_cmc_alike(
    subject01: Trial, tmp_path: Path
) -> None:
    """OpenSim's own static optimisation, on its own model (Millard muscles, real
    pennation), against the same CMC forces: the two ankle muscles fall short of r = 0.8
    there too, so the shortfall belongs to the method, not to gaitsim's solve."""
    _, force, _ = run_opensim(subject01.data_folder, tmp_path / "opensim", muscles="original")
    result = subject01.result("no passive", StaticOptimizationSpec(passive_fiber_force=False))
    inside, reference = subject01.compared(result)
    at = result.time[inside]
    ours = correlations(subject01, result)
    print("\nmuscle          r OpenSim SO   r gaitsim SO (no passive)   vs CMC")
    theirs = {}
    for i, m in enumerate(result.muscle_names):
        opensim = np.interp(at, force.time, force.column(m))
        theirs[m] = float(np.corrcoef(opensim, reference[:, i])[0, 1])
        mark = "*" if m in ours["most_load"] else " "
        print(f"{mark}{m:14s} {theirs[m]:10.3f} {ours['r'][m]:14.3f}")
    for m in COCONTRACTED:
        assert theirs[m] < MIN_CORRELATION, (m, theirs[m])
        # gaitsim's forces follow OpenSim's (r >= 0.9989 on the identical problem); the
        # model's own muscles (Millard curves, pennation) move r against CMC by 0.017
        # (soleus_r: OpenSim 0.799, gaitsim 0.782) and 0.018 (tib_ant_r: 0.640, 0.622),
        # measured 2026-11-21; 0.03 bounds that with a margin of about half.
        assert abs(theirs[m] - ours["r"][m]) < 0.03, (m, theirs[m], ours["r"][m])
