"""`openrs push`: a CPU-trained model to the Hub, with only huggingface_hub's network calls patched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import assert_error, invoke, run_openrs, smoke_train_args

SECRET = "hf_" + "Zx9" * 12


@pytest.fixture(scope="module")
def trained(tiny_model, data_dir, tmp_path_factory):
    """A real CPU GRPO run (2 steps, a checkpoint each) evaluated into a folder inside it."""
    out = tmp_path_factory.mktemp("push") / "run"
    result = run_openrs(*smoke_train_args(tiny_model, out, "max_steps=2", "save_steps=1", "max_completion_length=16"))
    assert result.returncode == 0, result.stderr[-2000:]
    result = run_openrs(
        "eval",
        "--model",
        str(out),
        "--backend",
        "transformers",
        "--tasks",
        "aime24,amc23",
        "--limit",
        "2",
        "--max-new-tokens",
        "8",
        "--data-dir",
        str(data_dir / "bench"),
        "--output-dir",
        str(out / "eval"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return out


def test_dry_run_lists_files_and_prints_a_card_with_results(capsys, trained, hub):
    code, out, err = invoke(capsys, "push", "--model-dir", str(trained), "--repo-id", "me/tiny-grpo", "--dry-run")
    assert code == 0, err
    assert hub == []  # nothing uploaded
    assert "model.safetensors" in out and "config.json" in out and "openrs_config.yaml" in out
    assert "checkpoint-1" not in out and "optimizer.pt" not in out and "cache.jsonl" not in out
    assert "model-index:" in out and "AIME24" in out and "AMC23" in out
    assert "name: avg@1" in out and "| aime24 |" not in out  # labelled tasks in the table
    assert "rewards (weight): accuracy (1.0), format (0.5), reasoning_steps (0.2)" in out


def test_push_uploads_the_model_and_card_in_one_commit(capsys, trained, hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    code, out, err = invoke(capsys, "push", "--model-dir", str(trained), "--repo-id", "me/tiny-grpo", "--private")
    assert code == 0, err
    kinds = [c[0] for c in hub]
    assert kinds == ["repo", "commit"]
    assert hub[0][2]["private"] is True
    commit = hub[1][2]
    assert commit["revision"] == "main" and "README.md" in commit["files"] and "model.safetensors" in commit["files"]
    card = next(op for op in commit["ops"] if op.path_in_repo == "README.md").path_or_fileobj.decode()
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["model-index"][0]["results"][0]["metrics"][0]["type"] == "accuracy"
    assert SECRET not in out + err + card


def test_checkpoints_go_to_their_own_branches(capsys, trained, hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    code, out, err = invoke(
        capsys, "push", "--model-dir", str(trained), "--repo-id", "me/tiny-grpo", "--checkpoints", "all", "--json"
    )
    assert code == 0, err
    branches = [c[2]["branch"] for c in hub if c[0] == "branch"]
    commits = [c[2] for c in hub if c[0] == "commit"]
    assert branches == ["checkpoint-1", "checkpoint-2"]
    assert [c["revision"] for c in commits] == branches
    assert all("optimizer.pt" not in c["files"] and "model.safetensors" in c["files"] for c in commits)
    assert json.loads(out)["uploads"][0]["revision"] == "checkpoint-1"


def test_missing_token_is_a_one_line_error(capsys, trained, hub, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # no stored login either
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
    assert_error(invoke(capsys, "push", "--model-dir", str(trained), "--repo-id", "me/x"), 2, "hf auth login")
    assert hub == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--repo-id", "not a repo"], "user/name"),
        (["--repo-id", "me/x", "--checkpoints", "7"], "no checkpoint-7"),
    ],
)
def test_bad_push_input(capsys, trained, args, needle):
    assert_error(invoke(capsys, "push", "--model-dir", str(trained), *args, "--dry-run"), 2, needle)


def test_missing_model_dir(capsys, tmp_path):
    assert_error(
        invoke(capsys, "push", "--model-dir", str(tmp_path / "nope"), "--repo-id", "me/x", "--dry-run"),
        2,
        "does not exist",
    )


def test_secrets_nested_in_a_config_reach_no_card_no_upload_and_no_output(capsys, trained, hub, monkeypatch, tmp_path):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(trained, model)
    config = yaml.safe_load((model / "openrs_config.yaml").read_text())
    config["model_init_kwargs"] = {"token": SECRET, "revision": "main"}
    config["wandb"] = {"password": "hunter2-hunter2", "notes": f"Bearer {SECRET}"}
    config["hub_token"] = SECRET
    (model / "openrs_config.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("HF_TOKEN", SECRET)
    code, dry, err = invoke(capsys, "push", "--model-dir", str(model), "--repo-id", "me/tiny", "--dry-run", "--json")
    assert code == 0, err
    code, out, err = invoke(capsys, "push", "--model-dir", str(model), "--repo-id", "me/tiny")
    assert code == 0, err
    uploaded = b"".join(
        op.path_or_fileobj if isinstance(op.path_or_fileobj, bytes) else Path(op.path_or_fileobj).read_bytes()
        for op in hub[-1][2]["ops"]
        if op.path_in_repo.endswith((".md", ".yaml", ".json"))
    )
    for secret in (SECRET, "hunter2-hunter2"):
        assert secret not in dry + out + err and secret.encode() not in uploaded
    assert b"<redacted>" in uploaded  # the config went up, redacted


def test_the_resolved_training_config_never_holds_a_secret(capsys, tmp_path):
    args = ["train", "--recipe", "smoke", "--gpus", "0", "--output-dir", str(tmp_path), "--dry-run", "--json"]
    sets = ["--set", f"hub_token={SECRET}", "--set", f"model_init_kwargs={{token: {SECRET}}}"]
    code, out, err = invoke(capsys, *args, *sets)
    assert code == 0, err
    assert SECRET not in out + err
    from openrs_cli.train.plan import TrainOptions, plan_training, write_config

    plan = plan_training(TrainOptions(recipe="smoke", gpus="0", output_dir=tmp_path, sets=sets[1::2]))
    written = write_config(plan).read_text()
    assert SECRET not in written and "hub_token" not in written
