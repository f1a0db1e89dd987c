"""Tests of gaitsim.io.external_loads (OpenSim ExternalLoads XML files)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaitsim.errors import FileFormatError
from gaitsim.io import (
    ExternalForce,
    ExternalLoads,
    TimeSeriesTable,
    applied_loads,
    read_external_loads,
    read_storage,
    write_external_loads,
)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Small valid files written for these tests.
OPENSIM3 = """\
<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="30000">
\t<ExternalLoads name="GRF">
\t\t<objects>
\t\t\t<ExternalForce name="right">
\t\t\t\t<!--A comment.-->
\t\t\t\t<isDisabled>false</isDisabled>
\t\t\t\t<applied_to_body>calcn_r</applied_to_body>
\t\t\t\t<force_expressed_in_body>ground</force_expressed_in_body>
\t\t\t\t<point_expressed_in_body>ground</point_expressed_in_body>
\t\t\t\t<force_identifier>r_force_v</force_identifier>
\t\t\t\t<point_identifier>r_force_p</point_identifier>
\t\t\t\t<torque_identifier>r_torque_</torque_identifier>
\t\t\t\t<data_source_name>Unassigned</data_source_name>
\t\t\t</ExternalForce>
\t\t\t<ExternalForce name="left">
\t\t\t\t<isDisabled>true</isDisabled>
\t\t\t\t<applied_to_body>calcn_l</applied_to_body>
\t\t\t\t<force_identifier>l_force_v</force_identifier>
\t\t\t</ExternalForce>
\t\t</objects>
\t\t<groups />
\t\t<datafile>grf.mot</datafile>
\t</ExternalLoads>
</OpenSimDocument>
"""
OPENSIM4 = """\
<?xml version="1.0" encoding="UTF-8" ?>
<OpenSimDocument Version="40000">
  <ExternalLoads name="loads">
    <objects>
      <ExternalForce name="pelvis_push">
        <appliesForce>true</appliesForce>
        <applied_to_body>/bodyset/pelvis</applied_to_body>
        <force_expressed_in_body>/bodyset/pelvis</force_expressed_in_body>
        <point_expressed_in_body>/ground</point_expressed_in_body>
        <force_identifier>push_</force_identifier>
        <point_identifier>where_</point_identifier>
        <data_source_name>push.sto</data_source_name>
      </ExternalForce>
      <ExternalForce name="twist">
        <appliesForce>false</appliesForce>
        <applied_to_body>torso</applied_to_body>
        <torque_identifier>twist_</torque_identifier>
      </ExternalForce>
    </objects>
    <datafile>../data/push.sto</datafile>
    <lowpass_cutoff_frequency_for_load_kinematics>6</lowpass_cutoff_frequency_for_load_kinematics>
  </ExternalLoads>
</OpenSimDocument>
"""
BARE = """<ExternalLoads name="bare"><objects>
<ExternalForce name="f"><applied_to_body>b</applied_to_body>
<torque_identifier>t</torque_identifier></ExternalForce></objects></ExternalLoads>
"""
VALID_FILES = (OPENSIM3, OPENSIM4, BARE)


def write(tmp_path: Path, content: str | bytes, name: str = "loads.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def grf_table(labels: tuple[str, ...], n: int = 4) -> TimeSeriesTable:
    data = np.arange(n * len(labels), dtype=float).reshape(n, len(labels))
    return TimeSeriesTable(name="grf", labels=labels, time=np.arange(n) * 0.01, data=data)


# ---------------------------------------------------------------------------------------
# Real files
# ---------------------------------------------------------------------------------------


def test_real_gait10dof18musc(shared_data: Path, tmp_path: Path) -> None:
    xml = shared_data / "opensim/gait10dof18musc/subject01_walk_grf.xml"
    loads = read_external_loads(xml)
    assert loads.name == "WalkingGRF"
    assert [f.name for f in loads.forces] == ["right", "left"]
    right, left = loads.forces
    assert right == ExternalForce(
        name="right",
        applied_to_body="calcn_r",
        force_expressed_in_frame="ground",
        point_expressed_in_frame="ground",
        force_identifier="ground_force_v",
        point_identifier="ground_force_p",
        torque_identifier="ground_torque_",
        data_source_name=None,
    )
    assert left.force_identifier == "1_ground_force_v"
    assert loads.datafile == "subject01_walk_grf.mot"
    assert loads.lowpass_cutoff_frequency_for_load_kinematics is None

    datafile = loads.resolve_datafile(xml)
    assert datafile == xml.parent / "subject01_walk_grf.mot" and datafile.is_file()
    table = read_storage(datafile)
    applied = applied_loads(loads, table)
    assert [a.name for a in applied] == ["right", "left"]
    first = applied[0]
    assert (first.body, first.force_frame, first.point_frame) == ("calcn_r", "ground", "ground")
    assert first.force.shape == first.point.shape == first.torque.shape == (1501, 3)
    np.testing.assert_allclose(first.force[0], [101.5119767, 745.4661142, -47.44870554])
    np.testing.assert_allclose(first.point[0], [0.37898285, -0.0075, 0.12774652])
    np.testing.assert_allclose(first.torque[0], [0.0, 13.53783445, 0.0])
    np.testing.assert_allclose(applied[1].torque[0], [1.5550397, -0.75741936, 6.88030347])

    # Round trip through our writer.
    out = tmp_path / "loads.xml"
    write_external_loads(loads, out)
    assert read_external_loads(out) == loads


def test_real_moco_2d_walking(shared_data: Path) -> None:
    xml = shared_data / "opensim/moco_2d_walking/referenceGRF.xml"
    loads = read_external_loads(xml)
    assert [f.name for f in loads.forces] == ["Right_GRF", "Left_GRF"]
    assert loads.forces[1].torque_identifier == "ground_torque_l_"
    applied = applied_loads(loads, read_storage(loads.resolve_datafile(xml)))
    assert applied[1].body == "calcn_l"
    assert applied[0].force.shape == (50, 3)
    np.testing.assert_allclose(applied[0].force[0], [-44.72876818, 29.04783005, 0.0])
    np.testing.assert_allclose(applied[1].force[0], [116.9150482, 518.9919061, 0.0])


# ---------------------------------------------------------------------------------------
# Valid synthetic files
# ---------------------------------------------------------------------------------------


def test_opensim3_file(tmp_path: Path) -> None:
    loads = read_external_loads(write(tmp_path, OPENSIM3))
    right, left = loads.forces
    assert right.enabled and not left.enabled
    assert right.data_source_name is None  # "Unassigned"
    assert left.point_identifier is None and left.torque_identifier is None
    assert left.force_expressed_in_frame == "ground"


def test_opensim4_file_with_paths(tmp_path: Path) -> None:
    path = write(tmp_path, OPENSIM4)
    loads = read_external_loads(path)
    push, twist = loads.forces
    assert push.applied_to_body == "pelvis"
    assert push.force_expressed_in_frame == "pelvis"
    assert push.point_expressed_in_frame == "ground"
    assert push.data_source_name == "push.sto"
    assert push.torque_identifier is None
    assert not twist.enabled and twist.force_identifier is None
    assert loads.lowpass_cutoff_frequency_for_load_kinematics == 6.0
    assert loads.resolve_datafile(path) == tmp_path / "../data/push.sto"


def test_bare_root(tmp_path: Path) -> None:
    loads = read_external_loads(write(tmp_path, BARE))
    assert loads.name == "bare"
    assert loads.datafile is None
    with pytest.raises(FileFormatError, match="datafile"):
        loads.resolve_datafile(tmp_path / "loads.xml")


def test_resolve_datafile_variants(tmp_path: Path) -> None:
    loads = ExternalLoads(forces=(), datafile="sub\\grf.mot")
    assert loads.resolve_datafile(tmp_path / "x.xml") == tmp_path / "sub" / "grf.mot"
    absolute = ExternalLoads(forces=(), datafile=str(tmp_path / "abs.mot"))
    assert absolute.resolve_datafile("elsewhere/x.xml") == tmp_path / "abs.mot"
    assert ExternalLoads(forces=(), datafile="a.mot").resolve_datafile("x.xml") == Path("a.mot")


def test_round_trip_all_fields(tmp_path: Path) -> None:
    loads = ExternalLoads(
        forces=(
            ExternalForce("a & b", "pelvis", "pelvis", "ground", "f_", "p_", "t_", "src.sto"),
            ExternalForce("c", "torso", torque_identifier="tq", enabled=False),
        ),
        datafile="data <1>.sto",
        lowpass_cutoff_frequency_for_load_kinematics=-1.0,
        name="mine",
    )
    path = tmp_path / "out.xml"
    write_external_loads(loads, path)
    assert read_external_loads(path) == loads
    assert path.read_text().startswith('<?xml version="1.0" encoding="UTF-8" ?>\n')


@pytest.mark.parametrize(
    "loads",
    [
        ExternalLoads(forces=(ExternalForce("a", "b"),)),  # neither force nor torque
        ExternalLoads(forces=(ExternalForce("a", "b", force_identifier="f"),) * 2),
        ExternalLoads(forces=(ExternalForce(" a", "b", force_identifier="f"),)),
        ExternalLoads(forces=(ExternalForce("a\x01", "b", force_identifier="f"),)),
    ],
)
def test_write_refuses_invalid_loads(tmp_path: Path, loads: ExternalLoads) -> None:
    with pytest.raises(ValueError):
        write_external_loads(loads, tmp_path / "out.xml")


def test_force_lookup() -> None:
    loads = ExternalLoads(forces=(ExternalForce("left", "calcn_l", force_identifier="f"),))
    assert loads.force("left").applied_to_body == "calcn_l"
    with pytest.raises(LookupError, match="left"):
        loads.force("right")


# ---------------------------------------------------------------------------------------
# applied_loads
# ---------------------------------------------------------------------------------------


def test_applied_loads_defaults_and_disabled() -> None:
    loads = ExternalLoads(
        forces=(
            ExternalForce("push", "pelvis", "pelvis", force_identifier="F"),
            ExternalForce("twist", "torso", torque_identifier="T"),
            ExternalForce("off", "torso", force_identifier="missing_", enabled=False),
        )
    )
    table = grf_table(("Fx", "Fy", "Fz", "Tx", "Ty", "Tz"))
    push, twist = applied_loads(loads, table)
    np.testing.assert_array_equal(push.force, table.data[:, :3])
    np.testing.assert_array_equal(push.point, np.zeros((4, 3)))
    assert push.point_frame == "pelvis" and push.force_frame == "pelvis"
    np.testing.assert_array_equal(push.torque, np.zeros((4, 3)))
    np.testing.assert_array_equal(twist.torque, table.data[:, 3:])
    np.testing.assert_array_equal(twist.force, np.zeros((4, 3)))
    with pytest.raises(ValueError):
        push.force[0, 0] = 1.0  # read-only


def test_applied_loads_opensim_prefix_rule() -> None:
    # OpenSim also accepts any three columns starting with the identifier.
    loads = ExternalLoads(forces=(ExternalForce("f", "b", force_identifier="Force1"),))
    table = grf_table(("other", "Force1.X", "Force1.Y", "Force1.Z"))
    (load,) = applied_loads(loads, table)
    np.testing.assert_array_equal(load.force, table.data[:, 1:])


def test_applied_loads_missing_columns_are_all_named() -> None:
    loads = ExternalLoads(
        forces=(
            ExternalForce("r", "calcn_r", force_identifier="r_v", point_identifier="r_p"),
            ExternalForce("l", "calcn_l", force_identifier="l_v", torque_identifier="l_t"),
        )
    )
    table = grf_table(("r_vx", "r_vy", "r_vz", "r_px", "r_pz", "l_vx", "l_vy", "l_vz"))
    with pytest.raises(FileFormatError) as info:
        applied_loads(loads, table, source="grf.mot")
    message = str(info.value)
    assert message.startswith("grf.mot: ")
    assert "r_py" in message and "r_px" not in message
    assert "l_tx, l_ty, l_tz" in message


# ---------------------------------------------------------------------------------------
# Malformed files
# ---------------------------------------------------------------------------------------


def force_file(body: str, *, extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<OpenSimDocument Version="40000">\n'
        "<ExternalLoads>\n"
        "<objects>\n"
        f"{body}\n"
        "</objects>\n"
        f"{extra}"
        "</ExternalLoads>\n"
        "</OpenSimDocument>\n"
    )


GOOD_FORCE = (
    '<ExternalForce name="a"><applied_to_body>b</applied_to_body>'
    "<force_identifier>f</force_identifier></ExternalForce>"
)
MALFORMED: dict[str, tuple[str | bytes, int, str]] = {
    "mismatched tag": (
        "<OpenSimDocument>\n<ExternalLoads>\n<objects>\n</object>\n</ExternalLoads>\n",
        4,
        "malformed XML",
    ),
    "unclosed": ("<OpenSimDocument>\n<ExternalLoads>\n", 3, "malformed XML"),
    "empty file": ("", 1, "malformed XML"),
    "invalid UTF-8": (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<ExternalLoads name="\xff"/>\n',
        2,
        "malformed XML",
    ),
    "doctype": (
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<ExternalLoads/>\n',
        2,
        "DOCTYPE",
    ),
    "unknown encoding": ('<?xml version="1.0" encoding="klingon"?><a/>', 1, "encoding"),
    "wrong root": ('<?xml version="1.0"?>\n<Model/>\n', 2, "root"),
    "no ExternalLoads": ("<OpenSimDocument>\n<Model/>\n</OpenSimDocument>\n", 1, "no <Ext"),
    "other object": (force_file("<PrescribedForce name='p'/>"), 5, "PrescribedForce"),
    "no name": (force_file(GOOD_FORCE.replace(' name="a"', "")), 5, "name"),
    "no body": (
        force_file(
            '<ExternalForce name="a">\n<force_identifier>f</force_identifier>\n</ExternalForce>'
        ),
        5,
        "applied_to_body",
    ),  # fmt: skip
    "no identifiers": (
        force_file(
            '<ExternalForce name="a">\n<applied_to_body>b</applied_to_body>\n'
            "<force_identifier>Unassigned</force_identifier></ExternalForce>"
        ),
        5,
        "neither",
    ),  # fmt: skip
    "point without force": (
        force_file(
            '<ExternalForce name="a"><applied_to_body>b</applied_to_body>'
            "<point_identifier>p</point_identifier>"
            "<torque_identifier>t</torque_identifier></ExternalForce>"
        ),
        5,
        "point",
    ),  # fmt: skip
    "duplicate names": (force_file(GOOD_FORCE + "\n" + GOOD_FORCE), 6, "duplicate"),
    "bad flag": (
        force_file(
            GOOD_FORCE.replace(
                "</ExternalForce>", "\n<appliesForce>yes</appliesForce></ExternalForce>"
            )
        ),
        6,
        "appliesForce",
    ),  # fmt: skip
    "repeated property": (
        force_file(
            GOOD_FORCE.replace(
                "</ExternalForce>", "\n<applied_to_body>c</applied_to_body></ExternalForce>"
            )
        ),
        6,
        "repeated",
    ),  # fmt: skip
    "element instead of text": (
        force_file(GOOD_FORCE.replace("<applied_to_body>b", "<applied_to_body>\n<b/>")),
        5,
        "text",
    ),
    "bad cutoff": (
        force_file(
            GOOD_FORCE,
            extra="<lowpass_cutoff_frequency_for_load_kinematics>six"
            "</lowpass_cutoff_frequency_for_load_kinematics>\n",
        ),
        7,
        "lowpass",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_line_numbers(tmp_path: Path, case: str) -> None:
    content, line, fragment = MALFORMED[case]
    path = write(tmp_path, content)
    with pytest.raises(FileFormatError) as info:
        read_external_loads(path)
    assert info.value.line == line, str(info.value)
    assert fragment in info.value.problem
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_external_loads(tmp_path / "absent.xml")


# ---------------------------------------------------------------------------------------
# Fuzzing: only FileFormatError may come out of the reader
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("external_loads_fuzz")


def read_or_format_error(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    try:
        loads = read_external_loads(path)
    except FileFormatError as error:
        n_lines = content.count(b"\n") + content.count(b"\r") + 1
        assert error.line is None or 1 <= error.line <= n_lines
        return
    for force in loads.forces:
        assert force.name and force.applied_to_body
        assert force.force_identifier is not None or force.torque_identifier is not None


@FUZZ
@given(content=st.binary(max_size=600))
def test_fuzz_random_bytes(fuzz_dir: Path, content: bytes) -> None:
    read_or_format_error(fuzz_dir / "random.xml", content)


@FUZZ
@given(content=st.text(alphabet="<>/=\"' \nabcEFxy!?-[]&;#", max_size=300))
def test_fuzz_random_markup(fuzz_dir: Path, content: str) -> None:
    read_or_format_error(fuzz_dir / "markup.xml", content.encode())


@FUZZ
@given(base=st.sampled_from(VALID_FILES), data=st.data())
def test_fuzz_corrupted_valid_files(
    fuzz_dir: Path,
    corrupt: Callable[[st.DataObject, bytes], bytes],
    base: str,
    data: st.DataObject,
) -> None:
    read_or_format_error(fuzz_dir / "corrupted.xml", corrupt(data, base.encode()))


# ---------------------------------------------------------------------------------------
# OpenSim as an independent oracle (separate process)
# ---------------------------------------------------------------------------------------


@pytest.mark.opensim
@pytest.mark.skipif(find_spec("opensim") is None, reason="opensim is not installed")
def test_opensim_reads_written_file(tmp_path: Path) -> None:
    loads = ExternalLoads(
        forces=(
            ExternalForce("right", "calcn_r", "ground", "ground", "r_v", "r_p", "r_t"),
            ExternalForce("left", "calcn_l", force_identifier="l_v", enabled=False),
        ),
        datafile="grf.mot",
        name="GRF",
    )
    path = tmp_path / "written.xml"
    write_external_loads(loads, path)
    script = textwrap.dedent(
        f"""
        import opensim

        def optional(getter):  # absent optional properties make OpenSim's getters throw
            try:
                return getter()
            except RuntimeError:
                return "-"

        loads = opensim.ExternalLoads({str(path)!r}, True)
        print("OUT", loads.getName(), loads.getSize(), loads.getDataFileName())
        for i in range(loads.getSize()):
            f = loads.get(i)
            print("OUT", f.getName(), f.getAppliedToBodyName(), f.getForceExpressedInBodyName(),
                  f.getForceIdentifier(), optional(f.getPointIdentifier),
                  optional(f.getTorqueIdentifier), f.get_appliesForce())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    lines = [line[4:] for line in result.stdout.splitlines() if line.startswith("OUT ")]
    assert lines == [
        "GRF 2 grf.mot",
        "right calcn_r ground r_v r_p r_t True",
        "left calcn_l ground l_v - - False",
    ]
