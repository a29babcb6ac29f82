"""What a name on the command line points at: a built-in set, a local file, a local folder, or a Hub id.

One function, `locate`, answers it for models, datasets and benchmark sources alike, so every command
reads `--model`, `--dataset` and `--source` the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from openrs_cli.errors import BadInputError
from openrs_cli.rowfiles import SUFFIXES

BUILTIN_PREFIX = "builtin:"
DATA_SUFFIXES = SUFFIXES  # the files openrs reads rows from

Kind = Literal["builtin", "file", "folder", "hub", "missing"]


@dataclass(frozen=True)
class Location:
    kind: Kind
    name: str
    path: Path | None = None  # set for builtin, file and folder


def builtin_path(name: str) -> Path:
    """The package data file behind `builtin:NAME`."""
    path = Path(str(resources.files("openrs_cli.data") / f"{name}.jsonl"))
    if not path.is_file():
        raise BadInputError(f"unknown built-in dataset '{BUILTIN_PREFIX}{name}'", "use builtin:arithmetic")
    return path


def data_files(folder: Path) -> list[Path]:
    """The data files under `folder`, sorted; hidden files and folders (temporaries, staging) left out."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in DATA_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def looks_like_hub_id(name: str | None) -> bool:
    """`org/name` with no path-like start and no data-file suffix.

    >>> [looks_like_hub_id(x) for x in ("knoveleng/open-rs", "./data", "a/b/c", "x.jsonl", "gpt2", None)]
    [True, False, False, False, False, False]
    """
    return (
        bool(name)
        and name.count("/") == 1
        and not name.startswith((".", "/", "~"))
        and not name.endswith(DATA_SUFFIXES)
        and name.strip() == name
    )


def locate(name: str) -> Location:
    """builtin, folder or file when it exists here, hub when it looks like a Hub id, else missing.

    >>> locate("builtin:arithmetic").kind, locate("knoveleng/open-rs").kind, locate("./nope.jsonl").kind
    ('builtin', 'hub', 'missing')
    """
    if name.startswith(BUILTIN_PREFIX):
        return Location("builtin", name, builtin_path(name[len(BUILTIN_PREFIX) :]))
    path = Path(name).expanduser()
    if path.is_dir():
        return Location("folder", name, path)
    if path.is_file():
        return Location("file", name, path)
    return Location("hub" if looks_like_hub_id(name) else "missing", name)
