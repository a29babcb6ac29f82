"""GPU-hours and cost of a training run, from the run's own files: each logged step's time
(`trainer_state.json`, TRL's `step_time`) and the GPUs it ran on (the plan saved beside the config).
"""

from __future__ import annotations

import json
from pathlib import Path

from openrs_cli.checkpoints import PLAN_FILE, list_checkpoints
from openrs_cli.errors import BadInputError


def run_gpus(train_dir: Path) -> int:
    """GPUs the run held (training ranks and vLLM, every machine: the vllm-node layout's vLLM node too), from the
    saved plan; 1 for a CPU run."""
    path = train_dir / PLAN_FILE
    if not path.is_file():
        raise BadInputError(f"{train_dir} has no {PLAN_FILE}", "costs need a run started by openrs train")
    try:
        plan = json.loads(path.read_text())
        return max(1, int(plan["gpus"]) * int(plan.get("machines", plan.get("nodes", 1))))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInputError(f"cannot read {path}: {type(exc).__name__}", "rerun openrs train to write it") from exc


def step_seconds(history: list[dict]) -> dict[int, float]:
    """Seconds of each step: TRL logs the mean step time over each logging interval."""
    logged = sorted((int(h["step"]), float(h["step_time"])) for h in history if "step_time" in h and "step" in h)
    out: dict[int, float] = {}
    previous = 0
    for step, seconds in logged:
        for s in range(previous + 1, step + 1):
            out[s] = seconds
        previous = step
    return out


def checkpoint_hours(train_dir: Path, history: list[dict]) -> dict[int, float]:
    """GPU-hours spent up to each checkpoint (and the last logged step)."""
    gpus = run_gpus(train_dir)
    seconds = step_seconds(history)
    if not seconds:
        raise BadInputError(f"{train_dir} logged no step times", "costs need TRL's step_time in trainer_state.json")
    steps = sorted({s for s, _ in list_checkpoints(train_dir)} | {max(seconds)})
    return {step: sum(v for s, v in seconds.items() if s <= step) * gpus / 3600 for step in steps}


def apply_run_costs(rows: list, train_dir: Path, price: float | None) -> list[tuple[int, float, float | None]]:
    """GPU-hours (and cost) per checkpoint of a training output, from its own step times and saved plan, set on
    the measured rows of those steps; returns (step, GPU-hours, cost or None) for each checkpoint."""
    from openrs_cli.report.figures import training_history

    hours = checkpoint_hours(train_dir, training_history(train_dir))
    for row in rows:
        if row.source == "measured" and row.step in hours and price is not None:
            row.cost = hours[row.step] * price
    return [(step, h, h * price if price is not None else None) for step, h in hours.items()]
