"""`openrs data bench`: the benchmarks from the Hub as files `openrs eval --data-dir` reads.

The Hub cannot be reached here: its rows are served from the test fixtures (the one mocked seam)."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import assert_error, invoke


@pytest.fixture
def fake_hub(monkeypatch, data_dir):
    """The Hub's rows for each task, taken from tests/fixtures/bench (AIME 2025 from the AIME 2024 slice)."""
    from openrs_cli.eval import download
    from openrs_cli.rowfiles import read_rows

    files = {"aime24": "aime24", "math_500": "math500", "amc23": "amc23", "minerva": "minerva"}
    files |= {"olympiadbench": "olympiadbench", "aime25": "aime24", "hmmt25": "hmmt25"}
    asked = []

    def rows(task, revision=None):
        asked.append((task.hub_id, task.split, revision))
        return read_rows(data_dir / "bench" / f"{files[task.name]}.jsonl")

    monkeypatch.setattr("openrs_cli.hub.hub_reachable", lambda timeout=3.0: True)
    monkeypatch.setattr(download, "hub_rows", rows)
    return asked


def test_writes_every_benchmark_in_the_layout_eval_reads(capsys, fake_hub, data_dir, tmp_path):
    out = tmp_path / "bench"
    code, stdout, err = invoke(capsys, "data", "bench", "--output-dir", str(out), "--json")
    assert code == 0, err
    written = {row["task"]: row for row in json.loads(stdout)}
    assert list(written) == ["aime24", "math_500", "amc23", "minerva", "olympiadbench", "aime25", "hmmt25"]
    assert ("MathArena/hmmt_feb_2025", "train", None) in fake_hub
    assert ("HuggingFaceH4/MATH-500", "test", None) in fake_hub
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "aime24.jsonl",
            "math500.jsonl",
            "amc23.jsonl",
            "minerva.jsonl",
            "olympiadbench.jsonl",
            "aime25.jsonl",
            "hmmt25.jsonl",
        ]  # fmt: skip
    )
    code, stdout, err = invoke(
        capsys, "eval", "--model", "org/m", "--tasks", "all", "--data-dir", str(out), "--dry-run", "--json"
    )
    assert code == 0, err
    problems = {t["name"]: t["problems"] for t in json.loads(stdout)["tasks"]}
    assert problems["math_500"] == written["math_500"]["rows"] == 80


def test_without_the_hub_it_says_what_to_do_in_one_line(capsys, tmp_path):
    # tests run with HF_HUB_OFFLINE=1: no retries, no traceback, nothing written
    line = assert_error(invoke(capsys, "data", "bench", "--output-dir", str(tmp_path / "b")), 2, "Hub")
    assert "--data-dir" in line
    assert not (tmp_path / "b").exists()


def test_builtin_task_needs_no_download(capsys, fake_hub, tmp_path):
    assert_error(
        invoke(capsys, "data", "bench", "--output-dir", str(tmp_path), "--tasks", "arithmetic"), 2, "ships with openrs"
    )
