"""`openrs compare`: is B really better than A? Per task and over the average, with a paired test where the
per-problem answers exist and an unpaired one from accuracies and standard errors where they do not.

Paired: a bootstrap over the problems both sides answered (each problem's samples resampled too, sample j of
A paired with sample j of B, which share a seed). Unpaired: B - A with a normal interval from the two standard
errors. Problems present on one side only are counted and left out.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openrs_cli.checks import within
from openrs_cli.errors import BadInputError
from openrs_cli.eval.tasks import PAPER_TASKS
from openrs_cli.report.evidence import Side, TaskEvidence, load_side, resolve_side
from openrs_cli.stats import (
    Z95,
    bootstrap_interval,
    bootstrap_p,
    paired_bootstrap,
    percentile_interval,
    seed_spread,
    unpaired_normal,
)


@dataclass
class ComparisonRow:
    task: str
    a: float  # percent
    b: float
    difference: float  # b - a, points
    ci95_low: float | None
    ci95_high: float | None
    p_value: float | None
    paired: bool
    n_problems: int
    a_name: str = ""
    b_name: str = ""
    flips_up: int | None = None  # problems wrong in A and right in B (by majority of samples)
    flips_down: int | None = None
    only_in_a: int = 0
    only_in_b: int = 0
    inside_a_interval: bool | None = None  # --against: does the quoted number lie in A's 95% interval?
    a_seed_std: float | None = None  # points: std of A's single seed runs (k > 1 samples per problem, paired)
    b_seed_std: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100 * x, 2)


def _seed_std(per_problem: list[list[float]]) -> float | None:
    """Points: the standard deviation of the single seed runs (sample j of every problem is run j)."""
    spread = seed_spread(per_problem)
    return None if spread is None else _pct(spread[1])


def compare_task(task: str, a: TaskEvidence, b: TaskEvidence, resamples: int, seed: int) -> tuple[ComparisonRow, list]:
    if a.paired and b.paired:
        common = sorted(set(a.problems) & set(b.problems))
        if common:
            sa, sb = [a.problems[k] for k in common], [b.problems[k] for k in common]
            boot, observed, p = paired_bootstrap(sa, sb, resamples, seed)
            low, high = percentile_interval(boot)
            majority = [(sum(x) / len(x) > 0.5, sum(y) / len(y) > 0.5) for x, y in zip(sa, sb, strict=True)]
            mean_a = sum(sum(x) / len(x) for x in sa) / len(sa)
            row = ComparisonRow(
                task,
                _pct(mean_a),
                _pct(mean_a + observed),
                _pct(observed),
                _pct(low),
                _pct(high),
                round(p, 4),
                True,
                len(common),
                flips_up=sum(1 for x, y in majority if y and not x),
                flips_down=sum(1 for x, y in majority if x and not y),
                only_in_a=len(set(a.problems) - set(b.problems)),
                only_in_b=len(set(b.problems) - set(a.problems)),
                a_seed_std=_seed_std(sa),
                b_seed_std=_seed_std(sb),
            )
            return row, boot
    se_a, se_b = a.stderr or 0.0, b.stderr or 0.0
    low, high, p = unpaired_normal(a.accuracy, se_a, b.accuracy, se_b)
    n = max(len(a.problems), len(b.problems))
    row = ComparisonRow(
        task, _pct(a.accuracy), _pct(b.accuracy), _pct(b.accuracy - a.accuracy), _pct(low), _pct(high),
        round(p, 4), False, n,
    )  # fmt: skip
    return row, []


def compare(a: Side, b: Side, resamples: int = 10_000, seed: int = 0) -> list[ComparisonRow]:
    """One row per task both sides have, then `average` over them (the five paper tasks when all are there)."""
    rows, boots = [], []
    for task in [t for t in a.tasks if t in b.tasks]:
        row, boot = compare_task(task, a.tasks[task], b.tasks[task], resamples, seed)
        row.a_name, row.b_name = a.name, b.name
        rows.append(row)
        boots.append(boot)
    if len(rows) > 1:
        rows.append(_average(rows, boots, a.name, b.name))
    return rows


def _average(rows: list[ComparisonRow], boots: list[list[float]], a_name: str, b_name: str) -> ComparisonRow:
    paper = [i for i, r in enumerate(rows) if r.task in PAPER_TASKS]
    chosen = paper if len(paper) == len(PAPER_TASKS) else list(range(len(rows)))
    picked = [rows[i] for i in chosen]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    a, b = mean([r.a for r in picked]), mean([r.b for r in picked])
    if all(r.paired for r in picked):
        series = [mean([boots[i][j] for i in chosen]) for j in range(min(len(boots[i]) for i in chosen))]
        low, high = percentile_interval(series)
        p = bootstrap_p(series)
        low, high = _pct(low), _pct(high)
    else:  # independent tasks: the average's standard error from each task's interval
        se = (sum(((r.ci95_high - r.ci95_low) / (2 * Z95)) ** 2 for r in picked) ** 0.5) / len(picked)
        diff = b - a
        low, high = diff - Z95 * se, diff + Z95 * se
        p = math.erfc(abs(diff) / se / math.sqrt(2)) if se else float(diff == 0)
    return ComparisonRow(
        "average", round(a, 2), round(b, 2), round(b - a, 2), low, high, round(p, 4),
        all(r.paired for r in picked), sum(r.n_problems for r in picked), a_name, b_name,
    )  # fmt: skip


def against_quoted(a: Side, quoted: dict[str, float], label: str, resamples: int, seed: int) -> list[ComparisonRow]:
    """A's interval per task, and whether the quoted (paper) number lies inside it."""
    rows = []
    for task, evidence in a.tasks.items():
        if task not in quoted:
            continue
        if evidence.paired:
            low, high = bootstrap_interval(list(evidence.problems.values()), resamples, seed)
        else:
            se = evidence.stderr or 0.0
            low, high = evidence.accuracy - Z95 * se, evidence.accuracy + Z95 * se
        paper = quoted[task]
        rows.append(
            ComparisonRow(
                task, _pct(evidence.accuracy), paper, round(paper - 100 * evidence.accuracy, 2), _pct(low), _pct(high),
                None, evidence.paired, len(evidence.problems), a.name, label,
                inside_a_interval=_pct(low) <= paper <= _pct(high),
            )
        )  # fmt: skip
    return rows


def compare_named(
    names: list[str], roots: list[Path], against: str | None, resamples: int, seed: int, warn=lambda message: None
) -> tuple[list[ComparisonRow], list[Side]]:
    """`openrs compare`: B, C, ... each against A (or A against a quoted row of the paper), from folders, files or
    model names evaluated under `roots`; the rows and the sides loaded."""
    from openrs_cli.report.rows import quoted_row

    within("--resamples", resamples, 100, 1_000_000)  # a million resamples take minutes; more is a typo
    loaded = [load_side(resolve_side(name, roots, warn)) for name in names]
    if against is not None:
        if len(loaded) != 1:
            raise BadInputError("--against compares one side with the quoted row", "give only A")
        label, scores = quoted_row(against)
        rows = against_quoted(loaded[0], scores, label, resamples, seed)
        if not rows:
            raise BadInputError(f"{names[0]} shares no task with the quoted row {label}", "evaluate the paper's tasks")
        return rows, loaded
    if len(loaded) < 2:
        raise BadInputError("compare needs A and B (or A with --against)", "e.g. openrs compare runs/a runs/b")
    rows = [row for other in loaded[1:] for row in compare(loaded[0], other, resamples, seed)]
    if not rows:
        raise BadInputError(f"{names[0]} and {names[1]} share no task", "evaluate the same tasks on both")
    return rows, loaded


def render(rows: list[ComparisonRow], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([r.to_dict() for r in rows], indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0].to_dict()) if rows else ["task"])
        writer.writeheader()
        for row in rows:
            writer.writerow(row.to_dict())
        return buffer.getvalue()
    lines = []
    for pair in dict.fromkeys((r.a_name, r.b_name) for r in rows):
        group = [r for r in rows if (r.a_name, r.b_name) == pair]
        lines += [f"### {pair[1]} vs {pair[0]}", ""]
        against = group[0].inside_a_interval is not None
        header = "| task | A % | B % | B - A | 95% CI | p | test | problems | flips (up/down) |"
        if against:
            header = "| task | A % | quoted % | quoted - A | A's 95% CI | quoted inside A's interval |"
        lines += [header, "|" + "---|" * (header.count("|") - 1)]
        for r in group:
            ci = "–" if r.ci95_low is None else f"{r.ci95_low:+.1f} to {r.ci95_high:+.1f}"
            if against:
                ci = f"{r.ci95_low:.1f}-{r.ci95_high:.1f}"
                lines.append(
                    f"| {r.task} | {r.a:.1f} | {r.b:.1f} | {r.difference:+.1f} | {ci} | {r.inside_a_interval} |"
                )
                continue
            flips = "–" if r.flips_up is None else f"{r.flips_up}/{r.flips_down}"
            test = "paired" if r.paired else "unpaired"
            p = "–" if r.p_value is None else f"{r.p_value:.3g}"
            lines.append(
                f"| {r.task} | {r.a:.1f} | {r.b:.1f} | {r.difference:+.1f} | {ci} | {p} | {test} | {r.n_problems} "
                f"| {flips} |"
            )
        unpaired = [r.task for r in group if not r.paired]
        if unpaired and not against:
            lines.append(f"\nUnpaired (no per-problem answers on one side): {', '.join(unpaired)}.")
        spreads = [
            f"{r.task} A {r.a_seed_std:.1f}, B {r.b_seed_std:.1f}"
            for r in group
            if r.a_seed_std is not None and r.b_seed_std is not None
        ]
        if spreads and not against:
            lines.append(f"\nSeed spread (std of single seed runs, points): {'; '.join(spreads)}.")
        skipped = sum(r.only_in_a + r.only_in_b for r in group)
        if skipped:
            lines.append(f"\n{skipped} problem(s) answered on one side only were left out.")
        lines.append("")
    return "\n".join(lines)
