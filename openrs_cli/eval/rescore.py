"""`openrs eval --rescore DIR`: score the answers an eval saved again, without generating anything.

Reads openrs details (`details_<task>_<stamp>.jsonl`) and lighteval details (`details_<suite>|<task>|<n>_<stamp>
.parquet`); writes a new results file and details per task beside the old ones (never over them), and reports
how many verdicts changed each way, with examples.

Scorers: `lighteval` (the paper's extractive match, as `openrs eval` scores) and `math-verify-strict`
(math-verify's own parse and strict verify, with its default extraction, where the two can differ).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openrs_cli.atomic import ensure_writable
from openrs_cli.errors import BadInputError
from openrs_cli.eval.plan import SCORERS
from openrs_cli.eval.results import lighteval_results, model_dir, timestamp, write_task
from openrs_cli.eval.tasks import TASKS, Task
from openrs_cli.stats import task_stats


@dataclass
class Changed:
    task: str
    up: list[dict] = field(default_factory=list)  # wrong before, right now
    down: list[dict] = field(default_factory=list)
    answers: int = 0
    results_file: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "answers": self.answers,
            "wrong_to_right": len(self.up),
            "right_to_wrong": len(self.down),
            "examples_wrong_to_right": self.up[:3],
            "examples_right_to_wrong": self.down[:3],
            "results_file": self.results_file,
        }


def strict_score(prediction: str, golds: list[str], gold_type: str) -> float:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    target = [ExprExtractionConfig()] if gold_type == "expr" else [LatexExtractionConfig()]
    predicted = parse(prediction)
    return float(any(verify(parse(gold, extraction_config=target), predicted, strict=True) for gold in golds))


def score(prediction: str, golds: list[str], gold_type: str, scorer: str) -> float:
    if scorer == "math-verify-strict":
        return strict_score(prediction, golds, gold_type)
    from openrs_cli.eval.scoring import score_answer

    return score_answer(prediction, golds, gold_type).correct


@dataclass(frozen=True)
class RescoreItem:
    """One details file to score again, and the model name its new results are filed under."""

    model: str
    task: str
    details: Path

    def to_dict(self) -> dict[str, str]:
        return {"model": self.model, "task": self.task, "details": str(self.details)}


def plan_rescore(folder: Path, scorer: str = "lighteval") -> list[RescoreItem]:
    """What `rescore` would score, found and checked; nothing written (a dry run prints it)."""
    from openrs_cli.eval.details import by_model, details_files, newest_by_task, run_name

    if scorer not in SCORERS:
        raise BadInputError(f"unknown scorer '{scorer}'", f"choose from {', '.join(SCORERS)}")
    if not folder.is_dir():
        raise BadInputError(f"rescore: {folder} is not a folder", "give an eval output folder")
    files = details_files(folder)
    if not files:
        has_results = any(folder.rglob("results_*.json"))
        raise BadInputError(
            f"{folder} has {'result files but ' if has_results else ''}no details files with the answers",
            "rescoring needs the answers: evaluate with openrs or lighteval, which keep them in details/",
        )
    name = run_name(folder)
    items = []
    for recorded, group in sorted(by_model(files).items(), key=lambda kv: str(kv[0])):
        # each model's answers under that model's own name (the eval's name for it when it is that one)
        model = name if recorded in (None, model_dir(name)) else recorded
        items += [RescoreItem(model, task, path) for task, path in newest_by_task(group).items()]
    return items


def rescore(folder: Path, scorer: str = "lighteval") -> list[Changed]:
    """Score every saved answer under `folder` again; write the new results beside the old."""
    items = plan_rescore(folder, scorer)
    ensure_writable(folder, "rescore")  # before the scoring, which can take minutes
    stamp = timestamp()
    return [_rescore_file(folder, item.model, item.task, item.details, scorer, stamp) for item in items]


def _rescore_file(folder: Path, model: str, task_name: str, path: Path, scorer: str, stamp: str) -> Changed:
    """Score one details file's answers again; write the new results and details under `model`."""
    from openrs_cli.eval.details import read_answers

    task = TASKS.get(task_name) or Task(task_name, task_name, "test", "problem", "answer", "latex", (task_name,), 1)
    changed = Changed(task_name)
    per_problem: dict[str, list[float]] = {}
    details = []
    started = time.time()
    for answer in read_answers(path):
        if answer.text is None or not answer.golds:
            raise BadInputError(f"{path} has an answer with no text or gold", "rescoring needs an eval's details files")
        new = score(answer.text, answer.golds, task.gold_type, scorer)
        per_problem.setdefault(answer.problem, []).append(new)
        example = {"question": str(answer.row.get("question", ""))[:200], "answer_end": answer.text[-200:]}
        if new > (answer.old or 0.0):
            changed.up.append(example)
        elif new < (answer.old or 0.0):
            changed.down.append(example)
        changed.answers += 1
        details.append({**answer.row, "answer": answer.text, "gold": answer.golds, "correct": new})
    stats = task_stats(list(per_problem.values()))
    extra = {"rescored_from": str(path), "scorer": scorer, "backend": "rescore"}
    result = lighteval_results(task, stats, model, None, {}, started, time.time(), extra)
    changed.results_file = str(write_task(folder, model, task, result, details, stamp))
    return changed
