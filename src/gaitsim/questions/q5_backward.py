"""Question 5: is backward walking easier on the knee, and why?

Evidence: walking of ``gait2d`` predicted forward and backward at the same speed
(0.8 m/s), right side: which part of the foot loads first, how the knee moves in stance,
the positive and negative work of the knee extensors and hip flexors against the hip
extensors and knee flexors, and the patellofemoral and tibiofemoral forces.
"""

from __future__ import annotations

import numpy as np

from gaitsim.analysis.gait_metrics import first_loaded_contact, stance_knee_extension
from gaitsim.questions.answer import Answer, Figure, Table
from gaitsim.questions.context import QuestionContext
from gaitsim.questions.runs import WalkingRequest
from gaitsim.questions.stride import StrideAnalysis, plot_over_cycle
from gaitsim.questions.verdict import Claim, Rule, Verdict

__all__ = ["GROUPS", "SPEED", "answer"]

#: Matched walking speed (m/s) of the forward and backward simulations.
SPEED = 0.8
#: Muscle groups whose roles are said to reverse (gait2d names, right side).
GROUPS = {
    "knee extensors and hip flexors": ("vasti_r", "rect_fem_r", "iliopsoas_r"),
    "hip extensors and knee flexors": ("glut_max_r", "hamstrings_r", "bifemsh_r"),
}
#: Knee extension in stance (deg) that counts as "extends through stance": more than the
#: few degrees of extension at the end of a normal forward stance.
EXTENDS_DEG = 10.0
MEANINGFUL_CHANGE = 0.10
STANCE = ("loading_response", "mid_stance", "terminal_stance", "pre_swing")


def _eccentric_share(pos: float, neg: float) -> float:
    """Share of the work that is absorbed (negative work / total absolute work)."""
    total = pos - neg
    return -neg / total if total > 0 else float("nan")


def answer(context: QuestionContext) -> Answer:
    q = context.evidence.quote
    runs: dict[str, StrideAnalysis] = {}
    for direction, speed in (("forward", SPEED), ("backward", -SPEED)):
        request = WalkingRequest(speed=speed)
        context.say(f"question 5: walking {direction} at {SPEED} m/s")
        runs[direction] = context.stride(request)
    first = {d: first_loaded_contact(a.result, "r") for d, a in runs.items()}
    toe_first = {d: 1.0 if "Front" in c or "toe" in c.lower() else 0.0 for d, c in first.items()}
    extension = {d: stance_knee_extension(a.result, "r") for d, a in runs.items()}
    shares = {
        (d, g): _eccentric_share(*a.muscle_work(ms, STANCE))
        for d, a in runs.items()
        for g, ms in GROUPS.items()
    }
    flips = sum(
        1.0
        for g in GROUPS
        if (shares[("forward", g)] > 0.5) != (shares[("backward", g)] > 0.5)
        and np.isfinite(shares[("forward", g)])
        and np.isfinite(shares[("backward", g)])
    )
    pf = {d: a.patellofemoral.summary()["peak_bw"] for d, a in runs.items()}
    tf = {d: a.loads["knee_r"].summary()["peak_magnitude_bw"] for d, a in runs.items()}

    toe_rule = Rule(
        "supported if the first part of the foot to be loaded at the start of stance is the "
        "forefoot in backward walking (and the heel forward, as a check of the method); "
        "otherwise not supported",
        ("backward_toe", "forward_toe"),
        lambda n: (
            Verdict.SUPPORTED
            if n["backward_toe"] == 1.0 and n["forward_toe"] == 0.0
            else Verdict.PARTLY_SUPPORTED
            if n["backward_toe"] == 1.0
            else Verdict.NOT_SUPPORTED
        ),
    )
    knee_rule = Rule(
        f"supported if in backward walking the knee extends at least {EXTENDS_DEG:.0f} degrees "
        "from initial contact through stance; partly supported if it extends less but more "
        "than in forward walking; otherwise not supported",
        ("backward", "forward"),
        lambda n: (
            Verdict.SUPPORTED
            if n["backward"] >= EXTENDS_DEG
            else Verdict.PARTLY_SUPPORTED
            if n["backward"] > n["forward"]
            else Verdict.NOT_SUPPORTED
        ),
    )
    roles_rule = Rule(
        "for each of the two groups (knee extensors with hip flexors; hip extensors with "
        "knee flexors) the dominant type of stance work is eccentric if more than half of "
        "its work is absorbed; supported if it flips between forward and backward walking "
        "for both groups, partly supported for one, otherwise not supported",
        ("flips",),
        lambda n: (
            Verdict.SUPPORTED
            if n["flips"] >= 2
            else Verdict.PARTLY_SUPPORTED
            if n["flips"] >= 1
            else Verdict.NOT_SUPPORTED
        ),
    )
    pf_rule = Rule(
        "supported if the peak patellofemoral force is at least "
        f"{100 * MEANINGFUL_CHANGE:.0f} % smaller backward than forward at the same speed; "
        "partly supported if smaller by less, or if only the tibiofemoral force is that much "
        "smaller; otherwise not supported",
        ("pf_change", "tf_change"),
        lambda n: (
            Verdict.SUPPORTED
            if n["pf_change"] <= -MEANINGFUL_CHANGE
            else Verdict.PARTLY_SUPPORTED
            if n["pf_change"] < 0 or n["tf_change"] <= -MEANINGFUL_CHANGE
            else Verdict.NOT_SUPPORTED
        ),
    )
    toe_n = {"backward_toe": toe_first["backward"], "forward_toe": toe_first["forward"]}
    knee_n = {"backward": extension["backward"], "forward": extension["forward"]}
    roles_n = {"flips": flips}
    pf_n = {
        "pf_change": (pf["backward"] - pf["forward"]) / pf["forward"],
        "tf_change": (tf["backward"] - tf["forward"]) / tf["forward"],
    }
    claims = (
        Claim("In backward walking the toes land first.", toe_rule, toe_rule.apply(toe_n), toe_n),
        Claim(
            "In backward walking the knee extends through stance.",
            knee_rule,
            knee_rule.apply(knee_n),
            knee_n,
        ),
        Claim(
            "The concentric and eccentric roles of quadriceps/hip flexors and "
            "glutes/hamstrings reverse in backward walking.",
            roles_rule,
            roles_rule.apply(roles_n),
            roles_n,
        ),
        Claim(
            "Backward walking compresses the knee (patellofemoral joint) less.",
            pf_rule,
            pf_rule.apply(pf_n),
            pf_n,
        ),
    )
    rows = []
    for d, a in runs.items():
        for g, ms in GROUPS.items():
            pos, neg = a.muscle_work(ms, STANCE)
            key = f"q5.{d}.{g.replace(' ', '_')}"
            rows.append(
                (
                    d,
                    g,
                    q(f"{key}.positive_work_j", pos),
                    q(f"{key}.negative_work_j", neg),
                    q(f"{key}.eccentric_share_percent", 100 * shares[(d, g)], "", 0),
                )
            )
    work_table = Table(
        f"Stance work of the muscle groups at {SPEED} m/s (right side, J)",
        ("direction", "group", "positive work (J)", "negative work (J)", "absorbed share (%)"),
        tuple(rows),
    )
    findings = (
        (
            "First part of the foot loaded: ",
            first["backward"],
            " walking backward, ",
            first["forward"],
            " walking forward.",
        ),
        (
            "Knee extension from initial contact through stance: ",
            q("q5.backward.stance_knee_extension_deg", extension["backward"], "deg", 1),
            " backward, ",
            q("q5.forward.stance_knee_extension_deg", extension["forward"], "deg", 1),
            " forward.",
        ),
        (
            "Peak patellofemoral force: ",
            q("q5.backward.peak_pf_bw", pf["backward"], "BW"),
            " backward against ",
            q("q5.forward.peak_pf_bw", pf["forward"], "BW"),
            " forward; peak tibiofemoral contact force ",
            q("q5.backward.peak_tf_bw", tf["backward"], "BW"),
            " against ",
            q("q5.forward.peak_tf_bw", tf["forward"], "BW"),
            ".",
        ),
        (
            "Groups whose dominant type of stance work flips: ",
            q("q5.role_flips", flips, "of 2", 0),
            ".",
        ),
    )
    context.evidence.record("q5.backward.first_loaded_contact", first["backward"])
    context.evidence.record("q5.forward.first_loaded_contact", first["forward"])
    knee_fig = plot_over_cycle(
        context.figures / "q5_knee_angle.svg",
        f"Knee flexion walking forward and backward at {SPEED} m/s",
        "knee flexion (deg)",
        [
            (d, a.cycle_percent(), -np.degrees(a.result.coordinate("knee_angle_r")))
            for d, a in runs.items()
        ],
    )
    pf_fig = plot_over_cycle(
        context.figures / "q5_patellofemoral.svg",
        "Patellofemoral and tibiofemoral contact force",
        "force (body weights)",
        [
            (f"patellofemoral, {d}", a.cycle_percent(), a.patellofemoral.force_bw)
            for d, a in runs.items()
        ]
        + [
            (f"tibiofemoral, {d}", a.cycle_percent(), a.loads["knee_r"].magnitude)
            for d, a in runs.items()
        ],
    )
    return Answer(
        number=5,
        title="Backward walking and the knee",
        question="Is backward walking easier on the knee, and why?",
        claims=claims,
        method=(
            (
                "Walking of the planar gait2d model predicted forward and backward at ",
                q("q5.method.speed_m_per_s", SPEED, "m/s", 1),
                " with the same goals (minimum muscle effort) and the same model. The first "
                "part of the foot loaded is the contact sphere (heel or forefoot) whose "
                "vertical force first exceeds 1 % of body weight after initial contact. Work "
                "is muscle-tendon work in the four stance phases. Patellofemoral force from "
                "quadriceps force and knee angle (Brechter and Powers 2002); tibiofemoral "
                "contact force from the Newton-Euler balance of the shank and foot with all "
                "muscle forces crossing the knee.",
            ),
        ),
        findings=findings,
        figures=(
            Figure(knee_fig.relative_to(context.folder), "Knee flexion forward and backward."),
            Figure(pf_fig.relative_to(context.folder), "Knee contact forces forward and backward."),
        ),
        tables=(work_table,),
        limitations=(
            "Planar model with two contact spheres per foot (heel and forefoot) and no toes "
            "joint: the contact sequence is heel or forefoot, nothing finer.",
            "Backward walking is predicted with the goals of forward walking (minimum "
            "effort); people walking backward are less practised and may co-contract more.",
            "The patellofemoral model is a ratio of quadriceps force fitted over 0-120 degrees "
            "of knee flexion; hyperextended samples are clamped to its 0-degree value.",
        ),
    )
