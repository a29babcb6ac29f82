"""`openrs data bench`: fetch the benchmarks from the Hub once, as files `openrs eval --data-dir` reads.

For an air-gapped GPU machine: run this where the Hub is reachable, copy the folder across, and pass
it as `--data-dir` (and `openrs data prepare --bench-dir`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openrs_cli.atomic import ensure_writable, write_text
from openrs_cli.errors import BadInputError
from openrs_cli.eval.tasks import TASKS, Task, load_problems
from openrs_cli.progress import track

# the paper's five, then AIME 2025 (openrs's sixth task)
DEFAULT_BENCHMARKS = ("aime24", "math_500", "amc23", "minerva", "olympiadbench", "aime25", "hmmt25")


@dataclass
class Downloaded:
    task: str
    source: str
    path: Path
    rows: int


def hub_rows(task: Task, revision: str | None = None) -> list[dict[str, Any]]:
    """The task's rows from the Hub (the one network call of this module)."""
    from datasets import load_dataset

    try:
        return list(load_dataset(task.hub_id, split=task.split, revision=revision))
    except Exception as exc:  # datasets raises many types for an unreachable or missing repo
        raise BadInputError(
            f"cannot download {task.hub_id} from the Hugging Face Hub ({type(exc).__name__})",
            "run this where the Hub is reachable, then copy the folder and pass it as --data-dir",
        ) from exc


def download(tasks: list[Task], out_dir: Path, revision: str | None = None) -> list[Downloaded]:
    """Write `<name>.jsonl` for each task into `out_dir` (each file whole or not at all)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInputError(f"--output-dir {out_dir} is a file", "give a folder")
    ensure_writable(out_dir, "--output-dir")  # before anything is downloaded
    from openrs_cli.hub import require_hub

    for task in tasks:
        if task.hub_id.startswith("builtin:"):
            raise BadInputError(f"task {task.name} ships with openrs", "it needs no download; drop it from --tasks")
    require_hub("downloading benchmarks", "run this where the Hub is reachable, copy the folder, pass --data-dir")
    done = []
    for task in track(tasks, "downloading benchmarks", total=len(tasks)):
        if task.hub_id.startswith("builtin:"):
            raise BadInputError(f"task {task.name} ships with openrs", "it needs no download; drop it from --tasks")
        rows = hub_rows(task, revision)
        if not rows:
            raise BadInputError(f"{task.hub_id} has no rows in split {task.split}", "check the task's Hub dataset")
        path = out_dir / f"{task.local_names[0]}.jsonl"
        write_text(path, "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows))
        load_problems(task, out_dir)  # the file reads back as eval reads it, or this fails naming the field
        done.append(Downloaded(task.name, task.hub_id, path, len(rows)))
    return done


def tasks_for(spec: str) -> list[Task]:
    from openrs_cli.eval.tasks import parse_tasks

    if spec.strip() == "all":
        return [TASKS[name] for name in DEFAULT_BENCHMARKS]
    return parse_tasks(spec)
