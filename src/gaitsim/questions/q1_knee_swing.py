"""Question 1: what flexes the knee in swing?

Two competing claims are tested side by side on predicted walking of ``gait2d`` at 1.3 m/s
(right leg):

* the hip flexors (iliopsoas) pull the thigh forward and the shank follows by inertia;
  the hamstrings are not the main knee flexors;
* the hamstrings are the primary movers of knee flexion in initial and mid swing.

Evidence: induced accelerations of the knee (flexion positive) averaged over pre-swing and
initial swing (:mod:`gaitsim.analysis.induced_acceleration`); ablation from toe-off: the
change in peak swing knee flexion when a muscle group's force is removed for the whole
swing, and when the knee flexion velocity at toe-off is changed by 20 %
(:mod:`gaitsim.analysis.ablation`).
"""

from __future__ import annotations

import numpy as np

from gaitsim.analysis.ablation import AblationSpec, ablation_analysis
from gaitsim.analysis.induced_acceleration import induced_accelerations
from gaitsim.questions.answer import Answer, Figure, Table
from gaitsim.questions.context import QuestionContext
from gaitsim.questions.runs import WalkingRequest
from gaitsim.questions.stride import StrideAnalysis, plot_over_cycle
from gaitsim.questions.verdict import Claim, Rule, Verdict

__all__ = ["GROUPS", "answer"]

#: Muscle groups of the question (ablation group names) and their gait2d muscles.
GROUPS = {
    "iliopsoas": "iliopsoas_r",
    "biarticular_hamstrings": "hamstrings_r",
    "biceps_femoris_short_head": "bifemsh_r",
    "gastrocnemius": "gastroc_r",
    "rectus_femoris": "rect_fem_r",
}
#: A knee-velocity effect (deg of peak flexion for +20 % velocity at toe-off) counts when
#: it is at least 2 deg: larger than the 0.2 deg error of the forward simulation baseline.
VELOCITY_EFFECT_DEG = 2.0


def answer(context: QuestionContext) -> Answer:
    q = context.evidence.quote
    request = WalkingRequest()
    context.say("question 1: walking at 1.3 m/s; induced accelerations and ablations")
    stride = context.stride(request)
    result, model = stride.result, stride.model
    iaa = induced_accelerations(model, stride.functions, result)
    window = stride.in_phases(["pre_swing", "initial_swing"])
    iaa_mean = {
        g: float(np.mean(iaa.contribution(m, "knee_angle_r", clinical=True)[window]))
        for g, m in GROUPS.items()
    }
    for name in ("gravity", "velocity"):
        if name in iaa.contributor_names:
            iaa_mean[name] = float(
                np.mean(iaa.contribution(name, "knee_angle_r", clinical=True)[window])
            )
    ablation = ablation_analysis(model, stride.functions, result, AblationSpec(side="r"))
    change = {g: ablation.entry(g).change for g in GROUPS}
    flagged = {
        g: bool(ablation.entry(g).out_of_range) or ablation.entry(g).swing_foot_force > 0
        for g in GROUPS
    }
    velocity = {e.name: e.change for e in ablation.entries if e.kind == "knee_velocity"}
    up = next((v for k, v in velocity.items() if "+" in k), float("nan"))
    down = next((v for k, v in velocity.items() if "-" in k), float("nan"))

    ham = min(change["biarticular_hamstrings"], change["biceps_femoris_short_head"])
    inertia_n = {
        "iliopsoas": change["iliopsoas"],
        "hamstrings": ham,
        "velocity_plus": up,
    }
    inertia = Rule(
        "supported if removing the iliopsoas lowers peak swing knee flexion more than removing "
        "either hamstring (biarticular or short head), and 20 % more knee flexion velocity at "
        f"toe-off raises the peak by at least {VELOCITY_EFFECT_DEG:.0f} degrees (the shank "
        "carries on by its own motion); partly supported if one of the two holds; otherwise "
        "not supported",
        ("iliopsoas", "hamstrings", "velocity_plus"),
        lambda n: (
            Verdict.SUPPORTED
            if n["iliopsoas"] < n["hamstrings"] and n["velocity_plus"] >= VELOCITY_EFFECT_DEG
            else Verdict.PARTLY_SUPPORTED
            if n["iliopsoas"] < n["hamstrings"] or n["velocity_plus"] >= VELOCITY_EFFECT_DEG
            else Verdict.NOT_SUPPORTED
        ),
    )
    candidates = [g for g in GROUPS if not flagged[g]]
    largest_ablation = min(candidates, key=lambda g: change[g]) if candidates else ""
    largest_iaa = max(GROUPS, key=lambda g: iaa_mean[g])
    primary_n = {
        "hamstrings_largest_ablation": 1.0
        if largest_ablation in ("biarticular_hamstrings", "biceps_femoris_short_head")
        else 0.0,
        "hamstrings_largest_iaa": 1.0
        if largest_iaa in ("biarticular_hamstrings", "biceps_femoris_short_head")
        else 0.0,
    }
    primary = Rule(
        "supported if a hamstring (biarticular or short head) is both the muscle whose removal "
        "lowers peak swing knee flexion most (among iliopsoas, hamstrings, short head, "
        "gastrocnemius and rectus femoris; removals that made the foot strike the floor or a "
        "joint leave its range are excluded) and the largest muscle contributor to knee "
        "flexion acceleration in pre-swing and initial swing; partly supported if one of the "
        "two; otherwise not supported",
        ("hamstrings_largest_ablation", "hamstrings_largest_iaa"),
        lambda n: (
            Verdict.SUPPORTED
            if n["hamstrings_largest_ablation"] and n["hamstrings_largest_iaa"]
            else Verdict.PARTLY_SUPPORTED
            if n["hamstrings_largest_ablation"] or n["hamstrings_largest_iaa"]
            else Verdict.NOT_SUPPORTED
        ),
    )
    claims = (
        Claim(
            "Hip flexion (iliopsoas) pulls the thigh forward and the shank follows by inertia; "
            "the hamstrings are not the main knee flexors in swing.",
            inertia,
            inertia.apply(inertia_n),
            inertia_n,
        ),
        Claim(
            "The hamstrings are the primary movers of knee flexion in initial and mid swing.",
            primary,
            primary.apply(primary_n),
            primary_n,
        ),
    )
    rows = tuple(
        (
            g.replace("_", " "),
            q(f"q1.iaa.{g}.knee_flexion_acc_deg_s2", iaa_mean[g], "", 0),
            q(f"q1.ablation.{g}.peak_change_deg", change[g], "", 1),
            "yes" if flagged[g] else "",
        )
        for g in GROUPS
    )
    table = Table(
        "Knee flexion in swing, right leg: mean induced knee flexion acceleration in pre-swing "
        "and initial swing (deg/s^2, flexion positive), and change of peak swing knee flexion "
        "when the group's force is removed from toe-off (deg; negative: the group flexes the "
        "knee)",
        ("group", "induced acceleration", "ablation change", "flagged"),
        rows,
    )
    findings = (
        (
            "Peak swing knee flexion of the stride: ",
            q("q1.stride_peak_knee_flexion_deg", ablation.stride_peak_knee_flexion, "deg", 1),
            "; the forward simulation from toe-off reproduces it within ",
            q("q1.baseline_max_deviation_deg", ablation.baseline_max_deviation, "deg", 2),
            ".",
        ),
        (
            "Removing the iliopsoas changes peak knee flexion by ",
            q("q1.iliopsoas_change_deg", change["iliopsoas"], "deg", 1),
            "; the biarticular hamstrings by ",
            q("q1.hamstrings_change_deg", change["biarticular_hamstrings"], "deg", 1),
            "; the short head of biceps femoris by ",
            q("q1.bifemsh_change_deg", change["biceps_femoris_short_head"], "deg", 1),
            ".",
        ),
        (
            "20 % more knee flexion velocity at toe-off changes the peak by ",
            q("q1.velocity_plus20_change_deg", up, "deg", 1),
            ", 20 % less by ",
            q("q1.velocity_minus20_change_deg", down, "deg", 1),
            ". Velocity-dependent forces induce a mean knee flexion acceleration of ",
            q("q1.iaa.velocity.knee_flexion_acc_deg_s2", iaa_mean.get("velocity"), "deg/s^2", 0),
            " and gravity ",
            q("q1.iaa.gravity.knee_flexion_acc_deg_s2", iaa_mean.get("gravity"), "deg/s^2", 0),
            " in pre-swing and initial swing.",
        ),
    )
    percent = stride.cycle_percent()
    iaa_fig = plot_over_cycle(
        context.figures / "q1_induced_knee_acceleration.svg",
        "Induced knee flexion acceleration (right leg; flexion positive)",
        "deg/s^2",
        [
            (g.replace("_", " "), percent, iaa.contribution(m, "knee_angle_r", clinical=True))
            for g, m in GROUPS.items()
        ],
        marks=[("toe-off", _toe_off_percent(stride))],
    )
    return Answer(
        number=1,
        title="What flexes the knee in swing?",
        question="Does the knee bend in swing because the hip flexors pull the thigh forward "
        "while the shank lags by inertia, or because the hamstrings pull it?",
        claims=claims,
        method=(
            (
                "Predicted walking of the planar gait2d model at 1.3 m/s (minimum muscle "
                "effort). Induced accelerations: for each force alone (each muscle, gravity, "
                "velocity-dependent forces), the accelerations it causes with the stance foot "
                "constrained to roll without slipping; contributions add up to the total "
                "within ",
                q("q1.iaa_sum_error", max(iaa.sum_errors().values()), "", 1, scientific=True),
                ". Ablation: the right leg's swing is simulated forward from toe-off with the "
                "model's own excitations (pelvis, trunk and other leg follow the stride), "
                "then again with one group's force removed for the whole swing, and with the "
                "knee velocity at toe-off changed by 20 %.",
            ),
        ),
        findings=findings,
        figures=(
            Figure(
                iaa_fig.relative_to(context.folder),
                "Knee flexion acceleration induced by each muscle group over the cycle.",
            ),
        ),
        tables=(table,),
        limitations=(
            "Removing a muscle for the whole swing is a large perturbation; the change in "
            "peak flexion answers 'how much does the swing depend on this muscle', not 'how "
            "much does it contribute at each instant' (the induced accelerations do that).",
            "gait2d has no passive joint-limit torques: a removal that lets a joint leave its "
            "range or the toes strike the floor is flagged and excluded from the verdict.",
            "Induced accelerations need a model of foot contact; rolling without slipping is "
            "one documented choice, and at heel strike it differs from the compliant contact "
            "of the simulation.",
            "One lumped hamstring and one lumped iliopsoas in a planar model; walking predicted "
            "by minimising effort and energy.",
        ),
    )


def _toe_off_percent(stride: StrideAnalysis) -> float:
    toe_off = stride.phase("initial_swing").start
    start = stride.phase("initial_contact").start
    return float(100.0 * np.mod(toe_off - start, stride.period) / stride.period)
