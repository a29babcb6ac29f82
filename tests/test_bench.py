"""The GPU checks and benchmarks (`bench/gpu.sh`) rehearsed here on their tiny shapes, so that the one command a
GPU machine runs is known to work. Nothing is asserted about speed (that is what the scripts print); only that
each step ran, and each benchmark measured every mode against its reference."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.cli_helpers import REPO


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu-sh")
    env = {**os.environ, "OPENRS_BENCH_CPU": "1"}
    result = subprocess.run(["bash", "bench/gpu.sh", str(out)], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result.stdout


def test_every_step_of_the_gpu_run_ends_well(rehearsal):
    _, stdout = rehearsal
    ends = re.findall(r"== ([\w-]+): exit (\d+)", stdout)
    assert [name for name, _ in ends] == [
        "doctor",
        "gpu-tests",
        "eval-batching-short",
        "eval-batching-long",
        "train-step",
    ]
    assert all(code == "0" for _, code in ends), ends


def test_eval_batching_measures_every_batching_against_its_reference(rehearsal):
    out, _ = rehearsal
    pattern = r"new tokens\s+(\d+)\s+(\w+)\s+([\d.]+) tokens/s \((\d+) answers.*ratio to ([\w ]+): ([\d.]+)x"
    short = re.findall(pattern, (out / "eval-batching-short.log").read_text())
    long = re.findall(pattern, (out / "eval-batching-long.log").read_text())
    assert [row[1] for row in short] == ["one", "padded", "continuous"] and {r[4] for r in short} == {"one at a time"}
    assert [row[1] for row in long] == ["padded", "continuous"]
    assert all(float(row[2]) > 0 and int(row[3]) >= 1 for row in short + long)


def test_train_step_compares_continuous_batching_with_generate(rehearsal):
    out, _ = rehearsal
    log = (out / "train-step.log").read_text()
    assert "[continuous batching] seconds per step:" in log and "[generate()] seconds per step:" in log
    assert re.search(r"continuous batching runs at [\d.]+x generate\(\)'s speed per step", log)
