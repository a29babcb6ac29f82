"""One row of the summary table, quoted or measured, and the rounding rules every format shares."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any

from openrs_cli.eval.tasks import PAPER_TASKS

TASK_LABELS = {
    "aime24": "AIME24",
    "math_500": "MATH-500",
    "amc23": "AMC23",
    "minerva": "Minerva",
    "olympiadbench": "OlympiadBench",
    "aime25": "AIME25",
    "arithmetic": "Arithmetic (held out)",
}


def pct(value: float | None) -> float | None:
    """A fraction (0-1) as a percentage with one decimal, rounded half up, never truncated.

    >>> pct(0.4666666), pct(0.8375), pct(None)
    (46.7, 83.8, None)
    """
    if value is None:
        return None
    return float(Decimal(str(value * 100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass
class TableRow:
    name: str
    source: str  # "quoted" or "measured"
    scores: dict[str, float]  # task -> fraction (measured) or percent already rounded (quoted)
    group: str = ""
    step: int | None = None
    series: str | None = None  # checkpoint sweeps: rows of one training run share a series
    samples: dict[str, int] = field(default_factory=dict)
    stderr: dict[str, float] = field(default_factory=dict)  # fractions
    quoted_average: float | None = None
    files: dict[str, str] = field(default_factory=dict)
    cost: float | None = None
    problems: dict[str, int] = field(default_factory=dict)  # measured: problems per task
    throughput: dict[str, dict] = field(default_factory=dict)  # measured by openrs: generation speed per task
    provenance: dict[str, dict] = field(default_factory=dict)  # measured by openrs: what each task ran with
    seed_spread: dict[str, tuple[float, float]] = field(default_factory=dict)  # task -> (mean, std) of seed runs
    protocol: str = ""  # how the numbers were sampled: samples per problem, temperature, top-p, max new tokens

    def percent(self, task: str) -> float | None:
        value = self.scores.get(task)
        if value is None:
            return None
        return value if self.source == "quoted" else pct(value)

    def average(self) -> float | None:
        """Over the five paper benchmarks only when all five exist; never an average of fewer.

        As in the paper, the mean of the rounded percentages, itself rounded to one decimal.
        """
        if self.source == "quoted":
            return self.quoted_average
        shown = [self.percent(t) for t in PAPER_TASKS]
        if any(v is None for v in shown):
            return None
        return pct(sum(shown) / len(shown) / 100)

    def to_dict(self, tasks: tuple[str, ...]) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "group": self.group,
            "step": self.step,
            "series": self.series,
            "scores": {t: self.percent(t) for t in tasks if self.percent(t) is not None},
            "average": self.average(),
            "samples": dict(self.samples),
            "stderr": {t: pct(v) for t, v in self.stderr.items()},
            "seed_spread": {t: {"mean": pct(m), "std": pct(sd)} for t, (m, sd) in self.seed_spread.items()},
            "cost": self.cost,
            "protocol": self.protocol,
            "throughput": dict(self.throughput),
            "provenance": dict(self.provenance),
            "files": dict(self.files),
        }


def quoted_rows() -> tuple[list[TableRow], str]:
    data = json.loads((resources.files("openrs_cli.report") / "reference.json").read_text())
    rows = []
    for item in data["rows"]:
        scores = {t: v for t, v in zip(data["tasks"], item["scores"], strict=True) if v is not None}
        samples = {t: item["samples"] for t in scores} if item.get("samples") else {}
        rows.append(
            TableRow(
                item["name"],
                "quoted",
                scores,
                item["group"],
                item.get("step"),
                None,
                samples,
                quoted_average=item.get("average"),
                protocol=protocol_label(item.get("protocol") or {}),
            )
        )
    return rows, data["footnote"]


def protocol_label(protocol: dict[str, Any], samples: list[int] | None = None) -> str:
    """A short protocol string; what the source does not say is left out ("" when it says nothing).

    >>> protocol_label({"samples": 1, "temperature": 0.6, "top_p": 0.95, "max_new_tokens": 32768})
    '1 sample, T 0.6, top-p 0.95, 32768 tokens'
    >>> protocol_label({"samples": 16}), protocol_label({}, [4, 16]), protocol_label({"temperature": 0.6}, [1, 1])
    ('16 samples', '4-16 samples', '1 sample, T 0.6')
    """
    counts = sorted(set(samples)) if samples else ([protocol["samples"]] if protocol.get("samples") else [])
    parts = []
    if counts:
        span = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        parts.append(f"{span} sample{'' if counts == [1] else 's'}")
    if protocol.get("temperature") is not None:
        parts.append(f"T {protocol['temperature']:g}")
    if protocol.get("top_p") is not None:
        parts.append(f"top-p {protocol['top_p']:g}")
    if protocol.get("max_new_tokens") is not None:
        parts.append(f"{protocol['max_new_tokens']} tokens")
    return ", ".join(parts)


def slug(name: str) -> str:
    """>>> slug("Open-RS3 (50 steps)"), slug("DeepSeek-R1-Distill-Qwen-1.5B")
    ('open-rs3', 'deepseek-r1-distill-qwen-1.5b')
    """
    return name.split(" (")[0].strip().lower().replace(" ", "-")


def quoted_row(name: str) -> tuple[str, dict[str, float]]:
    """A quoted row of the paper's table by its name or slug (`open-rs3`), as (name, task -> percent)."""
    rows, _ = quoted_rows()
    for row in rows:
        if name.lower() in (row.name.lower(), slug(row.name)):
            return row.name, dict(row.scores)
    from openrs_cli.errors import BadInputError

    known = ", ".join(slug(r.name) for r in rows)
    raise BadInputError(f"no quoted row '{name}'", f"choose from {known}")
