"""Faults: a killed eval, a kill during a write, a generation server that dies mid-eval."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time

from tests.cli_helpers import REPO, run_openrs
from tests.servers import transformers_serve

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def eval_args(model, shared_dir, out, *extra):
    return [
        "eval",
        "--model",
        str(model),
        "--tasks",
        "aime24,amc23",
        "--limit",
        "3",
        "--samples",
        "4",
        "--data-dir",
        str(shared_dir / "data/bench"),
        "--output-dir",
        str(out),
        "--json",
        *extra,
    ]


def cache_lines(out) -> list[dict]:
    path = out / "cache.jsonl"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a line being written right now
            rows.append(json.loads(line))
    return rows


def test_sigkilled_eval_resumes_without_regenerating(tiny_model, shared_dir, tmp_path):
    args = eval_args(tiny_model, shared_dir, tmp_path / "killed", "--backend", "transformers", "--max-new-tokens", "96")
    proc = subprocess.Popen(
        [sys.executable, "-m", "openrs_cli", *args],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while len(cache_lines(tmp_path / "killed")) < 3:
        assert proc.poll() is None and time.monotonic() < deadline, "eval ended before it could be killed"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    cached = len(cache_lines(tmp_path / "killed"))
    assert 3 <= cached < 24

    resumed = run_openrs(*args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    match = re.search(r"24 answers needed, (\d+) cached, (\d+) to generate", resumed.stderr)
    assert match and int(match.group(1)) == cached and int(match.group(2)) == 24 - cached
    keys = [r["key"] for r in cache_lines(tmp_path / "killed")]
    assert len(keys) == len(set(keys)) == 24  # nothing generated twice

    fresh = run_openrs(
        *eval_args(tiny_model, shared_dir, tmp_path / "fresh", "--backend", "transformers", "--max-new-tokens", "96")
    )
    a, b = json.loads(resumed.stdout), json.loads(fresh.stdout)
    for task in ("aime24", "amc23"):
        assert a["tasks"][task]["avg_at_k"] == b["tasks"][task]["avg_at_k"]
    texts = lambda out: {r["key"]: r["text"] for r in cache_lines(out)}  # noqa: E731
    assert texts(tmp_path / "killed") == texts(tmp_path / "fresh")


def test_kill_during_a_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "results.json"
    code = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from openrs_cli.atomic import write_bytes_via\n"
        "def writer(tmp):\n"
        "    with open(tmp, 'w') as fh:\n"
        "        fh.write('{\"half\": ')\n"
        "        fh.flush()\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        f"write_bytes_via(Path({str(target)!r}), writer)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO)
    assert result.returncode == -signal.SIGKILL
    assert not target.exists()
    # and a write that completes replaces the file whole
    from openrs_cli.atomic import write_json

    write_json(target, {"ok": 1})
    assert json.loads(target.read_text()) == {"ok": 1}


def test_cut_cache_line_is_ignored_and_rewritten(tmp_path):
    from openrs_cli.eval.cache import AnswerCache

    path = tmp_path / "cache.jsonl"
    path.write_text('{"key": "a", "text": "one"}\n{"key": "b", "te')
    cache = AnswerCache(path)
    assert cache.get("a") and cache.get("b") is None
    cache.put({"key": "b", "text": "two"})
    assert AnswerCache(path).get("b")["text"] == "two"


def test_generation_server_dying_stops_the_eval_which_resumes_later(tiny_model, shared_dir, tmp_path):
    out = tmp_path / "ev"
    with transformers_serve(tiny_model, tmp_path / "hub1") as (url, server):
        extra = ["--base-url", url, "--concurrency", "1", "--max-new-tokens", "256"]
        args = eval_args(tiny_model, shared_dir, out, *extra)
        proc = subprocess.Popen(
            [sys.executable, "-m", "openrs_cli", *args],
            cwd=REPO,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 300
        while len(cache_lines(out)) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.01)
        server.kill()
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err[-2000:]
    lines = [x for x in err.splitlines() if x.startswith("openrs: error:")]
    assert len(lines) == 1 and "stopped answering" in lines[0] and "run the same command again" in lines[0]
    done = len(cache_lines(out))
    assert done < 24
    with transformers_serve(tiny_model, tmp_path / "hub2") as (url, _):
        args = eval_args(tiny_model, shared_dir, out, "--base-url", url, "--max-new-tokens", "256")
        resumed = run_openrs(*args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"{done} cached, {24 - done} to generate" in resumed.stderr
