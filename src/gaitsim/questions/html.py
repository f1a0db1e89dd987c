"""The questions report as one self-contained HTML file.

Figures are embedded (SVG inline as data URIs), so the file can be mailed. Every number
in findings and tables is a quoted number marked with its evidence key (see
:mod:`gaitsim.questions.evidence`).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
from collections.abc import Sequence
from pathlib import Path

from gaitsim import __version__
from gaitsim.questions.answer import Answer, Text
from gaitsim.questions.evidence import Quoted
from gaitsim.questions.verdict import Verdict

__all__ = ["render_report"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; line-height: 1.45;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
.claim { border-left: 4px solid #999; padding: .3em .8em; margin: .8em 0; background: #fafafa; }
.verdict { font-weight: bold; }
.supported { color: #17693a; } .partly-supported { color: #8a6d00; }
.not-supported { color: #a11; } .undecided { color: #555; }
.rule { font-size: .9em; color: #444; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
th { background: #f0f0f0; }
figure { margin: 1em 0; } figure img { max-width: 100%; }
figcaption { font-size: .9em; color: #444; }
.limitations { font-size: .92em; color: #333; }
"""


def _text(parts: Text) -> str:
    return "".join(p.html() if isinstance(p, Quoted) else html.escape(p) for p in parts)


def _cell(value: str | Quoted) -> str:
    return value.html() if isinstance(value, Quoted) else html.escape(value)


def _verdict_class(verdict: Verdict) -> str:
    return verdict.name.lower().replace("_", "-")


def _figure(folder: Path, path: Path, caption: str) -> str:
    file = folder / path
    data = file.read_bytes()
    mime = "image/svg+xml" if file.suffix == ".svg" else "image/png"
    uri = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return (
        f'<figure><img src="{uri}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def render_report(answers: Sequence[Answer], folder: Path, header: Sequence[str] = ()) -> str:
    """The HTML of the report; figure paths are relative to ``folder``."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>gaitsim: gait questions answered with a muscle-driven model</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Gait questions answered with a muscle-driven model</h1>",
        f"<p>gaitsim {html.escape(__version__)}, written "
        f"{_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}. Every number below is "
        "also in <code>questions.json</code> under the key shown when you hover over it.</p>",
    ]
    out += [f"<p>{html.escape(line)}</p>" for line in header]
    out.append("<ul>")
    for a in answers:
        out.append(f'<li><a href="#q{a.number}">{a.number}. {html.escape(a.title)}</a></li>')
    out.append("</ul>")
    for a in answers:
        out.append(f'<h2 id="q{a.number}">{a.number}. {html.escape(a.title)}</h2>')
        out.append(f"<p><em>{html.escape(a.question)}</em></p>")
        out.append("<h3>Claims and verdicts</h3>")
        for claim in a.claims:
            cls = _verdict_class(claim.verdict)
            out.append(
                f'<div class="claim"><p>{html.escape(claim.text)}</p>'
                f'<p class="verdict {cls}">Verdict: {html.escape(claim.verdict.value)}</p>'
                f'<p class="rule">Decision rule: {html.escape(claim.rule.text)}</p></div>'
            )
        out.append("<h3>Method</h3>")
        out += [f"<p>{_text(p)}</p>" for p in a.method]
        out.append("<h3>Findings</h3>")
        out += [f"<p>{_text(p)}</p>" for p in a.findings]
        for table in a.tables:
            out.append(f"<table><caption>{html.escape(table.title)}</caption><tr>")
            out += [f"<th>{html.escape(c)}</th>" for c in table.columns]
            out.append("</tr>")
            for row in table.rows:
                out.append("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>")
            out.append("</table>")
        out += [_figure(folder, f.path, f.caption) for f in a.figures]
        out.append('<h3>Limitations</h3><ul class="limitations">')
        out += [f"<li>{html.escape(x)}</li>" for x in a.limitations]
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
