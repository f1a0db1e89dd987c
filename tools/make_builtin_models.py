"""Regenerate gaitsim's built-in model files from the published models' figures.

Run from the project root with ``../shared/data`` present::

    .venv/bin/python tools/make_builtin_models.py

The figures (segment masses and inertias, joint geometry, muscle parameters and paths,
contact parameters, marker sets) are those of the published OpenSim models named below,
read with gaitsim's own importer (the gait2392 marker set, which is published as a
separate file, is written out below with its source); the files are written in gaitsim's
format with their sources cited. The product never needs this script or the data it
reads.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import casadi as ca
import numpy as np

from gaitsim.io.osim import read_osim
from gaitsim.mechanics.functions import evaluate
from gaitsim.mechanics.model_functions import muscle_parameters
from gaitsim.mechanics.muscle import (
    compliant_tendon_state_implicit,
    tendon_force_length_inverse,
)
from gaitsim.mechanics.paths import muscle_length
from gaitsim.mechanics.skeleton import build_skeleton
from gaitsim.model.description import (
    AxisKind,
    ConditionalPathPoint,
    Joint,
    Marker,
    Model,
    Muscle,
    PathPoint,
    PathWrap,
    TendonModel,
    Vec3,
    WrapCylinder,
)
from gaitsim.model.toml_format import dumps_model
from gaitsim.model.validation import validate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "opensim"
OUT = ROOT / "src" / "gaitsim" / "model" / "data"

DELP_1990 = (
    "Delp SL, Loan JP, Hoy MG, Zajac FE, Topp EL, Rosen JM (1990). An interactive "
    "graphics-based model of the lower extremity to study orthopaedic surgical procedures. "
    "IEEE Trans Biomed Eng 37(8):757-767."
)
ANDERSON_PANDY_1999 = (
    "Anderson FC, Pandy MG (1999). A dynamic optimization solution for vertical jumping in "
    "three dimensions. Comput Methods Biomech Biomed Engin 2(3):201-231."
)
ANDERSON_PANDY_2001 = (
    "Anderson FC, Pandy MG (2001). Static and dynamic optimization solutions for gait are "
    "practically equivalent. J Biomech 34(2):153-161."
)
YAMAGUCHI_ZAJAC_1989 = (
    "Yamaguchi GT, Zajac FE (1989). A planar model of the knee joint to characterize the "
    "knee extensor mechanism. J Biomech 22(1):1-10."
)
DEGROOTE_2016 = (
    "De Groote F, Kinney AL, Rao AV, Fregly BJ (2016). Evaluation of direct collocation "
    "optimal control problem formulations for solving the muscle redundancy problem. "
    "Ann Biomed Eng 44(10):2922-2936."
)
SERRANCOLI_2019 = (
    "Serrancoli G, Falisse A, Dembia C, Vantilt J, Tanghe K, Lefeber D, Jonkers I, "
    "De Schutter J, De Groote F (2019). Subject-exoskeleton contact model calibration leads "
    "to accurate interaction force predictions. IEEE Trans Neural Syst Rehabil Eng "
    "27(8):1597-1605."
)
DEMBIA_2020 = (
    "Dembia CL, Bianco NA, Falisse A, Hicks JL, Delp SL (2020). OpenSim Moco: "
    "Musculoskeletal optimal control. PLoS Comput Biol 16(12):e1008493 "
    "(the 2D walking example model)."
)

RAJAGOPAL_2016 = (
    "Rajagopal AA, Dembia CL, DeMers MS, Delp DD, Hicks JL, Delp SL (2016). Full-body "
    "musculoskeletal model for muscle-driven simulation of human gait. IEEE Trans Biomed Eng "
    "63(10):2068-2079 (wrap cylinders, gastrocnemius origin and joint ranges)."
)
GARNER_PANDY_2000 = (
    "Garner BA, Pandy MG (2000). The obstacle-set method for representing muscle paths in "
    "musculoskeletal models. Comput Methods Biomech Biomed Engin 3(1):1-30."
)
RAJAGOPAL_FILE = DATA / "rajagopal" / "Rajagopal2016.osim"
SIDES = ("r", "l")


# --------------------------------------------------------------------------------------
# Figures of Rajagopal et al. (2016), read from the published OpenSim file
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rajagopal:
    """What the built-in models take from Rajagopal2016.osim.

    ``cylinders`` by name (body, frame, radius, quadrant as published; OpenSim's quadrant
    names ``"x"``/``"y"`` mean ``"+x"``/``"+y"``); ``points`` by path-point name (location
    in the point's body); ``knee_centre`` by side: the origin of the knee joint's frame
    on the femur; ``ranges`` of coordinates (rad); ``markers`` by name: (body, location
    in the body); ``joint_offsets`` by joint name: the origin of the joint's frame on its
    parent body.
    """

    cylinders: dict[str, WrapCylinder]
    points: dict[str, Vec3]
    knee_centre: dict[str, np.ndarray]
    ranges: dict[str, tuple[float, float]]
    markers: dict[str, tuple[str, Vec3]] = dataclasses.field(default_factory=dict)
    joint_offsets: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


def _floats(text: str | None) -> tuple[float, ...]:
    return tuple(float(x) for x in (text or "").split())


def read_rajagopal(path: Path = RAJAGOPAL_FILE) -> Rajagopal:
    root = ET.parse(path).getroot()
    cylinders = {}
    for body in root.iter("Body"):
        for wc in body.iter("WrapCylinder"):
            quadrant = (wc.findtext("quadrant") or "all").strip()
            quadrant = {"x": "+x", "y": "+y", "X": "+x", "Y": "+y"}.get(quadrant, quadrant)
            t, o = _floats(wc.findtext("translation")), _floats(wc.findtext("xyz_body_rotation"))
            cylinders[wc.get("name")] = WrapCylinder(
                name=wc.get("name"),
                body=body.get("name"),
                translation=(t[0], t[1], t[2]),
                orientation=(o[0], o[1], o[2]),
                radius=float(wc.findtext("radius")),
                quadrant=quadrant.lower(),
            )
    points: dict[str, Vec3] = {}
    for pp in root.iter("PathPoint"):
        loc = _floats(pp.findtext("location"))
        points[pp.get("name")] = (loc[0], loc[1], loc[2])
    knee = {}
    for joint in root.iter("CustomJoint"):
        for side in SIDES:
            frames = {f.get("name"): f for f in joint.iter("PhysicalOffsetFrame")}
            if joint.get("name") == f"walker_knee_{side}":
                knee[side] = np.array(
                    _floats(frames[f"femur_{side}_offset"].findtext("translation"))
                )
    ranges = {}
    for c in root.iter("Coordinate"):
        r = _floats(c.findtext("range"))
        ranges[c.get("name")] = (r[0], r[1])
    markers: dict[str, tuple[str, Vec3]] = {}
    for mk in root.iter("Marker"):
        body = (mk.findtext("socket_parent_frame") or "").strip().rsplit("/", 1)[-1]
        loc = _floats(mk.findtext("location"))
        markers[mk.get("name")] = (body, (loc[0], loc[1], loc[2]))
    offsets = {}
    for joint in root.iter():
        if joint.tag.endswith("Joint") and joint.get("name"):
            parent = (joint.findtext("socket_parent_frame") or "").strip()
            frames = {f.get("name"): f for f in joint.iter("PhysicalOffsetFrame")}
            if parent in frames:
                offsets[joint.get("name")] = np.array(
                    _floats(frames[parent].findtext("translation"))
                )
    return Rajagopal(cylinders, points, knee, ranges, markers, offsets)


# --------------------------------------------------------------------------------------
# Moving Rajagopal's figures onto another model, and editing muscles
# --------------------------------------------------------------------------------------
def _joint(model: Model, name: str) -> Joint:
    for j in model.joints:
        if j.name == name:
            return j
    raise KeyError(name)


def _child_origin_at_zero(joint: Joint) -> np.ndarray:
    """Where ``joint`` puts its child's frame, in the parent body, with its coordinates at 0.

    Only for joints whose frames are not rotated and whose rotations vanish at 0 (the
    knees of both built-in models).
    """
    assert joint.parent.orientation == (0.0, 0.0, 0.0) and joint.child == dataclasses.replace(
        joint.child, translation=(0.0, 0.0, 0.0), orientation=(0.0, 0.0, 0.0)
    )
    origin = np.array(joint.parent.translation, dtype=float)
    for axis in joint.transform:
        amount = float(evaluate(axis.function, 0.0))
        if axis.kind is AxisKind.ROTATION:
            assert amount == 0.0
        else:
            direction = np.array(axis.axis, dtype=float)
            origin = origin + amount * direction / np.linalg.norm(direction)
    return origin


def femur_scale(raj: Rajagopal, model: Model, side: str) -> float:
    """Ratio of femur lengths (hip centre to knee centre): ``model`` over Rajagopal's.

    Both femur frames have their origin at the hip centre; the knee centre is the knee
    joint's frame on the femur (Rajagopal) or the tibia's origin at zero knee angle.
    """
    knee = _child_origin_at_zero(_joint(model, f"knee_{side}"))
    return float(np.linalg.norm(knee) / np.linalg.norm(raj.knee_centre[side]))


def _vec(v: Iterable[float]) -> Vec3:
    x, y, z = (float(round(c, 10)) for c in v)
    return (x, y, z)


def on_femur(raj: Rajagopal, model: Model, name: str, quadrant: str | None = None) -> WrapCylinder:
    """A femur cylinder of Rajagopal's, scaled to ``model``'s femur length.

    Uniform scaling about the hip centre (the origin of both femur frames), as OpenSim's
    scale tool scales a body's wrap objects: translation and radius times
    :func:`femur_scale`; orientation kept.
    """
    cyl = raj.cylinders[name]
    k = femur_scale(raj, model, name[-1])
    return dataclasses.replace(
        cyl,
        translation=_vec(k * np.array(cyl.translation)),
        radius=round(k * cyl.radius, 10),
        quadrant=quadrant or cyl.quadrant,
    )


def on_pelvis(
    raj: Rajagopal, name: str, landmark: str, target: Vec3, quadrant: str | None = None
) -> WrapCylinder:
    """A pelvis cylinder of Rajagopal's, moved with a landmark.

    The cylinder keeps its offset from Rajagopal's path point ``landmark`` (the via point
    where the muscle leaves the pelvis, which the cylinder replaces), placed at ``target``
    in the other model; orientation and radius kept.
    """
    cyl = raj.cylinders[name]
    offset = np.array(cyl.translation) - np.array(raj.points[landmark])
    return dataclasses.replace(
        cyl, translation=_vec(np.array(target) + offset), quadrant=quadrant or cyl.quadrant
    )


def edit_muscle(
    muscle: Muscle,
    *,
    drop: Iterable[str] = (),
    relocate: dict[str, Vec3] | None = None,
    wraps: Iterable[PathWrap] = (),
) -> Muscle:
    """``muscle`` with path points dropped or moved and path wraps added."""
    drop = set(drop)
    names = {p.name for p in muscle.path}
    missing = (drop | set(relocate or {})) - names
    assert not missing, f"{muscle.name}: no path points {sorted(missing)}"
    path = []
    for p in muscle.path:
        if p.name in drop:
            continue
        if relocate and p.name in relocate:
            assert isinstance(p, PathPoint)
            p = dataclasses.replace(p, location=relocate[p.name])
        path.append(p)
    return dataclasses.replace(muscle, path=tuple(path), wraps=muscle.wraps + tuple(wraps))


def with_ranges(model: Model, ranges: dict[str, tuple[float, float]]) -> Model:
    """``model`` with the named coordinates' ranges replaced."""
    joints = []
    for j in model.joints:
        coords = tuple(
            dataclasses.replace(c, range=ranges[c.name]) if c.name in ranges else c
            for c in j.coordinates
        )
        joints.append(dataclasses.replace(j, coordinates=coords))
    return dataclasses.replace(model, joints=tuple(joints))


def _default_lengths(model: Model, names: Iterable[str]) -> dict[str, float]:
    sk = build_skeleton(model)
    names = list(names)
    expr = ca.vertcat(*[muscle_length(model.muscle(n), sk) for n in names])
    q0 = [c.default for c in model.coordinates]
    values = np.asarray(ca.Function("l", [sk.q], [expr])(q0)).ravel()
    return dict(zip(names, (float(v) for v in values), strict=True))


def _equilibrium_tendon_length(muscle: Muscle, length: float) -> float:
    """Tendon length of ``muscle`` in static equilibrium (default activation) at ``length``."""
    params = muscle_parameters(muscle)

    def residual(force: float) -> float:
        state = compliant_tendon_state_implicit(
            params, length, 0.0, muscle.default_activation, force, 0.0
        )
        return float(state.equilibrium_residual)

    lo, hi = 0.0, 2.0
    if residual(lo) >= 0:  # slack tendon: no force at zero tendon strain
        return muscle.tendon_slack_length
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if residual(mid) < 0 else (lo, mid)
    norm = float(
        tendon_force_length_inverse(0.5 * (lo + hi), muscle.tendon_strain_at_one_norm_force)
    )
    return muscle.tendon_slack_length * norm


def keep_fiber_lengths(
    before: Model, after: Model, changed: Iterable[str]
) -> tuple[Model, list[str]]:
    """Rescale tendon slack lengths of changed paths so that fibres keep their default length.

    For each muscle whose path changed, with ``l_T`` the tendon length in static
    equilibrium (default activation) at the default pose before the change and ``dL`` the
    change of muscle-tendon length there, the tendon slack length is scaled by
    ``(l_T + dL) / l_T``: the tendon takes up the whole change at the same strain, so
    the fibre length, pennation and forces at the default pose are exactly as before. A
    rigid tendon (``l_T = l_ts``) simply takes ``l_ts + dL``.
    """
    changed = list(changed)
    old = _default_lengths(before, changed)
    new = _default_lengths(after, changed)
    notes, muscles = [], {m.name: m for m in after.muscles}
    for name in changed:
        delta = new[name] - old[name]
        if abs(delta) < 1e-9:
            continue
        m = before.muscle(name)
        if m.tendon is TendonModel.RIGID:  # fibre length along the tendon = L - l_ts
            slack = m.tendon_slack_length + delta
        else:
            tendon = _equilibrium_tendon_length(m, old[name])
            slack = m.tendon_slack_length * (tendon + delta) / tendon
        muscles[name] = dataclasses.replace(muscles[name], tendon_slack_length=round(slack, 9))
        notes.append(
            f"{name}: default-pose length {1000 * old[name]:.1f} -> "
            f"{1000 * new[name]:.1f} mm, tendon slack length "
            f"{1000 * m.tendon_slack_length:.1f} -> {1000 * slack:.1f} mm"
        )
    model = dataclasses.replace(after, muscles=tuple(muscles[n] for n in after.muscle_names))
    return model, notes


KNEE_LIMIT = math.radians(-115.0)
"""Lower limit of gait3d's knee angle (115 deg of flexion). Beyond about 117 deg,
gait2392's tibiofemoral translation (Yamaguchi & Zajac 1989: the tibia moves 26 mm
distally by 120 deg) carries the biceps femoris long head's tibial via point P2 inside the
posterior femoral condyle; its moment arm turns positive (+1.9 mm at 120 deg) and no wrap
surface can act on a point inside the bone."""


def _header(title: str, lines: list[str]) -> str:
    body = "\n".join(f"# {line}" if line else "#" for line in lines)
    return f"# {title}\n#\n{body}\n\n"


def _location(muscle: Muscle, point: str) -> Vec3:
    for p in muscle.path:
        if p.name == point:
            assert isinstance(p, PathPoint | ConditionalPathPoint)
            return p.location
    raise KeyError(point)


def fix_gait2d(source: Model, raj: Rajagopal) -> tuple[Model, list[str]]:
    """Anatomically right moment-arm signs for the 2D model (see the model description).

    * ``hip_flexion`` range [-30, 120] deg (Rajagopal et al. 2016's range).
    * iliopsoas: the pelvic-brim via point P2 and the conditional brim point P3 are
      replaced by Rajagopal's psoas pelvic-brim cylinder (``PS_at_brim``, quadrant -y),
      placed at the same offset from P2 as from Rajagopal's psoas brim point, on the
      segment from the lumbar origin P1 to the femoral point P4.
    * vasti and rectus femoris: the deep-flexion conditional points are replaced by
      Rajagopal's knee-extensor cylinder at the distal femur (``KnExt_at_fem``).
    * gastrocnemius: the conditional point P2 is replaced by Rajagopal's femoral-condyle
      cylinder (``Gastroc_at_condyles``, quadrant -x: posterior) and the origin by
      Rajagopal's medial gastrocnemius origin.
    * Femur figures are scaled by the ratio of femur lengths; tendon slack lengths of the
      changed muscles keep each fibre's default-pose length.
    """
    model = with_ranges(source, {f"hip_flexion_{s}": raj.ranges[f"hip_flexion_{s}"] for s in SIDES})
    muscles = {m.name: m for m in model.muscles}
    cylinders = []
    for s in SIDES:
        psoas = muscles[f"iliopsoas_{s}"]
        brim = on_pelvis(raj, f"PS_at_brim_{s}", f"psoas_{s}-P2", _location(psoas, f"psoas_{s}-P2"))
        knext = on_femur(raj, model, f"KnExt_at_fem_{s}")
        condyles = on_femur(raj, model, f"Gastroc_at_condyles_{s}", quadrant="-x")
        cylinders += [brim, knext, condyles]
        muscles[psoas.name] = edit_muscle(
            psoas,
            drop=[f"psoas_{s}-P2", f"psoas_{s}-P3"],
            wraps=[PathWrap(brim.name, f"psoas_{s}-P1", f"psoas_{s}-P4")],
        )
        muscles[f"rect_fem_{s}"] = edit_muscle(
            muscles[f"rect_fem_{s}"],
            drop=[f"rect_fem_{s}-P2"],
            wraps=[PathWrap(knext.name, f"rect_fem_{s}-P1", f"rect_fem_{s}-P3")],
        )
        muscles[f"vasti_{s}"] = edit_muscle(
            muscles[f"vasti_{s}"],
            drop=[f"vas_int_{s}-P3"],
            wraps=[PathWrap(knext.name, f"vas_int_{s}-P2", f"vas_int_{s}-P4")],
        )
        k = femur_scale(raj, model, s)
        muscles[f"gastroc_{s}"] = edit_muscle(
            muscles[f"gastroc_{s}"],
            drop=[f"med_gas_{s}-P2"],
            relocate={f"med_gas_{s}-P1": _vec(k * np.array(raj.points[f"gasmed_{s}-P1"]))},
            wraps=[PathWrap(condyles.name, f"med_gas_{s}-P1", f"med_gas_{s}-P3")],
        )
    fixed = dataclasses.replace(
        model,
        muscles=tuple(muscles[n] for n in model.muscle_names),
        wrap_cylinders=tuple(cylinders),
    )
    changed = [f"{n}_{s}" for s in SIDES for n in ("iliopsoas", "rect_fem", "vasti", "gastroc")]
    return keep_fiber_lengths(model, fixed, changed)


def conditional_on_chord(model: Model, muscle: Muscle, point: str) -> Muscle:
    """Move conditional ``point`` onto its neighbours' chord at its one interior switch angle.

    The point is projected (in its body) onto the segment between the previous and the
    next path point at the angle where it enters or leaves the path, so that the length is
    continuous there (OpenSim's switch then changes only the length's slope).
    """
    i = [p.name for p in muscle.path].index(point)
    cond = muscle.path[i]
    assert isinstance(cond, ConditionalPathPoint)
    lo_c, hi_c = model.coordinate(cond.coordinate).range
    switch = [b for b in cond.range if lo_c < b < hi_c]
    assert len(switch) == 1
    sk = build_skeleton(model)
    q = [c.default for c in model.coordinates]
    q[model.coordinate_names.index(cond.coordinate)] = switch[0]
    body = sk.poses[cond.body]
    f = ca.Function(
        "p",
        [sk.q],
        [
            body.R.T @ (sk.point(p.body, p.location) - body.p)
            for p in (muscle.path[i - 1], muscle.path[i + 1])
        ],
    )
    a, b = (np.asarray(v).ravel() for v in f(q))
    c = np.array(cond.location)
    t = float(np.dot(c - a, b - a) / np.dot(b - a, b - a))
    moved = dataclasses.replace(cond, location=_vec(a + t * (b - a)))
    return dataclasses.replace(muscle, path=muscle.path[:i] + (moved,) + muscle.path[i + 1 :])


def fix_gait3d(source: Model, raj: Rajagopal) -> tuple[Model, list[str]]:
    """Anatomically right moment-arm signs for the 3D model (see the model description).

    * Ranges: ``hip_flexion`` [-30, 120] deg and ``ankle_angle`` [-40, 30] deg
      (Rajagopal et al. 2016); ``knee_angle`` [-115, 10] deg (see :data:`KNEE_LIMIT`).
    * psoas and iliacus: the pelvic-brim via point P2 and the conditional brim point P3
      are replaced by Rajagopal's psoas pelvic-brim cylinder, placed at the same offset
      from psoas P2 as from Rajagopal's psoas brim point, on the segment P1-P4. gait2392
      puts both muscles' brim points P3 at one place, so the iliacus shares the cylinder
      (Rajagopal's own iliacus cylinder, placed the same way, would contain the iliacus
      insertion in hip extension).
    * gluteus maximus 1-3: Rajagopal's pelvis cylinders ``Gmax1-3_at_pelvis`` on the
      segment from the pelvic via point P2 (which places them) to the femur.
    * sartorius: Rajagopal's femoral-condyle cylinder (posterior side) on the segment
      from the femoral point P2 to the tibia, as the tendon passes behind the medial
      femoral condyle.
    * gastrocnemii: the conditional point P2 is moved onto the chord of its neighbours at
      its switch angle (-45 deg), which removes a 0.36 mm (medial) / 0.03 mm (lateral)
      jump of the length that the smooth switch would turn into a moment-arm spike.
    * Tendon slack lengths of the changed muscles keep each fibre's default-pose length.
    """
    ranges = {}
    for s in SIDES:
        for c in ("hip_flexion", "ankle_angle"):
            ranges[f"{c}_{s}"] = raj.ranges[f"{c}_{s}"]
        ranges[f"knee_angle_{s}"] = (KNEE_LIMIT, source.coordinate(f"knee_angle_{s}").range[1])
    model = with_ranges(source, ranges)
    muscles = {m.name: m for m in model.muscles}
    cylinders: list[WrapCylinder] = []
    changed: list[str] = []
    notes: list[str] = []
    for s in SIDES:
        brim = on_pelvis(
            raj,
            f"PS_at_brim_{s}",
            f"psoas_{s}-P2",
            _location(muscles[f"psoas_{s}"], f"psoas_{s}-P2"),
        )
        cylinders.append(brim)
        for name in (f"psoas_{s}", f"iliacus_{s}"):
            muscles[name] = edit_muscle(
                muscles[name],
                drop=[f"{name}-P2", f"{name}-P3"],
                wraps=[PathWrap(brim.name, f"{name}-P1", f"{name}-P4")],
            )
            changed.append(name)
        for i in (1, 2, 3):
            name = f"glut_max{i}_{s}"
            gmax = on_pelvis(
                raj,
                f"Gmax{i}_at_pelvis_{s}",
                f"glmax{i}_{s}-P2",
                _location(muscles[name], f"{name}-P2"),
            )
            cylinders.append(gmax)
            muscles[name] = edit_muscle(
                muscles[name], wraps=[PathWrap(gmax.name, f"{name}-P2", f"{name}-P3")]
            )
            changed.append(name)
        condyles = on_femur(raj, model, f"Gastroc_at_condyles_{s}", quadrant="-x")
        cylinders.append(condyles)
        muscles[f"sar_{s}"] = edit_muscle(
            muscles[f"sar_{s}"], wraps=[PathWrap(condyles.name, f"sar_{s}-P2", f"sar_{s}-P3")]
        )
        changed.append(f"sar_{s}")
        for name in (f"med_gas_{s}", f"lat_gas_{s}"):
            before = _location(muscles[name], f"{name}-P2")
            muscles[name] = conditional_on_chord(model, muscles[name], f"{name}-P2")
            after = _location(muscles[name], f"{name}-P2")
            notes.append(
                f"{name}-P2 moved {1000 * math.dist(before, after):.2f} mm onto "
                "the chord at its switch angle"
            )
            changed.append(name)
    fixed = dataclasses.replace(
        model,
        muscles=tuple(muscles[n] for n in model.muscle_names),
        wrap_cylinders=tuple(cylinders),
    )
    fixed, slack_notes = keep_fiber_lengths(model, fixed, changed)
    return fixed, notes + slack_notes


# --------------------------------------------------------------------------------------
# Marker sets
# --------------------------------------------------------------------------------------
GAIT2392_FILE = DATA / "gait2392" / "gait2392_millard2012muscle.osim"
GAIT2392_MARKERS: tuple[tuple[str, str, Vec3], ...] = (
    # OpenSim's published marker set of gait2392 (opensim-org/opensim-models,
    # Gait2392_Simbody/gait2392_Scale_MarkerSet.xml, commit 761d3132): name, body,
    # location in the body (m), as published (R.Shank.Rear and L.Shank.Rear are not
    # mirror images there: x = +0.02 and -0.02).
    ("Sternum", "torso", (0.07, 0.30, 0.0)),
    ("R.Acromium", "torso", (-0.03, 0.44, 0.15)),
    ("L.Acromium", "torso", (-0.03, 0.44, -0.15)),
    ("Top.Head", "torso", (0.00084, 0.657, 0.0)),
    ("R.ASIS", "pelvis", (0.02, 0.03, 0.128)),
    ("L.ASIS", "pelvis", (0.02, 0.03, -0.128)),
    ("V.Sacral", "pelvis", (-0.16, 0.04, 0.0)),
    ("R.Thigh.Upper", "femur_r", (0.018, -0.2, 0.064)),
    ("R.Thigh.Front", "femur_r", (0.08, -0.25, 0.0047)),
    ("R.Thigh.Rear", "femur_r", (0.01, -0.3, 0.06)),
    ("R.Knee.Lat", "femur_r", (0.0, -0.404, 0.05)),
    ("R.Knee.Med", "femur_r", (0.0, -0.404, -0.05)),
    ("R.Shank.Upper", "tibia_r", (0.005, -0.065, 0.05)),
    ("R.Shank.Front", "tibia_r", (0.05, -0.08, 0.0)),
    ("R.Shank.Rear", "tibia_r", (0.02, -0.13, 0.05)),
    ("R.Ankle.Lat", "tibia_r", (-0.005, -0.41, 0.053)),
    ("R.Ankle.Med", "tibia_r", (0.006, -0.3888, -0.038)),
    ("R.Heel", "calcn_r", (-0.02, 0.02, 0.0)),
    ("R.Midfoot.Sup", "calcn_r", (0.13, 0.03, -0.03)),
    ("R.Midfoot.Lat", "calcn_r", (0.1, 0.02, 0.04)),
    ("R.Toe.Lat", "calcn_r", (0.19, 0.0, 0.065)),
    ("R.Toe.Med", "calcn_r", (0.19, 0.005, -0.04)),
    ("R.Toe.Tip", "calcn_r", (0.26, 0.005, 0.0)),
    ("L.Thigh.Upper", "femur_l", (0.018, -0.2, -0.064)),
    ("L.Thigh.Front", "femur_l", (0.08, -0.25, -0.0047)),
    ("L.Thigh.Rear", "femur_l", (0.01, -0.3, -0.06)),
    ("L.Knee.Lat", "femur_l", (0.0, -0.404, -0.05)),
    ("L.Knee.Med", "femur_l", (0.0, -0.404, 0.05)),
    ("L.Shank.Upper", "tibia_l", (0.005, -0.065, -0.05)),
    ("L.Shank.Front", "tibia_l", (0.05, -0.08, 0.0)),
    ("L.Shank.Rear", "tibia_l", (-0.02, -0.13, -0.05)),
    ("L.Ankle.Lat", "tibia_l", (-0.005, -0.41, -0.053)),
    ("L.Ankle.Med", "tibia_l", (0.006, -0.3888, 0.038)),
    ("L.Heel", "calcn_l", (-0.02, 0.02, 0.0)),
    ("L.Midfoot.Sup", "calcn_l", (0.13, 0.03, 0.03)),
    ("L.Midfoot.Lat", "calcn_l", (0.1, 0.02, -0.04)),
    ("L.Toe.Lat", "calcn_l", (0.19, 0.0, -0.065)),
    ("L.Toe.Med", "calcn_l", (0.19, 0.005, 0.04)),
    ("L.Toe.Tip", "calcn_l", (0.26, 0.005, 0.0)),
)
MARKER_NOTE = [
    "Markers: OpenSim's gait2392 marker set (opensim-models",
    "Gait2392_Simbody/gait2392_Scale_MarkerSet.xml, commit 761d3132) on anatomical",
    "landmarks, plus R/L.PSIS, R/L.Shank.Lower (lateral lower third of the shank) and",
    "R/L.Toe.MT2 (second metatarsal head) from Rajagopal et al. 2016 (Rajagopal2016.osim",
    "markers RPSI, RTB3, RTOE), so that Plug-in Gait lower-body landmarks all have a model",
    "marker. See tools/make_builtin_models.py (gait2392_markers) for the transfer.",
]
MARKER_HEADER = [
    "Markers: OpenSim's gait2392 marker set on anatomical landmarks, plus PSIS,",
    "lower-shank and second-metatarsal markers of Rajagopal et al. 2016 (see the note",
    "above the first [[markers]] entry).",
]


def gait2392_markers(raj: Rajagopal, gait2392: Model) -> tuple[tuple[Marker, ...], list[str]]:
    """The marker set of gait2392's bodies: the published set and Rajagopal's additions.

    Rajagopal et al. (2016) place markers on the same landmarks of the same (Delp 1990)
    bones, in slightly different body frames. Their markers that gait2392's set lacks
    are moved onto gait2392's bodies as follows:

    * ``R.PSIS`` / ``L.PSIS`` (posterior superior iliac spines, Rajagopal's ``RPSI`` /
      ``LPSI``): Rajagopal's vector from the ASIS marker to the PSIS marker, added to
      gait2392's ASIS marker (the pelvis frames differ by a shift; the same rule places
      the pelvic wrap cylinders, :func:`on_pelvis`).
    * ``R.Shank.Lower`` / ``L.Shank.Lower`` (lateral shank, lower third: ``RTB3`` /
      ``LTB3``): scaled about the tibia origin (the knee) by the ratio of the
      knee-to-ankle distances, as OpenSim's scale tool moves a body's markers.
    * ``R.Toe.MT2`` / ``L.Toe.MT2`` (dorsum of the second metatarsal head: ``RTOE`` /
      ``LTOE``): copied, the calcaneus frames being the same in both models (checked:
      equal subtalar and metatarsophalangeal joint offsets).
    """
    published = tuple(Marker(n, b, loc) for n, b, loc in GAIT2392_MARKERS)
    by_name = {m.name: m for m in published}
    added: list[Marker] = []
    notes: list[str] = []
    for s, side in (("r", "R"), ("l", "L")):
        asis_raj = np.array(raj.markers[f"{side}ASI"][1])
        psis_raj = np.array(raj.markers[f"{side}PSI"][1])
        asis = np.array(by_name[f"{side}.ASIS"].location)
        added.append(Marker(f"{side}.PSIS", "pelvis", _vec(asis + psis_raj - asis_raj)))

        ankle = np.array(_joint(gait2392, f"ankle_{s}").parent.translation)
        k = float(np.linalg.norm(ankle) / np.linalg.norm(raj.joint_offsets[f"ankle_{s}"]))
        body, tb3 = raj.markers[f"{side}TB3"]
        assert body == f"tibia_{s}"
        added.append(Marker(f"{side}.Shank.Lower", f"tibia_{s}", _vec(k * np.array(tb3))))
        notes.append(f"{side}.Shank.Lower: Rajagopal's {side}TB3 scaled by {k:.4f}")

        for joint in (f"subtalar_{s}", f"mtp_{s}"):
            ours = np.array(_joint(gait2392, joint).parent.translation)
            assert np.allclose(ours, raj.joint_offsets[joint], atol=1e-9), joint
        body, toe = raj.markers[f"{side}TOE"]
        assert body == f"calcn_{s}"
        added.append(Marker(f"{side}.Toe.MT2", f"calcn_{s}", _vec(toe)))
    order = {"R": 0, "L": 1}
    added.sort(key=lambda m: (m.name.split(".", 1)[1], order[m.name[0]]))
    return published + tuple(added), notes


def body_scales(model: Model, reference: Model) -> dict[str, np.ndarray]:
    """Per-axis scale factors of each body of ``model`` relative to ``reference``.

    The figures are the ratios of the centres of mass and of the offsets of the joints
    (of the same name in both models) whose parent is the body, component by component;
    components under 5 mm in ``reference`` are not used. An axis without a figure takes
    the mean of the body's other figures. Figures on one axis must agree within 1 %.
    """
    ref_joints = {j.name: j for j in reference.joints}
    scales = {}
    for body in model.bodies:
        samples: list[list[float]] = [[], [], []]
        pairs = [(np.array(body.com), np.array(reference.body(body.name).com))]
        for joint in model.joints:
            other = ref_joints.get(joint.name)
            if joint.parent.body == body.name and other is not None:
                pairs.append(
                    (np.array(joint.parent.translation), np.array(other.parent.translation))
                )
        for ours, theirs in pairs:
            for axis in range(3):
                if abs(theirs[axis]) > 5e-3:
                    samples[axis].append(float(ours[axis] / theirs[axis]))
        every = [r for axis in samples for r in axis]
        assert every, f"no figure to scale {body.name}"
        for axis in samples:
            assert max(axis, default=1.0) - min(axis, default=1.0) < 0.01, (body.name, samples)
        scales[body.name] = np.array([np.mean(a) if a else np.mean(every) for a in samples])
    return scales


def scaled_markers(markers: Iterable[Marker], scales: dict[str, np.ndarray]) -> tuple[Marker, ...]:
    """``markers`` with locations scaled by their body's factors (OpenSim's scale tool)."""
    return tuple(
        dataclasses.replace(m, location=_vec(scales[m.body] * np.array(m.location)))
        for m in markers
    )


def _with_marker_note(text: str) -> str:
    """Model TOML text with the provenance of the marker set above its first entry."""
    note = "\n".join(f"# {line}" for line in MARKER_NOTE)
    head, sep, tail = text.partition("\n[[markers]]\n")
    assert sep, "the model has markers"
    return f"{head}\n{note}\n[[markers]]\n{tail}"


GAIT2D_PATHS = (
    " Muscle paths changed for anatomically right moment arms over the whole range of "
    "each coordinate, with wrap cylinders of Rajagopal et al. (2016) (smooth cylinder "
    "wrapping, Garner & Pandy 2000): hip flexion range limited to [-30, 120] deg "
    "(Rajagopal et al. 2016; the source's -60 deg lies beyond physiological hip "
    "extension); iliopsoas: the pelvic-brim via point and the conditional brim point "
    "replaced by Rajagopal's psoas pelvic-brim cylinder (PS_at_brim) on the segment from "
    "the lumbar origin to the femur, so that it stays a hip flexor up to 120 deg; vasti "
    "and rectus femoris: the deep-flexion conditional points (which made the length jump "
    "by 3.4 and 2.5 mm) replaced by Rajagopal's knee-extensor cylinder at the distal femur "
    "(KnExt_at_fem); gastrocnemius: the conditional point replaced by Rajagopal's "
    "femoral-condyle cylinder (Gastroc_at_condyles, constrained to its posterior side) "
    "and the origin by Rajagopal's medial gastrocnemius origin (the source's origin lies "
    "15 mm behind the knee axis at its level, so that no path from it stays behind the "
    "axis beyond 95 deg of knee flexion). Femur figures are scaled by the ratio of femur "
    "lengths; tendon slack lengths of the changed muscles are rescaled so that the fibres "
    "keep their default-pose lengths."
)
GAIT3D_PATHS = (
    " Muscle paths changed for anatomically right moment arms over the whole range of "
    "each coordinate, with wrap cylinders of Rajagopal et al. (2016) (smooth cylinder "
    "wrapping, Garner & Pandy 2000): hip flexion range [-30, 120] deg and ankle range "
    "[-40, 30] deg (Rajagopal et al. 2016); knee flexion limited to 115 deg (beyond about "
    "117 deg the source's tibiofemoral translation carries the biceps femoris long head's "
    "tibial via point inside the posterior femoral condyle and its moment arm turns "
    "positive); psoas and iliacus: the pelvic-brim via point and the conditional brim "
    "point replaced by Rajagopal's psoas pelvic-brim cylinder (PS_at_brim), so that both "
    "stay hip flexors up to 120 deg; gluteus maximus 1-3: Rajagopal's pelvis cylinders "
    "(Gmax1-3_at_pelvis), so that they stay hip extensors up to 120 deg; sartorius: "
    "Rajagopal's femoral-condyle cylinder (Gastroc_at_condyles, posterior side), so that "
    "it stays a knee flexor near full extension; medial and lateral gastrocnemius: the "
    "conditional condyle point moved 3.2 and 0.8 mm onto its neighbours' chord at its "
    "switch angle, which removes a jump in length. Tendon slack lengths of the changed "
    "muscles are rescaled so that the fibres keep their default-pose lengths."
)


def gait2d(raj: Rajagopal | None = None) -> tuple[Model, str, list[str]]:
    raj = raj or read_rajagopal()
    source = read_osim(DATA / "moco_2d_walking" / "2D_gait.osim")
    fixed, notes = fix_gait2d(source, raj)
    gait2392 = read_osim(GAIT2392_FILE, tendon=TendonModel.COMPLIANT)
    scales = body_scales(source, gait2392)
    markers, _ = gait2392_markers(raj, gait2392)
    notes += [
        f"markers on {body} scaled by {np.array2string(k, precision=4)}"
        for body, k in scales.items()
    ]
    model = dataclasses.replace(
        fixed,
        name="gait2d",
        markers=scaled_markers(markers, scales),
        description=(
            "Planar model of the trunk and legs: 10 degrees of freedom (pelvis tilt and "
            "translation, hip, knee and ankle on each side, lumbar extension), 9 "
            "DeGroote-Fregly muscles per leg with rigid tendons (as in Moco's 2D example; "
            "set a muscle's tendon to compliant for elastic tendons), two smooth contact "
            "spheres per foot. Segment, joint and muscle figures from Delp et al. (1990) "
            "and Anderson & Pandy (1999) as used in OpenSim's gait10dof18musc and Moco's "
            "2D walking example; contact as Serrancoli et al. (2019)." + GAIT2D_PATHS
        ),
        references=(
            DELP_1990,
            ANDERSON_PANDY_1999,
            DEGROOTE_2016,
            SERRANCOLI_2019,
            DEMBIA_2020,
            RAJAGOPAL_2016,
            GARNER_PANDY_2000,
        ),
    )
    header = _header(
        "gaitsim built-in model gait2d",
        [
            "Planar, 10 degrees of freedom, 18 muscles, 4 contact spheres.",
            "Figures from: Delp et al. 1990; Anderson & Pandy 1999 (via OpenSim's",
            "gait10dof18musc and the Moco 2D walking example, Dembia et al. 2020);",
            "muscles: De Groote et al. 2016; contact: Serrancoli et al. 2019;",
            "wrap cylinders, gastrocnemius origin, hip range: Rajagopal et al. 2016.",
            "Full references in `references` below. Written by tools/make_builtin_models.py.",
            "Signs: OpenSim's (knee flexion negative, ankle dorsiflexion positive).",
            *MARKER_HEADER,
            "Each marker is scaled with its body, by the ratios of this model's segment",
            "figures to gait2392's (as OpenSim's scale tool moves markers).",
        ],
    )
    return validate(standing_default(model)), header, notes


def standing_default(model: Model) -> Model:
    """Set the default pelvis height so that the default pose stands on the floor.

    With every other coordinate at its default, the lowest contact sphere just touches
    the plane y = 0 (the source file's default, 0, puts the pelvis at floor level).
    """
    import numpy as np

    from gaitsim.mechanics.model_functions import build

    f = build(model)
    names = model.coordinate_names
    q = np.array([c.default for c in model.coordinates])
    radii = np.array([s.radius for s in model.contact_spheres])
    lowest = float((np.asarray(f.sphere_centres(q))[1] - radii).min())
    i = names.index("pelvis_ty")
    joints = []
    for joint in model.joints:
        coords = tuple(
            dataclasses.replace(c, default=round(c.default - lowest, 6))
            if c.name == names[i]
            else c
            for c in joint.coordinates
        )
        joints.append(dataclasses.replace(joint, coordinates=coords))
    return dataclasses.replace(model, joints=tuple(joints))


def gait3d(raj: Rajagopal | None = None) -> tuple[Model, str, list[str]]:
    raj = raj or read_rajagopal()
    source = read_osim(GAIT2392_FILE, tendon=TendonModel.COMPLIANT)
    fixed, notes = fix_gait3d(source, raj)
    markers, marker_notes = gait2392_markers(raj, source)
    notes += marker_notes
    model = dataclasses.replace(
        fixed,
        name="gait3d",
        markers=markers,
        description=(
            "Three-dimensional model of the trunk and legs: 23 degrees of freedom, 92 "
            "muscles (46 per leg) in the DeGroote-Fregly 2016 formulation, with psoas, "
            "iliacus, rectus femoris, sartorius and tensor fasciae latae as separate hip "
            "flexors and semimembranosus, semitendinosus, biceps femoris long and short "
            "heads as separate hamstrings. Figures from gait2392 (Delp et al. 1990; "
            "Anderson & Pandy 1999, 2001; knee kinematics after Yamaguchi & Zajac 1989). "
            "The source model's Millard 2012 curve shapes are replaced by DeGroote-Fregly "
            "curves; maximum force, optimal fibre length, tendon slack length, pennation, "
            "maximum contraction velocity and time constants are kept." + GAIT3D_PATHS
        ),
        references=(
            DELP_1990,
            ANDERSON_PANDY_1999,
            ANDERSON_PANDY_2001,
            YAMAGUCHI_ZAJAC_1989,
            DEGROOTE_2016,
            RAJAGOPAL_2016,
            GARNER_PANDY_2000,
        ),
    )
    header = _header(
        "gaitsim built-in model gait3d",
        [
            "Three-dimensional, 23 degrees of freedom, 92 muscles.",
            "Figures from gait2392: Delp et al. 1990; Anderson & Pandy 1999, 2001;",
            "Yamaguchi & Zajac 1989 (knee). Muscles in the De Groote et al. 2016 form.",
            "Wrap cylinders and hip and ankle ranges: Rajagopal et al. 2016.",
            "Full references in `references` below. Written by tools/make_builtin_models.py.",
            "Signs: OpenSim's (knee flexion negative, ankle dorsiflexion positive).",
            *MARKER_HEADER,
        ],
    )
    return validate(model), header, notes


def main() -> int:
    if not DATA.exists():
        print(f"needs the published models in {DATA}", file=sys.stderr)
        return 1
    raj = read_rajagopal()
    for make in (gait2d, gait3d):
        model, header, notes = make(raj)
        path = OUT / f"{model.name}.toml"
        path.write_text(header + _with_marker_note(dumps_model(model)), encoding="utf-8")
        print(
            f"wrote {path.relative_to(ROOT)}: {len(model.coordinates)} coordinates, "
            f"{len(model.muscles)} muscles, {len(model.wrap_cylinders)} wrap cylinders, "
            f"{len(model.markers)} markers"
        )
        for note in notes:
            print(f"  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
