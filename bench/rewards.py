"""A training step's reward batch scored in parallel vs serially in one process; values must match.

    python bench/rewards.py [--bench-dir DIR] [--workers N] [--repeats 3]

The batch is 72 completions (the paper's step: 12 prompts x 6 generations) built from MATH-500
solutions wrapped in think/answer tags, half of them with a wrong final answer, scored with the
exp 3 rewards (format + cosine) plus accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from openrs_cli.rewards import pool
from openrs_cli.rewards.registry import build_rewards

NAMES = ["accuracy", "format", "cosine"]


def make_batch(bench: Path, size: int = 72) -> tuple[list, list]:
    rows = [json.loads(line) for line in (bench / "math500.jsonl").open()][:size]
    completions, golds = [], []
    for i, row in enumerate(rows):
        answer = row["answer"] if i % 2 == 0 else f"{row['answer']}+1"
        text = f"<think>\n{row['solution']}\n</think>\n<answer>\n\\boxed{{{answer}}}\n</answer>"
        completions.append([{"role": "assistant", "content": text}])
        golds.append(row["solution"])
    return completions, golds


def score(workers: int, completions, golds) -> list[list]:
    rewards = build_rewards(NAMES, {"cosine_max_len": 3584, "reward_workers": workers})
    return [fn(completions, solution=golds) for fn in rewards]


def timed(workers: int, completions, golds, repeats: int) -> tuple[float, list[list]]:
    times, values = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        values = score(workers, completions, golds)
        times.append(time.perf_counter() - start)
    return statistics.median(times), values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bench-dir",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bench",
        help="benchmark files (default: the test fixtures; the full files give the published figures)",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    completions, golds = make_batch(args.bench_dir)
    score(args.workers, completions[:4], golds[:4])  # start the worker pool outside the timing
    serial_s, serial = timed(1, completions, golds, args.repeats)
    parallel_s, parallel = timed(args.workers, completions, golds, args.repeats)
    pool.shutdown()
    identical = serial == parallel
    print(f"batch: {len(completions)} completions, rewards {', '.join(NAMES)}")
    print(f"serial (1 process):        {serial_s:.3f} s median of {args.repeats}")
    print(f"parallel ({args.workers} workers):      {parallel_s:.3f} s median of {args.repeats}")
    print(f"values identical: {identical}")
    print(f"ratio serial/parallel: {serial_s / parallel_s:.2f}x")
    if not identical:
        sys.exit("parallel rewards differ from serial ones")


if __name__ == "__main__":
    main()
