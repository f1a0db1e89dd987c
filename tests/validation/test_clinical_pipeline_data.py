"""The clinical pipeline on real lab data, against OpenSim's and Plug-in Gait's results.

1. OpenSim's gait10dof18musc example (``../shared/data/opensim/gait10dof18musc``): the raw
   trial ``subject01_walk.trc`` with ``subject01_walk_grf.mot/.xml`` and the published
   scaled model ``subject01_scaled.osim``, no static trial, markers under their own names
   with the weights of OpenSim's IK setup (``reference_walk_Setup_IK.xml``), filtered as
   OpenSim's reference pipeline filtered them (markers and forces not filtered, the
   coordinates at 6 Hz in inverse dynamics). References: OpenSim's IK
   (``reference_subject01_walk_IK.mot``), ID (``reference_subject01_walk_ID.sto``) and CMC
   muscle forces (``reference_cmc_walk_subject_Actuation_force.sto``).
2. kineticstoolkit's Plug-in Gait trial (``../shared/data/c3d/kineticstoolkit_walk.c3d``:
   16 Plug-in Gait markers, 4 force plates, events, and Vicon's own Plug-in Gait joint
   angles) with gaitsim's ``gait3d``, the shipped Plug-in Gait mapping and scale setup,
   the mass stored in the file (73.4 kg) and, as the file has no static trial, its first
   0.1 s (1.52-1.62 s, mid-walk) as the "static" frames for scaling.
"""

from __future__ import annotations

import csv
import html.parser
import math
import re
from pathlib import Path

import numpy as np
import pytest

from gaitsim.io.c3d import read_c3d
from gaitsim.io.storage import read_storage
from gaitsim.pipeline.clinical import (
    ClinicalRequest,
    ClinicalResult,
    ClinicalSettings,
    run_clinical_pipeline,
)
from gaitsim.report.clinical_html import write_report

OPENSIM = Path("opensim") / "gait10dof18musc"
KINETICSTOOLKIT = Path("c3d") / "kineticstoolkit_walk.c3d"
# The requirements.
IK_TOLERANCE_DEG = 2.0  # RMS per rotational coordinate
IK_TOLERANCE_M = 0.002  # RMS per translation: 2 mm, the same demand in length
ID_TOLERANCE = 1.0  # N m or N RMS: the foundation's (test_inverse_dynamics_subject01.py)
CMC_CORRELATION = 0.8
# CMC co-contracts these two around right heel strike, which static optimisation cannot
# (docs/static_optimization.md; strict xfail in test_static_optimization_subject01.py):
# measured r = 0.786 and 0.679, as on OpenSim's own IK.
COCONTRACTED = ("soleus_r", "tib_ant_r")
KNEE_CORRELATION = 0.9


@pytest.fixture(scope="module")
def subject01(shared_data: Path) -> ClinicalResult:
    folder = shared_data / OPENSIM
    request = ClinicalRequest(
        trial=folder / "subject01_walk.trc",
        external_loads=folder / "subject01_walk_grf.xml",
        model=folder / "subject01_scaled.osim",
        ik_setup=folder / "reference_walk_Setup_IK.xml",
        normative=shared_data / "normative" / "Winter_normal.csv",
        settings=ClinicalSettings(marker_cutoff=None, force_cutoff=None, coordinate_cutoff=6.0),
    )
    return run_clinical_pipeline(request)


@pytest.fixture(scope="module")
def kineticstoolkit(shared_data: Path) -> ClinicalResult:
    path = shared_data / KINETICSTOOLKIT
    request = ClinicalRequest(
        trial=path,
        static=path,
        model="gait3d",
        normative=shared_data / "normative" / "Schwartz2008.json",
        settings=ClinicalSettings(static_time_range=(None, 1.62)),
    )
    return run_clinical_pipeline(request)


# --------------------------------------------------------------------------------------
# subject01 against OpenSim
# --------------------------------------------------------------------------------------
def test_subject01_inverse_kinematics_matches_opensim(
    subject01: ClinicalResult, shared_data: Path
) -> None:
    reference = read_storage(shared_data / OPENSIM / "reference_subject01_walk_IK.mot")
    ik = subject01.ik
    assert ik.success.all()
    rms = {}
    for i, name in enumerate(ik.coordinate_names):
        ours = np.interp(reference.time, ik.time, ik.coordinates[:, i])
        rotational = ik.rotational[i]
        expected = reference.column(name)
        if rotational:
            ours = np.degrees(ours)
        rms[name] = float(np.sqrt(np.mean((ours - expected) ** 2)))
        limit = IK_TOLERANCE_DEG if rotational else IK_TOLERANCE_M
        assert rms[name] < limit, (name, rms[name])
    print("\nIK RMS difference to OpenSim (deg or m):", {k: f"{v:.4f}" for k, v in rms.items()})


def test_subject01_inverse_dynamics_matches_opensim(
    subject01: ClinicalResult, shared_data: Path
) -> None:
    reference = read_storage(shared_data / OPENSIM / "reference_subject01_walk_ID.sto")
    result = subject01.inverse_dynamics
    assert result is not None
    rms = {}
    for i, label in enumerate(result.labels):
        ours = np.interp(reference.time, result.time, result.generalized_forces[:, i])
        rms[label] = float(np.sqrt(np.mean((ours - reference.column(label)) ** 2)))
    print("\nID RMS difference to OpenSim (N m or N):", {k: f"{v:.3f}" for k, v in rms.items()})
    failing = {k: v for k, v in rms.items() if not v < ID_TOLERANCE}
    assert not failing


def test_subject01_muscle_forces_correlate_with_cmc(
    subject01: ClinicalResult, shared_data: Path
) -> None:
    cmc = read_storage(shared_data / OPENSIM / "reference_cmc_walk_subject_Actuation_force.sto")
    so = subject01.static_optimization
    assert so is not None and so.all_converged
    inside = (so.time >= cmc.time[0]) & (so.time <= cmc.time[-1])
    r, mean = {}, {}
    for i, muscle in enumerate(so.muscle_names):
        reference = np.interp(so.time[inside], cmc.time, cmc.column(muscle))
        r[muscle] = float(np.corrcoef(so.forces[inside, i], reference)[0, 1])
        mean[muscle] = float(reference.mean())
    most_load = sorted(mean, key=lambda m: -mean[m])[: len(mean) // 2]
    print("\nr with CMC:", {m: f"{r[m]:.3f}" for m in most_load})
    for muscle in most_load:
        if muscle in COCONTRACTED:
            assert r[muscle] > 0.6, (muscle, r[muscle])
        else:
            assert r[muscle] >= CMC_CORRELATION, (muscle, r[muscle])


def test_subject01_treadmill_cycles_and_notes(subject01: ClinicalResult) -> None:
    """A treadmill trial: temporal parameters are reported, lengths need the belt speed
    (said in a warning); the lumbar reserve and pelvis residuals are flagged, as OpenSim's
    own static optimisation of this trial shows (docs/static_optimization.md)."""
    assert subject01.treadmill
    for side in ("r", "l"):
        (curves,) = subject01.cycles[side]  # one complete cycle per side in 2.5 s
        (st,) = subject01.spatiotemporal[side]
        assert st is not None and math.isnan(st.stride_length) and math.isnan(st.speed)
        # OpenSim's data: a cadence near 100 steps/min; stance near 60 %
        assert 90 < st.cadence < 110 and 55 < st.stance_percent < 70
        assert curves.kinetics_valid
    texts = " ".join(n.text for n in subject01.warnings())
    assert "belt speed" in texts and "lumbar_extension_reserve" in texts


def test_subject01_report_numbers_are_in_the_csv(subject01: ClinicalResult, tmp_path: Path) -> None:
    files = write_report(subject01, tmp_path)
    assert files.html.is_file() and files.pdf is not None and files.pdf.is_file()
    assert all(p.is_file() for p in files.tables)
    assert _check_html_against_csv(tmp_path) > 100


# --------------------------------------------------------------------------------------
# kineticstoolkit's Plug-in Gait trial
# --------------------------------------------------------------------------------------
def test_kineticstoolkit_has_cycles_with_kinetics_on_both_sides(
    kineticstoolkit: ClinicalResult,
) -> None:
    result = kineticstoolkit
    for side in ("r", "l"):
        assert len(result.cycles[side]) >= 1
        assert all(c.kinetics_valid for c in result.cycles[side])
    # The file's events (Vicon Nexus) against the pipeline's: force-plate events within
    # 1 frame (10 ms), marker events (shifted to this trial's force events) within 15 ms
    # (measured 0.4-1 ms and 5-13 ms).
    stored = [(e.side, e.kind, e.time) for e in result.trial.events]
    kinds = {"foot_strike": "initial_contact", "foot_off": "toe_off"}
    for side, kind, when in stored:
        ours = [r for r in result.event_records if r.side == side and r.kind == kinds[kind]]
        nearest = min(ours, key=lambda r: abs(r.time - when))
        limit = 0.010 if nearest.source == "force" else 0.015
        assert abs(nearest.time - when) < limit, (side, kind, when, nearest)
    assert result.mass == pytest.approx(73.4, abs=1e-3)  # from the C3D
    assert result.scaling is not None


def test_kineticstoolkit_knee_flexion_follows_plug_in_gait(
    kineticstoolkit: ClinicalResult, shared_data: Path
) -> None:
    content = read_c3d(shared_data / KINETICSTOOLKIT)
    ik = kineticstoolkit.ik
    for side, prefix in (("r", "R"), ("l", "L")):
        pig = content.point_output(f"{prefix}KneeAngles").values[:, 0]  # degrees, flexion +
        pig = np.interp(ik.time, content.markers.time, pig)
        ours = -np.degrees(ik.coordinate(f"knee_angle_{side}"))
        r = float(np.corrcoef(ours, pig)[0, 1])
        offset = float(np.mean(ours - pig))
        print(f"\n{side} knee flexion vs Plug-in Gait: r = {r:.3f}, mean offset {offset:+.1f} deg")
        assert r >= KNEE_CORRELATION


def test_kineticstoolkit_gait_profile_score_is_finite(kineticstoolkit: ClinicalResult) -> None:
    profile = kineticstoolkit.profile
    assert profile is not None and profile.complete
    assert profile.normative.startswith("Schwartz2008")
    assert math.isfinite(profile.overall) and profile.overall > 0
    print(
        f"\nGPS {math.degrees(profile.overall):.1f} deg (right "
        f"{math.degrees(profile.gps['r']):.1f}, left {math.degrees(profile.gps['l']):.1f}) "
        f"against {profile.normative}; stages "
        + ", ".join(f"{t.stage} {t.seconds:.2f} s" for t in kineticstoolkit.timings)
    )


# --------------------------------------------------------------------------------------
# HTML against CSV
# --------------------------------------------------------------------------------------
class _Tables(html.parser.HTMLParser):
    """The cells of every ``<table data-table=...>``: {table: [[(column, text), ...]]}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self.table: str | None = None
        self.column: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("data-table"):
            self.table = a["data-table"]
            self.tables[self.table] = []
        elif tag == "tr" and self.table is not None:
            self.tables[self.table].append([])
        elif tag == "td" and self.table is not None and a.get("data-column"):
            self.column, self.text = a["data-column"], ""

    def handle_data(self, data: str) -> None:
        if self.column is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.column is not None and self.table is not None:
            self.tables[self.table][-1].append((self.column, self.text))
            self.column = None
        elif tag == "table":
            self.table = None


def _check_html_against_csv(folder: Path) -> int:
    parser = _Tables()
    parser.feed((folder / "report.html").read_text(encoding="utf-8"))
    checked = 0
    for name, rows in parser.tables.items():
        with open(folder / "tables" / f"{name}.csv", newline="", encoding="utf-8") as handle:
            header, *csv_rows = list(csv.reader(handle))
        rows = [r for r in rows if r]
        assert len(rows) == len(csv_rows), name
        for row, csv_row in zip(rows, csv_rows, strict=True):
            assert [c for c, _ in row] == header, name
            for (column, shown), value in zip(row, csv_row, strict=True):
                if re.fullmatch(r"-?\d+(\.\d+)?", shown):
                    decimals = len(shown.split(".")[1]) if "." in shown else 0
                    # rounded to the decimals shown: at most half a unit of the last one
                    assert abs(float(shown) - float(value)) <= 0.5 * 10**-decimals + 1e-12
                    checked += 1
                elif shown == "–":
                    assert value in ("", "nan"), (name, column, value)
                elif shown in ("yes", "no"):
                    assert value == {"yes": "true", "no": "false"}[shown], (name, column)
                else:
                    assert shown == value, (name, column, shown, value)
    return checked
