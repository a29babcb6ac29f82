"""The model card: what was trained from what, with which recipe, and how it scored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml

from openrs_cli.locations import looks_like_hub_id
from openrs_cli.report.rows import TASK_LABELS, TableRow, pct
from openrs_cli.secrets import redact
from openrs_cli.stats import Z95


def load_training_config(model_dir: Path) -> dict[str, Any]:
    for folder in (model_dir, model_dir.parent):
        path = folder / "openrs_config.yaml"
        if path.is_file():
            data = yaml.safe_load(path.read_text()) or {}
            # nothing secret goes into a public card, at any depth, whatever a user put in their recipe
            return redact(data)
    return {}


def base_model(model_dir: Path, config: dict[str, Any]) -> str | None:
    if config.get("model_name_or_path"):
        return str(config["model_name_or_path"])
    from openrs_cli.lora import adapter_base, is_adapter

    if is_adapter(model_dir):
        return adapter_base(model_dir)
    cfg = model_dir / "config.json"
    if cfg.is_file():
        return json.loads(cfg.read_text()).get("_name_or_path") or None
    return None


def public(value: Any) -> Any:
    """Local absolute paths replaced by their last part: a public card shows no one's folders.

    >>> public({"model": "/home/me/runs/tiny", "data": ["~/x/train.jsonl", "org/name"], "lr": 1e-6})
    {'model': '<local>/tiny', 'data': ['<local>/train.jsonl', 'org/name'], 'lr': 1e-06}
    """
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(public(v) for v in value)
    if isinstance(value, str) and value.startswith(("/", "~")) and "\n" not in value:
        return f"<local>/{Path(value).name}"
    return value


def _lora(c: dict[str, Any]) -> str:
    return f"rank {c.get('lora_r', '?')}, alpha {c.get('lora_alpha', '?')}"


def _hyper(c: dict[str, Any]) -> str:
    return (
        f"- learning rate {c.get('learning_rate')}, beta {c.get('beta')}, loss {c.get('loss_type')}, "
        f"{c.get('num_generations')} generations per prompt, max {c.get('max_completion_length')} new tokens, "
        f"{c.get('max_steps')} steps"
    )


CardKind = Literal["full", "adapter", "merged"]  # a model, a LoRA adapter, or an adapter merged into its base


def _use(repo_id: str, kind: CardKind, merged_branch: str | None) -> list[str]:
    if kind == "adapter":
        lines = [
            "from peft import AutoPeftModelForCausalLM",
            "",
            f'model = AutoPeftModelForCausalLM.from_pretrained("{repo_id}")  # loads the base model, adds the adapter',
        ]
        if merged_branch:
            lines += [
                "",
                f"# or, from the {merged_branch} branch, the adapter merged into its base (plain transformers):",
                "from transformers import pipeline",
                "",
                f'generator = pipeline("text-generation", model="{repo_id}", revision="{merged_branch}")',
            ]
        return lines
    revision = f', revision="{merged_branch}"' if kind == "merged" and merged_branch else ""
    return [
        "from transformers import pipeline",
        "",
        f'generator = pipeline("text-generation", model="{repo_id}"{revision})',
        'print(generator([{"role": "user", "content": "What is 3 + 4?"}], max_new_tokens=512))',
    ]


def build_card(
    repo_id: str,
    model_dir: Path,
    config: dict[str, Any],
    results: list[TableRow],
    kind: CardKind = "full",
    merged_branch: str | None = None,
) -> str:
    """The card for one upload; `merged_branch` names the branch that holds (or will hold) the merged model."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    config = public(config)
    base = public(base_model(model_dir, config))
    dataset = str(config.get("dataset_name") or "")
    evals = []
    for row in results:
        for task, score in row.scores.items():
            evals.append(
                EvalResult(
                    task_type="text-generation",
                    dataset_type=task,
                    dataset_name=TASK_LABELS.get(task, task),
                    metric_type="accuracy",
                    metric_name=f"avg@{row.samples.get(task, 1)}",
                    metric_value=pct(score),
                )
            )
    data = ModelCardData(
        base_model=base if looks_like_hub_id(base) else None,
        datasets=[dataset] if looks_like_hub_id(dataset) else None,
        library_name="peft" if kind == "adapter" else "transformers",
        pipeline_tag="text-generation",
        tags=["openrs", "grpo", "trl", "math", "reasoning", *(["lora"] if kind != "full" else [])],
        model_name=repo_id.split("/")[-1],
        eval_results=evals or None,
        **({"base_model_relation": "adapter" if kind == "adapter" else "finetune"} if kind != "full" else {}),
    )
    body = [f"# {repo_id.split('/')[-1]}", ""]
    body.append(
        "Trained with GRPO ([TRL](https://github.com/huggingface/trl)) by `openrs`"
        + (f", starting from `{base}`" if base else "")
        + (f", on `{dataset}`." if dataset else ".")
    )
    if kind == "adapter":
        body += ["", f"This is a LoRA adapter{f' for `{base}`' if base else ''} ({_lora(config)})."]
    elif kind == "merged":
        body += ["", f"This is the LoRA adapter ({_lora(config)}) merged into{f' `{base}`' if base else ' its base'}."]
    if config:
        rewards = ", ".join(
            f"{n} ({w})"
            for n, w in zip(config.get("reward_funcs") or [], config.get("reward_weights") or [], strict=False)
        )
        body += [
            "",
            "## Training",
            "",
            f"- recipe: {config.get('recipe_description') or 'custom'}",
            f"- rewards (weight): {rewards or config.get('reward_funcs')}",
            _hyper(config),
            "",
            "<details><summary>Resolved openrs config</summary>",
            "",
            "```yaml",
            yaml.safe_dump(config, sort_keys=False, allow_unicode=True).rstrip(),
            "```",
            "",
            "</details>",
        ]
    if results:
        body += [
            "",
            "## Evaluation",
            "",
            "| run | task | score (%) | 95% interval | samples |",
            "|---|---|---|---|---|",
        ]
        for row in results:
            for task, score in row.scores.items():
                err = row.stderr.get(task)
                ci = (
                    f"{pct(max(0.0, score - Z95 * err))}–{pct(min(1.0, score + Z95 * err))}" if err is not None else "–"
                )
                label, samples = TASK_LABELS.get(task, task), row.samples.get(task, "–")
                body.append(f"| {row.name} | {label} | {pct(score)} | {ci} | {samples} |")
        body += ["", "Scored with lighteval's extractive-match metric using the Open-RS protocol (`openrs eval`)."]
    body += [
        "",
        "## Use",
        "",
        "```python",
        *_use(repo_id, kind, merged_branch),
        "```",
        "",
    ]
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body)))
