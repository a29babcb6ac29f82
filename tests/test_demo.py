"""`openrs demo`: the whole pipeline on CPU with SmolLM2-135M-Instruct and no Hub."""

from __future__ import annotations

import json

from tests.cli_helpers import run_openrs


def test_demo_runs_the_pipeline_end_to_end(smollm2_model, tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "smollm2-135m-instruct").symlink_to(smollm2_model)  # the session's converted SmolLM2, not a second copy
    result = run_openrs(
        "demo",
        "--output-dir",
        str(out),
        "--steps",
        "1",
        "--heldout",
        "3",
        "--max-new-tokens",
        "24",
        "--train-tokens",
        "16",
        "--json",
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert 0 <= summary["before"] <= 1 and 0 <= summary["after"] <= 1
    assert (out / "data" / "train.parquet").is_file() and (out / "data" / "README.md").is_file()
    assert len((out / "heldout" / "arithmetic.jsonl").read_text().splitlines()) == 3
    assert (out / "train" / "checkpoint-1" / "trainer_state.json").is_file()
    for stage in ("eval-before", "eval-after"):
        assert json.loads((out / stage / "summary.json").read_text())["tasks"]["arithmetic"]["n_problems"] == 3
    table = (out / "report" / "table.md").read_text()
    assert "before (SmolLM2-135M-Instruct)" in table and "after 1 GRPO steps" in table
    for figure in ("benchmarks.png", "training.png"):
        assert (out / "report" / figure).stat().st_size > 5_000
    for stage in ("[1/6]", "[6/6]"):
        assert stage in result.stderr
