from __future__ import annotations

import shutil
import subprocess

import pytest

from openrs_cli.cli.completions import SHELL_FILES, render_all
from tests.cli_helpers import REPO


def test_committed_completions_match_the_cli():
    stale = [
        name
        for name, text in render_all().items()
        if not (REPO / "completions" / name).is_file() or (REPO / "completions" / name).read_text() != text
    ]
    assert not stale, f"regenerate with: python -m openrs_cli.cli.completions ({stale} are stale)"


def test_bash_completion_offers_commands_and_options():
    script = REPO / "completions" / SHELL_FILES["bash"]
    probe = (
        f"source {script}; COMP_WORDS=(openrs doc); COMP_CWORD=1; _openrs; echo ${{COMPREPLY[@]}};"
        "COMP_WORDS=(openrs doctor --js); COMP_CWORD=2; _openrs; echo ${COMPREPLY[@]}"
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["doctor", "--json"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_other_shell_scripts_parse(shell):
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(f"{shell} is not installed")
    flag = ["-n"] if shell == "zsh" else ["--no-execute"]
    subprocess.run([exe, *flag, str(REPO / "completions" / SHELL_FILES[shell])], check=True)
