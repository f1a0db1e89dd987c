"""Perry's phases of a simulated stride built directly from its contact events, for tests.

Independent of :func:`gaitsim.analysis.phases.gait_phases`, so that the analyses that take
phases are tested on phases that code did not produce.
"""

from __future__ import annotations

import numpy as np

from gaitsim.analysis.gait_metrics import STANDARD_GRAVITY, contact_events
from gaitsim.analysis.phases import PERRY_PHASES, Phase
from gaitsim.simulate.result import WalkingResult


def stride_phases(result: WalkingResult) -> list[Phase]:
    """Perry's eight phases of each side from the contact events (2 % BW threshold).

    Rules (Perry & Burnfield 2010; the substitutes :func:`gaitsim.analysis.phases.
    gait_phases` documents when kinematic events are not measured): initial contact is
    the instant of contact (zero duration); loading response ends at the contralateral
    toe-off; mid-stance ends halfway through single support, terminal stance at the
    contralateral initial contact; pre-swing ends at toe-off; initial and mid swing end
    at 13/38 and 25/38 of swing (Perry's normal timing).
    """
    weight = result.body_mass * STANDARD_GRAVITY
    period = float(result.time[-1] - result.time[0])
    events = {s: contact_events(result.grf[s][:, 1] / weight, result.time) for s in "rl"}
    phases: list[Phase] = []
    for side, other in (("r", "l"), ("l", "r")):
        contact, toe_off = events[side].main_stance

        def next_after(times: np.ndarray, t0: float = contact) -> float:
            return t0 + float(np.min(np.mod(np.asarray(times) - t0, period)))

        other_off = next_after(events[other].toe_offs)
        other_on = next_after(events[other].initial_contacts)
        swing = contact + period - toe_off
        bounds = [
            contact,
            contact,
            other_off,
            0.5 * (other_off + other_on),
            other_on,
            toe_off,
            toe_off + swing * 13.0 / 38.0,
            toe_off + swing * 25.0 / 38.0,
            contact + period,
        ]
        for k, name in enumerate(PERRY_PHASES):
            phases.append(Phase(name, side, bounds[k], bounds[k + 1]))
    return phases
