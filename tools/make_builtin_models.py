"""Regenerate gaitsim's built-in model files from the published models' figures.

Run from the project root with ``../shared/data`` present::

    .venv/bin/python tools/make_builtin_models.py

The figures (segment masses and inertias, joint geometry, muscle parameters and paths,
contact parameters) are those of the published OpenSim models named below, read with
gaitsim's own importer; the files are written in gaitsim's format with their sources
cited. The product never needs this script or the data it reads.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from gaitsim.io.osim import read_osim
from gaitsim.model.description import Model, TendonModel
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


def _header(title: str, lines: list[str]) -> str:
    body = "\n".join(f"# {line}" if line else "#" for line in lines)
    return f"# {title}\n#\n{body}\n\n"


def gait2d() -> tuple[Model, str]:
    source = read_osim(DATA / "moco_2d_walking" / "2D_gait.osim")
    model = dataclasses.replace(
        source,
        name="gait2d",
        description=(
            "Planar model of the trunk and legs: 10 degrees of freedom (pelvis tilt and "
            "translation, hip, knee and ankle on each side, lumbar extension), 9 "
            "DeGroote-Fregly muscles per leg with compliant tendons, two smooth contact "
            "spheres per foot. Segment, joint and muscle figures from Delp et al. (1990) "
            "and Anderson & Pandy (1999) as used in OpenSim's gait10dof18musc and Moco's "
            "2D walking example; contact as Serrancoli et al. (2019)."
        ),
        references=(DELP_1990, ANDERSON_PANDY_1999, DEGROOTE_2016, SERRANCOLI_2019, DEMBIA_2020),
    )
    header = _header(
        "gaitsim built-in model gait2d",
        [
            "Planar, 10 degrees of freedom, 18 muscles, 4 contact spheres.",
            "Figures from: Delp et al. 1990; Anderson & Pandy 1999 (via OpenSim's",
            "gait10dof18musc and the Moco 2D walking example, Dembia et al. 2020);",
            "muscles: De Groote et al. 2016; contact: Serrancoli et al. 2019.",
            "Full references in `references` below. Written by tools/make_builtin_models.py.",
            "Signs: OpenSim's (knee flexion negative, ankle dorsiflexion positive).",
        ],
    )
    return validate(model), header


def gait3d() -> tuple[Model, str]:
    source = read_osim(
        DATA / "gait2392" / "gait2392_millard2012muscle.osim", tendon=TendonModel.COMPLIANT
    )
    model = dataclasses.replace(
        source,
        name="gait3d",
        description=(
            "Three-dimensional model of the trunk and legs: 23 degrees of freedom, 92 "
            "muscles (46 per leg) in the DeGroote-Fregly 2016 formulation, with psoas, "
            "iliacus, rectus femoris, sartorius and tensor fasciae latae as separate hip "
            "flexors and semimembranosus, semitendinosus, biceps femoris long and short "
            "heads as separate hamstrings. Figures from gait2392 (Delp et al. 1990; "
            "Anderson & Pandy 1999, 2001; knee kinematics after Yamaguchi & Zajac 1989). "
            "The source model's Millard 2012 curve shapes are replaced by DeGroote-Fregly "
            "curves; maximum force, optimal fibre length, tendon slack length, pennation, "
            "maximum contraction velocity and time constants are kept."
        ),
        references=(
            DELP_1990,
            ANDERSON_PANDY_1999,
            ANDERSON_PANDY_2001,
            YAMAGUCHI_ZAJAC_1989,
            DEGROOTE_2016,
        ),
    )
    header = _header(
        "gaitsim built-in model gait3d",
        [
            "Three-dimensional, 23 degrees of freedom, 92 muscles.",
            "Figures from gait2392: Delp et al. 1990; Anderson & Pandy 1999, 2001;",
            "Yamaguchi & Zajac 1989 (knee). Muscles in the De Groote et al. 2016 form.",
            "Full references in `references` below. Written by tools/make_builtin_models.py.",
            "Signs: OpenSim's (knee flexion negative, ankle dorsiflexion positive).",
        ],
    )
    return validate(model), header


def main() -> int:
    if not DATA.exists():
        print(f"needs the published models in {DATA}", file=sys.stderr)
        return 1
    for make in (gait2d, gait3d):
        model, header = make()
        path = OUT / f"{model.name}.toml"
        path.write_text(header + dumps_model(model), encoding="utf-8")
        print(
            f"wrote {path.relative_to(ROOT)}: {len(model.coordinates)} coordinates, "
            f"{len(model.muscles)} muscles"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
