"""Training overhead: the smoke recipe through `openrs train` vs the same GRPOTrainer setup in a plain script.

    python bench/train_overhead.py [--steps 8]

Both run on CPU with a tiny random Qwen2 model on openrs's arithmetic problems, in child processes,
from the same resolved config. Prints seconds per step (TRL's own step_time) and
whole-process wall time for each, and the openrs/plain ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for the tests' smoke arguments
from tests.cli_helpers import smoke_train_args  # noqa: E402

PLAIN = r"""
import dataclasses, json, sys
import yaml
from datasets import load_dataset
from trl import GRPOConfig, GRPOTrainer
from openrs_cli.rewards.registry import build_rewards
from openrs_cli.locations import builtin_path

config = yaml.safe_load(open(sys.argv[1]))
fields = {f.name for f in dataclasses.fields(GRPOConfig)}
args = GRPOConfig(**{k: v for k, v in config.items() if k in fields and k != "resume_from_checkpoint"},
                  model_init_kwargs={"dtype": "float32", "attn_implementation": "sdpa"})
args.output_dir = sys.argv[2]
rows = load_dataset("json", data_files=str(builtin_path("arithmetic")), split="train")
system = config["system_prompt"]
data = rows.map(lambda r: {"prompt": [{"role": "system", "content": system}, {"role": "user", "content": r["problem"]}],
                           "solution": r["solution"]}, remove_columns=rows.column_names)
trainer = GRPOTrainer(model=config["model_name_or_path"], reward_funcs=build_rewards(config["reward_funcs"], config),
                      args=args, train_dataset=data)
trainer.train()
trainer.save_model(args.output_dir)
"""


def seconds_per_step(out: Path) -> float:
    """Mean of TRL's own per-step timings, from the last checkpoint's trainer state."""
    states = sorted(out.glob("checkpoint-*/trainer_state.json"))
    times = [h["step_time"] for h in json.loads(states[-1].read_text())["log_history"] if "step_time" in h]
    return sum(times) / len(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        from openrs_cli.localmodels import build_tiny_model

        model = build_tiny_model(tmp / "tiny")
        sets = [f"max_steps={args.steps}", f"save_steps={args.steps}", "max_completion_length=64"]
        argv = [sys.executable, "-m", "openrs_cli", *smoke_train_args(model, tmp / "openrs", *sets)]
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        openrs_wall = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", PLAIN, str(tmp / "openrs" / "openrs_config.yaml"), str(tmp / "plain")],
            env=env,
            check=True,
            capture_output=True,
        )
        plain_wall = time.perf_counter() - start
        openrs_step, plain_step = seconds_per_step(tmp / "openrs"), seconds_per_step(tmp / "plain")
    print(f"steps: {args.steps} (tiny Qwen2, CPU, smoke recipe, 64-token completions)")
    print(f"openrs train: {openrs_step:.3f} s/step, {openrs_wall:.1f} s wall")
    print(f"plain TRL:    {plain_step:.3f} s/step, {plain_wall:.1f} s wall")
    print(f"ratio openrs/plain: {openrs_step / plain_step:.2f}x per step, {openrs_wall / plain_wall:.2f}x wall")


if __name__ == "__main__":
    main()
