"""A fake OpenAI-compatible server on 127.0.0.1 for tests and benchmarks: configurable latency, answer
length and misbehaviour, counting the requests it has in flight.

It speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies) for openrs's clients and plain
asyncio/aiohttp clients. It runs its own event loop in a background thread:

    with FakeOpenAI(latency_s=0.5) as server:
        server.url  # http://127.0.0.1:PORT/v1
        server.peak_in_flight, server.requests
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

MODES = ("ok", "error500", "hang", "null")  # null: `content: null`, as a server with a reasoning parser sends


class FakeOpenAI:
    def __init__(self, latency_s: float = 0.0, tokens: int = 16, mode: str = "ok", answer: str = "\\boxed{7}") -> None:
        assert mode in MODES, mode
        self.latency_s, self.tokens, self.mode, self.answer = latency_s, tokens, mode, answer
        self.in_flight = self.peak_in_flight = self.requests = 0
        self.seeds: list[int | None] = []
        self.messages: list[list[dict]] = []
        self.first_at: float | None = None  # time.perf_counter() of the first completion request
        self.last_done_at: float | None = None  # ... and of the last answer sent
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0, backlog=4096))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                status, payload = await self._answer(method, path, body)
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                    "Connection: keep-alive\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError, ValueError):
            pass
        finally:
            writer.close()

    async def _answer(self, method: str, path: str, body: bytes) -> tuple[int, dict]:
        if path.endswith("/models"):
            return 200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}
        if path.endswith("/health"):
            return 200, {}
        self.requests += 1
        self.first_at = self.first_at or time.perf_counter()
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            request = json.loads(body or b"{}")
            self.seeds.append(request.get("seed"))
            self.messages.append(request.get("messages") or [])
            if self.mode == "hang":
                await asyncio.sleep(3600)
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if self.mode == "error500":
                return 500, {"error": "internal error"}
            text = "Reasoning. " * max(0, self.tokens - 4) + f"Therefore, the final answer is: ${self.answer}$."
            if self.mode == "null":
                text = None
            return 200, {
                "id": "cmpl",
                "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": self.tokens, "total_tokens": 10 + self.tokens},
            }
        finally:
            self.in_flight -= 1
            self.last_done_at = time.perf_counter()
