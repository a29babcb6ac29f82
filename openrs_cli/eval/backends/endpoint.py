"""Any OpenAI-compatible chat-completions server: vLLM, `transformers serve`, a hosted API.

One request per sample (some servers ignore `n`), sent with aiohttp from one asyncio event loop with
exactly `concurrency` requests in flight (the connection pool is sized to match, so nothing caps it
lower; httpx's async pool was measured 10-40x slower at a few hundred connections).
Retries with backoff for connection errors, timeouts, 429 and 5xx. A reply that cannot be had is
reported as an error, never scored. If the server stops answering altogether (refused connections,
or every retry of a request timed out) the run stops with one line: cached answers make the rerun
cheap.
"""

from __future__ import annotations

import asyncio
import json
import os

from openrs_cli.errors import BadInputError, RuntimeFailure
from openrs_cli.eval.backends.base import GenRequest, GenResult, OnResult, Sampling

RETRYABLE = {408, 409, 429, 500, 502, 503, 504}
DEFAULT_REQUEST_TIMEOUT_S = 3600.0


class ServerGone(Exception):
    """The server refused connections, or kept timing out, even after retries."""


class EndpointBackend:
    name = "endpoint"

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        fallback_model: str | None = None,
        concurrency: int = 16,
        retries: int = 4,
        timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
        api_key_env: str = "OPENAI_API_KEY",
        backoff_s: float = 1.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        self.headers = {}
        if os.environ.get(api_key_env):
            self.headers["Authorization"] = f"Bearer {os.environ[api_key_env]}"
        self.concurrency, self.retries = max(1, concurrency), retries
        self.timeout_s, self.backoff_s = timeout_s, backoff_s
        self.model = model or self._first_model() or fallback_model or ""

    def _get_models(self):
        import httpx

        return httpx.get(f"{self.base_url}/models", headers=self.headers, timeout=10)

    def _first_model(self) -> str | None:
        """The server's first listed model; None when it lists none (e.g. `transformers serve`)."""
        import httpx

        try:
            response = self._get_models()
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
            self._get_models()
        except httpx.HTTPError as exc:
            raise BadInputError(
                f"cannot reach an OpenAI-compatible server at {self.base_url} ({type(exc).__name__})",
                "check --base-url and that the server is running",
            ) from exc

    def _body(self, request: GenRequest, sampling: Sampling) -> dict:
        return {
            "model": self.model,
            "messages": list(request.messages),
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
            "seed": request.seed,
            "n": 1,
        }

    async def _post(self, session, body: dict) -> tuple[int, str]:
        async with session.post(f"{self.base_url}/chat/completions", json=body) as response:
            return response.status, await response.text()

    async def _one(self, session, request: GenRequest, sampling: Sampling) -> GenResult:
        import aiohttp

        body = self._body(request, sampling)
        delay, last, timeouts = self.backoff_s, "", 0
        for attempt in range(self.retries + 1):
            try:
                status, text = await self._post(session, body)
            except TimeoutError as exc:  # aiohttp's timeouts are TimeoutError subclasses
                timeouts += 1
                last = f"no answer within {self.timeout_s:g} s ({type(exc).__name__})"
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                last = type(exc).__name__
                if attempt == self.retries:
                    raise ServerGone(last) from exc
            else:
                if status == 200:
                    try:
                        return _parse(json.loads(text))
                    except ValueError:
                        return GenResult("", "error", 0, f"malformed reply: {text[:200]}")
                last = f"HTTP {status}: {text[:200]}"
                if status not in RETRYABLE:
                    break
            if attempt < self.retries:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        if timeouts == self.retries + 1:
            raise ServerGone(f"{last}, {timeouts} times")
        return GenResult("", "error", 0, last)

    async def _generate(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=self.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s, connect=min(10.0, self.timeout_s))
        queue: asyncio.Queue[GenRequest] = asyncio.Queue()
        for request in requests:  # in the caller's order (longest expected answers first)
            queue.put_nowait(request)

        async with aiohttp.ClientSession(headers=self.headers, timeout=timeout, connector=connector) as session:

            async def worker() -> None:
                while not queue.empty():
                    request = queue.get_nowait()
                    on_result(request, await self._one(session, request, sampling))

            workers = [asyncio.create_task(worker()) for _ in range(min(self.concurrency, len(requests)))]
            try:
                await asyncio.gather(*workers)
            finally:
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)

    def generate(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:
        try:
            asyncio.run(self._generate(requests, sampling, on_result))
        except ServerGone as exc:
            raise RuntimeFailure(
                f"the generation server at {self.base_url} stopped answering ({exc})",
                "answers so far are cached: run the same command again to resume"
                + ("" if "within" not in str(exc) else ", or raise --request-timeout"),
            ) from exc

    def close(self) -> None:
        pass


def _parse(payload: dict) -> GenResult:
    try:
        choice = payload["choices"][0]
        text = choice["message"].get("content") or ""
        tokens = (payload.get("usage") or {}).get("completion_tokens", 0) or 0
        return GenResult(text, choice.get("finish_reason") or "stop", int(tokens))
    except (KeyError, IndexError, TypeError, AttributeError):
        return GenResult("", "error", 0, f"malformed reply: {str(payload)[:200]}")
