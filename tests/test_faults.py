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
from pathlib import Path

from tests.cli_helpers import REPO, run_openrs
from tests.servers import transformers_serve

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def eval_args(model, data_dir, out, *extra):
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
        str(data_dir / "bench"),
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


def test_sigkilled_eval_resumes_without_regenerating(tiny_model, data_dir, tmp_path):
    args = eval_args(tiny_model, data_dir, tmp_path / "killed", "--backend", "transformers", "--max-new-tokens", "96")
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
        *eval_args(tiny_model, data_dir, tmp_path / "fresh", "--backend", "transformers", "--max-new-tokens", "96")
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


def test_a_cache_line_cut_at_any_byte_of_non_ascii_text_is_regenerated(tmp_path):
    """A full disk cuts a line anywhere, also inside a multi-byte character: resume must still work."""
    from openrs_cli.eval.cache import AnswerCache

    good = json.dumps({"key": "a", "text": "ok"}).encode() + b"\n"
    line = json.dumps({"key": "b", "text": "θ = π/2 → √2 ≈ 1.41, 答案"}, ensure_ascii=False).encode()
    assert len(line) > len(line.decode())  # multi-byte characters in it
    for cut in range(1, len(line)):
        path = tmp_path / f"cache-{cut}.jsonl"
        path.write_bytes(good + line[:cut])
        cache = AnswerCache(path)
        assert cache.get("a")["text"] == "ok" and cache.get("b") is None, cut
        cache.put({"key": "b", "text": "again"})
        assert AnswerCache(path).get("b")["text"] == "again", cut
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(good + '{"key": "c", "text": "caf\xe9"}\n'.encode("latin-1"))
    assert AnswerCache(path).get("c") is None and AnswerCache(path).get("a")


def test_generation_server_dying_stops_the_eval_which_resumes_later(tiny_model, data_dir, tmp_path):
    out = tmp_path / "ev"
    with transformers_serve(tiny_model, tmp_path / "hub1") as (url, server):
        extra = ["--base-url", url, "--concurrency", "1", "--max-new-tokens", "256"]
        args = eval_args(tiny_model, data_dir, out, *extra)
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
    # the same server restarted at the same address (answers are keyed by the endpoint's URL and served name)
    with transformers_serve(tiny_model, tmp_path / "hub2", port=int(url.rsplit(":", 1)[1].split("/")[0])) as (url, _):
        args = eval_args(tiny_model, data_dir, out, "--base-url", url, "--max-new-tokens", "256")
        resumed = run_openrs(*args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"{done} cached, {24 - done} to generate" in resumed.stderr


def _prepare_argv(data_dir, out, seed):
    train = data_dir / "train"
    return [
        sys.executable, "-m", "openrs_cli", "data", "prepare", "--output", str(out), "--no-decontaminate",
        "--source", f"aime={train / 'aime_1983_2023.jsonl'}", "--source", f"math={train / 'math_train.jsonl'}",
        "--seed", str(seed), "--test-size", "5",
    ]  # fmt: skip


def _dataset_set(folder):
    """(train rows, test rows, seed in the recipe, seed in the card) of a prepared folder."""
    import pyarrow.parquet as pq
    import yaml

    recipe = yaml.safe_load((folder / "openrs_data.yaml").read_text())
    card = (folder / "README.md").read_text()
    return (
        pq.read_table(folder / "train.parquet").to_pylist(),
        pq.read_table(folder / "test.parquet").to_pylist(),
        recipe["seed"],
        re.search(r"seed (\d+)", card).group(1) if re.search(r"seed (\d+)", card) else None,
    )


def test_killed_prepare_leaves_the_old_set_or_the_new_one_whole(data_dir, tmp_path):
    """Killed at each named point of the write (the fault hook, not a guessed sleep): a reader finds the old set or
    the new one, whole; between the two renames the old set waits beside, and the next run puts things right."""
    old, new = tmp_path / "old", tmp_path / "new"
    for out, seed in ((old, 1), (new, 2)):
        subprocess.run(_prepare_argv(data_dir, out, seed), env=ENV, cwd=REPO, check=True, capture_output=True)
    expected = {1: _dataset_set(old), 2: _dataset_set(new)}
    target = tmp_path / "data"
    # writes 1-4 fill the staging folder; swap 1-3 are the steps of the swap itself
    for fault, seen in (("write:1", 1), ("write:4", 1), ("swap:1", 1), ("swap:2", None), ("swap:3", 2)):
        subprocess.run(_prepare_argv(data_dir, target, 1), env=ENV, cwd=REPO, check=True, capture_output=True)
        killed = subprocess.run(
            _prepare_argv(data_dir, target, 2), env={**ENV, "OPENRS_FAULT": fault}, cwd=REPO, capture_output=True
        )
        assert killed.returncode == -signal.SIGKILL, (fault, killed.stderr[-500:])
        if seen is None:  # between the renames: no set in place, the old one whole beside it
            assert not target.exists()
            (aside,) = tmp_path.glob(".data.old-*")
            assert _dataset_set(aside) == expected[1]
        else:
            visible = sorted(p.name for p in target.iterdir() if not p.name.startswith("."))
            assert visible == ["README.md", "openrs_data.yaml", "test.parquet", "train.parquet"], fault
            assert _dataset_set(target) == expected[seen], fault  # one set, whole: never new parquet, old card
        # the next run cleans whatever the kill left
        subprocess.run(_prepare_argv(data_dir, target, 2), env=ENV, cwd=REPO, check=True, capture_output=True)
        assert not list(tmp_path.glob(".data.*")) and _dataset_set(target) == expected[2], fault


def test_a_set_moved_aside_by_a_kill_between_renames_comes_back(tmp_path):
    from openrs_cli.atomic import replace_folder

    folder = tmp_path / "data"
    aside = tmp_path / ".data.old-12345"
    aside.mkdir()
    (aside / "train.parquet").write_text("old set")
    (tmp_path / ".data.staging-abc").mkdir()
    with replace_folder(folder, {"train.parquet"}) as staging:
        assert (folder / "train.parquet").read_text() == "old set"  # restored before the new set is written
        (staging / "train.parquet").write_text("new set")
    assert (folder / "train.parquet").read_text() == "new set"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_prepare_refuses_to_replace_a_folder_with_the_users_files(capsys, data_dir, tmp_path):
    from tests.cli_helpers import assert_error, invoke

    (tmp_path / "mine.txt").write_text("keep me")
    args = ["data", "prepare", "--output", str(tmp_path), "--source", f"a={data_dir / 'train/aime_1983_2023.jsonl'}"]
    assert_error(invoke(capsys, *args, "--no-decontaminate"), 2, "files openrs did not write", "mine.txt")
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_report_reads_every_input_before_writing_anything(capsys, data_dir, tmp_path):
    from tests.cli_helpers import assert_error, invoke

    out = tmp_path / "report"
    results = str(data_dir / "lighteval-results" / "overall")
    assert_error(invoke(capsys, "report", results, "--train-dir", "/nope", "--output-dir", str(out)), 2, "/nope")
    assert not out.exists()


def test_killed_report_leaves_whole_files_and_the_next_run_cleans_up(data_dir, tmp_path):
    """Killed at every one of its file writes in turn (the fault hook): each file is whole or absent, a kill's
    temporary is hidden, and the next run removes it."""
    out = tmp_path / "report"
    argv = [sys.executable, "-m", "openrs_cli", "report", str(data_dir / "lighteval-results"), "--output-dir", str(out)]
    writes = 0
    while True:
        writes += 1
        run = subprocess.run(argv, env={**ENV, "OPENRS_FAULT": f"write:{writes}"}, cwd=REPO, capture_output=True)
        if run.returncode == 0:  # fewer writes than that: the whole report was written
            break
        assert run.returncode == -signal.SIGKILL and writes < 40, run.stderr[-500:]
        assert list(out.glob(".*.tmp*")), writes  # the kill left its temporary, hidden
        if (out / "table.json").exists():
            json.loads((out / "table.json").read_text())  # whole, never cut
        for png in (p for p in out.glob("*.png") if not p.name.startswith(".")):
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.read_bytes()[-8:-4] == b"IEND"
    assert writes > 3  # tables and figures: several writes were each killed
    assert not list(out.glob(".*.tmp*"))  # the run that finished cleaned what the kills left


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_killed_eval_leaves_no_scoring_worker_behind(data_dir, tmp_path):
    from tests.fake_openai import FakeOpenAI

    for sig in (signal.SIGKILL, signal.SIGTERM):
        with FakeOpenAI(mode="hang") as server:
            argv = [
                sys.executable, "-m", "openrs_cli", "eval", "--model", "fake/model", "--base-url", server.url,
                "--tasks", "aime24,amc23", "--samples", "4", "--limit", "3", "--scoring-workers", "2",
                "--data-dir", str(data_dir / "bench"), "--output-dir", str(tmp_path / f"o{sig}"),
            ]  # fmt: skip
            proc = subprocess.Popen(argv, env=ENV, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 120
            while server.in_flight < 4 or len(_children(proc.pid)) < 3:  # generating, pool (2) + tracker up
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
            helpers = _children(proc.pid)
            proc.send_signal(sig)
            proc.wait(30)
            deadline = time.monotonic() + 20
            while any(_alive(p) for p in helpers) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not [p for p in helpers if _alive(p)], sig


def test_ctrl_c_stops_an_eval_promptly_with_one_line(data_dir, tmp_path):
    from tests.fake_openai import FakeOpenAI

    with FakeOpenAI(mode="hang") as server:
        argv = [
            sys.executable, "-m", "openrs_cli", "eval", "--model", "fake/model", "--base-url", server.url,
            "--tasks", "aime24", "--samples", "4", "--limit", "3", "--scoring-workers", "2",
            "--data-dir", str(data_dir / "bench"), "--output-dir", str(tmp_path / "o"),
        ]  # fmt: skip
        proc = subprocess.Popen(
            argv, env=ENV, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while server.in_flight < 4:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(0.5)
        start = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - start
    assert proc.returncode == 130 and took < 10
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if x.strip() and not x.startswith("openrs: fake/model:")]  # progress
    assert lines == [lines[-1]] and lines[-1].startswith("openrs: interrupted:") and "resume" in lines[-1]


def test_an_eval_into_an_unwritable_folder_stops_before_generating(data_dir, tmp_path):
    from tests.cli_helpers import assert_error
    from tests.fake_openai import FakeOpenAI

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with FakeOpenAI() as server:
        result = run_openrs(
            "eval", "--model", "fake/model", "--base-url", server.url, "--tasks", "aime24", "--limit", "2",
            "--data-dir", str(data_dir / "bench"), "--output-dir", str(blocker / "out"),
        )  # fmt: skip
        assert server.requests == 0
    assert_error(result, 2, "not writable", str(blocker / "out"))


def test_two_evals_on_one_folder_do_not_both_generate(data_dir, tmp_path):
    from tests.cli_helpers import assert_error
    from tests.fake_openai import FakeOpenAI

    with FakeOpenAI(mode="hang") as server:
        argv = [
            "eval", "--model", "fake/model", "--base-url", server.url, "--tasks", "aime24", "--limit", "2",
            "--data-dir", str(data_dir / "bench"), "--output-dir", str(tmp_path / "o"),
        ]  # fmt: skip
        first = subprocess.Popen([sys.executable, "-m", "openrs_cli", *argv], env=ENV, cwd=REPO,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 120
        while server.in_flight < 2:
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        second = run_openrs(*argv)
        first.kill()
        first.wait()
    assert_error(second, 2, "in use by another openrs eval", f"pid {first.pid}")
