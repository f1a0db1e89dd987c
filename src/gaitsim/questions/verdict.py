"""Verdicts on claims, computed from numbers by rules written in the code.

A :class:`Rule` holds the decision rule as text (shown in the report) and as a function
of the numbers (used to decide), so what the reader sees is what was computed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["Claim", "Rule", "Verdict"]


class Verdict(enum.Enum):
    """How far the numbers support a claim."""

    SUPPORTED = "supported"
    PARTLY_SUPPORTED = "partly supported"
    NOT_SUPPORTED = "not supported"
    UNDECIDED = "undecided (the numbers needed are missing)"


@dataclass(frozen=True)
class Rule:
    """A decision rule: its text and the function that applies it.

    ``decide`` receives the named numbers (``inputs``) and returns a verdict; a missing
    or non-finite input gives :attr:`Verdict.UNDECIDED` without calling it.
    """

    text: str
    inputs: tuple[str, ...]
    decide: Callable[[Mapping[str, float]], Verdict]

    def apply(self, numbers: Mapping[str, float | None]) -> Verdict:
        values: dict[str, float] = {}
        for name in self.inputs:
            v = numbers.get(name)
            if v is None or v != v:  # missing or NaN
                return Verdict.UNDECIDED
            values[name] = float(v)
        return self.decide(values)


@dataclass(frozen=True)
class Claim:
    """A claim in plain words with the rule that judges it and the verdict reached."""

    text: str
    rule: Rule
    verdict: Verdict
    numbers: Mapping[str, float | None]
