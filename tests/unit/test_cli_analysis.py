"""The analysis commands on a real simulated stride (no solving)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from typer.testing import CliRunner

from gaitsim.cli import app
from gaitsim.io.run_folder import write_run
from gaitsim.questions.runs import RunLibrary, WalkingRequest

runner = CliRunner()


@pytest.fixture(scope="module")
def run_folder(shipped_stride, tmp_path_factory):  # type: ignore[no-untyped-def]
    model, _, result = shipped_stride("forward")
    folder = tmp_path_factory.mktemp("run") / "walk"
    write_run(result, folder, model=model, figure_formats=("svg",))
    return folder


def test_analyze_writes_every_requested_analysis(run_folder) -> None:  # type: ignore[no-untyped-def]
    out = runner.invoke(
        app, ["analyze", str(run_folder), "--what", "events,mechanics,muscles,loads"]
    )
    assert out.exit_code == 0, out.output
    analysis = json.loads((run_folder / "analysis" / "analysis.json").read_text())
    assert set(analysis) >= {"events", "mechanics", "muscles", "loads", "moment_balance"}
    st = analysis["events"]["spatiotemporal"]["r"]
    # The shipped stride walks at 1.3 m/s (its average-speed constraint).
    assert st["speed"] == pytest.approx(1.3, rel=1e-6)
    assert analysis["loads"]["joints"]["knee_r"]["peak_magnitude_bw"] > 1.0
    # Nothing is overwritten silently.
    again = runner.invoke(app, ["analyze", str(run_folder), "--what", "events"])
    assert again.exit_code == 1 and "exists" in again.output


def test_analyze_names_a_bad_analysis_and_a_missing_folder(run_folder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = runner.invoke(
        app, ["analyze", str(run_folder), "--what", "telepathy", "-o", str(tmp_path)]
    )
    assert out.exit_code == 1 and "telepathy" in out.output
    out = runner.invoke(app, ["analyze", str(tmp_path / "nothing")])
    assert out.exit_code == 1 and "run.json" in out.output


def test_capacity_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = tmp_path / "cap.json"
    out = runner.invoke(
        app,
        ["capacity", "--coordinate", "hip_flexion_r", "--muscles", "psoas_r,iliacus_r",
         "--to", "30", "--step", "15", "--fix", "knee_angle_r=-90", "-o", str(rows)],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(rows.read_text())
    out = runner.invoke(app, ["capacity", "--coordinate", "hip_flexion_r", "--muscles", "nope"])
    assert out.exit_code == 1 and "nope" in out.output


def test_questions_reuse_runs_and_every_quoted_number_is_in_the_json(
    shipped_stride, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Question 5 from runs already in the library: nothing is solved."""
    import re

    model, _, forward = shipped_stride("forward")
    _, _, backward = shipped_stride("backward")
    library = RunLibrary(tmp_path / "runs")
    # The shipped strides stand in for the 0.8 m/s runs; marked converged as solved runs are.
    for speed, result in ((0.8, forward), (-0.8, backward)):
        solved = dataclasses.replace(result, solver={"success": True})
        write_run(
            solved,
            library.folder(WalkingRequest(speed=speed)),
            model=model,
            figure_formats=("svg",),
        )
    out = runner.invoke(
        app,
        [
            "questions",
            "--only",
            "5",
            "-o",
            str(tmp_path / "report"),
            "--runs",
            str(tmp_path / "runs"),
        ],
    )
    assert out.exit_code == 0, out.output
    html = (tmp_path / "report" / "questions.html").read_text()
    record = json.loads((tmp_path / "report" / "questions.json").read_text())
    spans = re.findall(r'<span class="num" data-key="([^"]+)">([^<]+)</span>', html)
    assert len(spans) > 10
    for key, shown in spans:
        assert float(shown.split()[0]) == record["evidence"][key], key
    assert [c["verdict"] for c in record["questions"][0]["claims"]][0] == "supported"


def test_analyze_scores_against_speed_matched_norms(run_folder, shared_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    norms = shared_data / "normative" / "Schwartz2008.json"
    out = runner.invoke(
        app,
        ["analyze", str(run_folder), "--what", "events", "--normative", str(norms),
         "-o", str(tmp_path)],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    profile = json.loads((tmp_path / "analysis.json").read_text())["events"]["gait_profile"]
    # The planar stride has only the sagittal variables: a partial, finite profile score.
    assert profile["complete"] is False
    assert 0.0 < profile["overall_gps_deg"] < 90.0
