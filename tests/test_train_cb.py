"""`openrs train --generation transformers` on CPU: TRL generates with transformers' continuous batching, for real
(the smoke recipe on the tiny model); its engine is seeded from torch's generator, which the Trainer restores on
resume, so a resumed run retraces an uninterrupted one; the trainer's own per-token log-probs are unchanged
(generation only)."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.cli_helpers import run_openrs, smoke_train_args


def cb_args(tiny_model, data_dir, out, *extra):
    args = smoke_train_args(
        tiny_model,
        out,
        "max_completion_length=16",
        "max_steps=3",
        "save_steps=1",
        "logprobs_temperature=1.0",  # the trainer checks its log-probs against the raw logits, once per run
        "reward_funcs=[tests.rewards_for_tests.vowel_share, format]",
        "reward_weights=[1.0, 1.0]",
        dataset=data_dir / "train/deepscaler_sub1209.jsonl",
    )
    return [*args, "--generation", "transformers", *extra]


def trace(run_dir, step):
    state = json.loads((run_dir / f"checkpoint-{step}" / "trainer_state.json").read_text())
    return [(h["step"], h["loss"], h["reward"], h["grad_norm"]) for h in state["log_history"] if "loss" in h]


@pytest.fixture(scope="module")
def cb_run(tiny_model, data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("cb") / "run"
    result = run_openrs(*cb_args(tiny_model, data_dir, out))
    assert result.returncode == 0, result.stderr[-3000:]
    return out, result.stderr


def test_cpu_training_generates_with_continuous_batching(cb_run):
    out, stderr = cb_run
    config = yaml.safe_load((out / "openrs_config.yaml").read_text())
    assert config["use_transformers_continuous_batching"] is True
    assert config["transformers_continuous_batching_config"] == {"max_memory_percent": 0.5}
    assert "continuous batching" in stderr  # transformers' engine ran (its own log lines) ...
    assert "per-token log-probs checked against the raw logits" in stderr  # ... and the loss's log-probs are ours
    assert [s[0] for s in trace(out, 3)] == [1, 2, 3]
    assert len({s[2] for s in trace(out, 3)}) > 1  # the rewards move: completions differ from step to step


def test_a_resumed_continuous_batching_run_retraces_the_uninterrupted_one(cb_run, tiny_model, data_dir, tmp_path):
    out, _ = cb_run
    resumed = tmp_path / "resumed"
    result = run_openrs(*cb_args(tiny_model, data_dir, resumed, "--resume", str(out / "checkpoint-2")))
    assert result.returncode == 0, result.stderr[-3000:]
    assert trace(resumed, 3) == trace(out, 3)


def test_the_plan_says_which_generation_runs(tiny_model, data_dir, tmp_path):
    result = run_openrs(*cb_args(tiny_model, data_dir, tmp_path / "p"), "--dry-run")
    assert result.returncode == 0 and "transformers' continuous batching" in result.stdout + result.stderr
    plain = run_openrs(*smoke_train_args(tiny_model, tmp_path / "q"), "--dry-run", "--json")
    assert "use_transformers_continuous_batching" not in json.loads(plain.stdout)["config"]  # CPU default: generate()
