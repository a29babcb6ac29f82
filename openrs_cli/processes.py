"""Child processes for train and eval: start, wait until ready, run together, stop together.

A plan describes each child as a `ProcessSpec`; `run_together` starts the servers, waits for them
with a clear timeout, starts the trainers, and stops everything when one dies or on Ctrl-C. Each
child runs in its own process group (a stop reaches accelerate's workers too) and, on Linux, gets
SIGTERM when openrs itself dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openrs_cli.errors import RuntimeFailure

POLL_S = 0.5


@dataclass
class ProcessSpec:
    role: str  # "vllm" (a server) or "train"
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    log: str | None = None  # file name in the run's folder; None: the parent's stdout/stderr


def http_ready(url: str) -> Callable[[], bool]:
    import urllib.error
    import urllib.request  # here, not at import: `openrs --help` loads this module

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False

    return check


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if openrs itself is killed (even with SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start_process(spec: ProcessSpec, log_dir: Path, stdout_to_stderr: bool = False) -> subprocess.Popen:
    env = {**os.environ, **spec.env}
    out = sys.stderr if stdout_to_stderr else None
    if spec.log:
        log_dir.mkdir(parents=True, exist_ok=True)
        out = open(log_dir / spec.log, "ab")  # noqa: SIM115 - closed when the process ends
        # Python buffers a file stdout in blocks: a child that is killed or crashes would lose its last lines,
        # the ones a user reads to learn why it died.
        env.setdefault("PYTHONUNBUFFERED", "1")
    return subprocess.Popen(
        spec.argv,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )


def stop(proc: subprocess.Popen, grace_s: float = 20.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `grace_s`."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_ready(
    servers: list[tuple[str, subprocess.Popen, Path]],
    ready: Callable[[], bool],
    timeout_s: float,
    hint: str = "",
    what: str = "",
) -> None:
    """Poll `ready` until it holds; a server that exits first, or the timeout, is a one-line failure.

    With no `servers` (one another machine runs), `what` names it in the timeout's line."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        for role, proc, log in servers:
            if proc.poll() is not None:
                raise RuntimeFailure(
                    f"{role} server exited with code {proc.returncode} before it was ready", f"see {log}"
                )
        if time.monotonic() > deadline:
            if not servers:
                raise RuntimeFailure(f"{what} not ready after {timeout_s:.0f} s", hint)
            role, _, log = servers[0]
            raise RuntimeFailure(
                f"{role} server not ready after {timeout_s:.0f} s", f"see {log}" + (f"; {hint}" if hint else "")
            )
        time.sleep(POLL_S)


class LogFollower:
    """The complete lines appended to a file since the last call (the file may not exist yet)."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.partial = path, 0, b""

    def new_lines(self) -> list[str]:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        return [line.decode(errors="replace").rstrip("\r") for line in lines]


def _echo_new(followers: list[LogFollower], echo, say: Callable[[str], None]) -> None:
    for follower in followers:
        for line in follower.new_lines():
            if (shown := echo(line)) is not None:
                say(shown)


def run_together(
    processes: list[ProcessSpec],
    log_dir: Path,
    ready: Callable[[], bool] | None = None,
    ready_timeout_s: float = 900.0,
    say: Callable[[str], None] = print,
    stdout_to_stderr: bool = False,
    echo: Callable[[str], str | None] | None = None,
) -> int:
    """Run a plan's processes; returns the training exit code (0 on success) or raises RuntimeFailure.

    With `echo`, a trainer that writes to a log file is followed: each new line goes through `echo`, and what it
    returns (None: nothing) is said, so the terminal shows chosen lines and the file keeps everything."""
    servers = [p for p in processes if p.role != "train"]
    trainers = [p for p in processes if p.role == "train"]
    running: list[tuple[ProcessSpec, subprocess.Popen]] = []
    try:
        for spec in servers:
            proc = start_process(spec, log_dir)
            running.append((spec, proc))
            say(f"started {spec.role} (pid {proc.pid}), log: {log_dir / spec.log if spec.log else 'stdout'}")
        if servers and ready is not None:
            wait_ready(
                [(spec.role, proc, log_dir / (spec.log or "")) for spec, proc in running],
                ready,
                ready_timeout_s,
                "raise --server-timeout for large models",
            )
            say("generation server is ready")
        for spec in trainers:
            running.append((spec, start_process(spec, log_dir, stdout_to_stderr)))
        followers = [LogFollower(log_dir / spec.log) for spec in trainers if spec.log and echo]
        while True:
            _echo_new(followers, echo, say)
            for spec, proc in running:
                code = proc.poll()
                if code is None:
                    continue
                if spec.role == "train":
                    _echo_new(followers, echo, say)
                    if code != 0:
                        where = f"see {log_dir / spec.log}" if spec.log else "see the log above"
                        raise RuntimeFailure(f"training exited with code {code}", where)
                    return 0
                if not trainers:  # a node that only serves (the vllm-node layout's vLLM node)
                    raise RuntimeFailure(
                        f"{spec.role} server exited with code {code}", f"see {log_dir / (spec.log or '')}"
                    )
                raise RuntimeFailure(
                    f"{spec.role} server died with code {code} during training; training was stopped",
                    f"see {log_dir / (spec.log or '')}, then run the same command again to resume",
                )
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        say("interrupted: stopping every process")
        raise
    finally:
        for _, proc in reversed(running):
            stop(proc)
