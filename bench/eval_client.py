"""Eval throughput against a fake OpenAI-compatible server on 127.0.0.1, each figure beside its reference.

    python bench/eval_client.py [--requests 2400] [--latency 0.5] [--concurrency 256] [--e2e-latency 1.0]

1. client: openrs's endpoint backend vs a plain asyncio (aiohttp) client sending the same requests with the
   same concurrency: peak requests in flight (goal: the target) and requests/s (goal: >= 0.8x the plain one).
2. end to end: `openrs eval --base-url` over 2,000+ requests (the fixture benchmarks x 17 samples) vs the plain
   client over the same number (goal: within 1.2x), and the time from the last answer to the results written
   (scoring overlaps generation).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for the tests' fake server
from tests.fake_openai import FakeOpenAI  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bench"
MESSAGES = [{"role": "user", "content": "What is 3 + 4?"}]


async def plain_client(url: str, requests: int, concurrency: int) -> float:
    """The reference: aiohttp, a semaphore, one POST per request."""
    import aiohttp

    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    start = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            async with semaphore:
                body = {"model": "fake-model", "messages": MESSAGES, "max_tokens": 16, "seed": i}
                async with session.post(f"{url}/chat/completions", json=body) as response:
                    await response.json()

        await asyncio.gather(*(one(i) for i in range(requests)))
    return time.perf_counter() - start


def openrs_client(url: str, requests: int, concurrency: int) -> float:
    from openrs_cli.eval.backends.base import GenRequest, Sampling
    from openrs_cli.eval.backends.endpoint import EndpointBackend

    backend = EndpointBackend(url, model="fake-model", concurrency=concurrency)
    batch = [GenRequest(f"k{i}", "t", i, 0, tuple(MESSAGES), i) for i in range(requests)]
    got = []
    start = time.perf_counter()
    backend.generate(
        batch, Sampling(temperature=0.6, top_p=0.95, max_new_tokens=16), lambda request, result: got.append(result)
    )
    took = time.perf_counter() - start
    assert len(got) == requests and all(r.finish_reason == "stop" for r in got)
    return took


def client_bench(args) -> None:
    print(f"1. client: {args.requests} requests, {args.latency} s latency, {args.concurrency} in flight")
    with FakeOpenAI(latency_s=args.latency) as server:
        plain = asyncio.run(plain_client(server.url, args.requests, args.concurrency))
        plain_peak = server.peak_in_flight
        server.peak_in_flight = 0
        ours = openrs_client(server.url, args.requests, args.concurrency)
        our_peak = server.peak_in_flight
    print(f"   plain aiohttp: {args.requests / plain:8.1f} req/s, peak in flight {plain_peak}")
    print(f"   openrs:        {args.requests / ours:8.1f} req/s, peak in flight {our_peak}")
    hit = our_peak == args.concurrency
    print(f"   ratio openrs/plain requests/s: {plain / ours:.2f}x (goal >= 0.8); peak = target: {hit}")
    with FakeOpenAI(latency_s=0.0) as server:
        plain = asyncio.run(plain_client(server.url, args.requests, args.concurrency))
        ours = openrs_client(server.url, args.requests, args.concurrency)
    print(
        f"   zero latency: plain {args.requests / plain:.0f} req/s, openrs {args.requests / ours:.0f} req/s "
        f"(ratio {plain / ours:.2f}x)"
    )


def e2e_bench(args) -> None:
    samples = 17  # 122 fixture problems x 17 = 2,074 requests
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(latency_s=args.e2e_latency) as server:
        out = Path(tmp) / "ev"
        argv = [
            sys.executable,
            "-m",
            "openrs_cli",
            "eval",
            "--model",
            "fake/model",
            "--base-url",
            server.url,
            "--tasks",
            "all",
            "--samples",
            str(samples),
            "--data-dir",
            str(FIXTURES),
            "--output-dir",
            str(out),
            "--concurrency",
            str(args.e2e_concurrency),
            "--max-new-tokens",
            "16",
        ]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        end = time.perf_counter()
        requests, first, last = server.requests, server.first_at, server.last_done_at
        summary = json.loads((out / "summary.json").read_text())
        assert summary["tasks"]["aime24"]["complete"]
        server.requests, server.first_at = 0, None
        plain = asyncio.run(plain_client(server.url, requests, args.e2e_concurrency))
    total, startup, generation, tail = end - start, first - start, last - first, end - last
    print(f"2. end to end: {requests} requests, {args.e2e_latency} s latency, {args.e2e_concurrency} in flight")
    print(f"   plain aiohttp client:          {plain:6.1f} s")
    print(f"   openrs eval, whole process:    {total:6.1f} s  -> ratio {total / plain:.2f}x (goal <= 1.2)")
    print(f"     start-up (imports, plan):    {startup:6.1f} s")
    print(f"     generation (first to last):  {generation:6.1f} s  -> ratio {generation / plain:.2f}x")
    print(f"     last answer to exit:         {tail:6.1f} s (scoring overlaps generation; results, summary, exit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2400)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--e2e-latency", type=float, default=1.0)
    parser.add_argument("--e2e-concurrency", type=int, default=64)
    parser.add_argument("--skip-e2e", action="store_true")
    args = parser.parse_args()
    client_bench(args)
    if not args.skip_e2e:
        e2e_bench(args)


if __name__ == "__main__":
    main()
