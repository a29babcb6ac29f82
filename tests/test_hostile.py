"""Silent misreads a hostile probe found: answers that are not answers, data a filter lost, secrets in URLs."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from tests.cli_helpers import assert_error, invoke
from tests.fake_openai import FakeOpenAI

EVAL = ["--tasks", "aime24", "--limit", "2", "--max-new-tokens", "8", "--retries", "1"]


def test_null_content_is_a_failed_request_never_a_score(capsys, tiny_model, data_dir, tmp_path):
    out = tmp_path / "ev"
    with FakeOpenAI(mode="null") as server:
        result = invoke(capsys, "eval", "--model", str(tiny_model), "--base-url", server.url, *EVAL,
                        "--data-dir", str(data_dir / "bench"), "--output-dir", str(out))  # fmt: skip
        assert server.requests == 4  # each of the 2 answers asked twice (1 retry)
    assert_error(result, 1, "incomplete", "reply without text")
    assert not (out / "cache.jsonl").exists() or not (out / "cache.jsonl").read_text().strip()
    assert not list(out.glob("results/*/results_*.json"))


def test_a_cached_null_text_is_generated_again_not_a_crash(capsys, tiny_model, data_dir, tmp_path):
    out = tmp_path / "ev"
    with FakeOpenAI() as server:
        args = ["eval", "--model", str(tiny_model), "--base-url", server.url, *EVAL,
                "--data-dir", str(data_dir / "bench"), "--output-dir", str(out)]  # fmt: skip
        code, _, err = invoke(capsys, *args)
        assert code == 0, err
        lines = [json.loads(x) for x in (out / "cache.jsonl").read_text().splitlines()]
        lines[0]["text"] = None  # as an older openrs or a hand edit could leave it
        (out / "cache.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
        code, stdout, err = invoke(capsys, *args)
        assert code == 0, err
    assert "2 answers needed, 1 cached, 1 to generate" in stdout + err


def test_filter_with_every_request_failing_exits_1_and_leaves_the_data(capsys, tmp_path, data_dir):
    from tests.test_data import open_rs_args

    data = tmp_path / "data"
    code, _, err = invoke(capsys, "data", "prepare", *open_rs_args(data_dir / "train", data_dir), "--output", str(data))
    assert code == 0, err
    before = (data / "train.parquet").read_bytes()
    with FakeOpenAI(mode="error500") as server:
        result = invoke(capsys, "data", "filter", "--dataset", str(data), "--model", "m", "--base-url", server.url,
                        "--samples", "1", "--limit", "2", "--max-new-tokens", "8")  # fmt: skip
    assert_error(result, 1, "generations failed", "no pass rate was written")
    assert (data / "train.parquet").read_bytes() == before
    assert "pass_rate" not in pq.read_table(data / "train.parquet").column_names


def test_a_password_in_the_base_url_is_never_printed(capsys, tiny_model, data_dir, tmp_path):
    url = "http://alice:s3cret-pw@127.0.0.1:9/v1?api_key=sk-abcdefghijklmnopqrstuvwx"
    result = invoke(capsys, "eval", "--model", str(tiny_model), "--base-url", url, *EVAL,
                    "--data-dir", str(data_dir / "bench"), "--output-dir", str(tmp_path / "e"))  # fmt: skip
    message = assert_error(result, 2, "cannot reach")
    assert "s3cret-pw" not in message and "sk-abc" not in message and "alice:<redacted>@127.0.0.1:9" in message
    assert "/v1?api_key=" in message  # /v1 stays in the path, before the query string
