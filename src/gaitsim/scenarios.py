"""What-if scenarios: a model changed in one documented way.

A :class:`Scenario` records what the user asks for ("iliopsoas at 50 % strength",
"hamstrings 2 cm short"); :func:`apply_scenario` returns the changed model and leaves
the original untouched. Scenarios compose: the changes of ``Scenario(changes=(a, b))``
are applied in order.

Muscles are chosen by name or by name prefix *without side*: ``"iliopsoas"`` means
``iliopsoas_r`` and ``iliopsoas_l``; ``"glut_max"`` matches ``glut_max_r`` as well as
``glut_max1_r``, ``glut_max2_r``...; a full name (``"iliopsoas_r"``) means that muscle
only. A selector that matches no muscle is an error (a typo must never silently leave
the model unchanged).

Changes
-------
:class:`Weakness`
    maximum isometric force scaled by ``strength`` (0.5 = half as strong). Muscle
    weakness in the Hill model: the same activation produces proportionally less force.
:class:`Tightness`
    tendon slack length shortened by ``shortening`` (m), so that passive and active
    force rise at shorter muscle-tendon lengths (a contracture-like change; a common
    modelling choice, e.g. in studies of hamstring tightness).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from gaitsim.errors import ModelError
from gaitsim.model.description import Model, Muscle
from gaitsim.model.validation import validate

__all__ = ["Scenario", "Tightness", "Weakness", "apply_scenario", "select_muscles"]


def _matches(selector: str, muscle: str) -> bool:
    if muscle == selector:
        return True
    for side in ("_r", "_l"):
        if muscle.endswith(side):
            stem = muscle[: -len(side)]
            # "glut_max" matches glut_max and glut_max1..3 (digits after the stem).
            if stem == selector or (stem.startswith(selector) and stem[len(selector) :].isdigit()):
                return True
    return False


def select_muscles(model: Model, selectors: Sequence[str]) -> tuple[str, ...]:
    """Names of the muscles of ``model`` that ``selectors`` choose (model order).

    Raises
    ------
    ModelError
        If a selector matches no muscle (the error lists the model's muscles).
    """
    chosen: set[str] = set()
    for selector in selectors:
        found = [m.name for m in model.muscles if _matches(selector, m.name)]
        if not found:
            raise ModelError(
                f"scenario muscle {selector!r}",
                f"matches no muscle of model {model.name!r} (muscles: "
                f"{', '.join(model.muscle_names)})",
            )
        chosen.update(found)
    return tuple(m for m in model.muscle_names if m in chosen)


@dataclass(frozen=True)
class Weakness:
    """Scale the maximum isometric force of ``muscles`` by ``strength`` (> 0)."""

    muscles: tuple[str, ...]
    strength: float

    def describe(self) -> str:
        return f"{', '.join(self.muscles)} at {100 * self.strength:.0f} % strength"

    def apply(self, model: Model) -> Model:
        if not (math.isfinite(self.strength) and self.strength > 0):
            raise ValueError(f"strength must be positive and finite, got {self.strength}")
        names = set(select_muscles(model, self.muscles))

        def change(m: Muscle) -> Muscle:
            if m.name not in names:
                return m
            return dataclasses.replace(m, max_isometric_force=m.max_isometric_force * self.strength)

        return dataclasses.replace(model, muscles=tuple(change(m) for m in model.muscles))


@dataclass(frozen=True)
class Tightness:
    """Shorten the tendon slack length of ``muscles`` by ``shortening`` (m, >= 0)."""

    muscles: tuple[str, ...]
    shortening: float

    def describe(self) -> str:
        return f"{', '.join(self.muscles)} {1000 * self.shortening:.0f} mm tighter"

    def apply(self, model: Model) -> Model:
        if not (math.isfinite(self.shortening) and self.shortening >= 0):
            raise ValueError(f"shortening must be >= 0 and finite, got {self.shortening}")
        names = set(select_muscles(model, self.muscles))
        out = []
        for m in model.muscles:
            if m.name in names:
                slack = m.tendon_slack_length - self.shortening
                if slack <= 0:
                    raise ModelError(
                        f"muscles.{m.name}.tendon_slack_length",
                        f"{m.tendon_slack_length} m cannot be shortened by {self.shortening} m",
                    )
                m = dataclasses.replace(m, tendon_slack_length=slack)
            out.append(m)
        return dataclasses.replace(model, muscles=tuple(out))


Change = Weakness | Tightness


@dataclass(frozen=True)
class Scenario:
    """A named set of changes to a model (see the module docstring)."""

    name: str
    changes: tuple[Change, ...] = ()

    def describe(self) -> str:
        """Plain-language description."""
        return "; ".join(c.describe() for c in self.changes) or "unchanged model"


def apply_scenario(model: Model, scenario: Scenario) -> Model:
    """The model with the scenario's changes applied in order (validated).

    The model keeps its name, so that shipped initial guesses for it still apply.
    """
    for change in scenario.changes:
        model = change.apply(model)
    return validate(model)
