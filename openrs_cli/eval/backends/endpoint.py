"""Any OpenAI-compatible chat-completions server: vLLM, `transformers serve`, a hosted API.

One request per sample (some servers ignore `n`), bounded concurrency, retries with backoff for
connection errors, 429 and 5xx. A reply that cannot be had is reported as an error, never scored.
If the server stops answering altogether the run stops: cached answers make the rerun cheap.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from openrs_cli.errors import BadInputError, RuntimeFailure
from openrs_cli.eval.backends.base import GenRequest, GenResult, OnResult, Sampling

RETRYABLE = {408, 409, 429, 500, 502, 503, 504}


class ServerGone(Exception):
    """The server refused connections even after retries."""


class EndpointBackend:
    name = "endpoint"

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        fallback_model: str | None = None,
        concurrency: int = 16,
        retries: int = 4,
        timeout_s: float = 3600.0,
        api_key_env: str = "OPENAI_API_KEY",
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        headers = {}
        if os.environ.get(api_key_env):
            headers["Authorization"] = f"Bearer {os.environ[api_key_env]}"
        self.client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s, connect=10.0))
        self.concurrency, self.retries = max(1, concurrency), retries
        self.model = model or self._first_model() or fallback_model or ""
        self.failed = 0
        self._lock = threading.Lock()

    def _first_model(self) -> str | None:
        """The server's first listed model; None when it lists none (e.g. `transformers serve`)."""
        import httpx

        try:
            response = self.client.get(f"{self.base_url}/models", timeout=10)
            response.raise_for_status()
            data = response.json().get("data") or []
            return data[0]["id"] if data else None
        except (httpx.HTTPError, KeyError, IndexError, ValueError, AttributeError) as exc:
            raise BadInputError(
                f"cannot reach an OpenAI-compatible server at {self.base_url} ({type(exc).__name__})",
                "check --base-url and that the server is running",
            ) from exc

    def check(self) -> None:
        """Fail fast, with one line, when the server is not there."""
        import httpx

        try:
            self.client.get(f"{self.base_url}/models", timeout=10)
        except httpx.HTTPError as exc:
            raise BadInputError(
                f"cannot reach an OpenAI-compatible server at {self.base_url} ({type(exc).__name__})",
                "check --base-url and that the server is running",
            ) from exc

    def _one(self, request: GenRequest, sampling: Sampling) -> GenResult:
        import httpx

        body = {
            "model": self.model,
            "messages": list(request.messages),
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
            "seed": request.seed,
            "n": 1,
        }
        delay, last = 1.0, ""
        for attempt in range(self.retries + 1):
            try:
                response = self.client.post(f"{self.base_url}/chat/completions", json=body)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                last = f"{type(exc).__name__}"
                if attempt == self.retries:
                    raise ServerGone(last) from exc
            else:
                if response.status_code == 200:
                    return _parse(response.json())
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code not in RETRYABLE:
                    break
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
        return GenResult("", "error", 0, last)

    def generate(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:
        def run(request: GenRequest) -> None:
            result = self._one(request, sampling)
            if result.finish_reason == "error":
                with self._lock:
                    self.failed += 1
            on_result(request, result)

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [pool.submit(run, r) for r in requests]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                exc = future.exception()
                if isinstance(exc, ServerGone):
                    for other in pending:
                        other.cancel()
                    raise RuntimeFailure(
                        f"the generation server at {self.base_url} stopped answering ({exc})",
                        "answers so far are cached: run the same command again to resume",
                    ) from exc
                if exc is not None:
                    raise exc

    def close(self) -> None:
        self.client.close()


def _parse(payload: dict) -> GenResult:
    try:
        choice = payload["choices"][0]
        text = choice["message"].get("content") or ""
        tokens = (payload.get("usage") or {}).get("completion_tokens", 0) or 0
        return GenResult(text, choice.get("finish_reason") or "stop", int(tokens))
    except (KeyError, IndexError, TypeError, AttributeError):
        return GenResult("", "error", 0, f"malformed reply: {str(payload)[:200]}")
