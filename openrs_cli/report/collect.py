"""Find lighteval result files and openrs eval summaries under some folders and group them into runs.

A run is a model name plus a checkpoint step. When every file carries the same model name (as the
Open-RS logs do), the folder that tells the files apart (e.g. Exp1_100) names the run. When a task
was evaluated more than once for a run, the newest file wins, and the report says so.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from openrs_cli.checks import is_number, is_whole
from openrs_cli.errors import BadInputError
from openrs_cli.eval.details import task_name
from openrs_cli.report.rows import TableRow, protocol_label
from openrs_cli.rowfiles import kind

_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)")
_STEP = re.compile(r"(?:checkpoint-|step[-_]?|_)(\d+)$")


@dataclass
class Measurement:
    model: str
    task: str
    score: float  # fraction
    stderr: float | None
    samples: int | None
    problems: int | None
    stamp: str
    path: Path
    throughput: dict | None = None  # openrs summaries: generated tokens, seconds, tokens/s, requests/s
    provenance: dict | None = None  # openrs summaries: software, devices, model identity, engine, sampling
    seed_spread: tuple[float, float] | None = None  # openrs summaries: mean and std of the k seed runs


def headline_metric(values: dict) -> tuple[float | None, float | None]:
    """(score, stderr) of a task's headline metric in a results file: extractive match first."""
    for key in ("extractive_match", "pass@1", "math_pass@1:1_samples", "exact_match", "acc"):
        if isinstance(values.get(key), (int, float)):
            return float(values[key]), values.get(f"{key}_stderr")
    for key, value in values.items():
        if not key.endswith("_stderr") and isinstance(value, (int, float)):
            return float(value), values.get(f"{key}_stderr")
    return None, None


def _mapping(value) -> dict:
    """A part of a results file that should be a mapping: itself when it is one, else empty."""
    return value if isinstance(value, dict) else {}


def _stamp(path: Path, data: dict) -> str:
    match = _STAMP.search(path.name)
    if match:
        return match.group(1)
    end = _mapping(data.get("config_general")).get("end_time")
    return f"{end:020.6f}" if isinstance(end, (int, float)) else f"{path.stat().st_mtime:020.6f}"


def _count(value) -> int | None:
    """A positive count, else unknown (lighteval 0.13 writes -1 for a task's unknown number of docs)."""
    return value if is_whole(value) and value > 0 else None


def _score_problem(score: float, stderr) -> str | None:
    """Why a recorded score cannot be a measurement (None: it can): a share must lie in 0-1."""
    if not math.isfinite(score) or not 0.0 <= score <= 1.0:
        return f"score {score!r} is not a share between 0 and 1"
    if stderr is not None and not (is_number(stderr) and stderr >= 0):
        return f"stderr {stderr!r} is not a finite non-negative number"
    return None


def parse_lighteval(path: Path, data: dict, warn=lambda message: None) -> list[Measurement]:
    if data.get("openrs"):  # an openrs eval result: its summary.json is read instead
        return []
    general = _mapping(data.get("config_general"))
    model = str(general.get("model_name") or general.get("model_id") or "unknown")
    tasks_cfg = _mapping(data.get("config_tasks"))
    results = data.get("results")
    if not isinstance(results, dict):
        warn(f"skipped {path}: 'results' is not a mapping of task to metrics")
        return []
    out = []
    for key, values in results.items():
        if key == "all" or not isinstance(values, dict):
            continue
        score, stderr = headline_metric(values)
        if score is None:
            warn(f"skipped {model} {task_name(key)} in {path}: no metric with a numeric score")
            continue
        if problem := _score_problem(score, stderr):
            warn(f"skipped {model} {task_name(key)} in {path}: {problem}")
            continue
        cfg = next((c for k, c in tasks_cfg.items() if isinstance(c, dict) and key.startswith(k)), {})
        samples, problems = _count(cfg.get("num_samples")), _count(cfg.get("effective_num_docs"))
        out.append(Measurement(model, task_name(key), score, stderr, samples or 1, problems, _stamp(path, data), path))
    return out


def _spread(stats: dict) -> tuple[float, float] | None:
    mean, std = stats.get("seed_mean"), stats.get("seed_std")
    return (float(mean), float(std)) if is_number(mean) and is_number(std) else None


def parse_summary(path: Path, data: dict, warn=lambda message: None) -> list[Measurement]:
    model = str(data.get("name") or data.get("model") or "unknown")
    stamp = f"{path.stat().st_mtime:020.6f}"
    out = []
    tasks = data.get("tasks")
    if not isinstance(tasks, dict):
        warn(f"skipped {path}: 'tasks' is not a mapping of task to results")
        return out
    for task, stats in tasks.items():
        if isinstance(stats, dict) and (stats.get("complete") is False or (stats.get("failed") or 0) > 0):
            warn(f"skipped {model} {task} in {path}: incomplete ({stats.get('failed') or 0} failed answers)")
            continue
        if isinstance(stats, dict) and isinstance(stats.get("avg_at_k"), (int, float)):
            if problem := _score_problem(float(stats["avg_at_k"]), stats.get("stderr")):
                warn(f"skipped {model} {task} in {path}: {problem}")
                continue
            out.append(
                Measurement(
                    model,
                    task_name(task),
                    float(stats["avg_at_k"]),
                    stats.get("stderr"),
                    _count(stats.get("k")),
                    _count(stats.get("n_problems")),
                    stamp,
                    path,
                    stats.get("throughput") if isinstance(stats.get("throughput"), dict) else None,
                    data.get("provenance") if isinstance(data.get("provenance"), dict) else None,
                    _spread(stats),
                )
            )
    return out


def scan(roots: list[Path], warn) -> list[Measurement]:
    found: list[Measurement] = []
    for root in roots:
        if not root.exists():
            raise BadInputError(f"results folder {root} does not exist", "pass folders holding result JSON files")
        files = [root] if root.is_file() else sorted(root.rglob("*.json"))
        for path in files:
            if path.name.startswith(".") or not path.is_file():  # hidden temporaries; FIFOs and sockets
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                warn(f"skipped {path}: not valid JSON ({type(exc).__name__})")
                continue
            if not isinstance(data, dict):
                if path.name == "summary.json" or path.name.startswith("results_"):
                    warn(f"skipped {path}: it holds {kind(data)}, not a results mapping")
                continue
            if "results" in data and "config_tasks" in data:
                found.extend(parse_lighteval(path, data, warn))
            elif path.name == "summary.json":
                found.extend(parse_summary(path, data, warn))
            elif path.name.startswith("results_"):
                warn(f"skipped {path}: not a lighteval results file (no 'results' and 'config_tasks')")
    return found


def _run_labels(items: list[Measurement]) -> dict[Path, str | None]:
    """For files sharing a model name, the deepest folder level where their paths differ names the run.

    Counting from the file upwards, so `overall/Exp1_100/results/org/model/` and
    `evals/Exp2_50/results/org/model/` are told apart by Exp1_100 and Exp2_50.
    """
    parents = {m.path.parent for m in items}
    if len(parents) == 1:
        return {m.path: None for m in items}
    reversed_parts = [tuple(reversed(p.parts)) for p in parents]
    depth = 0
    while all(len(p) > depth for p in reversed_parts) and len({p[depth] for p in reversed_parts}) == 1:
        depth += 1
    labels = {}
    for m in items:
        parts = tuple(reversed(m.path.parent.parts))
        labels[m.path] = parts[depth] if depth < len(parts) else None
    return labels


def _step(*names: str | None) -> int | None:
    for name in names:
        if name and (match := _STEP.search(name)):
            return int(match.group(1))
    return None


def measured_protocol(items: list[Measurement]) -> str:
    """The protocol a measured row's files record: samples per problem, and the sampling openrs wrote (a
    lighteval results file records no sampling; the row then says "sampling not recorded")."""
    samples = [m.samples for m in items if isinstance(m.samples, int)]
    sampling = next(
        (m.provenance["sampling"] for m in items if isinstance((m.provenance or {}).get("sampling"), dict)), None
    )
    label = protocol_label(sampling or {}, samples)
    return label if sampling else ", ".join(filter(None, [label, "sampling not recorded"]))


def group_runs(measurements: list[Measurement], warn) -> list[TableRow]:
    by_model: dict[str, list[Measurement]] = {}
    for m in measurements:
        by_model.setdefault(m.model, []).append(m)
    rows: list[TableRow] = []
    for model, items in by_model.items():
        labels = _run_labels(items)
        runs: dict[str, list[Measurement]] = {}
        for m in items:
            runs.setdefault(labels[m.path] or model, []).append(m)
        for name, run in runs.items():
            latest: dict[str, Measurement] = {}
            for m in sorted(run, key=lambda m: m.stamp):
                latest[m.task] = m
            for task, m in latest.items():
                repeats = sum(1 for other in run if other.task == task)
                if repeats > 1:
                    warn(f"{name} {task}: evaluated {repeats} times, using the newest ({m.path.name})")
            step = _step(name, model)
            series = re.sub(r"(?:[-_/]?checkpoint-|_)\d+$", "", name) if step is not None else None
            rows.append(
                TableRow(
                    name=name if name != model or step is None else model,
                    source="measured",
                    scores={t: m.score for t, m in latest.items()},
                    group="measured",
                    step=step,
                    series=series,
                    samples={t: m.samples for t, m in latest.items() if m.samples},
                    stderr={t: float(m.stderr) for t, m in latest.items() if isinstance(m.stderr, (int, float))},
                    files={t: str(m.path) for t, m in latest.items()},
                    problems={t: m.problems for t, m in latest.items() if isinstance(m.problems, int)},
                    throughput={t: m.throughput for t, m in latest.items() if m.throughput},
                    provenance={t: m.provenance for t, m in latest.items() if m.provenance},
                    seed_spread={t: m.seed_spread for t, m in latest.items() if m.seed_spread},
                    protocol=measured_protocol(list(latest.values())),
                )
            )
    rows.sort(key=lambda r: (r.series or r.name, r.step or 0))
    return rows
