"""The GPU benchmarks run here on their tiny shape, so that the one command a GPU machine runs is known to work.
Nothing is asserted about speed (that is what the scripts print); only that each mode ran and was compared."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.cli_helpers import REPO


def bench(*args: str) -> str:
    result = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_eval_batching_bench_measures_every_batching_against_one_at_a_time():
    out = bench("bench/eval_batching.py", "--prompts", "4", "--new-tokens", "8,12", "--budget-s", "5")
    rows = re.findall(
        r"new tokens\s+(\d+)\s+(\w+)\s+([\d.]+) tokens/s \((\d+) answers.*ratio to one at a time: ([\d.]+)x", out
    )
    assert {(n, mode) for n, mode, *_ in rows} == {(n, m) for n in ("8", "12") for m in ("one", "padded", "continuous")}
    assert all(float(tps) > 0 and int(answers) >= 1 for _, _, tps, answers, _ in rows)
    assert all(float(ratio) == 1.0 for _, mode, _, _, ratio in rows if mode == "one")


def test_train_step_bench_compares_continuous_batching_with_generate():
    out = bench("bench/train_step.py", "--steps", "1", "--completion-tokens", "8")
    assert "[continuous batching] seconds per step:" in out and "[generate()] seconds per step:" in out
    assert re.search(r"continuous batching runs at [\d.]+x generate\(\)'s speed per step", out)
