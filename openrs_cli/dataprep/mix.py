"""The recipes' mixes: how many rows of which source and level, sampled reproducibly with a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass

from openrs_cli.dataprep.filters import ProblemRow
from openrs_cli.errors import BadInputError


@dataclass(frozen=True)
class Part:
    source: str
    level: str | None  # None: any level
    count: int | None  # None: every row left


RECIPES: dict[str, tuple[str, list[Part]]] = {
    "open-s1": (
        "s1 problems with a boxed answer (the paper: 18,615 after dropping what R1-Distill-1.5B solves)",
        [Part("s1", None, None)],
    ),
    "open-deepscaler": ("DeepScaleR problems, multi-part questions removed", [Part("deepscaler", None, None)]),
    "open-rs": (
        "7,000 = 3,000 hard open-s1 + 1,000 easy and 3,000 hard open-deepscaler",
        [Part("s1", "Hard", 3000), Part("deepscaler", "Easy", 1000), Part("deepscaler", "Hard", 3000)],
    ),
    "custom": ("every source, or what --mix asks for", []),
}


def parse_mix(items: list[str]) -> list[Part]:
    parts = []
    for item in items:
        left, sep, count = item.partition("=")
        source, _, level = left.partition(":")
        if not sep or not source:
            raise BadInputError(
                f"--mix expects SOURCE[:LEVEL]=COUNT|all, got '{item}'", "e.g. --mix deepscaler:easy=100"
            )
        try:
            n = None if count == "all" else int(count)
            if n is not None and n < 0:
                raise ValueError
        except ValueError:
            raise BadInputError(
                f"--mix count must be a whole number >= 0 or all, got '{count}'", "e.g. --mix s1=100"
            ) from None
        parts.append(Part(source, level.capitalize() if level else None, n))
    return parts


def assign_levels(rows: list[ProblemRow], fixed: dict[str, str], easy_pass_rate: float, hard_difficulty: float) -> None:
    """Fill `level` where it is unknown: --level SOURCE=..., else pass_rate, else difficulty."""
    for row in rows:
        if row["source"] in fixed:
            row["level"] = fixed[row["source"]]
        elif row["level"] is None and row.get("pass_rate") is not None:
            row["level"] = "Easy" if row["pass_rate"] >= easy_pass_rate else "Hard"
        elif row["level"] is None and row.get("difficulty") is not None:
            row["level"] = "Hard" if row["difficulty"] >= hard_difficulty else "Easy"


def take(rows: list[ProblemRow], parts: list[Part], scale: float, seed: int, sources: set[str]) -> list[ProblemRow]:
    rng = random.Random(seed)
    out: list[ProblemRow] = []
    used: set[int] = set()
    for part in parts:
        if part.source not in sources:
            raise BadInputError(f"the mix needs a source named '{part.source}'", f"add --source {part.source}=PATH")
        pool = [
            i
            for i, r in enumerate(rows)
            if r["source"] == part.source and i not in used and (part.level is None or r["level"] == part.level)
        ]
        want = len(pool) if part.count is None else max(1, round(part.count * scale))
        if want > len(pool):
            unknown = sum(1 for r in rows if r["source"] == part.source and r["level"] is None)
            hint = (
                f"{unknown} rows of it have no level: run 'openrs data filter' or pass --level"
                if unknown
                else "lower --scale or add data"
            )
            level = f"{part.level} " if part.level else ""
            raise BadInputError(
                f"the mix asks for {want} {level}rows of {part.source}, only {len(pool)} remain after filtering", hint
            )
        chosen = sorted(rng.sample(pool, want))
        used.update(chosen)
        out.extend(rows[i] for i in chosen)
    return out
