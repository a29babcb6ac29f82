"""Reading what an eval left per answer: openrs details (jsonl, one row per sample) and lighteval details
(parquet, one row per problem). Used by `openrs compare` (through report) and `openrs eval --rescore`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from openrs_cli.checks import is_number, is_whole
from openrs_cli.errors import BadInputError
from openrs_cli.eval.prompts import question_from_query
from openrs_cli.eval.tasks import TASKS
from openrs_cli.rowfiles import read_rows

# every other spelling of a task's name (its file stems and other tools' names) -> openrs's name, from the tasks
ALIASES = {n: t.name for t in TASKS.values() for n in (*t.local_names, *t.other_names) if n != t.name}


def task_name(key: str) -> str:
    """'custom|aime24|0' -> 'aime24'; strips suites, few-shot counts and 'openrs_' prefixes.

    >>> task_name("custom|math_500|0"), task_name("lighteval|openrs_aime24|0"), task_name("olympiad_bench")
    ('math_500', 'aime24', 'olympiadbench')
    """
    parts = [p for p in key.split("|") if p and not p.isdigit()]
    name = parts[1] if len(parts) > 1 else parts[0]
    name = name.split(":")[0].lower().removeprefix("openrs_").removeprefix("openrs-")
    return ALIASES.get(name, name)


def problem_key(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


def details_rows(path: Path) -> list[dict]:
    """The rows of an openrs (jsonl) or lighteval (parquet) details file, each an object."""
    return read_rows(path, "is it an eval's details?")


def details_task(path: Path) -> str:
    """The task a details file holds, from its name: openrs's `details_aime24_<stamp>.jsonl`, the paper-era
    lighteval's `details_custom|aime24|0_<stamp>.parquet` or lighteval 0.13's `details_aime24|0_<stamp>.parquet`
    (no suite). A lighteval file's rows name their task too (`doc.task_name`); `lighteval_task` reads that.

    >>> [details_task(Path(n)) for n in ("details_aime24_2026.jsonl", "details_custom|math_500|0_2025.parquet",
    ...                                   "details_openrs_math_500|0_2026-12-01T19-38-13.458929.parquet")]
    ['aime24', 'math_500', 'math_500']
    """
    stem = path.stem.removeprefix("details_")
    parts = stem.split("|")
    if len(parts) == 1:
        return task_name(stem.rsplit("_", 1)[0])
    return task_name(parts[1] if len(parts) >= 3 else parts[0])


def lighteval_task(rows: list[dict]) -> str | None:
    """The task lighteval recorded in its rows (`doc.task_name`, e.g. `openrs_aime24|0`), when they agree."""
    names = {row["doc"].get("task_name") for row in rows if isinstance(row, dict) and isinstance(row.get("doc"), dict)}
    names.discard(None)
    return task_name(str(names.pop())) if len(names) == 1 else None


@dataclass
class SavedAnswer:
    """One saved answer: its problem's key, sample number, text, golds and the score it was given."""

    problem: str
    sample: int
    text: str | None
    golds: list[str]
    old: float | None
    row: dict  # the detail row (openrs) or one rebuilt from a lighteval doc


def _lighteval_answers(i: int, row: dict) -> list[SavedAnswer]:
    doc, response, metric = row["doc"], row.get("model_response") or {}, row.get("metric") or {}
    choices = list(doc.get("choices") or [])
    gold_index = doc.get("gold_index")
    indices = gold_index if isinstance(gold_index, list) else [gold_index or 0]
    golds = [choices[j] for j in indices if isinstance(j, int) and j < len(choices)] or choices
    numbers = {k: float(v) for k, v in metric.items() if is_number(v, finite=False)}
    scores = [v for k, v in numbers.items() if "extractive_match" in k]
    scores += [v for k, v in numbers.items() if "pass@" in k]
    query = str(doc.get("query") or "")
    question = question_from_query(query)  # the bare problem, as openrs keys it, so the two pair
    base = {"index": i, "question": question, "prompt": query}
    texts = response.get("text") or [None]
    return [
        SavedAnswer(
            problem_key(question or str(i)),
            j,
            None if t is None else str(t),
            golds,
            scores[0] if scores else None,
            {**base, "sample": j},
        )
        for j, t in enumerate(texts)
    ]


def _wrong_field(row: dict) -> str | None:
    """What in an openrs detail row has the wrong type (None: nothing)."""

    def number(v: object) -> bool:
        return is_number(v, finite=False)  # a NaN score is read, and reported as such

    gold = row.get("gold")
    checks = [
        ("answer", row.get("answer") is None or isinstance(row.get("answer"), str), "text"),
        ("correct", "correct" not in row or number(row["correct"]), "a number"),
        ("sample", is_whole(row.get("sample", 0)), "a count"),
        ("question", row.get("question") is None or isinstance(row.get("question"), str), "text"),
        (
            "gold",
            gold is None or all(isinstance(g, str) or number(g) for g in (gold if isinstance(gold, list) else [gold])),
            "text or a list of text",
        ),
    ]
    for field_name, ok, wanted in checks:
        if not ok:
            return f"'{field_name}' is {row.get(field_name)!r}, not {wanted}"
    return None


def read_answers(path: Path) -> list[SavedAnswer]:
    """Every answer in an openrs details jsonl (a row per sample) or a lighteval details parquet (a row per
    problem, its samples in model_response.text)."""
    answers: list[SavedAnswer] = []
    for i, row in enumerate(details_rows(path)):
        if not isinstance(row, dict):
            raise BadInputError(f"{path} row {i} is not an object", "is it an eval's details file?")
        if "correct" in row or "answer" in row:  # openrs
            if problem := _wrong_field(row):
                raise BadInputError(f"{path} row {i}: {problem}", "is it an eval's details file?")
            question = str(row.get("question") or row.get("prompt") or row.get("index", i))
            gold = row.get("gold")
            golds = gold if isinstance(gold, list) else [] if gold is None else [gold]
            text = str(row["answer"]) if "answer" in row else None
            old = float(row["correct"]) if "correct" in row else None
            answers.append(SavedAnswer(problem_key(question), int(row.get("sample", 0)), text, golds, old, row))
        elif isinstance(row.get("doc"), dict):  # lighteval
            answers.extend(_lighteval_answers(i, row))
        else:
            raise BadInputError(
                f"{path} row {i} holds no answer and gold: it is neither an openrs nor a lighteval detail",
                "is it an eval's details file?",
            )
    if not answers:
        raise BadInputError(f"{path} holds no answers", "give an eval folder with per-sample details")
    return answers


def read_details(path: Path) -> dict[str, list[float]]:
    """Problem key -> the sample scores the eval gave, in sample order (sample j of every problem is seed run j)."""
    problems: dict[str, list[tuple[int, float]]] = {}
    for answer in read_answers(path):
        if answer.old is None:
            raise BadInputError(f"{path} has answers with no score (correct or extractive_match)", "rescore it first")
        problems.setdefault(answer.problem, []).append((answer.sample, answer.old))
    return {key: [score for _, score in sorted(scores)] for key, scores in problems.items()}  # in sample order


def details_files(folder: Path) -> list[Path]:
    """Every openrs (jsonl) or lighteval (parquet) details file under `folder`."""
    return [p for p in folder.rglob("details_*") if p.is_file() and p.suffix in (".jsonl", ".parquet")]


def file_task(path: Path) -> str:
    """A details file's task: the one lighteval recorded in its rows when it did, else the file name's.
    Only the `doc` column is read (the answers are read once, later, by `read_answers`)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            docs = pq.read_table(path, columns=["doc"]).to_pylist()
        except (OSError, ValueError, KeyError) as exc:
            raise BadInputError(
                f"cannot read details file {path}: {type(exc).__name__}", "is it an eval's details?"
            ) from exc
        recorded = lighteval_task(docs)
        if recorded:
            return recorded
    return details_task(path)


def details_model(path: Path) -> str | None:
    """The model a details file belongs to, as lighteval and openrs lay them out:
    `details/<model name, may hold slashes>/<stamp>/details_...`; None outside that layout.

    >>> details_model(Path("out/details/org/model-7b/2026-01-01T00-00-00/details_aime24_x.jsonl"))
    'org/model-7b'
    """
    parts = path.parts
    if "details" not in parts[:-1]:
        return None
    start = len(parts) - 1 - parts[::-1].index("details", 1)
    name = "/".join(parts[start + 1 : -2])
    return name or None


def by_model(files: list[Path]) -> dict[str | None, list[Path]]:
    """Details files grouped by the model each belongs to (a folder may hold several models' outputs)."""
    groups: dict[str | None, list[Path]] = {}
    for path in files:
        groups.setdefault(details_model(path), []).append(path)
    return groups


def newest_by_task(files: list[Path]) -> dict[str, Path]:
    newest: dict[str, Path] = {}
    for path in sorted(files, key=lambda p: p.name):
        newest[file_task(path)] = path  # names end in a timestamp: the last sorted is the newest
    return newest


def _summary(folder: Path) -> dict:
    """An openrs eval folder's summary.json as a mapping; {} when absent or unreadable."""
    summary = folder / "summary.json"
    if summary.is_file():
        try:
            data = json.loads(summary.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}
    return {}


def run_name(folder: Path) -> str:
    """The model name an openrs eval folder's summary.json gives, else the folder's name."""
    return str(_summary(folder).get("name") or folder.name)


def run_provenance(path: Path) -> dict | None:
    """What an eval was produced with: its summary.json's record (a folder) or its results file's (a file)."""
    if path.is_dir():
        found = _summary(path).get("provenance")
        return found if isinstance(found, dict) else None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = (data.get("openrs") or {}).get("provenance") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else None
