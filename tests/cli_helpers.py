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
