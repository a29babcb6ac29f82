"""The `checkpoint-N` folders of a training output: find them, and pick them with `all` or `50,100`."""

from __future__ import annotations

import re
from collections.abc import Callable
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


INCOMPLETE = "no trainer_state.json: the trainer is still writing it, or its save was cut"


def pick_checkpoints(
    folder: Path, spec: str, hint_if_none: str, warn: Callable[[str], None] | None = None
) -> list[tuple[int, Path]]:
    """The checkpoints `spec` names ('all' or steps like '50,100'); a one-line error for any that is missing.

    Only complete checkpoints (with the trainer_state.json the trainer writes last) are picked: `all` leaves the
    others out, saying so through `warn`; naming one is an error (its weights may be half-written)."""
    found = list_checkpoints(folder)
    if not found:
        raise BadInputError(f"{folder} has no checkpoint-N folders", hint_if_none)
    complete = list_checkpoints(folder, complete=True)
    complete_steps = {s for s, _ in complete}
    incomplete = [s for s, _ in found if s not in complete_steps]
    if spec == "all":
        if incomplete and warn is not None:
            warn(f"left out {', '.join(f'checkpoint-{s}' for s in incomplete)} in {folder} ({INCOMPLETE})")
        if not complete:
            raise BadInputError(f"no complete checkpoint in {folder} ({INCOMPLETE})", "wait for the next save")
        return complete
    try:
        wanted = {int(s) for s in spec.split(",") if s.strip()}
    except ValueError:
        raise BadInputError(f"--checkpoints must be 'all' or steps like 50,100, got '{spec}'") from None
    if not wanted:  # " " or ",": selects nothing, which is never what was meant
        raise BadInputError(f"--checkpoints '{spec}' names no checkpoint", "give 'all' or steps like 50,100")
    missing = sorted(wanted - {s for s, _ in found})
    if missing:
        raise BadInputError(f"no checkpoint-{missing[0]} in {folder}", f"have: {', '.join(str(s) for s, _ in found)}")
    cut = sorted(wanted & set(incomplete))
    if cut:
        have = ", ".join(str(s) for s, _ in complete) or "none complete yet"
        raise BadInputError(f"checkpoint-{cut[0]} in {folder} is incomplete ({INCOMPLETE})", f"have: {have}")
    return [(s, p) for s, p in complete if s in wanted]
