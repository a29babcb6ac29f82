"""The summary table in markdown, CSV, JSON or LaTeX, all from the same rows."""

from __future__ import annotations

import csv
import io
import json

from openrs_cli.report.rows import PAPER_TASKS, TASK_LABELS, TableRow

# every table format, with the file `openrs report` writes it to
FORMATS = {"markdown": "table.md", "csv": "table.csv", "json": "table.json", "latex": "table.tex"}
COMPARE_FORMATS = ("markdown", "json", "csv")  # what `openrs compare` prints


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _tex(text: str) -> str:
    return text.replace("_", "\\_").replace("%", "\\%").replace("&", "\\&")


def _label(row: TableRow) -> str:
    return row.name + (" *" if row.source == "measured" else "")


def columns(rows: list[TableRow]) -> tuple[str, ...]:
    """The paper's five (all of them when quoted rows are shown), then any other task measured."""
    present = {t for r in rows for t in r.scores}
    quoted = any(r.source == "quoted" for r in rows)
    paper = tuple(t for t in PAPER_TASKS if quoted or t in present)
    return paper + tuple(sorted(present - set(PAPER_TASKS)))


def markdown(rows: list[TableRow], footnote: str, costs: bool) -> str:
    tasks = columns(rows)
    head = ["Model", *[TASK_LABELS.get(t, t) for t in tasks], "Avg"] + (["Cost ($)"] if costs else []) + ["Protocol"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    group = None
    for row in rows:
        if row.group != group and row.source == "quoted":
            group = row.group
            lines.append(f"| **{group}** |" + " |" * (len(head) - 1))
        if row.source == "measured" and group != "measured":
            group = "measured"
            lines.append("| **Measured** |" + " |" * (len(head) - 1))
        cells = [_label(row), *[_cell(row.percent(t)) for t in tasks], _cell(row.average())]
        if costs:
            cells.append("–" if row.cost is None else f"{row.cost:.2f}")
        cells.append(row.protocol or "–")
        lines.append("| " + " | ".join(cells) + " |")
    quoted = any(r.source == "quoted" for r in rows)
    notes = [f"pass@1 / avg@k in %. {footnote}" if quoted else "avg@k in %."]
    if any(r.source == "measured" for r in rows):
        rest = "; the rest are quoted" if quoted else ""
        notes.append(f"* measured here from result files{rest}. Avg: the five paper benchmarks only.")
    speeds = [
        f"{r.name} {t}: {s['tokens_per_second']:.0f} tokens/s, {s['requests_per_second']:.2f} answers/s"
        for r in rows
        for t, s in r.throughput.items()
        if s.get("generated_requests")
    ]
    if speeds:
        notes.append("Generation speed (answers generated in that run): " + "; ".join(speeds) + ".")
    spreads = [
        f"{r.name} {t} {100 * mean:.1f} ± {100 * std:.1f} ({r.samples.get(t, '?')} runs)"
        for r in rows
        for t, (mean, std) in r.seed_spread.items()
    ]
    if spreads:  # Sober Look (arXiv 2504.07086): the spread of single runs, beside the interval of the mean
        notes.append(
            "Seed spread (mean ± standard deviation of single seed runs, sample j of every problem being run j; "
            "the intervals above are for the mean of all samples): " + "; ".join(spreads) + "."
        )
    return "\n".join(lines) + "\n\n" + "\n".join(f"_{n}_" for n in notes) + "\n"


def as_csv(rows: list[TableRow], costs: bool) -> str:
    tasks = columns(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["name", "source", "group", "step", *tasks, "average"] + (["cost"] if costs else []) + ["protocol"]
    writer.writerow(header)
    for row in rows:
        values = ["" if row.percent(t) is None else row.percent(t) for t in tasks]
        avg = row.average()
        tail = [("" if row.cost is None else round(row.cost, 2))] if costs else []
        cells = [row.name, row.source, row.group, row.step or "", *values, "" if avg is None else avg, *tail]
        writer.writerow([*cells, row.protocol])
    return buffer.getvalue()


def as_json(rows: list[TableRow]) -> str:
    tasks = columns(rows)
    return json.dumps([row.to_dict(tasks) for row in rows], indent=2) + "\n"


def latex(rows: list[TableRow], footnote: str, costs: bool) -> str:
    tasks = columns(rows)
    head = ["Model", *[TASK_LABELS.get(t, t) for t in tasks], "Avg"] + (["Cost (\\$)"] if costs else []) + ["Protocol"]
    out = ["\\begin{tabular}{l" + "r" * (len(head) - 2) + "l}", "\\toprule", " & ".join(head) + " \\\\", "\\midrule"]
    for row in rows:
        name = _tex(_label(row))
        cells = [name, *[_cell(row.percent(t)) for t in tasks], _cell(row.average())]
        if costs:
            cells.append("–" if row.cost is None else f"{row.cost:.2f}")
        cells.append(_tex(row.protocol) or "–")
        out.append(" & ".join(cells).replace("–", "--") + " \\\\")
    out += ["\\bottomrule", "\\end{tabular}", f"% {footnote}"]
    return "\n".join(out) + "\n"


def render(fmt: str, rows: list[TableRow], footnote: str, costs: bool = False) -> str:
    if fmt == "markdown":
        return markdown(rows, footnote, costs)
    if fmt == "csv":
        return as_csv(rows, costs)
    if fmt == "json":
        return as_json(rows)
    return latex(rows, footnote, costs)
