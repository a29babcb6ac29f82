"""Seconds per GRPO step through `openrs train` itself: generation vs training share, tokens/s, peak GPU memory.

    python bench/train_step.py                                   # CPU: a tiny Qwen2, so it stays testable
    python bench/train_step.py --shape r1-1.5b --completion-tokens 512 --steps 3 --generation transformers
    python bench/train_step.py --batching both      # transformers generation: continuous batching vs generate()

`--shape r1-1.5b` builds a randomly initialised model with DeepSeek-R1-Distill-Qwen-1.5B's shape (no download)
and trains it with the exp 3 recipe (the paper's 72 completions per step, its rewards and maths), completions
cut to `--completion-tokens`. It prints what it measured and on which device. The reference it is compared
with is the same recipe's generation time: the ratio says how much of a step is generation. With
`--generation transformers`, `--batching both` (the default) runs the recipe twice, TRL generating with
transformers' continuous batching and with plain `generate()`, and prints the ratio of their step times.
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

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for the tests' helpers
from tests.cli_helpers import smoke_train_args  # noqa: E402

# DeepSeek-R1-Distill-Qwen-1.5B's architecture (Qwen2), as its config.json gives it
R1_1_5B = dict(
    hidden_size=1536,
    intermediate_size=8960,
    num_hidden_layers=28,
    num_attention_heads=12,
    num_key_value_heads=2,
    max_position_embeddings=131072,
    rope_theta=10000.0,
    vocab_size=151936,
)


def build_model(shape: str, out: Path) -> Path:
    from openrs_cli.localmodels import build_tiny_model

    if shape == "tiny":
        return build_tiny_model(out)
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tiny = build_tiny_model(out / "tokenizer-source")  # a tokenizer: ids above its vocabulary are never sampled
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    config = Qwen2Config(**R1_1_5B, tie_word_embeddings=False, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(out / "model")
    tokenizer.save_pretrained(out / "model")
    return out / "model"


def device() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            return f"{props.name} ({props.total_memory / 2**30:.0f} GiB), torch {torch.__version__}"
    except ImportError:
        pass
    return f"CPU ({os.cpu_count()} cores)"


def run_once(args, model: Path, run: Path, continuous: bool, env: dict) -> dict:
    """One `openrs train` run; its step time, generation share, tokens and peak memory."""
    sets = [
        f"max_steps={args.steps}",
        f"save_steps={args.steps}",
        f"max_completion_length={args.completion_tokens}",
        f"use_transformers_continuous_batching={str(continuous).lower()}",
    ]
    if args.shape == "tiny":
        argv = smoke_train_args(model, run, *sets)
        gpus = "0" if args.gpus == "auto" else args.gpus
    else:
        argv = ["train", "--exp", "3", "--model", str(model), "--output-dir", str(run)]
        argv += [x for s in [*sets, "cosine_max_len=1000"] for x in ("--set", s)]
        gpus = args.gpus
    argv += ["--gpus", gpus, "--generation", args.generation, "--dataset", "builtin:arithmetic"]
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "openrs_cli", *argv], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    state = json.loads(sorted(run.rglob("trainer_state.json"))[-1].read_text())
    resolved = yaml.safe_load((run / "openrs_config.yaml").read_text())
    logs = [h for h in state["log_history"] if "step_time" in h]
    step = sum(h["step_time"] for h in logs) / len(logs)
    per_call = sum(h.get("openrs/generation_seconds", 0.0) for h in logs) / len(logs)
    accumulation = int(resolved["gradient_accumulation_steps"])
    calls = accumulation // int(resolved.get("steps_per_generation") or accumulation)  # generations per step
    return {
        "continuous": bool(resolved.get("use_transformers_continuous_batching")),
        "step": step,
        "wall": wall,
        "generation": min(step, per_call * calls),
        "tokens": logs[-1].get("num_tokens", 0),
        "global_step": state["global_step"],
        "steps_logged": len(logs),
        "memory": max((h.get("openrs/peak_memory_gib", 0.0) for h in logs), default=0.0),
    }


def report(args, m: dict) -> None:
    label = "continuous batching" if m["continuous"] else "generate()" if args.generation == "transformers" else "vLLM"
    step, generation = m["step"], m["generation"]
    print(f"[{label}] seconds per step: {step:.2f} (whole process {m['wall']:.1f} s)")
    print(f"[{label}] generation: {generation:.2f} s per step ({generation / step:.0%} of a step), training "
          f"{step - generation:.2f} s")  # fmt: skip
    if m["tokens"]:
        rate = m["tokens"] / max(1e-9, step * m["steps_logged"])
        print(f"[{label}] tokens processed by step {m['global_step']}: {m['tokens']:.0f} ({rate:.0f} tokens/s)")
    print(
        f"[{label}] peak GPU memory: {m['memory']:.1f} GiB" if m["memory"] else f"[{label}] peak GPU memory: - (no GPU)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=["tiny", "r1-1.5b"], default="tiny")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--completion-tokens", type=int, default=32)
    parser.add_argument("--generation", choices=["transformers", "vllm"], default="transformers")
    parser.add_argument("--batching", choices=["both", "continuous", "plain"], default="both")
    parser.add_argument("--gpus", default="auto")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    modes = [True, False] if args.batching == "both" else [args.batching == "continuous"]
    if args.generation == "vllm":
        modes = [False]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        model = build_model(args.shape, tmp / "m")
        runs = [run_once(args, model, tmp / f"run-{i}", continuous, env) for i, continuous in enumerate(modes)]
    print(f"device: {device()}; shape {args.shape}, {args.steps} steps, {args.completion_tokens}-token completions")
    for m in runs:
        report(args, m)
    if len(runs) == 2:
        print(f"continuous batching runs at {runs[1]['step'] / runs[0]['step']:.2f}x generate()'s speed per step")


if __name__ == "__main__":
    main()
