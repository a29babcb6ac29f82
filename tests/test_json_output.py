"""Every command's --json path: stdout is one whole JSON document (progress and warnings on stderr), so
`openrs ... --json | jq` works everywhere. A command that gains --json must be added here (a test checks)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli_helpers import invoke
from tests.fake_openai import FakeOpenAI

FIXTURES = Path(__file__).parent / "fixtures"
RESULTS = FIXTURES / "lighteval-results" / "overall"
# commands with --json whose real run cannot happen in a test, and why
NOT_RUN = {
    "demo": "minutes of CPU training; its --json is the same emit as every other command's",
    "data bench": "downloads from the Hub",
}


def _json_commands() -> set[str]:
    import typer

    from openrs_cli.cli.app import app

    found = set()

    def walk(command, path):
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, [*path, name])
        if any("--json" in getattr(p, "opts", []) for p in getattr(command, "params", [])):
            found.add(" ".join(path))

    walk(typer.main.get_command(app), [])
    return found


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    out = tmp_path_factory.mktemp("json") / "ev"
    with FakeOpenAI(answer="\\boxed{7}") as server:
        args = ["--model", "fake/model", "--base-url", server.url, "--tasks", "aime24", "--limit", "2"]
        yield server.url, out, [*args, "--data-dir", str(FIXTURES / "bench"), "--output-dir", str(out)]


def _cases(tmp: Path, tiny: Path, evaluated) -> dict[str, list[str]]:
    url, eval_out, eval_args = evaluated
    prepared = tmp / "prepared"
    source = f"aime={FIXTURES / 'train' / 'aime_1983_2023.jsonl'}"
    return {
        "doctor": ["doctor", "--offline"],
        "recipes list": ["recipes", "list"],
        "recipes show": ["recipes", "show", "exp3", "--sources", "--gpus", "4"],
        "train": ["train", "--exp", "3", "--gpus", "4", "--dry-run"],
        "eval": ["eval", *eval_args],
        "eval --dry-run": ["eval", *eval_args, "--dry-run"],
        "rescore": ["rescore", str(eval_out)],
        "rescore --dry-run": ["rescore", str(eval_out), "--dry-run"],
        "report": ["report", str(RESULTS), "--no-figures", "--output-dir", str(tmp / "report")],
        "compare": ["compare", str(RESULTS / "Exp1_100"), str(RESULTS / "Exp3_50")],
        "push": ["push", "--model", str(tiny), "--repo-id", "user/model", "--branch", "v1", "--dry-run"],
        "data prepare": ["data", "prepare", "--output-dir", str(prepared), "--source", source, "--no-decontaminate"],
        "data filter": [
            "data",
            "filter",
            "--dataset",
            str(prepared),
            "--model",
            "fake/model",
            "--base-url",
            url,
            "--samples",
            "1",
            "--limit",
            "2",
            "--output",
            str(tmp / "filtered"),
        ],  # fmt: skip
    }


def test_every_command_with_json_is_covered(tmp_path, tiny_model):
    covered = {name.split(" --")[0] for name in _cases(tmp_path, tiny_model, ("", tmp_path, []))}
    assert _json_commands() - set(NOT_RUN) == covered - {"compare"}  # compare's is --format json


def test_json_stdout_parses_for_every_command(capsys, monkeypatch, tmp_path, tiny_model, evaluated):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cases = _cases(tmp_path, tiny_model, evaluated)
    order = ["data prepare", *[c for c in cases if c != "data prepare"]]  # filter reads what prepare wrote
    for name in order:
        # compare's machine format is --format json
        args = [*cases[name], *(["--format", "json"] if name == "compare" else ["--json"])]
        code, out, err = invoke(capsys, *args)
        assert code == 0, (name, err[-1500:])
        try:
            json.loads(out)
        except ValueError:
            pytest.fail(f"{name}: stdout is not one JSON document: {out[:300]!r}")
    shutil.rmtree(tmp_path / "report", ignore_errors=True)
