"""Numbers quoted in a report, each recorded once under a key.

Every number the question report shows goes through :meth:`Evidence.quote`, which stores
the value under a dotted key (``"q1.ablation.iliopsoas_r.delta_peak_knee_deg"``) and
returns the formatted text together with the key. The HTML writer marks each quoted
number with its key, and the JSON written beside the report is :attr:`Evidence.values`,
so a test can check that every number in the report is the one in the JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Evidence", "Quoted"]


@dataclass(frozen=True)
class Quoted:
    """A number as quoted in the report: its key, value, unit and formatted text."""

    key: str
    value: float | None
    unit: str
    text: str

    def html(self) -> str:
        """The number marked with its key (``<span class="num" data-key=...>``)."""
        return f'<span class="num" data-key="{self.key}">{self.text}</span>'


@dataclass
class Evidence:
    """Collects the numbers of a report (see the module docstring)."""

    values: dict[str, Any] = field(default_factory=dict)

    def record(self, key: str, value: Any) -> None:
        """Store a value (number, string, list or mapping) under ``key`` without quoting it.

        Raises
        ------
        KeyError
            If ``key`` was recorded before with a different value (nothing is overwritten
            silently).
        """
        if key in self.values and self.values[key] != value:
            raise KeyError(f"evidence key {key!r} recorded twice with different values")
        self.values[key] = value

    def quote(
        self,
        key: str,
        value: float | None,
        unit: str = "",
        digits: int = 2,
        *,
        scientific: bool = False,
    ) -> Quoted:
        """Record a number and return it formatted for the report.

        ``value`` None or NaN is recorded as None and quoted as "n/a". ``digits`` is the
        number of decimals shown (of the mantissa with ``scientific``); the JSON keeps the
        value rounded the same way, so the report and the JSON agree exactly.
        """
        if value is None or not math.isfinite(float(value)):
            self.record(key, None)
            return Quoted(key, None, unit, "n/a")
        if scientific:
            shown = f"{float(value):.{digits}e}"
            self.record(key, float(shown))
            return Quoted(key, float(shown), unit, shown + (f" {unit}" if unit else ""))
        rounded = round(float(value), digits)
        if rounded == 0:
            rounded = 0.0  # no "-0.00"
        self.record(key, rounded)
        text = f"{rounded:.{digits}f}" + (f" {unit}" if unit else "")
        return Quoted(key, rounded, unit, text)
