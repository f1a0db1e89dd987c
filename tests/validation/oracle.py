"""Call the OpenSim oracle (``opensim_oracle.py``) in a subprocess.

``opensim`` and ``casadi`` cannot be imported into the same Python process (OpenSim
bundles its own libcasadi), so this module never imports opensim: it writes a JSON
request, runs ``sys.executable opensim_oracle.py request.json result.npz`` and loads
the result.  One call loads the model once and answers many queries.

Example::

    from .oracle import require_opensim, run_oracle   # from a test in tests/validation
    require_opensim()
    res = run_oracle(model_path, [{"id": "geo", "type": "muscle_geometry", "q": q}])
    res["muscle_names"], res["geo"]["moment_arm"]   # (n, n_muscles, n_coords)

Result: a dict with the model-level arrays (``coordinate_names``,
``coordinate_is_rotational``, ``coordinate_locked``, ``coordinate_mobility_index``,
``muscle_names``, ``muscle_classes``, ``body_names``, ``marker_names``,
``contact_names``, ``opensim_version``) and, per query id, a dict of arrays (0-d arrays
are returned as Python scalars).  Array names and shapes per query type are listed in
``QUERY_OUTPUTS`` below.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

ORACLE_SCRIPT = Path(__file__).resolve().with_name("opensim_oracle.py")
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# n = poses, nc = coordinates (CoordinateSet order), nm = muscles (getMuscleList order),
# nb = bodies (BodySet order), nk = markers, nct = SmoothSphereHalfSpaceForces.
QUERY_OUTPUTS: dict[str, dict[str, str]] = {
    "model_info": {
        "body_mass": "(nb,)",
        "body_mass_center": "(nb, 3) in body frame",
        "body_inertia": "(nb, 3, 3) about the mass centre, body frame",
        "total_mass": "scalar",
        "gravity": "(3,)",
        "coordinate_range": "(nc, 2)",
        "coordinate_default_value": "(nc,)",
        "coordinate_default_speed": "(nc,)",
        "coordinate_locked": "(nc,) bool, as in the file",
        "coordinate_clamped": "(nc,) bool, as in the file",
        "coordinate_motion_type": "(nc,) str rotational/translational/coupled",
        "coordinate_joint": "(nc,) str",
        "muscle_path": "(nm,) str",
        "muscle_class": "(nm,) str",
        "max_isometric_force": "(nm,)",
        "optimal_fiber_length": "(nm,)",
        "tendon_slack_length": "(nm,)",
        "pennation_angle_at_optimal": "(nm,)",
        "max_contraction_velocity": "(nm,) optimal fibre lengths / s",
        "ignore_tendon_compliance": "(nm,) bool, as in the file",
        "ignore_activation_dynamics": "(nm,) bool, as in the file",
        "fiber_damping": "(nm,) NaN if not Millard/DeGroote",
        "tendon_strain_at_one_norm_force": "(nm,)",
        "passive_fiber_strain_at_one_norm_force": "(nm,)",
    },
    "kinematics": {
        "body_position": "(n, nb, 3) body origin in ground",
        "body_rotation": "(n, nb, 3, 3) R_GB: body-frame vector -> ground",
        "com_position": "(n, 3) whole-body centre of mass in ground",
        "marker_position": "(n, nk, 3), only if the model has markers",
    },
    "muscle_geometry": {
        "length": "(n, nm) muscle-tendon (path) length",
        "moment_arm": "(n, nm, nc) computeMomentArm; 0 for locked / unspanned",
        "moment_arm_locked_raw": "(n, nm, nc) OpenSim's value for locked coordinates",
        "lengthening_speed": "(n, nm), only if qdot was given",
        "spanned": "(nm, nc) bool: pairs for which computeMomentArm was called",
        "unspanned_probe_max_abs": "scalar: max |r| OpenSim gave for unspanned pairs",
        "n_moment_arm_calls_per_pose": "scalar",
    },
    "inverse_dynamics": {
        "generalized_forces": "(n, nc) gravity + inertia only (every force disabled)",
        "mass_matrix": "(n, nc, nc) in coordinate order",
    },
    "inverse_dynamics_with_contact": {
        "generalized_forces": "(n, nc) with SmoothSphereHalfSpaceForces enabled",
        "mass_matrix": "(n, nc, nc)",
        "enabled_forces": "(k,) str paths of the forces that were applied",
    },
    "contact_forces": {
        "sphere_force": "(n, nct, 3) force on the sphere body, ground frame",
        "sphere_torque": "(n, nct, 3) torque on the sphere body about its origin",
        "half_space_force": "(n, nct, 3)",
        "half_space_torque": "(n, nct, 3) about the half-space body origin",
        "record_values": "(n, nct, 12) raw getRecordValues",
        "record_labels": "(12,) str, labels without the '<name>.' prefix",
        "contact_point": "(n, nct, 3) application point (recomputed)",
        "sphere_center": "(n, nct, 3)",
        "sphere_body_origin": "(n, nct, 3)",
        "sphere_body": "(nct,) str",
        "indentation": "(n, nct)",
        "torque_check_max_abs": "scalar |torque - (point - origin) x force|",
    },
    "muscle_forces": {
        "<each of>": "(n, nm): activation, tendon_force, active_fiber_force, "
        "passive_fiber_force, passive_fiber_elastic_force, passive_fiber_damping_force, "
        "fiber_force, fiber_force_along_tendon, active_fiber_force_along_tendon, "
        "fiber_length, normalized_fiber_length, fiber_velocity, normalized_fiber_velocity, "
        "pennation_angle, active_force_length_multiplier, force_velocity_multiplier, "
        "passive_force_multiplier, tendon_length, tendon_strain, muscle_tendon_length, "
        "lengthening_speed, normalized_tendon_force, normalized_tendon_force_derivative, "
        "implicit_residual (NaN where not applicable)",
        "equilibrated": "scalar bool: muscles were equilibrated (state input absent)",
        "compliant": "(nm,) bool: muscle had a tendon state",
        "tendon_compliance_dynamics_mode": "scalar str explicit/implicit",
    },
    "time_inverse_dynamics_tool": {
        "seconds": "scalar: wall time of tool.run() only",
        "total_seconds": "scalar: model loading + set-up + run",
        "output_file": "scalar str",
        "labels": "(k,) str column labels of the .sto (mobility order!)",
        "time": "(nt,)",
        "file_generalized_forces": "(nt, k) as in the file",
        "generalized_forces": "(nt, nc) re-ordered to coordinate order",
    },
}


def opensim_available() -> bool:
    """True when the ``opensim`` package is importable (without importing it)."""
    return importlib.util.find_spec("opensim") is not None


def require_opensim() -> None:
    """Skip the calling test when OpenSim is not installed."""
    if not opensim_available():
        import pytest

        pytest.skip("opensim package not installed (pip install opensim==4.6 for the oracle)")


def shared_data(*parts: str) -> Path:
    """Path inside ``../shared/data``; skips the calling test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        import pytest

        pytest.skip(f"shared data not available: {path}")
    return path


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def _unpack(value: np.ndarray) -> Any:
    return value.item() if value.ndim == 0 else value


def run_oracle(
    model: str | Path,
    queries: Iterable[Mapping[str, Any]],
    *,
    timeout: float = 900.0,
    log_level: str = "warn",
    replace_muscles_with_degroote: bool = False,
) -> dict[str, Any]:
    """Answer ``queries`` about ``model`` with OpenSim in a subprocess.

    ``replace_muscles_with_degroote`` converts every muscle with OpenSim's own
    ``DeGrooteFregly2016Muscle::replaceMuscles`` after loading.

    Raises RuntimeError (with the subprocess stderr) if the oracle fails.
    """
    queries = [_jsonable(dict(q)) for q in queries]
    ids = [q.get("id") for q in queries]
    for qid in ids:
        if not isinstance(qid, str) or not qid or "." in qid:
            raise ValueError(f"query ids must be non-empty strings without '.': {qid!r}")
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate query ids: {ids}")
    request = {
        "model": str(Path(model).resolve()),
        "log_level": log_level,
        "queries": queries,
        "replace_muscles_with_degroote": replace_muscles_with_degroote,
    }
    with tempfile.TemporaryDirectory(prefix="gaitsim_oracle_") as tmp:
        req_path = Path(tmp) / "request.json"
        res_path = Path(tmp) / "result.npz"
        req_path.write_text(json.dumps(request))
        try:
            proc = subprocess.run(
                [sys.executable, str(ORACLE_SCRIPT), str(req_path), str(res_path)],
                cwd=tmp,  # OpenSim may write opensim.log into the working directory
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(
                f"OpenSim oracle timed out after {timeout} s\nstderr:\n{exc.stderr}"
            ) from exc
        if proc.returncode != 0 or not res_path.exists():
            raise RuntimeError(
                f"OpenSim oracle failed (exit code {proc.returncode}) for model {model}\n"
                f"stderr:\n{proc.stderr}\nstdout (tail):\n{proc.stdout[-4000:]}"
            )
        with np.load(res_path, allow_pickle=False) as npz:
            raw = {k: npz[k] for k in npz.files}
    result: dict[str, Any] = {qid: {} for qid in ids}
    for key, value in raw.items():
        qid, dot, name = key.partition(".")
        if dot:
            result[qid][name] = _unpack(value)
        else:
            result[key] = _unpack(value)
    return result
