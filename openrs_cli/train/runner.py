"""Carry out a training plan: write its resolved config, an sbatch script, or run its processes.

Prints nothing itself: progress goes through the caller's `say`, failures raise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openrs_cli.errors import RuntimeFailure
from openrs_cli.processes import http_ready, run_together, wait_ready
from openrs_cli.train.layout import TrainPlan
from openrs_cli.train.plan import write_config


def write_slurm(plan: TrainPlan, slurm: Path) -> tuple[Path, Path]:
    """Write the resolved config and an sbatch script that runs it; returns (script, config)."""
    from openrs_cli.sbatch import write_sbatch
    from openrs_cli.train.slurm import sbatch_script

    config_path = write_config(plan)
    gpus_per_node = plan.gpus  # 0: a CPU job (no gres requested)
    text = sbatch_script(plan, config_path, gpus_per_node, Path(plan.config["output_dir"]).name)
    return write_sbatch(slurm, text), config_path


def run_training(plan: TrainPlan, server_timeout: float, say: Callable[[str], None]) -> Path:
    """Run the plan's processes to the end; returns the output folder, raises when training fails."""
    import contextlib

    from openrs_cli.atomic import folder_lock

    log_dir = Path(plan.config["output_dir"])
    if plan.role == "vllm":
        return _serve(plan, server_timeout, say, log_dir)
    # one training run per output folder (the main node holds it; the others share it on a cluster's storage)
    with folder_lock(log_dir, "train") if plan.node_rank == 0 else contextlib.nullcontext():
        return _run(plan, server_timeout, say, log_dir)


VLLM_NODE_HINT = (
    "start it on that machine with the same command and --role vllm, check --vllm-host and --vllm-port, or raise "
    "--server-timeout"
)


def _serve(plan: TrainPlan, server_timeout: float, say: Callable[[str], None], log_dir: Path) -> Path:
    """The vLLM node: serve generation to the training nodes until stopped; a server that exits is a failure."""
    for note in plan.notes:
        say(note)
    port = plan.config["vllm_server_port"]
    run_together(plan.processes, log_dir, http_ready(f"http://127.0.0.1:{port}/health"), server_timeout, say=say)
    return log_dir  # not reached: run_together returns only when a trainer ends, and this node runs none


def _run(plan: TrainPlan, server_timeout: float, say: Callable[[str], None], log_dir: Path) -> Path:
    for note in plan.notes:
        say(note)
    config_path = write_config(plan)
    say(f"resolved config written to {config_path}")
    ready = None
    if plan.layout == "server":
        port = plan.config.get("vllm_server_port", 8000)
        ready = http_ready(f"http://127.0.0.1:{port}/health")
    if plan.layout == "vllm-node":  # the server is another machine's: wait for it, with a line that says where
        address = f"{plan.config['vllm_server_host']}:{plan.config['vllm_server_port']}"
        say(f"waiting for the vLLM node at {address}")
        wait_ready(
            [], http_ready(f"http://{address}/health"), server_timeout, VLLM_NODE_HINT, f"the vLLM node {address}"
        )
        say(f"the vLLM node at {address} is ready")
    try:
        code = run_together(plan.processes, log_dir, ready, server_timeout, say=say)
    except RuntimeFailure as exc:
        if plan.nodes > 1:  # the usual cause: another node stopped, and the collectives failed here
            exc.hint = f"{exc.hint}; if a node stopped, run the same command on every node to resume"
        raise
    if code:
        raise RuntimeFailure(f"training exited with code {code}", f"see the log above; outputs in {log_dir}")
    say(f"training finished; outputs in {log_dir}")
    return log_dir
