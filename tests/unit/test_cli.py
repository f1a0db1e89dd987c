"""The command line, run as a user would (typer's test runner, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gaitsim.cli import app
from gaitsim.io.storage import read_storage

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "opensim"
runner = CliRunner()


def test_models_lists_builtins() -> None:
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert "gait2d" in result.output and "gait3d" in result.output


def test_model_show_and_check() -> None:
    result = runner.invoke(app, ["model", "show", "gait2d"])
    assert result.exit_code == 0, result.output
    assert "knee_angle_r" in result.output and "soleus_r" in result.output
    result = runner.invoke(app, ["model", "check", "gait2d"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["model", "show", "gait9d"])
    assert result.exit_code == 1
    bad = tmp_path / "bad.toml"
    bad.write_text('format = "gaitsim-model"\nversion = 1\nname = "x"\nbodies = 3\n')
    result = runner.invoke(app, ["model", "check", str(bad)])
    assert result.exit_code == 1
    assert "bodies" in result.output


def test_import_writes_a_model_and_refuses_to_overwrite(tmp_path: Path) -> None:
    source = DATA / "moco_2d_walking" / "2D_gait.osim"
    if not source.exists():
        pytest.skip("../shared/data absent")
    out = tmp_path / "model.toml"
    result = runner.invoke(app, ["model", "import", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()
    result = runner.invoke(app, ["model", "check", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["model", "import", str(source), "-o", str(out)])
    assert result.exit_code == 1 and "exists" in result.output


def test_import_of_a_model_with_wrapping_names_the_element(tmp_path: Path) -> None:
    source = DATA / "rajagopal" / "Rajagopal2016.osim"
    if not source.exists():
        pytest.skip("../shared/data absent")
    result = runner.invoke(app, ["model", "import", str(source), "-o", str(tmp_path / "r.toml")])
    assert result.exit_code == 1
    assert "Wrap" in result.output


def test_inverse_dynamics_command(tmp_path: Path) -> None:
    folder = DATA / "gait10dof18musc"
    if not folder.exists():
        pytest.skip("../shared/data absent")
    out = tmp_path / "id.sto"
    result = runner.invoke(
        app,
        [
            "id",
            "--model",
            str(folder / "subject01_scaled.osim"),
            "--coordinates",
            str(folder / "reference_subject01_walk_IK.mot"),
            "--external-loads",
            str(folder / "subject01_walk_grf.xml"),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = read_storage(out)
    assert "knee_angle_r_moment" in table.labels
    assert table.data.shape[0] > 100


def test_demo_writes_outputs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--output", str(tmp_path), "--no-simulate"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    gait2d = summary["gait2d"]
    # Holding the default pose needs pelvis_ty to carry the full weight (the model hangs
    # from its planar joint): m g within rounding.
    weight = gait2d["total_mass_kg"] * 9.80665
    assert gait2d["holding_torques_default_pose"]["pelvis_ty"] == pytest.approx(weight)
    assert (tmp_path / "gait2d_knee_r_moment_arms.csv").exists()
    assert gait2d["contact"]["total_vertical_force_body_weights"] > 0


def test_simulate_predict_from_the_shipped_guess(tmp_path: Path) -> None:
    """The main job end to end (about half a minute): converge, write, summarise."""
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["simulate", "predict", "--speed", "1.3", "--threads", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Solve_Succeeded" in result.output
    run = json.loads((out / "run.json").read_text())
    assert run["solver"]["success"] is True
    assert run["solver"]["settings"]["solver"]["threads"] == 2
    # Every setting of the problem is recorded, so the run can be reproduced.
    assert run["settings"]["grf_limit"] == 1.3 and run["settings"]["grf_limit_weight"] == 10.0
    assert run["settings"]["head_stability_weight"] == 5.0
    assert run["settings"]["metabolic_weight"] == 0.5
    assert run["settings"]["pelvis_tilt"] == [-0.45, -0.10]
    assert (out / "states.sto").exists() and (out / "grf.mot").exists()
    assert (out / "figures" / "joint_angles.png").stat().st_size > 10_000


def test_simulate_reports_a_failed_solve(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # 1.0 m/s starts cold from the 1.3 m/s guess: two iterations cannot converge it (the
    # shipped speed itself converges in one).
    result = runner.invoke(
        app, ["simulate", "predict", "--speed", "1.0", "--max-iterations", "2", "-o", str(out)]
    )
    assert result.exit_code == 1
    assert "did not converge" in result.output
    assert not (out / "states.sto").exists()


def test_simulate_refuses_an_unknown_grf_penalty(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["simulate", "predict", "--grf-limit-penalty", "cubic", "-o", str(out)]
    )
    assert result.exit_code == 1
    assert "grf_limit_penalty must be 'squared' or 'linear'" in result.output
    assert not (out / "states.sto").exists()


def test_simulate_predict_passes_the_optional_goals(tmp_path: Path, monkeypatch) -> None:
    """--head-stability-weight and --metabolic-weight reach the walking problem."""
    import gaitsim.simulate.predict as predict
    from gaitsim.ocp import ProblemError

    seen = {}

    def capture(model, *, spec, **kwargs):  # type: ignore[no-untyped-def]
        seen["spec"] = spec
        raise ProblemError("captured")

    monkeypatch.setattr(predict, "predict_walking", capture)
    args = ["simulate", "predict", "--head-stability-weight", "10", "--metabolic-weight", "0.5"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "run")])
    assert result.exit_code == 1 and "captured" in result.output
    assert seen["spec"].head_stability_weight == 10.0
    assert seen["spec"].metabolic_weight == 0.5


def test_simulate_predict_help_states_the_walking_defaults() -> None:
    """The options default to WalkingSpec's values; the help quotes them, and must agree."""
    from gaitsim.simulate.walking import WalkingSpec

    spec = WalkingSpec()
    result = runner.invoke(app, ["simulate", "predict", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for value in (
        spec.grf_limit,
        spec.grf_limit_weight,
        spec.head_stability_weight,
        spec.metabolic_weight,
    ):
        assert f"[{value:g}]" in text
