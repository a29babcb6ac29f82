"""Eval scoring throughput: a fixed set of long answers scored serially and in parallel.

    python bench/eval_scoring.py [--bench-dir DIR] [--answers 200] [--workers N]

Answers are MATH-500 and OlympiadBench solutions padded to several thousand characters of reasoning
and ended with the paper's final-answer line (a third with a wrong answer). Prints answers/s for
both, checks the scores agree, and prints the parallel/serial ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from openrs_cli.eval.scoring import make_scorer, score_answer

LAST = "Therefore, the final answer is: $\\boxed{{{}}}$. I hope it is correct"


def answers(bench: Path, count: int) -> list[tuple[str, list[str], str]]:
    math = [(json.loads(x), "solution") for x in (bench / "math500.jsonl").open()]
    olympiad = [(json.loads(x), "answer") for x in (bench / "olympiadbench.jsonl").open()]
    rows = math + olympiad  # MATH-500's gold is its solution, OlympiadBench's its answer
    out = []
    for i in range(count):  # cycles through small files (the fixtures)
        row, gold_field = rows[i % len(rows)]
        reasoning = ((row.get("solution") or row["problem"]) + "\n") * 6
        final = row["answer"] if i % 3 else "0"
        gold = row[gold_field]
        out.append((f"{reasoning}\n{LAST.format(final)}", [gold], "latex"))
    return out


def run(scorer: make_scorer, items) -> tuple[float, list[float]]:
    start = time.perf_counter()
    for item in items:
        scorer.submit(*item)
    scores = [s.correct for s in scorer.results()]
    return time.perf_counter() - start, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bench-dir",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bench",
        help="benchmark files (default: the test fixtures; the full files give the published figures)",
    )
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    items = answers(args.bench_dir, args.answers)
    score_answer(*items[0])  # import lighteval before timing the serial run
    serial_s, serial = run(make_scorer(1), items)
    warm = make_scorer(args.workers)
    for item in items[: args.workers * warm.chunk]:
        warm.submit(*item)
    warm.results()  # start the workers (and their lighteval import) outside the timing
    parallel = make_scorer(args.workers)
    parallel.pool = warm.pool
    parallel_s, parallel_scores = run(parallel, items)
    warm.close()
    print(f"answers: {len(items)} (mean {sum(len(a) for a, _, _ in items) / len(items):.0f} characters)")
    print(f"serial:   {serial_s:.2f} s, {len(items) / serial_s:.1f} answers/s")
    print(f"parallel: {parallel_s:.2f} s, {len(items) / parallel_s:.1f} answers/s ({args.workers} workers)")
    print(f"scores agree: {serial == parallel_scores} (accuracy {sum(serial) / len(serial):.3f})")
    print(f"ratio parallel/serial throughput: {serial_s / parallel_s:.2f}x")
    if serial != parallel_scores:
        sys.exit("parallel scores differ from serial ones")


if __name__ == "__main__":
    main()
