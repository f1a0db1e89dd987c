"""Question 3: is the psoas the only hip flexor that works above 90 degrees, and does a
weak psoas make the rectus femoris work harder, the knee hyperextend and the
patellofemoral joint hurt?

Evidence: isometric hip-flexion capacity curves of psoas, iliacus, rectus femoris,
sartorius and tensor fasciae latae on ``gait3d`` from 0 to 120 degrees of hip flexion with
the knee straight and at 90 degrees; predicted walking of ``gait2d`` at 1.3 m/s with the
iliopsoas at full, 50 % and 25 % strength.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gaitsim.analysis.muscle_capacity import (  # noqa: E402
    HIP_FLEXORS_GAIT3D,
    CapacitySpec,
    muscle_capacity,
)
from gaitsim.model.builtin import load_builtin  # noqa: E402
from gaitsim.questions.answer import Answer, Figure, Table  # noqa: E402
from gaitsim.questions.context import QuestionContext  # noqa: E402
from gaitsim.questions.stride import StrideAnalysis, plot_over_cycle  # noqa: E402
from gaitsim.questions.verdict import Claim, Rule, Verdict  # noqa: E402

__all__ = ["STRENGTHS", "answer"]

STRENGTHS = (1.0, 0.5, 0.25)
#: A flexor "still works" above 90 degrees if it can produce at least this hip-flexion
#: moment (N m): about 5 % of the largest single-muscle capacity at 0 degrees (~40 N m).
WORKING_MOMENT = 2.0
#: Relative change counted as meaningful (see question 2).
MEANINGFUL_CHANGE = 0.10
#: Knee extension change (deg) counted as meaningful: larger than the ~1 deg differences
#: between local optima of the same walking problem.
MEANINGFUL_KNEE_DEG = 2.0
ABOVE_90 = (100.0, 110.0, 120.0)


def _stance_min_flexion(a: StrideAnalysis) -> float:
    """Smallest knee flexion (deg, clinical sign: negative is hyperextension) in stance."""
    stance = a.in_phases(["loading_response", "mid_stance", "terminal_stance", "pre_swing"])
    knee = -np.degrees(a.result.coordinate("knee_angle_r"))
    return float(knee[stance].min())


def answer(context: QuestionContext) -> Answer:
    q = context.evidence.quote
    context.say("question 3: hip-flexion capacity curves on gait3d")
    gait3d = load_builtin("gait3d")
    angles = np.arange(0.0, 121.0, 10.0)
    capacity = {}
    for knee in (0.0, 90.0):
        spec = CapacitySpec(
            "hip_flexion_r",
            tuple(np.radians(angles)),
            HIP_FLEXORS_GAIT3D,
            (("knee_angle_r", -math.radians(knee)),),
        )
        capacity[knee] = muscle_capacity(gait3d, spec)
    above = np.isin(angles, ABOVE_90)
    best_above = {}
    for knee, cap in capacity.items():
        for k, m in enumerate(cap.muscle_names):
            best_above[(knee, m)] = float(np.max(cap.moments[above, k]))
    psoas = min(best_above[(k, "psoas_r")] for k in capacity)
    others = max(v for (k, m), v in best_above.items() if m != "psoas_r")
    only = Rule(
        f"supported if, from 100 to 120 degrees of hip flexion, psoas can produce at least "
        f"{WORKING_MOMENT} N m of hip-flexion moment and no other hip flexor can (knee at 0 "
        "and at 90 degrees); partly supported if psoas can and is the strongest of them; "
        "otherwise not supported",
        ("psoas", "others"),
        lambda n: (
            Verdict.SUPPORTED
            if n["psoas"] >= WORKING_MOMENT and n["others"] < WORKING_MOMENT
            else Verdict.PARTLY_SUPPORTED
            if n["psoas"] >= WORKING_MOMENT and n["psoas"] >= n["others"]
            else Verdict.NOT_SUPPORTED
        ),
    )
    only_n = {"psoas": psoas, "others": others}

    runs = context.strength_series("question 3", "iliopsoas", "iliopsoas", STRENGTHS)
    rf = {s: runs[s].muscle_work(("rect_fem_r",))[0] for s in STRENGTHS}
    knee = {s: _stance_min_flexion(runs[s]) for s in STRENGTHS}
    pf = {s: runs[s].patellofemoral.summary()["peak_bw"] for s in STRENGTHS}

    def rel(d: dict[float, float]) -> float:
        return (d[0.25] - d[1.0]) / d[1.0] if d[1.0] > 0 else float("nan")

    rf_rule = Rule(
        "supported if the rectus femoris' positive work over the stride is at least "
        f"{100 * MEANINGFUL_CHANGE:.0f} % larger with iliopsoas at 25 % than at full strength; "
        "partly supported if larger by less; otherwise not supported",
        ("increase",),
        lambda n: (
            Verdict.SUPPORTED
            if n["increase"] >= MEANINGFUL_CHANGE
            else Verdict.PARTLY_SUPPORTED
            if n["increase"] > 0
            else Verdict.NOT_SUPPORTED
        ),
    )
    knee_rule = Rule(
        "supported if with iliopsoas at 25 % the knee hyperextends in stance (smallest stance "
        f"knee flexion below 0 degrees) and extends at least {MEANINGFUL_KNEE_DEG} degrees "
        "further than at full strength; partly supported if it extends that much further "
        "without hyperextending; otherwise not supported",
        ("weak", "normal"),
        lambda n: (
            Verdict.SUPPORTED
            if n["weak"] < 0 and n["normal"] - n["weak"] >= MEANINGFUL_KNEE_DEG
            else Verdict.PARTLY_SUPPORTED
            if n["normal"] - n["weak"] >= MEANINGFUL_KNEE_DEG
            else Verdict.NOT_SUPPORTED
        ),
    )
    pf_rule = Rule(
        "supported if the peak patellofemoral force is at least "
        f"{100 * MEANINGFUL_CHANGE:.0f} % larger with iliopsoas at 25 % than at full strength; "
        "partly supported if larger by less; otherwise not supported (the model gives force, "
        "not pain: a larger force is the most it can show)",
        ("increase",),
        lambda n: (
            Verdict.SUPPORTED
            if n["increase"] >= MEANINGFUL_CHANGE
            else Verdict.PARTLY_SUPPORTED
            if n["increase"] > 0
            else Verdict.NOT_SUPPORTED
        ),
    )
    rf_n, knee_n, pf_n = (
        {"increase": rel(rf)},
        {"weak": knee[0.25], "normal": knee[1.0]},
        {"increase": rel(pf)},
    )
    claims = (
        Claim(
            "The psoas is the only hip flexor that still works above 90 degrees of hip flexion.",
            only,
            only.apply(only_n),
            only_n,
        ),
        Claim(
            "A weak psoas (iliopsoas) makes the rectus femoris work harder.",
            rf_rule,
            rf_rule.apply(rf_n),
            rf_n,
        ),
        Claim(
            "A weak psoas makes the knee hyperextend in stance.",
            knee_rule,
            knee_rule.apply(knee_n),
            knee_n,
        ),
        Claim(
            "A weak psoas loads (and so may hurt) the patellofemoral joint more.",
            pf_rule,
            pf_rule.apply(pf_n),
            pf_n,
        ),
    )

    rows = []
    for knee_angle, cap in capacity.items():
        for k, m in enumerate(cap.muscle_names):
            key = f"q3.capacity.knee{int(knee_angle)}.{m}"
            rows.append(
                (
                    m,
                    f"{knee_angle:.0f}",
                    q(f"{key}.at0_nm", float(cap.moments[0, k]), "", 1),
                    q(f"{key}.at90_nm", float(cap.moments[angles == 90.0, k][0]), "", 1),
                    q(f"{key}.best_100_120_nm", best_above[(knee_angle, m)], "", 1),
                )
            )
    cap_table = Table(
        "Isometric hip-flexion capacity (N m) of the hip flexors of gait3d at full activation",
        ("muscle", "knee flexion (deg)", "hip 0 deg", "hip 90 deg", "best at 100-120 deg"),
        tuple(rows),
    )
    walk_rows = tuple(
        (
            f"{int(100 * s)} %",
            q(f"q3.weak.strength{int(100 * s)}.rect_fem_positive_work_j", rf[s]),
            q(f"q3.weak.strength{int(100 * s)}.min_stance_knee_flexion_deg", knee[s], "", 1),
            q(f"q3.weak.strength{int(100 * s)}.peak_pf_force_bw", pf[s]),
        )
        for s in STRENGTHS
    )
    walk_table = Table(
        "Walking at 1.3 m/s with the iliopsoas weakened (gait2d, right side)",
        (
            "iliopsoas strength",
            "rectus femoris positive work (J)",
            "smallest stance knee flexion (deg)",
            "peak patellofemoral force (BW)",
        ),
        walk_rows,
    )
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, (knee_angle, cap) in zip(axes, capacity.items(), strict=True):
        for k, m in enumerate(cap.muscle_names):
            ax.plot(angles, cap.moments[:, k], label=m)
        ax.axvline(90, color="0.6", linestyle="--", linewidth=0.8)
        ax.set_title(f"knee flexed {knee_angle:.0f} deg", fontsize=10)
        ax.set_xlabel("hip flexion (deg)")
    axes[0].set_ylabel("hip-flexion capacity (N m)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    cap_path = context.figures / "q3_capacity.svg"
    fig.savefig(cap_path)
    plt.close(fig)
    knee_path = plot_over_cycle(
        context.figures / "q3_knee_angle.svg",
        "Knee flexion with the iliopsoas weakened (negative: hyperextension)",
        "knee flexion (deg)",
        [
            (
                f"iliopsoas {int(100 * s)} %",
                runs[s].cycle_percent(),
                -np.degrees(runs[s].result.coordinate("knee_angle_r")),
            )
            for s in STRENGTHS
        ],
    )
    return Answer(
        number=3,
        title="Hip flexors above 90 degrees, and a weak psoas",
        question="Is the psoas the only hip flexor that works above 90 degrees, and does a weak "
        "psoas lead to more rectus femoris work, knee hyperextension and patellofemoral load?",
        claims=claims,
        method=(
            (
                "Capacity: the isometric hip-flexion moment each flexor of the 3D gait3d model "
                "(after gait2392) can produce at full activation, moment arm times the force "
                "at the fibre length of that pose (active plus passive), from 0 to 120 degrees "
                "of hip flexion, with the knee straight and flexed 90 degrees, other joints at "
                "0. A flexor 'works' above 90 degrees if it can produce at least ",
                q("q3.method.working_moment_nm", WORKING_MOMENT, "N m", 1),
                ".",
            ),
            (
                "Weak psoas: walking at 1.3 m/s predicted with the planar gait2d model, whose "
                "iliopsoas lumps psoas and iliacus, at full, 50 % and 25 % of its maximum "
                "isometric force. Patellofemoral force from quadriceps force and knee angle "
                "(Brechter and Powers 2002, after van Eijden et al. 1986).",
            ),
        ),
        findings=(
            (
                "From 100 to 120 degrees the psoas can produce at most ",
                q("q3.psoas_best_above_90_nm", psoas, "N m", 1),
                " (the smaller of its values with the knee straight and flexed); the best other "
                "flexor reaches ",
                q("q3.others_best_above_90_nm", others, "N m", 1),
                ".",
            ),
            (
                "With the iliopsoas at 25 % strength the rectus femoris does ",
                q("q3.weak.rect_fem_work_change_percent", 100 * rel(rf), "%", 0),
                " more positive work, the smallest stance knee flexion is ",
                q("q3.weak.knee_25_deg", knee[0.25], "deg", 1),
                " (against ",
                q("q3.weak.knee_100_deg", knee[1.0], "deg", 1),
                "), and the peak patellofemoral force changes by ",
                q("q3.weak.pf_change_percent", 100 * rel(pf), "%", 0),
                ".",
            ),
        ),
        figures=(
            Figure(cap_path.relative_to(context.folder), "Hip-flexion capacity of five flexors."),
            Figure(
                knee_path.relative_to(context.folder), "Knee flexion with a weakened iliopsoas."
            ),
        ),
        tables=(cap_table, walk_table),
        limitations=(
            "gait3d's muscle paths come from gait2392, built for walking ranges: above about "
            "90 degrees of hip flexion the paths of rectus femoris, sartorius and tensor "
            "fasciae latae (no wrapping over the femoral head) and the very short psoas and "
            "iliacus fibres there are not reliable; capacity above 90 degrees is an estimate "
            "from a model used outside its validated range.",
            "Capacity is isometric and at full activation: it says what a muscle could do, not "
            "what it does in a movement.",
            "The walking simulations use gait2d, in which psoas and iliacus are one muscle; "
            "the model reports patellofemoral force, not pain.",
            "Prediction by minimising effort and energy can compensate a weak muscle in ways "
            "people do not.",
        ),
    )
