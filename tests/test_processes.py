"""Real processes started, watched and stopped together (short Python programs stand in for vLLM)."""

from __future__ import annotations

import sys
import time

import pytest

from openrs_cli.errors import RuntimeFailure
from openrs_cli.processes import ProcessSpec, http_ready, run_together

PY = sys.executable
SERVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path.startswith("/health") else 404); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_server_is_awaited_then_stopped_when_training_ends(tmp_path):
    port = free_port()
    marker = tmp_path / "trained"
    procs = [
        ProcessSpec("vllm", [PY, "-c", SERVER, str(port)], log="server.log"),
        ProcessSpec("train", [PY, "-c", f"open({str(marker)!r}, 'w').write('ok')"]),
    ]
    messages: list[str] = []
    assert run_together(procs, tmp_path, http_ready(f"http://127.0.0.1:{port}/health/"), 30, messages.append) == 0
    assert marker.read_text() == "ok"
    assert "generation server is ready" in messages
    with pytest.raises(OSError):
        import urllib.request

        urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=1)


def test_training_is_stopped_when_the_server_dies(tmp_path):
    port = free_port()
    pid_file = tmp_path / "train.pid"
    dying_server = SERVER.replace("serve_forever()", "timeout = 0.2\nimport time; time.sleep(1.5)")
    trainer = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    procs = [
        ProcessSpec("vllm", [PY, "-c", dying_server, str(port)], log="s.log"),
        ProcessSpec("train", [PY, "-c", trainer]),
    ]
    start = time.monotonic()
    with pytest.raises(RuntimeFailure, match="server died with code 0 during training") as info:
        run_together(procs, tmp_path, lambda: True, 30, lambda _: None)
    assert "resume" in info.value.one_line()
    assert time.monotonic() - start < 30
    assert not alive(int(pid_file.read_text()))


def test_server_that_exits_before_ready_is_reported(tmp_path):
    procs = [
        ProcessSpec("vllm", [PY, "-c", "raise SystemExit(3)"], log="s.log"),
        ProcessSpec("train", [PY, "-c", ""]),
    ]
    with pytest.raises(RuntimeFailure, match="exited with code 3 before it was ready"):
        run_together(procs, tmp_path, lambda: False, 30, lambda _: None)


def test_readiness_timeout_names_the_log(tmp_path):
    procs = [
        ProcessSpec("vllm", [PY, "-c", "import time; time.sleep(60)"], log="s.log"),
        ProcessSpec("train", [PY]),
    ]
    with pytest.raises(RuntimeFailure, match="not ready after 1 s") as info:
        run_together(procs, tmp_path, lambda: False, 1, lambda _: None)
    assert "s.log" in info.value.one_line()


def test_failed_training_is_a_runtime_failure(tmp_path):
    with pytest.raises(RuntimeFailure, match="training exited with code 7"):
        run_together([ProcessSpec("train", [PY, "-c", "raise SystemExit(7)"])], tmp_path, None, 1, lambda _: None)


def test_a_followed_trainer_log_shows_the_chosen_lines_and_keeps_every_line(tmp_path):
    """The demo's terminal: the trainer writes to its log file; only the lines `echo` keeps are said, in order,
    including those written just before it exits; a line written in two pieces arrives whole."""
    program = (
        "import sys, time\n"
        "print('{\\'loss\\': 0.1}'); print('openrs: step 1/2'); sys.stdout.flush(); time.sleep(0.6)\n"
        "sys.stdout.write('openrs: st'); sys.stdout.flush(); time.sleep(0.6)\n"
        "print('ep 2/2'); print('a library warning'); print('openrs: done')\n"
    )
    said: list[str] = []
    spec = ProcessSpec("train", [PY, "-u", "-c", program], log="train.log")
    echo = lambda line: line.removeprefix("openrs: ") if line.startswith("openrs: ") else None  # noqa: E731
    assert run_together([spec], tmp_path, None, 1, said.append, echo=echo) == 0
    assert said == ["step 1/2", "step 2/2", "done"]
    log = (tmp_path / "train.log").read_text()
    assert "{'loss': 0.1}" in log and "a library warning" in log


def test_a_failed_followed_trainer_names_its_log(tmp_path):
    spec = ProcessSpec("train", [PY, "-c", "print('boom'); raise SystemExit(3)"], log="train.log")
    with pytest.raises(RuntimeFailure) as failure:
        run_together([spec], tmp_path, None, 1, lambda _: None, echo=lambda line: None)
    assert "code 3" in str(failure.value) and str(tmp_path / "train.log") in str(failure.value.hint)


def test_a_logged_child_killed_mid_run_keeps_its_last_lines_in_the_log(tmp_path, monkeypatch):
    """A server's log is what a user reads when it dies: lines printed just before a SIGKILL are in it."""
    from openrs_cli.processes import start_process

    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)

    code = "import os, signal; print('loaded the model'); os.kill(os.getpid(), signal.SIGKILL)"
    proc = start_process(ProcessSpec("vllm", [PY, "-c", code], {}, "child.log"), tmp_path)
    assert proc.wait(timeout=30) == -9
    assert "loaded the model" in (tmp_path / "child.log").read_text()
