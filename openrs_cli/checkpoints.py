"""The `checkpoint-N` folders of a training output: find them, and pick them with `all` or `50,100`."""

from __future__ import annotations

import re
from pathlib import Path

from openrs_cli.errors import BadInputError

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
PLAN_FILE = "openrs_plan.json"  # the plan `openrs train` saves in its output folder; report's costs read it


def step_of(path: Path) -> int | None:
    """50 for `.../checkpoint-50`, None for any other folder.

    >>> step_of(Path("run/checkpoint-50")), step_of(Path("run"))
    (50, None)
    """
    match = CHECKPOINT.match(path.name)
    return int(match.group(1)) if match else None


def list_checkpoints(folder: Path, complete: bool = False) -> list[tuple[int, Path]]:
    """(step, folder) sorted by step; `complete` keeps only those with a trainer_state.json."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        step = step_of(path)
        if step is not None and path.is_dir() and (not complete or (path / "trainer_state.json").is_file()):
            found.append((step, path))
    return sorted(found)


def pick_checkpoints(folder: Path, spec: str, hint_if_none: str) -> list[tuple[int, Path]]:
    """The checkpoints `spec` names ('all' or steps like '50,100'); a one-line error for any that is missing."""
    found = list_checkpoints(folder)
    if not found:
        raise BadInputError(f"{folder} has no checkpoint-N folders", hint_if_none)
    if spec == "all":
        return found
    try:
        wanted = {int(s) for s in spec.split(",") if s.strip()}
    except ValueError:
        raise BadInputError(f"--checkpoints must be 'all' or steps like 50,100, got '{spec}'") from None
    if not wanted:  # " " or ",": selects nothing, which is never what was meant
        raise BadInputError(f"--checkpoints '{spec}' names no checkpoint", "give 'all' or steps like 50,100")
    missing = sorted(wanted - {s for s, _ in found})
    if missing:
        raise BadInputError(f"no checkpoint-{missing[0]} in {folder}", f"have: {', '.join(str(s) for s, _ in found)}")
    return [(s, p) for s, p in found if s in wanted]
