"""What a question's answer holds: claims and verdicts, method, findings, figures, tables
and limitations. Text is plain words; numbers in it are :class:`Quoted` (recorded in the
evidence JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gaitsim.questions.evidence import Quoted
from gaitsim.questions.verdict import Claim

__all__ = ["Answer", "Figure", "Table", "Text"]

#: A sentence or paragraph: plain strings and quoted numbers, joined in order.
Text = tuple[str | Quoted, ...]


@dataclass(frozen=True)
class Figure:
    """A figure file (relative to the report folder) and its caption."""

    path: Path
    caption: str


@dataclass(frozen=True)
class Table:
    """A table of strings and quoted numbers."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | Quoted, ...], ...]


@dataclass(frozen=True)
class Answer:
    """The answer to one question."""

    number: int
    title: str
    question: str
    claims: tuple[Claim, ...]
    method: tuple[Text, ...]
    findings: tuple[Text, ...]
    figures: tuple[Figure, ...]
    tables: tuple[Table, ...]
    limitations: tuple[str, ...]
