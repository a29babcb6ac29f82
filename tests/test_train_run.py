"""A real GRPO run on CPU (TRL, tiny model, fixture data), killed after its first checkpoint and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.cli_helpers import REPO, run_openrs, smoke_train_args


@pytest.fixture(scope="module")
def train_args(tiny_model, data_dir):
    return smoke_train_args(
        tiny_model,
        None,
        "max_completion_length=256",
        "max_steps=6",
        "save_steps=2",
        "reward_funcs=[tests.rewards_for_tests.vowel_share, format]",
        "reward_weights=[1.0, 1.0]",
        dataset=data_dir / "train/deepscaler_sub1209.jsonl",
    )


def history(run_dir, step):
    state = json.loads((run_dir / f"checkpoint-{step}" / "trainer_state.json").read_text())
    return [(h["step"], h["loss"], h["reward"], h["grad_norm"]) for h in state["log_history"] if "loss" in h]


@pytest.fixture(scope="module")
def uninterrupted(train_args, tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "run-a"
    result = run_openrs(*train_args, "--output-dir", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_cpu_run_trains_and_writes_checkpoints_and_config(uninterrupted, tiny_model):
    import torch
    from safetensors.torch import load_file

    assert sorted(p.name for p in uninterrupted.glob("checkpoint-*")) == [
        "checkpoint-2",
        "checkpoint-4",
        "checkpoint-6",
    ]
    steps = history(uninterrupted, 6)
    assert [s[0] for s in steps] == [1, 2, 3, 4, 5, 6]
    assert any(abs(s[3]) > 0 for s in steps)  # real gradients flowed
    before, after = (
        load_file(tiny_model / "model.safetensors"),
        load_file(uninterrupted / "model.safetensors"),
    )
    assert any(not torch.equal(before[k], after[k]) for k in before if k in after)
    config = (uninterrupted / "openrs_config.yaml").read_text()
    assert "use_cpu: true" in config and "vowel_share" in config
    plan = json.loads((uninterrupted / "openrs_plan.json").read_text())  # what `report --costs` reads
    assert (plan["layout"], plan["gpus"], plan["completions_per_step"]) == ("cpu", 0, 4)
    provenance = plan["provenance"]  # what the run was produced with
    assert provenance["software"]["trl"] == "1.16.0" and provenance["devices"]["kind"] == "cpu"
    assert provenance["model"]["kind"] == "local" and len(provenance["model"]["sha256"]) == 64


def test_killed_run_resumes_from_its_checkpoint_to_the_same_trace(train_args, uninterrupted, tmp_path):
    out = tmp_path / "run-b"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    argv = [sys.executable, "-m", "openrs_cli", *train_args, "--output-dir", str(out)]
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out / "checkpoint-2" / "trainer_state.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline, "run ended before its first checkpoint"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(2)  # the training child dies with its parent (PR_SET_PDEATHSIG)
    assert not (out / "checkpoint-6").exists()

    resumed = run_openrs(*train_args, "--output-dir", str(out))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from checkpoint-" in resumed.stderr
    assert history(out, 6) == history(uninterrupted, 6)


def test_resume_never_starts_over(train_args, uninterrupted, tmp_path):
    result = run_openrs(*train_args, "--output-dir", str(uninterrupted), "--resume", "never", "--dry-run", "--json")
    assert json.loads(result.stdout)["config"]["resume_from_checkpoint"] is None
    result = run_openrs(*train_args, "--output-dir", str(uninterrupted), "--dry-run", "--json")
    assert json.loads(result.stdout)["config"]["resume_from_checkpoint"].endswith("checkpoint-6")


def _entry_pids(marker: str) -> list[int]:
    pids = []
    for proc in os.listdir("/proc"):
        if proc.isdigit():
            try:
                with open(f"/proc/{proc}/cmdline", "rb") as fh:
                    cmdline = fh.read().decode(errors="replace")
            except OSError:
                continue
            if "openrs_cli.train.entry" in cmdline and marker in cmdline:
                pids.append(int(proc))
    return pids


def test_ctrl_c_stops_training_and_exits_130(train_args, tmp_path):
    out = tmp_path / "run-int"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    argv = [
        sys.executable,
        "-m",
        "openrs_cli",
        *train_args,
        "--set",
        "max_steps=500",
        "--output-dir",
        str(out),
    ]
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not _entry_pids(str(out)):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err
    time.sleep(1)
    assert _entry_pids(str(out)) == []


def test_a_second_training_run_on_a_folder_in_use_is_refused(capsys, tiny_model, data_dir, tmp_path):
    """Two `openrs train` on one output folder would write the same checkpoints: the second stops at once with
    one line naming the holder, before any process starts."""
    from openrs_cli.atomic import folder_lock
    from tests.cli_helpers import assert_error, invoke

    out = tmp_path / "run"
    dataset = data_dir / "train" / "math_train.jsonl"
    with folder_lock(out, "train"):  # as a first run holds it
        result = invoke(capsys, *smoke_train_args(tiny_model, out, "max_steps=1", dataset=dataset))
    assert_error(result, 2, "is in use by another openrs train", f"pid {os.getpid()}")
    assert not (out / "openrs_config.yaml").exists()  # nothing written, nothing started
