"""Real servers for tests: `transformers serve` on a local model folder, on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout_s: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@contextmanager
def transformers_serve(model: Path, cache_dir: Path, port: int | None = None):
    """`transformers serve MODEL` (on `port`, else a free one); /v1/models needs an existing Hub cache dir, so it
    gets a temporary one."""
    beside = Path(sys.executable).parent / "transformers"  # the CLI of this interpreter's transformers
    exe = str(beside) if beside.is_file() else shutil.which("transformers")
    assert exe, "transformers CLI missing: pip install 'transformers[serving]'"
    port = port or free_port()
    cache_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache_dir)}
    log = open(cache_dir / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([exe, "serve", str(model), "--port", str(port)], env=env, stdout=log, stderr=log)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", 120, proc)
        yield f"http://127.0.0.1:{port}/v1", proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
