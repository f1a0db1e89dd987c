"""Question 2: what do the hamstrings do through the gait cycle, and do weak glutes make
them overwork?

Evidence from predicted walking of ``gait2d`` at 1.3 m/s (right side): the force, fibre
velocity, action and work of the biarticular hamstrings (``hamstrings_r``) in each of
Perry's phases, their share of the muscles' hip-extension and knee-flexion moments, and
gluteus maximus beside them; then the same walking predicted again with gluteus maximus
at 50 % and 25 % of its strength.
"""

from __future__ import annotations

import numpy as np

from gaitsim.questions.answer import Answer, Figure, Table
from gaitsim.questions.context import QuestionContext
from gaitsim.questions.stride import (
    ACTIVE_ACTIVATION,
    StrideAnalysis,
    plot_over_cycle,
)
from gaitsim.questions.verdict import Claim, Rule, Verdict

__all__ = ["STRENGTHS", "answer"]

#: Gluteus maximus strengths simulated for the second claim.
STRENGTHS = (1.0, 0.5, 0.25)
#: A change counts as "more work" when it is at least this fraction (10 %) larger: smaller
#: changes are within what a different local optimum of the same problem can give.
MEANINGFUL_CHANGE = 0.10

HAM, GLUT, VASTI = "hamstrings_r", "glut_max_r", "vasti_r"


def _extension_share(a: StrideAnalysis, phase: str, muscle: str, coordinate: str) -> float:
    """Share of the muscles' extensor (negative, OpenSim sign) moment about ``coordinate``
    that ``muscle`` supplies over the phase (0-1)."""
    mask = a.in_phases([phase])
    j = a.muscles.coordinate_names.index(coordinate)
    own = a.muscles.muscle(muscle).moment_contributions[mask, j]
    total = np.zeros_like(own)
    for m in a.muscles.muscles:
        if m.name.endswith("_r"):
            total += np.minimum(m.moment_contributions[mask, j], 0.0)
    extensor = -np.minimum(own, 0.0).sum()
    return float(extensor / -total.sum()) if total.sum() < 0 else float("nan")


def answer(context: QuestionContext) -> Answer:
    ev = context.evidence
    runs = context.strength_series("question 2", "glut_max", "glutmax", STRENGTHS)
    a = runs[1.0]

    def phase_numbers(phase: str, muscle: str) -> dict[str, float]:
        p = a.muscles.phase(muscle, f"{phase}_r")
        return {
            "active": p.active_fraction,
            "eccentric": p.eccentric_fraction if p.active_fraction > 0 else 0.0,
            "concentric": p.concentric_fraction if p.active_fraction > 0 else 0.0,
            "negative_work": p.muscle_tendon_negative_work,
            "positive_work": p.muscle_tendon_positive_work,
        }

    tsw = phase_numbers("terminal_swing", HAM)
    lr = phase_numbers("loading_response", HAM)
    lr_vasti = phase_numbers("loading_response", VASTI)
    tst = phase_numbers("terminal_stance", HAM)
    share_hip_tst = _extension_share(a, "terminal_stance", HAM, "hip_flexion_r")
    share_glut_tst = _extension_share(a, "terminal_stance", GLUT, "hip_flexion_r")

    brake = Rule(
        "supported if the hamstrings are active (activation >= "
        f"{ACTIVE_ACTIVATION}) for at least half of terminal swing, lengthening for at least "
        "half of that active time, and absorb work (negative muscle-tendon work); partly "
        "supported if they are active for at least a quarter of it and do one of the two; "
        "otherwise not supported",
        ("active", "eccentric", "negative_work"),
        lambda n: (
            Verdict.SUPPORTED
            if n["active"] >= 0.5 and n["eccentric"] >= 0.5 and n["negative_work"] < 0
            else Verdict.PARTLY_SUPPORTED
            if n["active"] >= 0.25 and (n["eccentric"] >= 0.5 or n["negative_work"] < 0)
            else Verdict.NOT_SUPPORTED
        ),
    )
    stabilise = Rule(
        "supported if in loading response the hamstrings and the vasti are both active for at "
        "least half of the phase (co-contraction about the knee); partly supported if the "
        "hamstrings are active for at least a quarter of it; otherwise not supported",
        ("ham_active", "vasti_active"),
        lambda n: (
            Verdict.SUPPORTED
            if n["ham_active"] >= 0.5 and n["vasti_active"] >= 0.5
            else Verdict.PARTLY_SUPPORTED
            if n["ham_active"] >= 0.25
            else Verdict.NOT_SUPPORTED
        ),
    )
    propel = Rule(
        "supported if in terminal stance the hamstrings supply at least a quarter of the "
        "muscles' hip-extension moment and do positive work there; partly supported if one "
        "of the two holds; otherwise not supported",
        ("share", "positive_work"),
        lambda n: (
            Verdict.SUPPORTED
            if n["share"] >= 0.25 and n["positive_work"] > 0
            else Verdict.PARTLY_SUPPORTED
            if n["share"] >= 0.25 or n["positive_work"] > 0
            else Verdict.NOT_SUPPORTED
        ),
    )
    work = {s: runs[s].muscle_work((HAM,))[0] for s in STRENGTHS}
    peak = {s: float(runs[s].muscles.muscle(HAM).tendon_force.max()) for s in STRENGTHS}
    increase = (work[0.25] - work[1.0]) / work[1.0] if work[1.0] > 0 else float("nan")
    increase_half = (work[0.5] - work[1.0]) / work[1.0] if work[1.0] > 0 else float("nan")
    overwork = Rule(
        "supported if the hamstrings' positive work over the stride is at least "
        f"{100 * MEANINGFUL_CHANGE:.0f} % larger with gluteus maximus at 25 % than at full "
        "strength and larger at 50 % too; partly supported if it is larger at 25 % but by "
        f"less than {100 * MEANINGFUL_CHANGE:.0f} % or not at 50 %; otherwise not supported",
        ("increase_25", "increase_50"),
        lambda n: (
            Verdict.SUPPORTED
            if n["increase_25"] >= MEANINGFUL_CHANGE and n["increase_50"] > 0
            else Verdict.PARTLY_SUPPORTED
            if n["increase_25"] > 0
            else Verdict.NOT_SUPPORTED
        ),
    )
    brake_n = {k: tsw[k] for k in ("active", "eccentric", "negative_work")}
    stab_n = {"ham_active": lr["active"], "vasti_active": lr_vasti["active"]}
    prop_n = {"share": share_hip_tst, "positive_work": tst["positive_work"]}
    over_n = {"increase_25": increase, "increase_50": increase_half}
    claims = (
        Claim(
            "The hamstrings brake knee extension before heel strike: active and lengthening "
            "(eccentric) in terminal swing.",
            brake,
            brake.apply(brake_n),
            brake_n,
        ),
        Claim(
            "The hamstrings stabilise the knee in early stance (active with the quadriceps in "
            "loading response).",
            stabilise,
            stabilise.apply(stab_n),
            stab_n,
        ),
        Claim(
            "With gluteus maximus, the hamstrings extend the hip for propulsion in terminal "
            "stance.",
            propel,
            propel.apply(prop_n),
            prop_n,
        ),
        Claim(
            "Weak glutes make the hamstrings overwork.", overwork, overwork.apply(over_n), over_n
        ),
    )

    q = ev.quote
    findings = (
        (
            "Terminal swing: the hamstrings are active for ",
            q("q2.tsw.active_percent", 100 * tsw["active"], "%", 0),
            " of the phase, lengthening for ",
            q("q2.tsw.eccentric_percent", 100 * tsw["eccentric"], "%", 0),
            " of that time, and their muscle-tendon units absorb ",
            q("q2.tsw.negative_work_j", -tsw["negative_work"], "J"),
            ".",
        ),
        (
            "Loading response: hamstrings active for ",
            q("q2.lr.hamstrings_active_percent", 100 * lr["active"], "%", 0),
            " and vasti for ",
            q("q2.lr.vasti_active_percent", 100 * lr_vasti["active"], "%", 0),
            " of the phase.",
        ),
        (
            "Terminal stance: the hamstrings supply ",
            q("q2.tst.hamstrings_hip_extension_share_percent", 100 * share_hip_tst, "%", 0),
            " of the muscles' hip-extension moment (gluteus maximus ",
            q("q2.tst.glut_max_hip_extension_share_percent", 100 * share_glut_tst, "%", 0),
            ") and do ",
            q("q2.tst.positive_work_j", tst["positive_work"], "J"),
            " of positive work.",
        ),
        (
            "Hamstring positive work over the stride: ",
            q("q2.weak.work_100_j", work[1.0], "J"),
            " with normal glutes, ",
            q("q2.weak.work_50_j", work[0.5], "J"),
            " with gluteus maximus at 50 %, ",
            q("q2.weak.work_25_j", work[0.25], "J"),
            " at 25 % (",
            q("q2.weak.increase_25_percent", 100 * increase, "%", 0),
            "); peak hamstring force ",
            q("q2.weak.peak_force_100_n", peak[1.0], "N", 0),
            ", ",
            q("q2.weak.peak_force_50_n", peak[0.5], "N", 0),
            ", ",
            q("q2.weak.peak_force_25_n", peak[0.25], "N", 0),
            ".",
        ),
    )
    rows = []
    for phase in (
        "loading_response",
        "mid_stance",
        "terminal_stance",
        "pre_swing",
        "initial_swing",
        "mid_swing",
        "terminal_swing",
    ):
        for muscle in (HAM, "bifemsh_r", GLUT):
            p = a.muscles.phase(muscle, f"{phase}_r")
            key = f"q2.phases.{phase}.{muscle}"
            rows.append(
                (
                    phase.replace("_", " "),
                    muscle,
                    p.action,
                    q(f"{key}.active_percent", 100 * p.active_fraction, "", 0),
                    q(f"{key}.positive_work_j", p.muscle_tendon_positive_work),
                    q(f"{key}.negative_work_j", p.muscle_tendon_negative_work),
                )
            )
    table = Table(
        "Hamstrings, biceps femoris short head and gluteus maximus in each phase (right side, "
        "normal walking at 1.3 m/s): action while active, % of the phase active, "
        "muscle-tendon work (J)",
        ("phase", "muscle", "action", "active %", "positive work (J)", "negative work (J)"),
        tuple(rows),
    )
    fig_force = plot_over_cycle(
        context.figures / "q2_hamstring_force.svg",
        "Hamstring force with gluteus maximus at full, 50 % and 25 % strength",
        "hamstrings_r force (N)",
        [
            (
                f"gluteus maximus {int(100 * s)} %",
                runs[s].cycle_percent(),
                runs[s].muscles.muscle(HAM).tendon_force,
            )
            for s in STRENGTHS
        ],  # noqa: E501
    )
    fig_vel = plot_over_cycle(
        context.figures / "q2_fibre_velocity.svg",
        "Fibre velocity (normal walking; positive: lengthening)",
        "fibre velocity (optimal lengths/s)",
        [
            (m, a.cycle_percent(), a.muscles.muscle(m).norm_fiber_velocity)
            for m in (HAM, "bifemsh_r", GLUT)
        ],  # noqa: E501
    )
    return Answer(
        number=2,
        title="What do the hamstrings do through the gait cycle?",
        question="When do the hamstrings brake, stabilise or propel, and do weak glutes make "
        "them overwork?",
        claims=claims,
        method=(
            (
                "Predictive simulation of walking at 1.3 m/s with the planar gait2d model (18 "
                "muscles, minimum muscle effort), analysed in Perry's phases from the simulated "
                "events. A muscle is active when its activation is at least ",
                q("q2.method.active_threshold", ACTIVE_ACTIVATION),
                "; it is eccentric when its "
                "fibres lengthen while active. Work is muscle-tendon work (force times "
                "shortening speed, integrated). The share of hip-extension moment is the "
                "hamstrings' extensor moment over the sum of all right-side muscles' extensor "
                "moments. The same walking was predicted again with gluteus maximus at 50 % and "
                "25 % of its maximum isometric force.",
            ),
        ),
        findings=findings,
        figures=(
            Figure(
                fig_force.relative_to(context.folder),
                "Hamstring force over the gait cycle with weakened gluteus maximus.",
            ),  # noqa: E501
            Figure(
                fig_vel.relative_to(context.folder),
                "Fibre velocity of the hamstrings, biceps femoris short head and gluteus maximus.",
            ),  # noqa: E501
        ),
        tables=(table,),
        limitations=(
            "gait2d lumps semimembranosus, semitendinosus and the long head of biceps femoris "
            "into one biarticular 'hamstrings' muscle and has rigid tendons.",
            "Predicted by minimising effort, metabolic energy and head accelerations: the "
            "model's muscles do what is cheapest for these criteria, which need not be what "
            "people do; a different local optimum of the same problem can change small numbers.",
            "A planar model has no frontal-plane hip stabilisation, so gluteus medius/minimus "
            "roles are not represented.",
        ),
    )
