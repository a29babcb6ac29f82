from __future__ import annotations

import json
import subprocess
import sys

import pytest

from openrs_cli import __version__
from tests.cli_helpers import REPO, assert_error, run_openrs

HEAVY = ["torch", "transformers", "trl", "datasets", "lighteval", "vllm", "matplotlib"]


def _imported_after(args: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from openrs_cli.cli.app import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    return {line.split(".")[0] for line in out.stdout.splitlines()}


def _all_help_paths() -> list[list[str]]:
    from openrs_cli.cli.completions import _walk, command_tree

    return [[*node.path, "--help"] for node in _walk(command_tree())]


def test_help_imports_no_heavy_library():
    for args in _all_help_paths():
        loaded = _imported_after(args) & set(HEAVY)
        assert not loaded, f"openrs {' '.join(args)} imported {loaded}"


def test_help_lists_commands_and_exits_zero():
    result = run_openrs("--help")
    assert result.returncode == 0
    assert "doctor" in result.stdout


def test_version_prints_package_version():
    result = run_openrs("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"openrs {__version__}"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["frobnicate"], "No such command"),
        (["--frobnicate"], "No such option"),
        (["doctor", "--jsn"], "No such option: --jsn"),
        (["doctor", "extra-arg"], "unexpected extra argument"),
    ],
)
def test_usage_errors_are_one_line_exit_2(args, needle):
    line = assert_error(run_openrs(*args), 2, needle)
    assert "--help" in line  # says where to look


def test_openrs_error_maps_to_its_exit_code_and_debug_shows_traceback(monkeypatch, capsys):
    from openrs_cli.cli import app as app_module
    from openrs_cli.errors import BadInputError, RuntimeFailure

    for exc, code in [(BadInputError("bad thing", "do this"), 2), (RuntimeFailure("server died"), 1)]:

        def raiser(exc=exc, **kwargs):
            raise exc

        monkeypatch.setattr("openrs_cli.doctor.collect", raiser)
        monkeypatch.delenv("OPENRS_DEBUG", raising=False)
        with pytest.raises(SystemExit) as info:
            app_module.main(["doctor"])
        assert info.value.code == code
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("openrs: error: ")
        monkeypatch.setenv("OPENRS_DEBUG", "1")  # adds the traceback, keeps the exit code and the line
        with pytest.raises(SystemExit) as info:
            app_module.main(["doctor"])
        assert info.value.code == code
        err = capsys.readouterr().err
        assert "Traceback" in err and err.splitlines()[-1].startswith("openrs: error: ")


def test_unexpected_exception_is_one_line_exit_1(monkeypatch, capsys):
    from openrs_cli.cli import app as app_module

    def raiser(**kwargs):
        raise ValueError("multi\nline\nproblem")

    monkeypatch.setattr("openrs_cli.doctor.collect", raiser)
    monkeypatch.delenv("OPENRS_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        app_module.main(["doctor"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ValueError: multi line problem" in err and "OPENRS_DEBUG" in err
    assert "while running 'openrs doctor'" in err  # which input it was handling


def test_doctor_json_reports_stack_and_never_the_token(tmp_path):
    secret = "hf_" + "S3cr3tT0kenValue" * 2
    result = run_openrs("doctor", "--json", env={"HF_TOKEN": secret, "HF_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["packages"]["trl"] == "1.16.0"
    assert facts["packages"]["lighteval"] == "0.13.0"
    assert facts["cpu_count"] >= 1 and facts["memory_gib"] > 0
    assert facts["hub"]["token_configured"] is True and facts["hub"]["token_source"] == "HF_TOKEN"
    assert facts["hub"]["offline"] is True
    assert facts["gpu_count"] == len(facts["gpus"])
    assert set(facts["importable"]) == {"vllm", "deepspeed", "flash-attn", "liger-kernel"}
    assert secret not in result.stdout + result.stderr
    table = run_openrs("doctor", env={"HF_TOKEN": secret, "HF_HOME": str(tmp_path), "COLUMNS": "200"})
    assert table.returncode == 0
    assert "configured (HF_TOKEN)" in table.stdout and secret not in table.stdout + table.stderr


def test_doctor_without_token(tmp_path):
    env = {"HF_TOKEN": "", "HUGGING_FACE_HUB_TOKEN": "", "HF_HOME": str(tmp_path)}
    facts = json.loads(run_openrs("doctor", "--json", env=env).stdout)
    assert facts["hub"]["token_configured"] is False
    assert facts["hub"]["cache_dir"].startswith(str(tmp_path))
