"""The endpoint client against a fake OpenAI-compatible server (loopback): requests in flight, failures
that must not read as scores, servers that hang. The real server tests are in test_eval.py."""

from __future__ import annotations

import json
import time

from tests.cli_helpers import assert_error, invoke, run_openrs
from tests.fake_openai import FakeOpenAI


def eval_args(url, data_dir, out, *extra):
    return [
        "eval",
        "--model",
        "fake/model",
        "--base-url",
        url,
        "--tasks",
        "aime24,amc23",
        "--data-dir",
        str(data_dir / "bench"),
        "--output-dir",
        str(out),
        *extra,
    ]


def test_the_endpoint_keeps_exactly_concurrency_requests_in_flight(capsys, data_dir, tmp_path):
    with FakeOpenAI(latency_s=0.3) as server:
        code, _, err = invoke(
            capsys, *eval_args(server.url, data_dir, tmp_path / "o", "--samples", "8", "--concurrency", "50")
        )
        assert code == 0, err
        assert server.requests == (8 + 10) * 8 and server.peak_in_flight == 50


def test_longest_expected_answers_are_sent_first(capsys, data_dir, tmp_path):
    with FakeOpenAI() as server:
        args = eval_args(server.url, data_dir, tmp_path / "o", "--tasks", "math_500,aime24", "--limit", "2")
        code, _, err = invoke(capsys, *args, "--concurrency", "1")
        assert code == 0, err
    cache = [json.loads(x) for x in (tmp_path / "o" / "cache.jsonl").read_text().splitlines()]
    assert [r["task"] for r in cache] == ["aime24", "aime24", "math_500", "math_500"]


def test_throughput_is_recorded_per_task_and_in_the_summary(capsys, data_dir, tmp_path):
    with FakeOpenAI(tokens=50) as server:
        code, _, err = invoke(capsys, *eval_args(server.url, data_dir, tmp_path / "o", "--limit", "3"))
        assert code == 0, err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["throughput"]["generated_requests"] == 6 and summary["throughput"]["generated_tokens"] == 300
    aime = summary["tasks"]["aime24"]["throughput"]
    assert aime["generated_tokens"] == 150 and aime["tokens_per_second"] > 0
    result = json.loads(next((tmp_path / "o" / "results").rglob("results_aime24_*.json")).read_text())
    assert result["openrs"]["throughput"]["generated_requests"] == 3
    code, out, err = invoke(capsys, "report", str(tmp_path / "o"), "--no-quoted", "--no-figures", "--output-dir",
                            str(tmp_path / "r"))  # fmt: skip
    assert code == 0, err
    assert "Generation speed" in out and "aime24:" in out and "tokens/s" in out
    rows = json.loads((tmp_path / "r" / "table.json").read_text())
    assert rows[0]["throughput"]["aime24"]["generated_tokens"] == 150


def test_a_server_failing_every_request_writes_no_score(capsys, data_dir, tmp_path):
    out = tmp_path / "o"
    with FakeOpenAI(mode="error500") as server:
        line = assert_error(
            invoke(capsys, *eval_args(server.url, data_dir, out, "--limit", "2", "--retries", "0")), 1, "incomplete"
        )
    assert "no score was written" in line
    assert not list(out.rglob("results_*.json"))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"]["aime24"] == {"complete": False, "failed": 2, "answers": 0, "expected": 2}
    assert summary["average"] is None
    # and the report leaves it out, saying so (here nothing is left: a one-line error after the notes)
    result = invoke(capsys, "report", str(out), "--no-quoted", "--no-figures", "--output-dir", str(tmp_path / "r"))
    assert_error(result, 2, "no lighteval result files")
    assert "skipped fake/model aime24" in result[2] and "incomplete" in result[2]


def test_a_server_that_never_answers_stops_the_eval_in_one_line(data_dir, tmp_path):
    with FakeOpenAI(mode="hang") as server:
        start = time.monotonic()
        result = run_openrs(
            *eval_args(
                server.url, data_dir, tmp_path / "o", "--limit", "1", "--request-timeout", "0.5", "--retries", "1"
            ),
            timeout=120,
        )
        took = time.monotonic() - start
    line = assert_error(result, 1, "stopped answering", "within 0.5 s")
    assert "--request-timeout" in line and took < 60


def test_per_request_seeds_reach_the_server(capsys, data_dir, tmp_path):
    with FakeOpenAI() as server:
        code, _, err = invoke(
            capsys, *eval_args(server.url, data_dir, tmp_path / "o", "--limit", "2", "--samples", "2")
        )
        assert code == 0, err
        seeds = list(server.seeds)
    assert len(seeds) == 8 and len(set(seeds)) == 8 and all(isinstance(s, int) for s in seeds)


def test_piped_output_gets_plain_progress_lines(data_dir, tmp_path):
    """Not a terminal (Slurm logs, nohup): a plain line every 10% (or 30 s), not silence."""
    with FakeOpenAI(latency_s=0.5) as server:
        result = run_openrs(*eval_args(server.url, data_dir, tmp_path / "o", "--samples", "5", "--concurrency", "4"))
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [x for x in result.stderr.splitlines() if x.startswith("openrs: answers generated: ")]
    assert len(lines) >= 4 and lines[-1].startswith("openrs: answers generated: 90/90 (100%)")
    assert "tok/s" in lines[0] and "left" in lines[0]


def test_plain_progress_prints_every_tenth_or_every_30_seconds():
    from openrs_cli.progress import PlainProgress

    now = [0.0]
    out: list[str] = []
    progress = PlainProgress("x", 1000, write=out.append, clock=lambda: now[0])
    for _ in range(200):
        progress.advance()
    assert out == []  # the first seconds are quiet: quick work prints nothing
    now[0] = 6.0
    progress.advance()
    assert len(out) == 1 and "201/1000" in out[0]  # past the quiet seconds, and 10% since the last line
    for _ in range(98):
        progress.advance()
    assert len(out) == 1
    now[0] = 40.0
    progress.advance()
    assert len(out) == 2 and "300/1000 (30%)" in out[1]  # 30 s since the last line
    for _ in range(99):
        progress.advance()
    assert len(out) == 2
    progress.advance()
    assert len(out) == 3 and "400/1000" in out[2]


def test_a_prompt_template_and_system_prompt_replace_the_papers(capsys, data_dir, tmp_path):
    template = tmp_path / "prompt.txt"
    template.write_text("Problem: {question}\nPut the answer in \\boxed{}.")
    out = tmp_path / "o"
    with FakeOpenAI() as server:
        args = eval_args(server.url, data_dir, out, "--tasks", "aime24", "--limit", "1")
        code, _, err = invoke(capsys, *args, "--prompt-template", str(template), "--system-prompt", "Be brief.")
        assert code == 0, err
        custom = server.messages[-1]
        code, _, err = invoke(capsys, *args)  # the paper's prompt again: not served from the custom cache
        assert code == 0, err
        assert server.requests == 2
    problem = json.loads((data_dir / "bench" / "aime24.jsonl").read_text().splitlines()[0])["problem"]
    assert custom == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": f"Problem: {problem}\nPut the answer in \\boxed{{}}."},
    ]
    assert server.messages[-1][0]["content"].startswith("Solve the following math problem efficiently and clearly.")


def test_a_template_without_its_placeholder_is_refused(capsys, tmp_path):
    template = tmp_path / "prompt.txt"
    template.write_text("No placeholder here.")
    result = invoke(capsys, "eval", "--model", "org/m", "--prompt-template", str(template), "--dry-run")
    assert_error(result, 2, "{question}")
