"""sbatch scripts: what may go into one (no control characters), and writing one, executable, whole.

Shared by `openrs train --slurm` (train/slurm.py) and `openrs eval --slurm` (eval/slurm.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from openrs_cli.atomic import write_text
from openrs_cli.errors import BadInputError


def script_safe(value: str, what: str) -> str:
    """`value` when it can go into a script line; a control character (a newline would start a new command
    there, an `#SBATCH` line cannot be quoted) is bad input.

    >>> script_safe("outputs/run 1", "--output-dir")
    'outputs/run 1'
    """
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise BadInputError(f"{what} holds a control character (a newline?): {value!r}", "give a plain path or name")
    return value


def write_sbatch(path: Path, text: str) -> Path:
    write_text(path, text)
    os.chmod(path, 0o755)
    return path
