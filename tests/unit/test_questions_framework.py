"""The questions report framework: quoted numbers, rules, HTML."""

from __future__ import annotations

import json
import re

import pytest

from gaitsim.questions.answer import Answer, Table
from gaitsim.questions.evidence import Evidence
from gaitsim.questions.html import render_report
from gaitsim.questions.verdict import Claim, Rule, Verdict


def test_quoted_numbers_are_recorded_rounded_as_shown() -> None:
    ev = Evidence()
    q = ev.quote("q1.x", 1.23456, "N", digits=2)
    assert q.text == "1.23 N" and ev.values["q1.x"] == 1.23
    assert ev.quote("q1.nan", float("nan")).text == "n/a" and ev.values["q1.nan"] is None
    assert ev.quote("q1.zero", -0.001).text == "0.00"
    ev.quote("q1.x", 1.2300001, "N")  # same value once rounded: fine
    with pytest.raises(KeyError, match="q1.x"):
        ev.quote("q1.x", 2.0)


def test_rule_decides_or_is_undecided_without_numbers() -> None:
    rule = Rule(
        "supported if a > b",
        ("a", "b"),
        lambda n: Verdict.SUPPORTED if n["a"] > n["b"] else Verdict.NOT_SUPPORTED,
    )
    assert rule.apply({"a": 2, "b": 1}) is Verdict.SUPPORTED
    assert rule.apply({"a": 0, "b": 1}) is Verdict.NOT_SUPPORTED
    assert rule.apply({"a": float("nan"), "b": 1}) is Verdict.UNDECIDED
    assert rule.apply({"b": 1}) is Verdict.UNDECIDED


def test_every_number_in_the_html_is_the_one_in_the_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ev = Evidence()
    rule = Rule("always", (), lambda n: Verdict.PARTLY_SUPPORTED)
    answer = Answer(
        number=1,
        title="T <&>",
        question="Q?",
        claims=(Claim("c", rule, rule.apply({}), {}),),
        method=(("we computed ", ev.quote("q1.a", 3.14159, "deg")),),
        findings=(("found ", ev.quote("q1.b", 42.0, "N", digits=0)),),
        figures=(),
        tables=(Table("t", ("a", "b"), (("x", ev.quote("q1.c", 0.5)),)),),
        limitations=("none",),
    )
    text = render_report([answer], tmp_path)
    assert "T &lt;&amp;&gt;" in text and "partly supported" in text
    values = json.loads(json.dumps(ev.values))
    spans = re.findall(r'<span class="num" data-key="([^"]+)">([^<]+)</span>', text)
    assert {k for k, _ in spans} == {"q1.a", "q1.b", "q1.c"}
    for key, shown in spans:
        assert float(shown.split()[0]) == values[key]
