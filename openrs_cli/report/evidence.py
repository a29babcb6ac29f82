"""Per-problem evidence of an eval, from whatever files it left: openrs outputs (summary + details),
lighteval `details/` parquet files, or bare lighteval `results_*.json` (accuracy and standard error only).

`load_side(path)` returns one `Side`: per task either the 0/1 scores of every problem's samples (keyed by
the problem, so two sides can be paired) or only the accuracy and its standard error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from openrs_cli.errors import BadInputError
from openrs_cli.eval.details import (
    by_model,
    details_files,
    newest_by_task,
    read_details,
    run_name,
    run_provenance,
    task_name,
)
from openrs_cli.report.collect import headline_metric


@dataclass
class TaskEvidence:
    accuracy: float  # fraction
    stderr: float | None
    problems: dict[str, list[float]] = field(default_factory=dict)  # problem key -> 0/1 score per sample

    @property
    def paired(self) -> bool:
        return bool(self.problems)


@dataclass
class Side:
    name: str
    tasks: dict[str, TaskEvidence]
    source: Path | None = None
    provenance: dict | None = None  # software, devices, model identity, engine, sampling (openrs results)


def load_side(path: Path) -> Side:
    """One side of a comparison: an eval folder (details preferred), a results file or a summary.json."""
    if not path.exists():
        raise BadInputError(f"{path} does not exist", "give an eval output folder or a result file")
    if path.is_file():
        return _from_results([path], path.stem, path)
    details = details_files(path)
    name = run_name(path)
    models = sorted(m or "?" for m in by_model(details))
    if len(models) > 1:
        shown = ", ".join(models[:4]) + (", ..." if len(models) > 4 else "")
        raise BadInputError(
            f"{path} holds the answers of {len(models)} models ({shown})",
            f"compare one model at a time: give its own folder, e.g. {path / 'details' / models[0]}",
        )
    if details:
        tasks = {}
        for task, file in newest_by_task(details).items():
            problems = read_details(file)
            flat = [s for scores in problems.values() for s in scores]
            means = [sum(v) / len(v) for v in problems.values()]
            tasks[task] = TaskEvidence(sum(means) / len(means), None, problems) if flat else None
        return Side(name, {t: e for t, e in tasks.items() if e is not None}, path, run_provenance(path))
    results = [p for p in path.rglob("results_*.json") if p.is_file()]
    if not results:
        raise BadInputError(f"{path} holds no details_* or results_*.json files", "give an eval output folder")
    return _from_results(results, name, path)


def _from_results(files: list[Path], name: str, source: Path) -> Side:
    """Accuracy and standard error per task from lighteval/openrs results files (the newest per task)."""
    tasks: dict[str, TaskEvidence] = {}
    for path in sorted(files, key=lambda p: p.name):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            results = data["results"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BadInputError(f"cannot read results file {path}: {type(exc).__name__}", "is it lighteval's?") from exc
        if path.name == "summary.json":
            raise BadInputError(f"{path} is a summary: give its folder", "its details hold the per-problem answers")
        for key, metrics in results.items():
            if key == "all" or not isinstance(metrics, dict):
                continue
            score, stderr = headline_metric(metrics)
            if score is not None:
                tasks[task_name(key)] = TaskEvidence(score, stderr)
    if not tasks:
        raise BadInputError(f"no task results in {files[0]}", "give lighteval or openrs results files")
    return Side(name, tasks, source, run_provenance(source if source.is_dir() else files[-1]))


def resolve_side(name: str, roots: list[Path], warn=lambda message: None) -> Path:
    """A path as given, else the eval folder under `roots` whose summary names this model (unreadable summaries
    are skipped with a warning)."""
    path = Path(name).expanduser()
    if path.exists():
        return path
    for root in roots:
        for summary in sorted(root.rglob("summary.json")) if root.is_dir() else []:
            try:
                data = json.loads(summary.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
                warn(f"skipped {summary}: not valid JSON ({type(exc).__name__})")
                continue
            names = [data.get(k) for k in ("name", "model")] if isinstance(data, dict) else [0]
            if not all(n is None or isinstance(n, str) for n in names):
                warn(f"skipped {summary}: not a summary with a text name")
                continue
            if name in names:
                return summary.parent
    where = ", ".join(str(r) for r in roots)
    raise BadInputError(f"'{name}' is neither a path nor a model evaluated under {where}", "give an eval folder")
