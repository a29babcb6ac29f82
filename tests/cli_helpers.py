"""Run the real `openrs` entry point in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


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


def assert_one_line_error(result, code: int = 2, *needles: str) -> str:
    """The failure contract: exit code, one line on stderr, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert lines[0].startswith("openrs: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


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


def assert_invoke_error(result: tuple[int, str, str], code: int = 2, *needles: str) -> str:
    rc, out, err = result
    assert rc == code, (rc, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("openrs: error: ")]
    # one error line, last; progress lines before it are allowed
    assert len(errors) == 1 and lines and lines[-1] == errors[0], err
    assert "Traceback" not in out + err
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]
