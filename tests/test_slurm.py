"""`openrs train --slurm` against a real Slurm: a one-host cluster (Debian's slurm-wlm and munge, CPU only, no
gres; two slurmd daemons on this host) started by `.ci/slurm-up`, the sbatch script openrs writes submitted with
`sbatch --wait` on one node and on two, and a job cancelled with `scancel` resumed by the next `sbatch`. Skips,
with the reason, where Slurm cannot be had (no root, no package)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.cli_helpers import REPO, run_openrs, smoke_train_args

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("Slurm: the one-host cluster needs root (munged, slurmctld and slurmd run as root)")
    folder = tmp_path_factory.mktemp("slurm")
    up = subprocess.run([str(REPO / ".ci" / "slurm-up"), str(folder)], capture_output=True, text=True, timeout=600)
    if up.returncode == 3:
        pytest.skip(f"Slurm: {up.stderr.strip()}")
    assert up.returncode == 0, up.stderr[-2000:]
    env = {**os.environ, "SLURM_CONF": up.stdout.strip().splitlines()[-1]}
    yield env
    subprocess.run([str(REPO / ".ci" / "slurm-up"), "--down", str(folder)], timeout=60)


def slurm_job(tiny_model, data_dir, out, script, *items: str) -> None:
    """Write the sbatch script for the smoke recipe: `key=value` items are --set, the rest plain options."""
    sets = [i for i in items if "=" in i and not i.startswith("--")]
    flags = [i for i in items if i not in sets]
    args = smoke_train_args(tiny_model, out, "save_steps=2", "max_completion_length=16", *sets,
                            dataset=data_dir / "train/deepscaler_sub1209.jsonl")  # fmt: skip
    result = run_openrs(*args, *flags, "--slurm", str(script))
    assert result.returncode == 0, result.stderr[-2000:]


def sbatch(env, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    assert shutil.which("sbatch", path=env.get("PATH")), "sbatch is not on PATH"
    return subprocess.run(["sbatch", *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_the_sbatch_script_trains_under_slurm(slurm, tiny_model, data_dir, tmp_path):
    out, script = tmp_path / "run", tmp_path / "job.sh"
    slurm_job(tiny_model, data_dir, out, script, "max_steps=4")
    text = script.read_text()
    assert "--gres" not in text and "--gpus 0" in text  # a CPU plan asks Slurm for no GPU
    job = sbatch(slurm, "--wait", str(script))
    assert job.returncode == 0, job.stdout + job.stderr
    job_id = job.stdout.split()[-1]
    log = out / f"slurm-{job_id}.out"  # where the script says
    assert "training finished" in log.read_text()
    assert (out / "checkpoint-4" / "trainer_state.json").is_file() and (out / "model.safetensors").is_file()


def test_a_cancelled_job_is_resumed_by_the_next_sbatch(slurm, tiny_model, data_dir, tmp_path):
    out, script = tmp_path / "run", tmp_path / "job.sh"
    slurm_job(tiny_model, data_dir, out, script, "max_steps=400")
    job_id = sbatch(slurm, "--parsable", str(script)).stdout.strip().split(";")[0]
    deadline = time.monotonic() + 300
    while not (out / "checkpoint-2" / "trainer_state.json").is_file():
        assert time.monotonic() < deadline, f"no checkpoint-2: {list(out.glob('slurm-*.out'))}"
        time.sleep(0.2)
    subprocess.run(["scancel", job_id], env=slurm, check=True, timeout=30)
    while subprocess.run(["squeue", "-h", "-j", job_id], env=slurm, capture_output=True, text=True).stdout.strip():
        assert time.monotonic() < deadline, "the cancelled job did not end"
        time.sleep(0.5)
    assert "CANCELLED" in (out / f"slurm-{job_id}.out").read_text()
    assert not (out / "checkpoint-400").exists()

    slurm_job(tiny_model, data_dir, out, script, "max_steps=6")  # the same run, ended sooner
    job = sbatch(slurm, "--wait", str(script))
    assert job.returncode == 0, job.stdout + job.stderr
    log = (out / f"slurm-{job.stdout.split()[-1]}.out").read_text()
    assert "resuming from checkpoint-" in log and "training finished" in log
    assert (out / "checkpoint-6" / "trainer_state.json").is_file()


def test_a_two_node_job_trains_one_run_over_both_nodes(slurm, tiny_model, data_dir, tmp_path):
    """Two slurmd daemons on this host (n1, n2): srun starts one `openrs train --node-rank $SLURM_NODEID` on each,
    and they meet at the main node's address as Slurm knows it (its NodeAddr)."""
    out, script = tmp_path / "run", tmp_path / "job.sh"
    slurm_job(tiny_model, data_dir, out, script, "max_steps=2", "--nodes", "2", "--main-process-ip", "127.0.0.1")
    assert "#SBATCH --nodes=2" in script.read_text() and "srun --ntasks=2" in script.read_text()
    job = sbatch(slurm, "--wait", str(script))
    assert job.returncode == 0, job.stdout + job.stderr
    log = (out / f"slurm-{job.stdout.split()[-1]}.out").read_text()
    assert "world size 2; this is process 0" in log and "world size 2; this is process 1" in log
    found = {p.name for p in (out / "checkpoint-2").glob("rng_state_*.pth")}
    assert found == {"rng_state_0.pth", "rng_state_1.pth"}


def test_an_eval_sweep_runs_as_an_array_job_and_report_reads_it(slurm, tiny_model, data_dir, tmp_path, capsys):
    """`openrs eval --checkpoints all --slurm eval.sh`: one array task per checkpoint, each writing the folder an
    in-process sweep writes and resuming from its own answer cache when the array runs again."""
    import json

    from tests.cli_helpers import invoke

    run = tmp_path / "run"
    trained = run_openrs(*smoke_train_args(tiny_model, run, "max_steps=2", "save_steps=1", "max_completion_length=8"))
    assert trained.returncode == 0, trained.stderr[-2000:]
    script, out = tmp_path / "eval.sh", tmp_path / "ev"
    args = ["eval", "--model", str(run), "--checkpoints", "all", "--backend", "transformers", "--tasks", "aime24",
            "--limit", "2", "--max-new-tokens", "8", "--data-dir", str(data_dir / "bench"),
            "--output-dir", str(out)]  # fmt: skip
    code, stdout, err = invoke(capsys, *args, "--slurm", str(script), "--json")
    assert code == 0, err
    assert json.loads(stdout)["tasks"] == 2 and "#SBATCH --array=0-1" in script.read_text()
    job = sbatch(slurm, "--wait", str(script))
    assert job.returncode == 0, job.stdout + job.stderr
    for step in (1, 2):
        summary = json.loads((out / f"checkpoint-{step}" / "summary.json").read_text())
        assert summary["name"] == f"run/checkpoint-{step}"  # the in-process sweep's name
    code, stdout, err = invoke(capsys, "report", str(out), "--no-quoted", "--no-figures", "--json",
                               "--output-dir", str(tmp_path / "rep"))  # fmt: skip
    assert code == 0, err
    assert sorted(r["name"] for r in json.loads(stdout)) == ["run/checkpoint-1", "run/checkpoint-2"]
    again = sbatch(slurm, "--wait", str(script))
    assert again.returncode == 0
    logs = [p.read_text() for p in out.glob(f"slurm-{again.stdout.split()[-1]}_*.out")]
    assert len(logs) == 2 and all("2 answers needed, 2 cached, 0 to generate" in log for log in logs)


STAND_IN = """#!/bin/bash
# stands in for `openrs train` on a node: records what the node was asked to run
echo "$SLURMD_NODENAME $*" >> "$RECORD"
case " $* " in
  *" --role vllm "*) exec sleep 600 ;;  # the vLLM node serves until stopped
esac
for _ in $(seq 600); do  # a training node waits for the vLLM node, then trains
  grep -q -- "--role vllm" "$RECORD" && exit "${TRAIN_EXIT:-0}"
  sleep 0.1
done
exit 9
"""


def test_the_vllm_node_layout_gives_each_node_its_command(slurm, tmp_path):
    """TRL's "N training nodes + a vLLM node" under a real Slurm: the allocation's last node runs `--role vllm`,
    the others train with `--node-rank`, the main node's and the vLLM node's addresses as Slurm knows them, and
    the job ends with training's exit code, the vLLM step stopped. Both commands need GPUs, which this cluster
    lacks (its GPU lines are dropped): a stand-in `openrs` on PATH records what each node was asked to run; the
    script, Slurm and the placement are real."""
    out, script = tmp_path / "run", tmp_path / "job.sh"
    args = ["train", "--exp", "3", "--gpus", "1", "--layout", "vllm-node", "--output-dir", str(out)]
    result = run_openrs(*args, "--slurm", str(script))
    assert result.returncode == 0, result.stderr[-2000:]
    text = script.read_text()
    assert "#SBATCH --nodes=2" in text and "#SBATCH --gres=gpu:1" in text
    gpu_lines = ("#SBATCH --gres", "#SBATCH --cpus-per-task")  # this cluster has no GPU and 2 CPUs a node
    script.write_text("\n".join(line for line in text.splitlines() if not line.startswith(gpu_lines)) + "\n")
    bin_dir, record = tmp_path / "bin", tmp_path / "record"
    bin_dir.mkdir()
    (bin_dir / "openrs").write_text(STAND_IN)
    (bin_dir / "openrs").chmod(0o755)
    env = {**slurm, "PATH": f"{bin_dir}:{slurm['PATH']}", "RECORD": str(record)}

    started = time.monotonic()
    job = sbatch(env, "--wait", str(script), timeout=300)
    assert job.returncode == 0, job.stdout + job.stderr + (out / f"slurm-{job.stdout.split()[-1]}.out").read_text()
    assert time.monotonic() - started < 300  # the vLLM step was stopped, not waited for
    ran = dict(line.split(" ", 1) for line in record.read_text().splitlines())
    assert set(ran) == {"n1", "n2"}, ran
    assert "--role vllm" in ran["n2"] and "--vllm-host" not in ran["n2"] and "--node-rank" not in ran["n2"]
    assert "--node-rank 0 --main-process-ip 127.0.0.1" in ran["n1"] and "--vllm-host 127.0.0.1" in ran["n1"]
    assert all("--layout vllm-node --nodes 1" in command for command in ran.values())

    record.unlink()
    failed = sbatch({**env, "TRAIN_EXIT": "3"}, "--wait", str(script), timeout=300)
    assert failed.returncode == 3, failed.stdout + failed.stderr  # sbatch --wait exits with the job's code
