"""Inverse dynamics of the gait10dof18musc walking trial against OpenSim's own result.

OpenSim's ``InverseDynamicsTool`` was run with ``reference_walk_Setup_ID.xml`` on
``subject01_scaled.osim``, the inverse-kinematics result ``reference_subject01_walk_IK.mot``
and the ground reactions ``subject01_walk_grf.mot/.xml``; its output is
``reference_subject01_walk_ID.sto`` (all in ``../shared/data/opensim/gait10dof18musc``,
from opensim-models ``Pipelines/Gait10dof18musc``). Every generalised force must agree
within an RMS of 1 N m (rotational) or 1 N (translational) over OpenSim's frames.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from gaitsim.inverse_dynamics import inverse_dynamics
from gaitsim.io.external_loads import read_external_loads
from gaitsim.io.osim import read_osim
from gaitsim.io.storage import read_storage
from gaitsim.mechanics.model_functions import build

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FOLDER = DATA / "opensim" / "gait10dof18musc"
TOLERANCE = 1.0  # N m or N, RMS per coordinate

pytestmark = pytest.mark.skipif(
    not FOLDER.is_dir(), reason=f"shared data folder {FOLDER} not present"
)


def _setup() -> dict[str, object]:
    """The settings of OpenSim's run that matter here, read from its setup file."""
    tool = ET.parse(FOLDER / "reference_walk_Setup_ID.xml").getroot().find("InverseDynamicsTool")
    assert tool is not None
    start, end = (float(v) for v in tool.findtext("time_range", "").split())
    return {
        "time_range": (start, end),
        "cutoff": float(tool.findtext("lowpass_cutoff_frequency_for_coordinates", "-1")),
        "excluded": tool.findtext("forces_to_exclude", "").split(),
    }


def test_inverse_dynamics_matches_opensim() -> None:
    setup = _setup()
    assert setup["cutoff"] == 6.0
    # OpenSim excluded the muscles; the model has no other forces, and gaitsim's inverse
    # dynamics applies none of the model's forces.
    assert setup["excluded"] == ["Muscles"]
    model = read_osim(FOLDER / "subject01_scaled.osim")
    assert not (model.limit_torques or model.actuators or model.contacts)

    started = time.perf_counter()
    functions = build(model)
    built = time.perf_counter()
    coordinates = read_storage(FOLDER / "reference_subject01_walk_IK.mot")
    loads = read_external_loads(FOLDER / "subject01_walk_grf.xml")
    load_data = read_storage(loads.resolve_datafile(FOLDER / "subject01_walk_grf.xml"))
    result = inverse_dynamics(
        model,
        coordinates,
        loads,
        load_data,
        lowpass_cutoff=float(setup["cutoff"]),  # type: ignore[arg-type]
        functions=functions,
        time_range=setup["time_range"],  # type: ignore[arg-type]
    )
    finished = time.perf_counter()

    reference = read_storage(FOLDER / "reference_subject01_walk_ID.sto")
    assert result.time.shape == reference.time.shape
    # OpenSim resamples the coordinates at the smallest (rounded) step, which shifts its
    # frame times by up to 1.5 microseconds; the frames are otherwise the same.
    np.testing.assert_allclose(result.time, reference.time, atol=1e-5)
    assert set(reference.labels) == set(result.labels)

    print(
        f"\ninverse dynamics of {result.time.size} frames: "
        f"{finished - built:.3f} s (+ {built - started:.3f} s to build the functions)"
    )
    print(f"{'generalised force':28s} {'RMS':>9s} {'max':>9s}  (vs OpenSim)")
    rms: dict[str, float] = {}
    for label in reference.labels:
        difference = result.generalized_forces[:, result.labels.index(label)] - (
            reference.column(label)
        )
        rms[label] = float(np.sqrt(np.mean(difference**2)))
        print(f"{label:28s} {rms[label]:9.4f} {np.max(np.abs(difference)):9.4f}")
    failing = {label: value for label, value in rms.items() if not value < TOLERANCE}
    assert not failing, f"RMS above {TOLERANCE} N m (N): {failing}"
