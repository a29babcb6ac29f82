"""Run the real `openrs` entry point in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent  # the one definition; conftest imports it


def run_openrs(*args: str, env: dict | None = None, timeout: float = 600, cwd: Path | None = None):
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **(env or {})}
    full_env.pop("OPENRS_DEBUG", None) if "OPENRS_DEBUG" not in (env or {}) else None
    return subprocess.run(
        [sys.executable, "-m", "openrs_cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=cwd or REPO,
    )


def invoke(capsys, *args: str) -> tuple[int, str, str]:
    """Run `openrs ARGS` in this process (fast when heavy modules are already imported)."""
    from openrs_cli.cli.app import main

    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def assert_error(result, code: int = 2, *needles: str) -> str:
    """The failure contract, for `run_openrs` results and `invoke` tuples alike: the exit code, exactly one
    `openrs: error: ...` line, last on stderr (progress lines may come before it), no traceback, and the
    needles in that line. Returns the line."""
    if isinstance(result, tuple):
        rc, out, err = result
    else:
        rc, out, err = result.returncode, result.stdout, result.stderr
    assert rc == code, (rc, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("openrs: error: ")]
    assert len(errors) == 1 and lines and lines[-1] == errors[0], err
    assert "Traceback" not in out + err
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def smoke_train_args(model, output_dir, *sets: str, dataset: str | None = None) -> list[str]:
    """`openrs train` on the CPU smoke recipe with a given model and folder, plus `--set` items."""
    args = ["train", "--recipe", "smoke", "--gpus", "0", "--model", str(model)]
    if output_dir is not None:
        args += ["--output-dir", str(output_dir)]
    if dataset is not None:
        args += ["--dataset", str(dataset)]
    for item in sets:
        args += ["--set", item]
    return args
