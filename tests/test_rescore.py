"""`openrs rescore DIR`: saved answers scored again, nothing generated, new files beside the old."""

from __future__ import annotations

import json

from tests.cli_helpers import assert_error, invoke
from tests.fake_openai import FakeOpenAI


def evaluate(capsys, data_dir, out, answer="\\boxed{7}"):
    with FakeOpenAI(answer=answer) as server:
        args = ["eval", "--model", "fake/model", "--base-url", server.url, "--tasks", "aime24,math_500"]
        code, _, err = invoke(
            capsys, *args, "--limit", "4", "--data-dir", str(data_dir / "bench"), "--output-dir", str(out)
        )
        assert code == 0, err
        return server


def rescore(capsys, out, *extra):
    code, stdout, err = invoke(capsys, "rescore", str(out), "--json", *extra)
    assert code == 0, err
    return {c["task"]: c for c in json.loads(stdout)}


def test_rescoring_unchanged_answers_changes_nothing_and_overwrites_nothing(capsys, data_dir, tmp_path):
    out = tmp_path / "ev"
    evaluate(capsys, data_dir, out)
    before = {p: p.read_bytes() for p in out.rglob("results_*.json")}
    changes = rescore(capsys, out)
    assert set(changes) == {"aime24", "math_500"}
    assert all(c["wrong_to_right"] == 0 and c["right_to_wrong"] == 0 and c["answers"] == 4 for c in changes.values())
    assert all(p.read_bytes() == data for p, data in before.items())  # the old files untouched
    assert len(list(out.rglob("results_*.json"))) == 2 * len(before)  # new ones beside


def test_a_changed_verdict_is_counted_with_an_example(capsys, data_dir, tmp_path):
    out = tmp_path / "ev"
    evaluate(capsys, data_dir, out)
    (details,) = list(out.rglob("details_aime24_*.jsonl"))
    rows = [json.loads(x) for x in details.read_text().splitlines()]
    rows[0]["correct"] = 1.0  # as an older, wrong scorer would have said
    details.write_text("".join(json.dumps(r) + "\n" for r in rows))
    change = rescore(capsys, out)["aime24"]
    assert change["right_to_wrong"] == 1 and change["wrong_to_right"] == 0
    assert "boxed{7}" in change["examples_right_to_wrong"][0]["answer_end"]
    strict = rescore(capsys, out, "--scorer", "math-verify-strict")["aime24"]
    assert strict["answers"] == 4


def test_lighteval_details_parquet_are_rescored(capsys, data_dir, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "lighteval" / "details" / "org__model" / "2025-03-15T10-00-00"
    folder.mkdir(parents=True)
    rows = [
        {"doc": {"query": "What is 3+4?", "choices": ["$7$"], "gold_index": [0]},
         "model_response": {"text": ["The answer is $\\boxed{7}$."]}, "metric": {"extractive_match": 0.0}},
        {"doc": {"query": "What is 2+2?", "choices": ["$4$"], "gold_index": [0]},
         "model_response": {"text": ["So $\\boxed{5}$."]}, "metric": {"extractive_match": 0.0}},
    ]  # fmt: skip
    pq.write_table(pa.Table.from_pylist(rows), folder / "details_custom|math_500|0_2025-03-15T10-00-00.parquet")
    change = rescore(capsys, tmp_path / "lighteval")["math_500"]
    assert (change["answers"], change["wrong_to_right"], change["right_to_wrong"]) == (2, 1, 0)


def test_result_files_without_answers_cannot_be_rescored(capsys, data_dir):
    result = invoke(capsys, "rescore", str(data_dir / "lighteval-results" / "overall" / "Exp3_50"))
    assert_error(result, 2, "no details files", "rescoring needs the answers")


def test_a_malformed_details_file_is_one_line(capsys, tmp_path):
    folder = tmp_path / "bad" / "details" / "m" / "s"
    folder.mkdir(parents=True)
    (folder / "details_aime24_s.jsonl").write_text('{"nothing": "useful"}\n')
    assert_error(invoke(capsys, "rescore", str(tmp_path / "bad")), 2, "holds no answer and gold")


def test_a_dry_run_lists_what_would_be_rescored_and_writes_nothing(capsys, data_dir, tmp_path):
    out = tmp_path / "ev"
    evaluate(capsys, data_dir, out)
    before = sorted(p for p in out.rglob("*"))
    code, stdout, err = invoke(capsys, "rescore", str(out), "--dry-run", "--json")
    assert code == 0, err
    assert sorted(i["task"] for i in json.loads(stdout)) == ["aime24", "math_500"]
    assert all(i["details"].endswith(".jsonl") and i["model"] for i in json.loads(stdout))
    assert sorted(p for p in out.rglob("*")) == before


def test_the_old_eval_rescore_spelling_runs_rescore_and_says_so(capsys, data_dir, tmp_path):
    out = tmp_path / "ev"
    evaluate(capsys, data_dir, out)
    code, stdout, err = invoke(capsys, "eval", "--rescore", str(out), "--scorer", "math-verify-strict", "--json")
    assert code == 0, err
    assert "'eval --rescore DIR' is now 'openrs rescore DIR'" in err
    assert {c["task"]: c["answers"] for c in json.loads(stdout)} == {"aime24": 4, "math_500": 4}
    code, stdout, _ = invoke(capsys, "eval", "--rescore", str(out), "--dry-run")
    assert code == 0 and stdout.count("would rescore") == 2
