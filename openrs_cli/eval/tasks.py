"""The benchmarks: where each lives on the Hub (as the paper used them), its fields, its gold type.

Each also loads from a local folder (`--data-dir`) holding `<file>.jsonl` or `.parquet`, as
`openrs data bench` writes it.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path

from openrs_cli.errors import BadInputError
from openrs_cli.locations import locate
from openrs_cli.rowfiles import SUFFIXES, kind, read_rows


@dataclass(frozen=True)
class Task:
    name: str
    hub_id: str
    split: str
    question_field: str
    gold_field: str
    gold_type: str  # "expr" (AIME, AMC) or "latex" (MATH-500, Minerva, OlympiadBench)
    local_names: tuple[str, ...]  # file stems --data-dir reads it from
    samples_robust: int  # samples per problem in the robust protocol
    other_names: tuple[str, ...] = ()  # what other tools call it in their results (lighteval's task names, ...)


TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        Task(
            "aime24",
            "HuggingFaceH4/aime_2024",
            "train",
            "problem",
            "answer",
            "expr",
            ("aime24", "aime_2024"),
            16,
            ("aime2024",),
        ),
        Task(
            "math_500",
            "HuggingFaceH4/MATH-500",
            "test",
            "problem",
            "solution",
            "latex",
            ("math500", "math_500"),
            4,
            ("math",),
        ),
        Task("amc23", "knoveleng/AMC-23", "train", "problem", "answer", "expr", ("amc23", "amc_23"), 16, ("amc2023",)),
        Task(
            "minerva",
            "knoveleng/Minerva-Math",
            "train",
            "problem",
            "solution",
            "latex",
            ("minerva",),
            4,
            ("minerva_math",),
        ),
        Task(
            "olympiadbench",
            "knoveleng/OlympiadBench",
            "train",
            "question",
            "answer",
            "latex",
            ("olympiadbench", "olympiad_bench"),
            4,
        ),
        Task("aime25", "math-ai/aime25", "test", "problem", "answer", "expr", ("aime25", "aime_2025"), 16),
        # HMMT February 2025 (MathArena's LaTeX transcription, 30 problems, CC-BY-NC-SA-4.0): answers are LaTeX
        Task(
            "hmmt25",
            "MathArena/hmmt_feb_2025",
            "train",
            "problem",
            "answer",
            "latex",
            ("hmmt25", "hmmt_feb_2025"),
            16,
            ("hmmt_2025", "hmmt_feb25"),
        ),
        # openrs's own word problems (package data); the demo evaluates on a held-out part of them
        Task("arithmetic", "builtin:arithmetic", "test", "problem", "answer", "expr", ("arithmetic",), 4),
    ]
}
PAPER_TASKS = ("aime24", "math_500", "amc23", "minerva", "olympiadbench")
# named groups for --tasks: the paper's five, and the newer competitions (less likely seen in pre-training)
TASK_GROUPS = {"all": PAPER_TASKS, "paper": PAPER_TASKS, "recent": ("aime25", "hmmt25")}


@dataclass(frozen=True)
class Problem:
    task: str
    index: int
    question: str
    golds: tuple[str, ...]

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.question.encode()).hexdigest()[:16]


def parse_tasks(spec: str) -> list[Task]:
    """'all' (or 'paper') = the paper's five, 'recent' = aime25 and hmmt25; otherwise comma-separated names and
    groups.

    >>> [t.name for t in parse_tasks("recent")], [t.name for t in parse_tasks("aime24,recent")]
    (['aime25', 'hmmt25'], ['aime24', 'aime25', 'hmmt25'])
    """
    given = [n.strip() for n in spec.split(",") if n.strip()]
    names = [m for n in given for m in TASK_GROUPS.get(n, (n,))]
    if not names:
        raise BadInputError("no tasks given", f"use --tasks all or some of {', '.join(TASKS)}")
    out = []
    for name in names:
        if name not in TASKS:
            close = difflib.get_close_matches(name, list(TASKS), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"choose from all, recent, {', '.join(TASKS)}"
            raise BadInputError(f"unknown task '{name}'", hint)
        if TASKS[name] not in out:
            out.append(TASKS[name])
    return out


def local_file(task: Task, data_dir: Path) -> Path:
    for stem in task.local_names:
        for suffix in SUFFIXES:
            path = data_dir / f"{stem}{suffix}"
            if path.is_file():
                return path
    raise BadInputError(
        f"no data for task {task.name} in {data_dir}",
        f"add {task.local_names[0]}.jsonl (fields {task.question_field}, {task.gold_field}) or drop --data-dir",
    )


def _read_local(path: Path) -> list:
    try:
        rows = read_rows(path)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadInputError(
            f"cannot read {path}: {type(exc).__name__}", "check that it is JSON lines, JSON or parquet"
        ) from exc
    if not isinstance(rows, list):
        raise BadInputError(f"{path} does not hold a list of rows", "one JSON object per line")
    return rows


def _read_hub(task: Task) -> list:
    from datasets import load_dataset

    from openrs_cli.hub import hub_reachable, offline_mode

    hint = "pass --data-dir with local benchmark files (`openrs data bench --output-dir DIR` downloads them once)"
    if not offline_mode() and not hub_reachable():  # fail in a second, not after minutes of retries
        raise BadInputError(f"cannot load {task.hub_id} for task {task.name}: the Hub is unreachable", hint)
    try:
        return list(load_dataset(task.hub_id, split=task.split))
    except Exception as exc:  # datasets raises many types when the Hub cannot be reached
        where = "HF_HUB_OFFLINE is set" if offline_mode() else "the Hub could not be reached"
        raise BadInputError(
            f"cannot load {task.hub_id} for task {task.name} ({where}; {type(exc).__name__})", hint
        ) from exc


def load_problems(task: Task, data_dir: Path | None, limit: int | None = None) -> list[Problem]:
    if data_dir is not None:
        source = local_file(task, data_dir)
        rows = _read_local(source)
    elif task.hub_id.startswith("builtin:"):
        source = locate(task.hub_id).path
        rows = _read_local(source)
    else:
        source = task.hub_id
        rows = _read_hub(task)
    if not rows:
        raise BadInputError(f"task {task.name}: {source} holds no problems", "check the file, or drop the task")
    if limit is not None:
        rows = rows[:limit]
    problems = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise BadInputError(f"task {task.name}: row {i} of {source} is not an object", "one JSON object per row")
        question = row.get(task.question_field) or row.get("problem")
        gold = row.get(task.gold_field)
        if question is None or gold is None:
            raise BadInputError(
                f"task {task.name} row {i} lacks '{task.question_field}' or '{task.gold_field}'",
                "check the data file's fields",
            )
        if not isinstance(question, str) or isinstance(gold, bool) or not isinstance(gold, str | int | float):
            raise BadInputError(
                f"task {task.name} row {i} of {source}: the question must be text and the gold text or a number "
                f"(got {kind(question)} and {kind(gold)})",
                "fix the data file's fields",
            )
        problems.append(Problem(task.name, i, question, (str(gold),)))
    return problems
