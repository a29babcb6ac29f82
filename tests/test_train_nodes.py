"""Two training nodes on loopback, for real: two `openrs train --nodes 2` commands on CPU (one process each,
torch.distributed's gloo backend), trained as one run; one node killed stops the other, and the same two
commands resume from the last checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.cli_helpers import REPO, smoke_train_args

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def node_args(tiny_model, data_dir, out, rank: int, port: int, steps: int) -> list[str]:
    args = smoke_train_args(
        tiny_model,
        out,
        f"max_steps={steps}",
        "save_steps=2",
        "max_completion_length=16",
        "ddp_timeout=60",
        dataset=data_dir / "train/deepscaler_sub1209.jsonl",
    )
    return [*args, "--nodes", "2", "--node-rank", str(rank), "--main-process-ip", "127.0.0.1",
            "--main-process-port", str(port)]  # fmt: skip


def start(args: list[str]) -> subprocess.Popen:
    argv = [sys.executable, "-m", "openrs_cli", *args]
    return subprocess.Popen(argv, cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def both(tiny_model, data_dir, out, port: int, steps: int) -> list[subprocess.Popen]:
    return [start(node_args(tiny_model, data_dir, out, rank, port, steps)) for rank in (0, 1)]


def finish(procs, timeout: float = 600) -> list[tuple[int, str]]:
    return [(p.wait(timeout=timeout), p.communicate()[1]) for p in procs]


@pytest.fixture(scope="module")
def two_nodes(tiny_model, data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("nodes") / "run"
    return out, finish(both(tiny_model, data_dir, out, 29631, 4))


def test_two_nodes_train_one_run(two_nodes, capsys, tiny_model, data_dir):
    from tests.cli_helpers import invoke

    out, results = two_nodes
    for rank, (code, stderr) in enumerate(results):
        assert code == 0, stderr[-3000:]
        assert f"world size 2; this is process {rank}" in stderr
    state = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["global_step"] == 4
    assert {p.name for p in (out / "checkpoint-4").glob("rng_state_*.pth")} == {"rng_state_0.pth", "rng_state_1.pth"}
    plan = json.loads((out / "openrs_plan.json").read_text())  # written by the main node only
    assert (plan["node_rank"], plan["nodes"], plan["training_processes"], plan["completions_per_step"]) == (0, 2, 2, 8)
    code, stdout, err = invoke(capsys, *node_args(tiny_model, data_dir, out, 1, 29631, 4), "--dry-run", "--json")
    assert code == 0, err
    node1 = json.loads(stdout)
    assert node1["completions_per_step"] == 8 and node1["config"]["ddp_timeout"] == 60
    assert node1["processes"][0]["env"]["RANK"] == "1" and node1["processes"][0]["env"]["WORLD_SIZE"] == "2"


def test_a_killed_node_stops_the_other_and_both_resume(tiny_model, data_dir, tmp_path):
    out = tmp_path / "run"
    procs = both(tiny_model, data_dir, out, 29632, 30)
    deadline = time.monotonic() + 300
    while not (out / "checkpoint-2" / "trainer_state.json").exists():
        assert all(p.poll() is None for p in procs) and time.monotonic() < deadline, "ended before checkpoint-2"
        time.sleep(0.05)
    procs[1].send_signal(signal.SIGKILL)  # node 1 goes (its training child dies with it)
    started = time.monotonic()
    code, stderr = procs[0].wait(timeout=120), procs[0].communicate()[1]
    assert code == 1 and time.monotonic() - started < 90  # within the 60 s ddp_timeout and some slack
    last = [line for line in stderr.splitlines() if line.startswith("openrs: error")]
    assert len(last) == 1 and "run the same command on every node to resume" in stderr
    procs[1].communicate()
    assert not (out / "checkpoint-30").exists()

    results = finish(both(tiny_model, data_dir, out, 29633, 6))
    for code, stderr in results:
        assert code == 0, stderr[-3000:]
        assert "resuming from checkpoint-" in stderr
    assert json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())["global_step"] == 6


def test_the_dry_run_says_what_runs_on_each_node(capsys):
    from tests.cli_helpers import invoke

    args = ["train", "--exp", "3", "--gpus", "8", "--nodes", "2", "--node-rank", "1", "--main-process-ip", "10.0.0.1"]
    code, out, err = invoke(capsys, *args, "--dry-run", "--json")
    assert code == 0, err
    nodes = json.loads(out)["node_layout"]
    assert [n["ranks"] for n in nodes] == [[0, 7], [8, 15]] and [n["main"] for n in nodes] == [True, False]
    assert all(n["vllm"] == "inside each rank" and n["reaches"] == "10.0.0.1:29500" for n in nodes)
    assert nodes[0]["gpus"] == list(range(8))
    code, out, err = invoke(capsys, *args, "--dry-run")
    assert "node 0: ranks 0-7 on GPUs 0,1,2,3,4,5,6,7, vLLM inside each rank; main: the others reach it" in out
    assert "node 1 (this node): ranks 8-15" in out
    code, out, err = invoke(capsys, "train", "--recipe", "smoke", "--gpus", "0", "--nodes", "2", "--main-process-ip",
                            "127.0.0.1", "--dry-run")  # fmt: skip
    assert code == 0 and "node 1: ranks 1-1 on the CPU, vLLM none; reaches 127.0.0.1:29500" in out


def test_a_several_node_plan_made_before_the_main_node_is_known(capsys, tmp_path):
    """--dry-run and --slurm need no --main-process-ip (the sbatch script finds the main node); a run does."""
    from tests.cli_helpers import invoke

    args = ["train", "--exp", "3", "--gpus", "8", "--nodes", "2", "--output-dir", str(tmp_path / "run")]
    code, out, err = invoke(capsys, *args, "--dry-run")
    assert code == 0 and "reaches <--main-process-ip>:29500" in out, err
    code, out, err = invoke(capsys, *args, "--slurm", str(tmp_path / "job.sh"))
    assert code == 0 and "--main-process-ip $MAIN_IP" in (tmp_path / "job.sh").read_text(), err
    code, out, err = invoke(capsys, "train", "--recipe", "smoke", "--gpus", "0", "--nodes", "2")
    assert code == 2 and "several nodes need --main-process-ip" in err
