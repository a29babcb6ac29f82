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
    assert (out / "train" / "trainer_state.json").is_file()  # the training log stays...
    assert not list((out / "train").glob("checkpoint-*"))  # ...the optimizer state (gigabytes at 135M) goes
    assert set(summary["training_rewards"]) == {"accuracy", "boxed", "terminated"}
    before_after = summary["before_after"]
    assert before_after["before"]["of"] == 3 and before_after["after"]["of"] == 3
    low, high = before_after["before"]["ci95"]
    assert 0 <= low < high <= 100 and high > 0  # Wilson: honest even at 0 of 3
    assert 0 <= before_after["p_value"] <= 1 and isinstance(before_after["distinguishable"], bool)
    for stage in ("eval-before", "eval-after"):
        assert json.loads((out / stage / "summary.json").read_text())["tasks"]["arithmetic"]["n_problems"] == 3
    table = (out / "report" / "table.md").read_text()
    assert "before (SmolLM2-135M-Instruct)" in table and "after 1 GRPO steps" in table
    for figure in ("benchmarks.png", "training.png"):
        assert (out / "report" / figure).stat().st_size > 5_000
    from openrs_cli.cli.demo import summary_lines

    text = summary_lines(summary)
    assert "boxed" in text and "95% CI" in text and "noise" in text
    for stage in ("[1/6]", "[6/6]"):
        assert stage in result.stderr
    # the eval engine: vLLM's CPU build when installed (as in CI), else transformers
    from openrs_cli.demo import eval_backend

    assert json.loads((out / "eval-before" / "summary.json").read_text())["backend"] == eval_backend("auto")
    # the terminal shows openrs's step lines; TRL's per-step dicts and library output stay in the log it names
    log = out / "train" / "train.log"
    assert f"training log: {log}" in result.stderr and "step 1/1, reward" in result.stderr
    assert "'loss'" in log.read_text() and "'loss'" not in result.stderr
