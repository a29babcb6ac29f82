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


VLLM_NODE_ARGS = ["train", "--exp", "3", "--gpus", "8", "--layout", "vllm-node", "--nodes", "2"]


def test_the_dry_run_says_what_runs_where_with_a_vllm_node(capsys):
    """TRL's "N training nodes + a vLLM node": every GPU of the training nodes trains and generation goes to the
    vLLM node's address; the vLLM node (`--role vllm`) runs only the server, on all its GPUs, on every interface."""
    from tests.cli_helpers import invoke

    train = [*VLLM_NODE_ARGS, "--node-rank", "1", "--main-process-ip", "10.0.0.1", "--vllm-host", "10.0.0.9"]
    code, out, err = invoke(capsys, *train, "--dry-run", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["layout"], data["role"], data["training_processes"], data["vllm_gpus"]) == (
        "vllm-node",
        "train",
        16,
        [],
    )
    assert [p["role"] for p in data["processes"]] == ["train"]  # no server on a training node
    config = data["config"]
    assert (config["vllm_mode"], config["vllm_server_host"], config["vllm_server_port"]) == ("server", "10.0.0.9", 8000)
    *trainers, vllm = data["node_layout"]
    assert [n["ranks"] for n in trainers] == [[0, 7], [8, 15]] and all(n["gpus"] == list(range(8)) for n in trainers)
    assert all(n["vllm"] == "at the vLLM node 10.0.0.9:8000" and n["reaches"] == "10.0.0.1:29500" for n in trainers)
    assert vllm["node"] == "vllm" and vllm["gpus"] == list(range(8)) and "0.0.0.0:8000" in vllm["vllm"]
    code, out, err = invoke(capsys, *train, "--dry-run")
    assert "node 1 (this node): ranks 8-15 on GPUs 0,1,2,3,4,5,6,7, vLLM at the vLLM node 10.0.0.9:8000" in out
    assert "vLLM node: a server (data parallel 8) listening on 0.0.0.0:8000 on GPUs 0,1,2,3,4,5,6,7" in out

    code, out, err = invoke(capsys, *VLLM_NODE_ARGS, "--role", "vllm", "--dry-run", "--json")
    assert code == 0, err
    data = json.loads(out)
    (server,) = data["processes"]
    assert server["role"] == "vllm" and server["env"]["CUDA_VISIBLE_DEVICES"] == "0,1,2,3,4,5,6,7"
    argv = server["argv"]
    assert argv[argv.index("--host") + 1] == "0.0.0.0" and argv[argv.index("--data-parallel-size") + 1] == "8"
    code, out, err = invoke(capsys, *VLLM_NODE_ARGS, "--role", "vllm", "--dry-run")
    assert "vLLM node (this node): a server" in out and "(this node)" not in out.split("vLLM node (this node)")[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--recipe", "smoke", "--layout", "vllm-node"], "training nodes need --vllm-host"),
        (["--recipe", "smoke", "--vllm-host", "10.0.0.9"], "layout 'vllm-node' needs GPUs"),
        ([*VLLM_NODE_ARGS[1:], "--layout", "server", "--vllm-host", "h"], "belong to the vllm-node layout"),
        ([*VLLM_NODE_ARGS[1:], "--role", "vllm", "--node-rank", "1"], "--role vllm runs no training rank"),
        ([*VLLM_NODE_ARGS[1:], "--role", "vllm", "--vllm-host", "h"], "--vllm-host is for the training nodes"),
        ([*VLLM_NODE_ARGS[1:], "--vllm-host", "http://h:8000"], "not a host name or IPv4 address"),
        ([*VLLM_NODE_ARGS[1:], "--role", "vllm", "--set", "vllm_tensor_parallel_size=3"], "does not divide"),
    ],
)
def test_vllm_node_misuse_is_one_line(capsys, args, says):
    from tests.cli_helpers import invoke

    code, out, err = invoke(capsys, "train", *args, *(["--dry-run"] if "--gpus" in args else []))
    assert code == 2 and says in err and "Traceback" not in err, err


def vllm_node_plan(tmp_path, port: int, role: str):
    """A planned vllm-node run for one GPU on this host (the plan is pure: no GPU is touched)."""
    from openrs_cli.train.layout import plan_layout
    from openrs_cli.train.recipes import load_recipe, with_openrs_defaults

    config = with_openrs_defaults(load_recipe("exp3"))
    config["output_dir"] = str(tmp_path / "run")
    host = "127.0.0.1" if role == "train" else None
    return plan_layout(config, [0], tmp_path / "run" / "c.yaml", "vllm-node", vllm_port=port, vllm_host=host, role=role)


def test_a_training_node_waits_for_the_vllm_node_and_says_where(tmp_path):
    from openrs_cli.errors import RuntimeFailure
    from openrs_cli.train.runner import run_training
    from tests.test_processes import free_port

    port = free_port()  # nothing listens there: the vLLM node was never started
    said: list[str] = []
    with pytest.raises(RuntimeFailure) as info:
        run_training(vllm_node_plan(tmp_path, port, "train"), 1, said.append)
    line = info.value.one_line()
    assert f"the vLLM node 127.0.0.1:{port} not ready after 1 s" in line and "--role vllm" in line
    assert f"waiting for the vLLM node at 127.0.0.1:{port}" in said
    assert not (tmp_path / "run" / "checkpoint-1").exists()


def test_the_vllm_node_serves_until_its_server_stops(tmp_path):
    """The vLLM node runs its server alone: ready, then serving; the server's exit is a one-line failure. vLLM's
    GPU server cannot start here: a small HTTP server stands in for it in the planned process."""
    from openrs_cli.errors import RuntimeFailure
    from openrs_cli.train.runner import run_training
    from tests.test_processes import PY, SERVER, free_port

    port = free_port()
    plan = vllm_node_plan(tmp_path, port, "vllm")
    (server,) = plan.processes
    assert server.argv[server.argv.index("--host") + 1] == "0.0.0.0"
    serve = SERVER.replace(".serve_forever()", ".serve_forever")  # serve in a thread for 3 s, then exit
    serves_a_while = serve.replace(
        "http.server.HTTPServer(", "threading.Thread(daemon=True, target=http.server.HTTPServer("
    )
    serves_a_while = f"import threading, time\n{serves_a_while}).start(); time.sleep(3)"
    server.argv = [PY, "-c", serves_a_while, str(port)]
    said: list[str] = []
    with pytest.raises(RuntimeFailure) as info:
        run_training(plan, 30, said.append)
    assert str(info.value) == "vllm server exited with code 0"
    assert "generation server is ready" in said and any("this is the vLLM node" in s for s in said)
    assert not (tmp_path / "run" / "c.yaml").exists()  # the vLLM node writes no training config


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
