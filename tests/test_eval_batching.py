"""The transformers backend's continuous batching (transformers' `generate_batch`), for real on CPU: greedy
answers equal one-at-a-time generation's, a killed run resumes to the uninterrupted answers, and answers of one
batching are never served from the cache as another's."""

from __future__ import annotations

import json

import pytest

from openrs_cli.errors import BadInputError
from openrs_cli.eval.backends.base import Sampling
from tests.cli_helpers import invoke


def options(model, data_dir, out, batching, limit=4, samples=1, temperature=0.0, batch_size=None):
    from openrs_cli.eval.plan import EvalOptions

    return EvalOptions(
        model=str(model), tasks="aime24,amc23", backend="transformers", limit=limit, samples=samples,
        sampling=Sampling(temperature=temperature, max_new_tokens=24), data_dir=data_dir / "bench", output_dir=out,
        batching=batching, batch_size=batch_size, gpus="0",
    )  # fmt: skip


def cached(out) -> dict[tuple[str, int, int], tuple]:
    rows = map(json.loads, (out / "cache.jsonl").read_text().splitlines())
    return {(r["task"], r["index"], r["sample"]): (r["text"], r["finish_reason"], r["completion_tokens"]) for r in rows}


def scores(out) -> dict[str, float]:
    summary = json.loads((out / "summary.json").read_text())
    return {task: entry["avg_at_k"] for task, entry in summary["tasks"].items()}


def test_greedy_continuous_batching_gives_one_at_a_times_answers_and_scores(tiny_model, data_dir, tmp_path):
    from openrs_cli.eval import runner
    from openrs_cli.eval.plan import plan_eval

    for mode in ("one", "continuous"):
        runner.run(plan_eval(options(tiny_model, data_dir, tmp_path / mode, mode, batch_size=None)), lambda _: None)
    one, continuous = cached(tmp_path / "one"), cached(tmp_path / "continuous")
    assert len(one) == 8 and one == continuous  # texts, finish reasons and token counts
    assert scores(tmp_path / "one") == scores(tmp_path / "continuous")


def test_a_killed_continuous_eval_resumes_to_the_uninterrupted_answers(monkeypatch, tiny_model, data_dir, tmp_path):
    """Fixed chunks of 4, each seeded by its first request: a cut chunk is generated whole again."""
    from openrs_cli.eval import runner
    from openrs_cli.eval.plan import plan_eval

    def opts(out):
        return options(tiny_model, data_dir, out, "continuous", limit=3, samples=2, temperature=1.0, batch_size=4)

    monkeypatch.setenv("OPENRS_FAULT", "answers:6:interrupt")  # a Ctrl-C half-way through the second chunk
    with pytest.raises(KeyboardInterrupt):
        runner.run(plan_eval(opts(tmp_path / "killed")), lambda _: None)
    monkeypatch.delenv("OPENRS_FAULT")
    assert len(cached(tmp_path / "killed")) == 6
    runner.run(plan_eval(opts(tmp_path / "killed")), lambda _: None)
    runner.run(plan_eval(opts(tmp_path / "fresh")), lambda _: None)
    fresh = cached(tmp_path / "fresh")
    assert len(fresh) == 12 and cached(tmp_path / "killed") == fresh
    assert len({text for text, _, _ in fresh.values()}) > 6  # sampled, not one answer repeated
    ends = {finish for _, finish, _ in fresh.values()}
    assert ends == {"stop", "length"}  # answers that ended and answers cut at the limit, told apart
    assert all(tokens == 24 for _, finish, tokens in fresh.values() if finish == "length")
    assert all(tokens <= 24 for _, finish, tokens in fresh.values() if finish == "stop")


def test_one_batchings_answers_are_not_served_as_anothers(tiny_model, data_dir, tmp_path):
    from openrs_cli.eval import runner
    from openrs_cli.eval.plan import plan_eval

    said: list[str] = []
    runner.run(plan_eval(options(tiny_model, data_dir, tmp_path / "ev", "one", limit=2)), said.append)
    runner.run(plan_eval(options(tiny_model, data_dir, tmp_path / "ev", "continuous", limit=2)), said.append)
    assert any("4 answers needed, 0 cached, 4 to generate" in line for line in said[len(said) // 2 :])


def test_auto_batching_by_device_and_batch_size():
    from openrs_cli.eval.plan import CPU_AUTO, resolve_batching

    assert resolve_batching("auto", "transformers", True, None) == ("continuous", 64)
    assert resolve_batching("auto", "transformers", True, 8) == ("continuous", 8)
    assert resolve_batching("auto", "transformers", False, None)[0] == CPU_AUTO
    assert resolve_batching("auto", "transformers", False, 4) == ("padded", 4)  # --batch-size meant padded before
    assert resolve_batching("padded", "transformers", True, None) == ("padded", 16)
    assert resolve_batching("auto", "vllm", True, None) == ("one", 1)
    with pytest.raises(BadInputError, match="one answer at a time"):
        resolve_batching("one", "transformers", False, 4)
    with pytest.raises(BadInputError, match="for the transformers backend"):
        resolve_batching("continuous", "vllm", True, None)


def test_the_dry_run_shows_the_batching_and_its_limits(capsys, tiny_model, data_dir):
    args = ["eval", "--model", str(tiny_model), "--backend", "transformers", "--tasks", "aime24", "--limit", "2"]
    code, out, err = invoke(capsys, *args, "--batching", "continuous", "--cb-max-batch-tokens", "512", "--dry-run")
    assert code == 0, err
    assert "batching: continuous, 16 answer(s) per chunk" in out and "512 tokens per forward pass" in out
    code, out, err = invoke(capsys, *args, "--batching", "continuous", "--dry-run", "--json")
    plan = json.loads(out)
    assert plan["batching"] == "continuous" and plan["engine"]["max_batch_tokens"] == 2048
    code, _, err = invoke(capsys, *args, "--batching", "continuous", "--cb-memory", "0", "--dry-run")
    assert code == 2 and "--cb-memory" in err


def test_doctor_says_which_engine_each_command_uses_here(capsys):
    code, out, err = invoke(capsys, "doctor", "--json", "--offline")
    assert code == 0, err
    engines = json.loads(out)["engines"]
    assert "one answer at a time" in engines["eval"]  # this CPU machine: the measured default
    assert "generate()" in engines["train"] and "--generation transformers batches continuously" in engines["train"]
