"""Load each `--source NAME=PATH_OR_HUB_ID` and normalise it to problem, solution, answer, source, level."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openrs_cli.errors import BadInputError
from openrs_cli.locations import data_files, locate
from openrs_cli.rowfiles import kind, read_rows

PROBLEM_FIELDS = ("problem", "question")
LEVELS = {"easy": "Easy", "hard": "Hard", "medium": "Medium"}


def parse_sources(items: list[str]) -> dict[str, str]:
    sources: dict[str, str] = {}
    for item in items:
        name, sep, where = item.partition("=")
        if not sep or not name.strip() or not where.strip():
            raise BadInputError(f"--source expects NAME=PATH_OR_HUB_ID, got '{item}'", "e.g. --source s1=data/s1.jsonl")
        if name in sources:
            raise BadInputError(f"source '{name}' given twice", "give each source a distinct name")
        sources[name.strip()] = where.strip()
    return sources


def last_boxed(text: str | None) -> str | None:
    r"""The content of the last \boxed{...} (braces balanced), or None.

    >>> last_boxed(r"so $\boxed{\frac{1}{2}}$ and then \boxed{42}.")
    '42'
    >>> last_boxed(r"$\boxed{\frac{a}{b}}$"), last_boxed("none")
    ('\\frac{a}{b}', None)
    """
    if not text:
        return None
    start = text.rfind("\\boxed")
    if start < 0:
        return None
    i = text.find("{", start)
    if i < 0:
        return None
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1 : j].strip()
    return None


def _read_file(path: Path) -> list[dict[str, Any]]:
    try:
        return read_rows(path)
    except (OSError, ValueError) as exc:
        raise BadInputError(f"cannot read {path}: {type(exc).__name__}: {str(exc)[:100]}", "check the file") from exc


def load_source(name: str, where: str) -> list[dict[str, Any]]:
    found = locate(where)
    if found.kind in ("file", "builtin"):
        rows = _read_file(found.path)
    elif found.kind == "folder":
        files = data_files(found.path)
        if not files:
            raise BadInputError(f"source {name}: no .jsonl/.json/.parquet files in {found.path}")
        rows = [row for f in files for row in _read_file(f)]
    elif found.kind == "hub":
        from datasets import load_dataset

        try:
            rows = list(load_dataset(where, split="train"))
        except Exception as exc:  # the Hub is unreachable or the id is wrong
            raise BadInputError(
                f"source {name}: cannot load {where} from the Hub ({type(exc).__name__})",
                "give a local file, or check the id and network",
            ) from exc
    else:
        raise BadInputError(
            f"source {name}: {where} does not exist", "give a local file or folder, or a Hub id org/name"
        )
    if not rows:
        raise BadInputError(f"source {name}: {where} holds no rows")
    field = next((f for f in PROBLEM_FIELDS if f in rows[0]), None)
    if field is None:
        raise BadInputError(
            f"source {name}: no problem field in {where} (it has: {', '.join(list(rows[0])[:8])})",
            "the problem text must be in a 'problem' or 'question' column",
        )
    return [normalise(row, field, name) for row in rows]


def wrong_types(row: dict[str, Any], field: str) -> str | None:
    """Why a source row cannot become a training row: a problem that is not text, an answer that is neither text
    nor a number, a solution that is not text (a list or dict would be written as its Python repr)."""
    problem, answer, solution = row.get(field), row.get("answer"), row.get("solution")
    if not isinstance(problem, str):
        return f"problem is {kind(problem)}"
    if answer is not None and (isinstance(answer, bool) or not isinstance(answer, str | int | float)):
        return f"answer is {kind(answer)}"
    if solution is not None and not isinstance(solution, str):
        return f"solution is {kind(solution)}"
    return None


def normalise(row: dict[str, Any], field: str, source: str) -> dict[str, Any]:
    if wrong := wrong_types(row, field):
        return {"problem": "", "solution": None, "answer": None, "source": source, "level": None,
                "difficulty": None, "pass_rate": None, "wrong_type": wrong}  # fmt: skip
    solution = row.get("solution")
    answer = row.get("answer")
    if answer in (None, ""):
        answer = last_boxed(solution)
    level = row.get("level")
    return {
        "problem": str(row.get(field) or "").strip(),
        "solution": str(solution) if solution not in (None, "") else None,
        "answer": str(answer).strip() if answer not in (None, "") else None,
        "source": source,
        "level": LEVELS.get(str(level).lower(), str(level)) if level not in (None, "") else None,
        "difficulty": row.get("difficulty") if isinstance(row.get("difficulty"), (int, float)) else None,
        "pass_rate": row.get("pass_rate") if isinstance(row.get("pass_rate"), (int, float)) else None,
    }
