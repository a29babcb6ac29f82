"""The model card: what was trained from what, with which recipe, and how it scored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def _hyper(c: dict[str, Any]) -> str:
    return (
        f"- learning rate {c.get('learning_rate')}, beta {c.get('beta')}, loss {c.get('loss_type')}, "
        f"{c.get('num_generations')} generations per prompt, max {c.get('max_completion_length')} new tokens, "
        f"{c.get('max_steps')} steps"
    )


def build_card(repo_id: str, model_dir: Path, config: dict[str, Any], results: list[TableRow]) -> str:
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
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=["openrs", "grpo", "trl", "math", "reasoning"],
        model_name=repo_id.split("/")[-1],
        eval_results=evals or None,
    )
    body = [f"# {repo_id.split('/')[-1]}", ""]
    body.append(
        "Trained with GRPO ([TRL](https://github.com/huggingface/trl)) by `openrs`"
        + (f", starting from `{base}`" if base else "")
        + (f", on `{dataset}`." if dataset else ".")
    )
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
        "from transformers import pipeline",
        "",
        f'generator = pipeline("text-generation", model="{repo_id}")',
        'print(generator([{"role": "user", "content": "What is 3 + 4?"}], max_new_tokens=512))',
        "```",
        "",
    ]
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body)))
