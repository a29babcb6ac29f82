"""Any OpenAI-compatible chat-completions server: vLLM, `transformers serve`, a hosted API.

One request per sample (some servers ignore `n`), sent with aiohttp from one asyncio event loop with
exactly `concurrency` requests in flight (the connection pool is sized to match, so nothing caps it
lower; httpx's async pool was measured 10-40x slower at a few hundred connections).
Every sampling field is sent explicitly (a server fills gaps from the model's generation_config.json).
With a tokenizer, prompts go as token ids to `/completions` (the exact tokens openrs chose, see
`PROMPT_TOKENS`); without one, as messages to `/chat/completions` and the server templates them.
Retries with backoff for connection errors, timeouts, 429 and 5xx. A reply that cannot be had (or one
without text, such as `content: null` from a reasoning parser) is retried, then reported as an error,
never scored. If the server stops answering altogether (refused connections, or every retry of a request
timed out) the run stops with one line: cached answers make the rerun cheap.
"""

from __future__ import annotations

import asyncio
import json
import os

from openrs_cli.errors import BadInputError, RuntimeFailure
from openrs_cli.eval.backends.base import GenRequest, GenResult, OnResult, Sampling
from openrs_cli.eval.prompts import prompt_digest, prompt_token_ids
from openrs_cli.secrets import redact_url

RETRYABLE = {408, 409, 429, 500, 502, 503, 504}
# sampling fields beyond OpenAI's (vLLM and SGLang take them); each with the value that means "off"
EXTENSIONS = {"top_k": -1, "min_p": 0.0, "repetition_penalty": 1.0}
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
        concurrency: int = 64,
        retries: int = 4,
        timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
        api_key_env: str = "OPENAI_API_KEY",
        backoff_s: float = 1.0,
        tokenizer=None,
        prompt_tokens: str = "server",
    ) -> None:
        self.base_url = api_base(base_url)
        self.shown_url = redact_url(self.base_url)
        self.tokenizer, self.prompt_tokens = tokenizer, prompt_tokens
        self.extensions = True  # send EXTENSIONS; dropped (with a note) by a server that rejects them
        self.notes: list[str] = []
        if prompt_tokens != "server" and tokenizer is None:
            raise BadInputError(f"--prompt-tokens {prompt_tokens} needs the model's tokenizer", "give --model")
        self.headers = {}
        if os.environ.get(api_key_env):
            self.headers["Authorization"] = f"Bearer {os.environ[api_key_env]}"
        self.concurrency, self.retries = max(1, concurrency), retries
        self.timeout_s, self.backoff_s = timeout_s, backoff_s
        self.model = model or self._first_model() or fallback_model or ""

    @classmethod
    def for_settings(
        cls, base_url: str, model: str | None, settings, tokenizer=None, fallback_model: str | None = None
    ) -> EndpointBackend:
        """The client a plan's `BackendSettings` describe (requests in flight, timeout, retries, prompt tokens)."""
        return cls(
            base_url,
            model,
            fallback_model=fallback_model,
            concurrency=settings.in_flight,
            timeout_s=settings.request_timeout_s,
            retries=settings.retries,
            tokenizer=tokenizer,
            prompt_tokens=settings.prompt_tokens,
        )

    def _get_models(self):
        import httpx

        return httpx.get(route_url(self.base_url, "/models"), headers=self.headers, timeout=10)

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
                f"cannot reach an OpenAI-compatible server at {self.shown_url} ({type(exc).__name__})",
                "check --base-url and that the server is running",
            ) from exc

    def check(self) -> None:
        """Fail fast, with one line, when the server is not there."""
        import httpx

        try:
            self._get_models()
        except httpx.HTTPError as exc:
            raise BadInputError(
                f"cannot reach an OpenAI-compatible server at {self.shown_url} ({type(exc).__name__})",
                "check --base-url and that the server is running",
            ) from exc

    def _body(self, request: GenRequest, sampling: Sampling) -> tuple[str, dict, str]:
        """The route, the request body, and the digest of the prompt it carries."""
        body = {
            "model": self.model,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
            "seed": request.seed,
            "n": 1,
        }
        if self.extensions:
            body.update({name: getattr(sampling, name) for name in EXTENSIONS})
        if self.prompt_tokens == "server":
            return "/chat/completions", {**body, "messages": list(request.messages)}, prompt_digest(request.messages)
        ids = prompt_token_ids(self.tokenizer, request.messages, self.prompt_tokens)
        return "/completions", {**body, "prompt": ids}, prompt_digest(ids)

    async def _post(self, session, route: str, body: dict) -> tuple[int, str]:
        async with session.post(route_url(self.base_url, route), json=body) as response:
            return response.status, await response.text()

    async def _one(self, session, request: GenRequest, sampling: Sampling) -> GenResult:
        import aiohttp

        route, body, digest = self._body(request, sampling)
        delay, last, timeouts, attempt = self.backoff_s, "", 0, 0
        while attempt <= self.retries:
            try:
                status, text = await self._post(session, route, body)
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
                        result = _parse(json.loads(text))
                    except ValueError:
                        result = GenResult("", "error", 0, f"malformed reply: {text[:200]}")
                    if result.finish_reason != "error":
                        result.prompt_sha256 = digest
                        return result
                    last = result.error or "malformed reply"  # a reply without text: retried, never scored
                elif status in (400, 422) and any(name in body and name in text for name in EXTENSIONS):
                    self._drop_extensions(sampling, text)  # then the same request again, at no attempt's cost
                    route, body, digest = self._body(request, sampling)
                    continue
                else:
                    last = f"HTTP {status}: {text[:200]}"
                    if status not in RETRYABLE:
                        break
            if attempt < self.retries:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            attempt += 1
        if timeouts == self.retries + 1:
            raise ServerGone(f"{last}, {timeouts} times")
        return GenResult("", "error", 0, last)

    def _drop_extensions(self, sampling: Sampling, reply: str) -> None:
        """A server that takes only OpenAI's fields: fine while ours are all off, else a one-line error."""
        set_ = {name: getattr(sampling, name) for name, off in EXTENSIONS.items() if getattr(sampling, name) != off}
        if set_:
            raise BadInputError(
                f"the server at {self.shown_url} rejects {', '.join(set_)} ({reply[:120]})",
                "drop those --sampling fields, or use a server that takes them (vLLM, SGLang)",
            )
        if not self.extensions:
            return
        self.extensions = False
        self.notes.append(
            f"the server at {self.shown_url} takes no {', '.join(EXTENSIONS)}: they were left out (all off); "
            "a server that fills them from the model's generation_config.json would change the sampling"
        )

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
                f"the generation server at {self.shown_url} stopped answering ({exc})",
                "answers so far are cached: run the same command again to resume"
                + ("" if "within" not in str(exc) else ", or raise --request-timeout"),
            ) from exc

    def close(self) -> None:
        pass


def api_base(base_url: str) -> str:
    """The server's `/v1` root: a path that lacks it gets it, a query string stays where it was.

    >>> api_base("http://host:8000"), api_base("http://host:8000/v1/"), api_base("http://h/x?key=1")
    ('http://host:8000/v1', 'http://host:8000/v1', 'http://h/x/v1?key=1')
    """
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def route_url(base: str, route: str) -> str:
    """`base` (an `api_base`) with `route` appended to its path, before any query string.

    >>> route_url("http://h/v1?key=1", "/models")
    'http://h/v1/models?key=1'
    """
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, parts.path + route, parts.query, parts.fragment))


def _parse(payload: dict) -> GenResult:
    """A chat (`message.content`) or completions (`text`) reply; no text at all is an error, not an answer."""
    try:
        choice = payload["choices"][0]
        text = choice["message"].get("content") if "message" in choice else choice.get("text")
        tokens = (payload.get("usage") or {}).get("completion_tokens", 0) or 0
        if not isinstance(text, str):
            return GenResult("", "error", 0, f"reply without text ({'null' if text is None else type(text).__name__})")
        return GenResult(text, choice.get("finish_reason") or "stop", int(tokens))
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        return GenResult("", "error", 0, f"malformed reply: {str(payload)[:200]}")
