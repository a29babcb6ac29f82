"""Every reader of a file a user hands over, walked with every kind of malformed file.

Each reader (rows, benchmark files, training sets, configs, results, summaries, trainer states, checkpoints,
run plans, details, answer caches) is fed an empty file, binary junk, a valid file cut in half, JSON of the wrong
shape (a list, a string, a number) and fields of the wrong type. The contract: one `openrs: error:` line, exit 2,
no traceback, never the catch-all "unexpected", and the file named on stderr (in the error or in a warning that
says it was skipped). A cache is openrs's own: a malformed one is generated again, and the run succeeds.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli_helpers import assert_error, invoke, smoke_train_args

FIXTURES = Path(__file__).parent / "fixtures"
RESULTS = FIXTURES / "lighteval-results" / "evals" / "Exp3_50" / "results" / "quyanh" / "OpenRS-GRPO"
ROW = {"problem": "What is 1+1?", "solution": "\\boxed{2}", "answer": "2"}
STATE = {"global_step": 10, "log_history": [{"step": 10, "loss": 0.1, "step_time": 2.0}]}


@dataclass(frozen=True)
class Reader:
    place: str  # where the file goes, under the test's folder
    valid: bytes  # a well-formed file of this kind (cut in half for "cut")
    wrong_types: bytes  # the right shape with fields of the wrong type
    command: Callable[[Path, Path], list[str]]  # (test folder, tiny model) -> argv
    wrong_types_said: str | None = None  # rows are dropped and counted, not refused: what the message says


def _jsonl(*rows: dict) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _train_dir(tmp: Path) -> None:
    (tmp / "run" / "checkpoint-10").mkdir(parents=True, exist_ok=True)
    for folder in (tmp / "run", tmp / "run" / "checkpoint-10"):
        if not (folder / "trainer_state.json").exists():
            (folder / "trainer_state.json").write_text(json.dumps(STATE))
    (tmp / "run" / "checkpoint-10" / "config.json").write_text("{}")
    if not (tmp / "run" / "openrs_plan.json").exists():
        (tmp / "run" / "openrs_plan.json").write_text(json.dumps({"gpus": 1, "nodes": 1}))


PREPARE = ["data", "prepare", "--no-decontaminate", "--test-size", "1", "--output"]
EVAL = ["--backend", "transformers", "--tasks", "aime24", "--limit", "1", "--max-new-tokens", "4"]

READERS = {
    "rows (data prepare --source .jsonl)": Reader(
        "src.jsonl",
        _jsonl(ROW, ROW),
        _jsonl({**ROW, "problem": {"text": "1+1"}}),
        lambda t, m: [*PREPARE, str(t / "d"), "--source", f"s={t / 'src.jsonl'}"],
        "field of the wrong type: 1",
    ),
    "rows (data prepare --source .json)": Reader(
        "src.json",
        json.dumps([ROW, ROW]).encode(),
        json.dumps([{**ROW, "answer": [2]}]).encode(),
        lambda t, m: [*PREPARE, str(t / "d"), "--source", f"s={t / 'src.json'}"],
        "field of the wrong type: 1",
    ),
    "benchmark (eval --data-dir)": Reader(
        "bench/aime24.jsonl",
        _jsonl(ROW, ROW),
        _jsonl({**ROW, "problem": 7}),
        lambda t, m: ["eval", "--model", str(m), *EVAL, "--data-dir", str(t / "bench"), "--output-dir", str(t / "e")],
    ),
    "training set (train --dataset)": Reader(
        "train.jsonl",
        _jsonl(ROW, ROW),
        _jsonl({**ROW, "problem": ["a", "b"]}),
        lambda t, m: smoke_train_args(m, t / "o", dataset=str(t / "train.jsonl")),  # fmt: skip
    ),
    "config (train --config)": Reader(
        "c.yaml",
        b"learning_rate: 1.0e-06\nbeta: 0.04\n",
        b"learning_rate: fast\nbeta: [1]\n",
        lambda t, m: ["train", "--config", str(t / "c.yaml"), "--dry-run"],
    ),
    "results (report)": Reader(
        "res/results_2025-01-01T00-00-00.json",
        (RESULTS / "results_2025-03-15T08-07-05.491769.json").read_bytes(),
        json.dumps({"results": {"custom|aime24|0": {"extractive_match": "high"}}, "config_tasks": 5}).encode(),
        lambda t, m: ["report", str(t / "res"), "--no-figures", "--no-quoted", "--output-dir", str(t / "r")],
    ),
    "results (compare)": Reader(
        "res/results_2025-01-01T00-00-00.json",
        (RESULTS / "results_2025-03-15T08-07-05.491769.json").read_bytes(),
        json.dumps({"results": {"custom|aime24|0": {"extractive_match": "high"}}}).encode(),
        lambda t, m: ["compare", str(t / "res"), str(RESULTS)],
    ),
    "summary (report)": Reader(
        "ev/summary.json",
        json.dumps({"name": "m", "tasks": {"aime24": {"avg_at_k": 0.1, "k": 1, "n_problems": 2}}}).encode(),
        json.dumps({"name": "m", "tasks": ["aime24"]}).encode(),
        lambda t, m: ["report", str(t / "ev"), "--no-figures", "--no-quoted", "--output-dir", str(t / "r")],
    ),
    "summary (compare's name lookup)": Reader(
        "ev/summary.json",
        json.dumps({"name": "other", "tasks": {}}).encode(),
        json.dumps({"name": ["m"], "model": {"x": 1}}).encode(),
        lambda t, m: ["compare", "some-model", str(RESULTS), "--results", str(t / "ev")],
    ),
    "trainer state (report --train-dir)": Reader(
        "run/trainer_state.json",
        json.dumps(STATE).encode(),
        json.dumps({"log_history": [{"step": "ten", "loss": "low"}]}).encode(),
        lambda t, m: ["report", str(RESULTS), "--train-dir", str(t / "run"), "--output-dir", str(t / "r")],
    ),
    "checkpoint (train --resume)": Reader(
        "run/checkpoint-10/trainer_state.json",
        json.dumps(STATE).encode(),
        json.dumps({"global_step": "ten", "log_history": 3}).encode(),
        lambda t, m: [*smoke_train_args(m, t / "run"), "--resume", str(t / "run" / "checkpoint-10")],  # fmt: skip
    ),
    "checkpoint (train --resume auto)": Reader(
        "run/checkpoint-10/trainer_state.json",
        json.dumps(STATE).encode(),
        json.dumps({"global_step": [10]}).encode(),
        lambda t, m: smoke_train_args(m, t / "run"),
    ),
    "run plan (report --costs)": Reader(
        "run/openrs_plan.json",
        json.dumps({"gpus": 1, "nodes": 1}).encode(),
        json.dumps({"gpus": "many", "nodes": None}).encode(),
        lambda t, m: [
            "report",
            str(RESULTS),
            "--train-dir",
            str(t / "run"),
            "--costs",
            "--price-per-gpu-hour",
            "2",
            "--no-figures",
            "--output-dir",
            str(t / "r"),
        ],  # fmt: skip
    ),
    "details (rescore)": Reader(
        "ev/details/m/2025-01-01T00-00-00/details_aime24_2025-01-01T00-00-00.jsonl",
        _jsonl({"index": 0, "question": "1+1", "gold": "2", "answer": "\\boxed{2}", "correct": 1.0, "sample": 0}),
        _jsonl({"index": 0, "question": "1+1", "gold": "2", "answer": 5, "correct": "yes", "sample": "first"}),
        lambda t, m: ["rescore", str(t / "ev")],
    ),
}

KINDS: dict[str, Callable[[Reader], bytes]] = {
    "empty": lambda r: b"",
    "binary": lambda r: b"\x00\xff\xfe\x80\x81 not text\x00",
    "cut": lambda r: r.valid[: max(1, len(r.valid) // 2 - 3)],
    "a list": lambda r: b"[1, 2]\n",
    "a string": lambda r: b'"just some text"\n',
    "a number": lambda r: b"42\n",
    "wrong types": lambda r: r.wrong_types,
}


def _plant(tmp: Path, reader: Reader, content: bytes) -> Path:
    if reader.place.startswith("run/"):
        _train_dir(tmp)
    path = tmp / reader.place
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("reader", list(READERS))
def test_a_malformed_file_is_one_line_naming_it(capsys, monkeypatch, tmp_path, tiny_model, reader, kind):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec = READERS[reader]
    path = _plant(tmp_path, spec, KINDS[kind](spec))
    result = invoke(capsys, *spec.command(tmp_path, tiny_model))
    message = assert_error(result, 2)
    assert "unexpected" not in message, message
    if kind == "wrong types" and spec.wrong_types_said:
        assert spec.wrong_types_said in message, message
    else:
        assert str(path) in result[2] or path.name in message, result[2]


def test_a_malformed_answer_cache_is_generated_again(capsys, tmp_path, tiny_model):
    """The cache is openrs's own file: lines of any malformed kind (and records whose fields have the wrong type)
    are answers to generate again, never a crash and never an answer."""
    bench = tmp_path / "bench"
    bench.mkdir()
    shutil.copy(FIXTURES / "bench" / "aime24.jsonl", bench / "aime24.jsonl")
    args = ["eval", "--model", str(tiny_model), *EVAL, "--data-dir", str(bench)]
    code, _, err = invoke(capsys, *args, "--output-dir", str(tmp_path / "clean"))
    assert code == 0, err
    good = (tmp_path / "clean" / "cache.jsonl").read_text().splitlines()[0]
    record = json.loads(good)
    junk = [
        "",
        "\x00\xff binary",
        good[: len(good) // 2],
        "[1, 2]",
        '"text"',
        "42",
        json.dumps({**record, "text": 5}),
        json.dumps({**record, "completion_tokens": "many"}),
        json.dumps({**record, "finish_reason": ["stop"]}),
        json.dumps({**record, "key": 3}),
    ]
    out = tmp_path / "junk"
    out.mkdir()
    (out / "cache.jsonl").write_text("\n".join(junk) + "\n")
    code, stdout, err = invoke(capsys, *args, "--output-dir", str(out))
    assert code == 0, err
    assert " 0 cached, " in stdout + err, stdout + err
    summary = json.loads((out / "summary.json").read_text())
    clean = json.loads((tmp_path / "clean" / "summary.json").read_text())
    assert summary["tasks"]["aime24"]["avg_at_k"] == clean["tasks"]["aime24"]["avg_at_k"]
