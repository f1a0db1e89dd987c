"""Reading a run folder back gives the stride that was written."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaitsim.errors import FileFormatError
from gaitsim.io.run_folder import read_run, read_run_model, write_run


def test_round_trip_is_exact(shipped_stride, tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, _, result = shipped_stride("forward")
    write_run(result, tmp_path / "run", model=model, figure_formats=("png",))
    back = read_run(tmp_path / "run")
    assert back.coordinate_names == result.coordinate_names
    assert back.muscle_names == result.muscle_names
    for attr in ("time", "q", "qd", "qdd", "joint_moments", "activations", "tendon_forces"):
        # Parquet stores float64: the round trip is bit-exact.
        np.testing.assert_array_equal(getattr(back, attr), getattr(result, attr), err_msg=attr)
    for side in ("r", "l"):
        np.testing.assert_array_equal(back.grf[side], result.grf[side])
        np.testing.assert_array_equal(back.cop[side], result.cop[side])
    assert set(back.contact_forces) == set(result.contact_forces)
    for name, force in result.contact_forces.items():
        np.testing.assert_array_equal(back.contact_forces[name], force)
    assert back.body_mass == result.body_mass
    assert back.speed == result.speed
    assert read_run_model(tmp_path / "run") == model


def test_model_falls_back_to_builtin(shipped_stride, tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, _, result = shipped_stride("forward")
    write_run(result, tmp_path / "run", figure_formats=("png",))
    assert not (tmp_path / "run" / "model.toml").exists()
    assert read_run_model(tmp_path / "run").name == model.name


def test_missing_or_broken_files_are_named(shipped_stride, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, _, result = shipped_stride("forward")
    with pytest.raises(FileNotFoundError, match="run.json"):
        read_run(tmp_path)
    write_run(result, tmp_path / "run", figure_formats=("png",))
    (tmp_path / "run" / "table.parquet").write_bytes(b"not parquet")
    with pytest.raises(FileFormatError, match="table.parquet"):
        read_run(tmp_path / "run")
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    record["model"] = "no_such_model"
    (tmp_path / "run" / "run.json").write_text(json.dumps(record))
    with pytest.raises(FileNotFoundError, match="no_such_model"):
        read_run_model(tmp_path / "run")
