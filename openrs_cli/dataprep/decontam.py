"""Decontamination: drop training problems that overlap a benchmark problem in word n-grams.

A training problem is contaminated when the n-grams (8 words by default) it shares with one
benchmark problem cover at least `min_overlap` of the shorter of the two (0.5 by default). With
min_overlap 0 a single shared n-gram is enough, which on competition maths also removes problems that
merely share stock phrasing ("find the number of ordered pairs of positive integers").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from openrs_cli.dataprep.filters import ProblemRow, normalised
from openrs_cli.eval.tasks import PAPER_TASKS, TASKS, load_problems


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = normalised(text).split()
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass
class BenchIndex:
    n: int
    names: list[str] = field(default_factory=list)  # benchmark of each problem
    sizes: list[int] = field(default_factory=list)  # n-grams of each problem
    grams: dict[tuple, list[int]] = field(default_factory=dict)


def benchmark_index(bench_dir: Path | None, n: int, tasks: tuple[str, ...] = PAPER_TASKS) -> BenchIndex:
    """From the Hub, or from local files with --bench-dir."""
    index = BenchIndex(n)
    for name in tasks:
        for problem in load_problems(TASKS[name], bench_dir):
            grams = ngrams(problem.question, n)
            pid = len(index.names)
            index.names.append(name)
            index.sizes.append(len(grams))
            for gram in grams:
                index.grams.setdefault(gram, []).append(pid)
    return index


def contaminated(row: ProblemRow, index: BenchIndex, min_overlap: float = 0.5) -> list[str]:
    """The benchmarks holding a problem this row overlaps; empty when clean."""
    grams = ngrams(row["problem"], index.n)
    shared: dict[int, int] = {}
    for gram in grams:
        for pid in index.grams.get(gram, ()):
            shared[pid] = shared.get(pid, 0) + 1
    hits = {
        index.names[pid]
        for pid, count in shared.items()
        if count / max(1, min(len(grams), index.sizes[pid])) >= min_overlap or min_overlap <= 0
    }
    return sorted(hits)
