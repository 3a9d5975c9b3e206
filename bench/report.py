"""The results table and the page written to ``bench/last-run.md``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    figure: str
    measure: str
    value: str
    reference: str
    ratio: str
    target: str
    result: str
    runs: str


@dataclass
class Page:
    title: str
    when: str
    command: str
    duration: str
    machine: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    method: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def table(rows: list[Row]) -> str:
    head = ("#", "measure", "proofqueue (median)", "reference (median)", "ratio", "target",
            "result", "runs")  # fmt: skip
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    for row in rows:
        cells = (row.figure, row.measure, row.value, row.reference, row.ratio, row.target,
                 row.result, row.runs)  # fmt: skip
        lines.append("| " + " | ".join(_escape(c) for c in cells) + " |")
    return "\n".join(lines)


def render(page: Page) -> str:
    parts = [
        f"# {page.title}",
        "",
        f"- date: {page.when}",
        f"- command: `{page.command}`",
        f"- took: {page.duration}",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {key} | {_escape(value)} |" for key, value in page.machine.items()),
        "",
        "## Results",
        "",
        table(page.rows),
        "",
    ]
    if page.notes:
        parts += ["## Notes", "", *(f"- {note}" for note in page.notes), ""]
    parts += ["## Method", "", *(f"- {line}" for line in page.method), ""]
    parts += ["## Every run", "", *(f"- {line}" for line in page.runs), ""]
    return "\n".join(parts)
