"""Tracking Moco's 2D walking reference (slow: about a minute per model)."""

from __future__ import annotations

import numpy as np
import pytest

from gaitsim.io.storage import read_storage
from gaitsim.simulate.track import track_walking
from gaitsim.simulate.tracking import coordinate_columns

from .oracle import SHARED_DATA

pytestmark = pytest.mark.slow
FOLDER = SHARED_DATA / "opensim" / "moco_2d_walking"


@pytest.mark.parametrize("model", ["gait2d", "2D_gait.osim"])
def test_tracking_converges_within_three_degrees(model: str) -> None:
    if not FOLDER.exists():
        pytest.skip("../shared/data absent")
    spec = str(FOLDER / model) if model.endswith(".osim") else model
    run = track_walking(
        spec,
        FOLDER / "referenceCoordinates.sto",
        grf=FOLDER / "referenceGRF.sto",
        external_loads=FOLDER / "referenceGRF.xml",
    )
    assert run.solution.success
    table = read_storage(FOLDER / "referenceCoordinates.sto")
    reference = coordinate_columns(table, run.model)
    time = np.asarray(table.time) - table.time[0]
    traj = run.solution.trajectory
    for name, values in reference.items():
        if name in ("pelvis_tx", "pelvis_ty"):
            continue
        simulated = np.interp(time, traj.time, traj.state(name))
        rms = np.degrees(np.sqrt(np.mean((simulated - values) ** 2)))
        assert rms < 3.0, f"{name}: RMS error {rms:.2f} deg"  # the target
