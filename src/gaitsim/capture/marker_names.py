"""Recognising the role of a lab's markers from their names.

Labs name markers after their protocol: Plug-in Gait ``RHEE``/``LTOE``, OpenSim's
gait2392 set ``R.Heel``/``L.Toe.Tip``, Qualisys ``R_FCC``/``L_FM1``, BTS ``r heel``/
``l met``. Import needs three roles, found by these (case-insensitive) rules:

* **side**: a name starting with ``left``/``right`` or ending with a separator and
  ``l``/``r``/``left``/``right`` (``heel_r``); otherwise its first letter ``l`` or ``r``
  (``RHEE``, ``L.Heel``, ``r heel``);
* **heel**: contains ``hee`` (HEE, HEEL), ``cal`` (calcaneus) or ``fcc``;
* **toe**: contains ``toe``, ``mt`` or ``fm`` followed by a digit (metatarsal heads),
  or ``met``;
* **pelvis**: contains ``asi``, ``psi``, ``sacr``, ``ias``, ``ips``, ``pelvis``,
  ``pelo`` or ``sacral``.

The rules are heuristics; every function that uses them accepts explicit names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["foot_markers", "pelvis_markers", "side_of"]

_HEEL = re.compile(r"(hee|cal|fcc)", re.IGNORECASE)
_TOE = re.compile(r"(toe|mt\d|fm\d|met)", re.IGNORECASE)
_PELVIS = re.compile(r"(asi|psi|sacr|ias|ips|pelvis|pelo|sacral)", re.IGNORECASE)


def side_of(name: str) -> str | None:
    """``"r"``, ``"l"`` or ``None`` for a marker name (see the module docstring)."""
    text = name.strip().lower()
    if text.startswith("left"):
        return "l"
    if text.startswith("right"):
        return "r"
    suffix = re.search(r"[_.\s-](l|left|r|right)$", text)
    if suffix:
        return suffix.group(1)[0]
    if text[:1] in ("l", "r"):
        return text[0]
    return None


def foot_markers(names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Heel and toe marker of each side found in ``names`` (first match of each role).

    Returns
    -------
    dict
        ``{"r": (heel, toe), "l": (heel, toe)}`` for the sides where both were found.
    """
    found: dict[str, tuple[str, str]] = {}
    for side in ("r", "l"):
        heel = [n for n in names if side_of(n) == side and _HEEL.search(n)]
        toe = [n for n in names if side_of(n) == side and _TOE.search(n) and not _HEEL.search(n)]
        if heel and toe:
            found[side] = (heel[0], toe[0])
    return found


def pelvis_markers(names: Sequence[str]) -> list[str]:
    """The names of ``names`` that look like pelvis markers."""
    return [n for n in names if _PELVIS.search(n)]
