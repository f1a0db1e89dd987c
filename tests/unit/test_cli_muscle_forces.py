"""``gaitsim so``: static optimisation and the whole-trial muscle-redundancy solve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from gaitsim.cli import app
from gaitsim.io.storage import read_storage

runner = CliRunner()
FOLDER = Path("opensim") / "gait10dof18musc"


def _arguments(shared_data: Path, out: Path) -> list[str]:
    folder = shared_data / FOLDER
    return [
        "so",
        "-m",
        str(folder / "subject01_scaled.osim"),
        "--coordinates",
        str(folder / "reference_subject01_walk_IK.mot"),
        "--external-loads",
        str(folder / "subject01_walk_grf.xml"),
        "--start",
        "0.6",
        "--end",
        "1.0",
        "-o",
        str(out),
    ]


def test_both_methods_write_forces_that_agree_in_shape(shared_data: Path, tmp_path: Path) -> None:
    static = runner.invoke(app, _arguments(shared_data, tmp_path / "so"))
    assert static.exit_code == 0, static.output
    redundancy = runner.invoke(
        app, [*_arguments(shared_data, tmp_path / "mr"), "--method", "redundancy"]
    )
    assert redundancy.exit_code == 0, redundancy.output
    assert "frames converged" in redundancy.output
    so_force = read_storage(tmp_path / "so" / "gaitsim_StaticOptimization_force.sto")
    mr_force = read_storage(tmp_path / "mr" / "gaitsim_MuscleRedundancy_force.sto")
    assert (tmp_path / "mr" / "gaitsim_MuscleRedundancy_excitation.sto").exists()
    assert so_force.labels == mr_force.labels
    np.testing.assert_allclose(so_force.time, mr_force.time)
    # The same muscles carry the load: activation dynamics shifts forces in time, it
    # does not change which muscles work (the subject01 validation compares with CMC).
    r = np.corrcoef(so_force.column("vasti_r"), mr_force.column("vasti_r"))[0, 1]
    assert r > 0.8


def test_options_of_one_method_are_refused_for_the_other(shared_data: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, [*_arguments(shared_data, tmp_path), "--compliant", "model"])
    assert result.exit_code == 1 and "--method redundancy" in result.output
    result = runner.invoke(app, [*_arguments(shared_data, tmp_path), "--method", "cmc"])
    assert result.exit_code == 1 and "'static' or 'redundancy'" in result.output
