"""Write an eval's outputs: lighteval-layout results per task, per-sample details, an openrs summary."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openrs_cli import __version__
from openrs_cli.atomic import write_json, write_text
from openrs_cli.eval.tasks import Task
from openrs_cli.stats import TaskStats


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%S.%f")


def lighteval_results(
    task: Task,
    stats: TaskStats,
    model_name: str,
    revision: str | None,
    generation: dict[str, Any],
    started: float,
    ended: float,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """One task's results in the JSON layout lighteval writes (lighteval 0.13's `results_*.json`)."""
    key = f"custom|{task.name}|0"
    scores = {"extractive_match": stats.avg_at_k, "extractive_match_stderr": stats.stderr}
    return {
        "config_general": {
            "lighteval_sha": f"openrs-{__version__}",
            "num_fewshot_seeds": 1,
            "max_samples": None,
            "start_time": started,
            "end_time": ended,
            "total_evaluation_time_secondes": str(ended - started),  # lighteval's spelling; readers expect it
            "model_name": model_name,
            "model_sha": revision or "",
            "generation_parameters": generation,
        },
        "results": {key: scores, "all": dict(scores)},
        "versions": {key: 1},
        "config_tasks": {
            f"custom|{task.name}": {
                "name": task.name,
                "hf_repo": task.hub_id,
                "hf_subset": "default",
                "evaluation_splits": [task.split],
                "metric": [{"metric_name": "extractive_match", "higher_is_better": True}],
                "generation_size": generation.get("max_new_tokens"),
                "num_samples": stats.k,
                "suite": ["custom"],
                "original_num_docs": stats.n_problems,
                "effective_num_docs": stats.n_problems,
                "version": 1,
            }
        },
        "summary_tasks": {key: {"truncated": extra.get("truncated", 0), "non_truncated": stats.n_samples}},
        "openrs": {**stats.to_dict(), **extra},
    }


def model_dir(model_name: str) -> str:
    """The folder a model's results and details go in: its name, an absolute path's slashes made `__`."""
    return model_name.replace("/", "__") if model_name.startswith("/") else model_name


def write_task(out_dir: Path, model_name: str, task: Task, results: dict, details: list[dict], stamp: str) -> Path:
    safe = model_dir(model_name)
    path = write_json(out_dir / "results" / safe / f"results_{task.name}_{stamp}.json", results)
    lines = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in details)
    write_text(out_dir / "details" / safe / stamp / f"details_{task.name}_{stamp}.jsonl", lines)
    return path


def write_summary(out_dir: Path, summary: dict[str, Any]) -> Path:
    return write_json(out_dir / "summary.json", summary)
