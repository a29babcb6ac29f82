"""Generate and score: the one stage every command that asks a model for answers goes through.

`openrs eval` and `openrs data filter` both describe the answers they need as `Job`s; this stage
takes what the cache already holds, starts a backend only when something is missing, caches each
answer as it arrives, scores it with the paper's metric while generation goes on, and returns
every job's answer and score (or the error that kept it from one).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openrs_cli import faults
from openrs_cli.boxed import has_boxed
from openrs_cli.eval.backends.base import (
    Backend,
    BackendSettings,
    GenRequest,
    GenResult,
    Sampling,
    resolve_prompt_tokens,
)
from openrs_cli.eval.backends.factory import choose_backend, make_backend
from openrs_cli.eval.backends.tokenizer import load_tokenizer
from openrs_cli.eval.cache import AnswerCache, answer_key
from openrs_cli.eval.prompts import MATH_QUERY_TEMPLATE, messages_for, prompt_id
from openrs_cli.eval.scoring import Score, make_scorer
from openrs_cli.progress import AnswerProgress, NullProgress, ProgressFactory, line_progress

# What other stages (openrs data filter) use of eval: this module is eval's public face.
__all__ = [
    "Answer",
    "AnswerCache",
    "BackendSettings",
    "Job",
    "MATH_QUERY_TEMPLATE",
    "Sampling",
    "StageResult",
    "choose_backend",
    "generate_and_score",
    "load_tokenizer",
    "make_backend",
    "prompt_id",
    "resolve_prompt_tokens",
    "answer_key",
    "sample_seed",
]


@dataclass(frozen=True)
class Job:
    """One answer wanted: a sample of a problem, with its cache key, golds and sampling seed."""

    key: str
    task: str
    index: int
    sample: int
    question: str
    golds: tuple[str, ...]
    gold_type: str  # "expr" or "latex"
    seed: int
    messages: tuple = ()  # the chat sent; empty: the paper's prompt for `question`


@dataclass
class Answer:
    job: Job
    record: dict[str, Any]  # the cache record: text, finish_reason, completion_tokens
    score: Score


@dataclass
class Throughput:
    """What this run generated (cached answers excluded), for comparing runs and hardware."""

    requests: int = 0
    tokens: int = 0
    seconds: float = 0.0  # from the first request sent to this group's last answer

    def to_dict(self) -> dict[str, float]:
        seconds = max(self.seconds, 1e-9)
        return {
            "generated_requests": self.requests,
            "generated_tokens": self.tokens,
            "generation_seconds": round(self.seconds, 3),
            "tokens_per_second": round(self.tokens / seconds, 2) if self.requests else 0.0,
            "requests_per_second": round(self.requests / seconds, 3) if self.requests else 0.0,
        }


@dataclass
class StageResult:
    answers: dict[str, Answer]  # by job key, in job order
    failures: dict[str, str]  # job key -> the backend's error
    generated: int  # answers generated in this run (the rest came from the cache)
    throughput: dict[str, Throughput]  # by task, plus "all"


def sample_seed(base: int, task: str, problem: str, sample: int) -> int:
    """The sampling seed of one sample: from the run's seed, the task, the problem text and the sample
    index only, so the same model gives the same answers in any folder or machine, and two models are
    compared on common random numbers.

    >>> sample_seed(42, "aime24", "What is 1+1?", 0) == sample_seed(42, "aime24", "What is 1+1?", 0)
    True
    >>> sample_seed(42, "aime24", "What is 1+1?", 0) != sample_seed(42, "aime24", "What is 1+1?", 1)
    True
    """
    digest = hashlib.sha256(f"{base}|{task}|{problem}|{sample}".encode()).hexdigest()
    return int(digest[:8], 16) % (2**31 - 1)


def progress_for(jobs: list[Job], missing: list[Job], show: ProgressFactory = line_progress) -> AnswerProgress:
    """The progress of this run's answers, as `show` (the front's choice) displays it; nothing when none are
    missing."""
    if not missing:
        return NullProgress()
    totals: dict[str, int] = {}
    for job in jobs:
        totals[job.task] = totals.get(job.task, 0) + 1
    pending: dict[str, int] = {}
    for job in missing:
        pending[job.task] = pending.get(job.task, 0) + 1
    return show(totals, {t: n - pending.get(t, 0) for t, n in totals.items()})


# Rough answer lengths (tokens) of R1-style 1.5B models per benchmark, used only to send the longest
# first when the cache knows nothing better; the tail of a run is its longest answers.
TYPICAL_TOKENS = {"aime24": 14000, "aime25": 14000, "olympiadbench": 9000, "amc23": 8000, "minerva": 6000}
DEFAULT_TOKENS = 4000


def longest_first(missing: list[Job], cache: AnswerCache, jobs: list[Job]) -> list[Job]:
    """`missing` ordered by expected answer length, longest first: the cache's lengths for other samples
    of the same problem when a rerun has them, else the benchmark's typical length."""
    known: dict[tuple[str, int], list[int]] = {}
    for job in jobs:
        record = cache.get(job.key)
        if record is not None and record.get("completion_tokens"):
            known.setdefault((job.task, job.index), []).append(int(record["completion_tokens"]))

    def expected(job: Job) -> float:
        lengths = known.get((job.task, job.index))
        return sum(lengths) / len(lengths) if lengths else TYPICAL_TOKENS.get(job.task, DEFAULT_TOKENS)

    return sorted(missing, key=expected, reverse=True)  # stable: ties keep the plan's order


def truncation_rule(record: dict[str, Any], score: Score, rule: str) -> Score:
    r"""An answer cut at the length limit counts only if a complete \boxed{} answer came before the cut
    ("require-boxed"); lighteval scores it like any answer, often on its last number ("lighteval").

    >>> cut = {"finish_reason": "length", "text": "so 2 + 2 = 4 and then 17"}
    >>> truncation_rule(cut, Score(1.0, ["17"], ["17"]), "require-boxed").correct
    0.0
    >>> truncation_rule({**cut, "text": "so \\boxed{17} and more"}, Score(1.0, [], []), "require-boxed").correct
    1.0
    """
    if rule == "lighteval" or record.get("finish_reason") != "length" or has_boxed(record.get("text") or ""):
        return score
    return Score(0.0, score.extracted_predictions, score.extracted_golds, score.timed_out)


def scoring_workers(requested: int, answers: int) -> int:
    """0 means one per core (at most 16); a handful of answers is scored in-process (a cold pool costs more)."""
    workers = requested or min(16, os.cpu_count() or 1)
    return workers if answers > 8 else 1


def generate_and_score(
    jobs: list[Job],
    cache: AnswerCache,
    start_backend: Callable[[], Backend],
    sampling: Sampling,
    workers: int = 0,
    say: Callable[[str], None] = lambda message: None,
    truncated: str = "require-boxed",
    chunk: int = 1,
    progress: ProgressFactory = line_progress,
) -> StageResult:
    """Every job's answer (cached or generated now) and its score; failed generations are reported.

    With `chunk` > 1 (a batching in-process backend) jobs go in fixed chunks of the plan's order, and a chunk
    with any answer missing is generated whole again, so a resumed run gets the answers an uninterrupted one
    would (the rest of the chunk's answers come out the same and are not scored twice).
    """
    if chunk > 1:
        chunks = [jobs[i : i + chunk] for i in range(0, len(jobs), chunk)]
        missing = [j for c in chunks if any(cache.get(j.key) is None for j in c) for j in c]
    else:
        missing = longest_first([job for job in jobs if cache.get(job.key) is None], cache, jobs)
    collector = _Collector(
        jobs, cache, make_scorer(scoring_workers(workers, len(jobs))), progress_for(jobs, missing, progress)
    )
    for job in jobs:
        if (record := cache.get(job.key)) is not None:
            collector.score(job, record["text"])
    backend = None
    try:
        if missing:
            backend = start_backend()
            collector.generation_started(backend)
            requests = [
                GenRequest(j.key, j.task, j.index, j.sample, j.messages or tuple(messages_for(j.question)), j.seed)
                for j in missing
            ]
            backend.generate(requests, sampling, collector.on_result)
        scores = collector.scores()
    except BaseException:
        collector.scorer.abort()
        raise
    finally:
        collector.progress.close()
        if backend is not None:
            for note in getattr(backend, "notes", []):
                say(note)
            backend.close()
        collector.scorer.close()
    answers = {
        key: Answer(job, cache.get(key), truncation_rule(cache.get(key), scores[key], truncated))
        for key, job in collector.by_key.items()
        if key in scores and cache.get(key)
    }
    failures = collector.failures
    return StageResult(answers, failures, len(missing) - len(failures), collector.throughput)


class _Collector:
    """What one generate-and-score run gathers as answers arrive (from any backend thread): each answer cached
    once and submitted for scoring once, failures kept apart, throughput counted from the generation's start."""

    def __init__(self, jobs: list[Job], cache: AnswerCache, scorer, progress) -> None:
        self.by_key = {job.key: job for job in jobs}
        self.cache, self.scorer, self.progress = cache, scorer, progress
        self.order: list[str] = []  # keys in the order submitted: the scorer returns results in that order
        self.scored: set[str] = set()
        self.failures: dict[str, str] = {}
        self.throughput: dict[str, Throughput] = {"all": Throughput()}
        self.generated = 0  # answers cached in this run (the fault hook counts them)
        self.started = time.monotonic()
        self.backend: Backend | None = None
        self._lock = threading.Lock()

    def generation_started(self, backend: Backend) -> None:
        """Generation time counts from here, not from the server's start-up."""
        self.backend, self.started = backend, time.monotonic()

    def score(self, job: Job, text: str) -> None:
        with self._lock:
            if job.key in self.scored:  # regenerated with its chunk: already scored from the cache
                return
            self.scored.add(job.key)
            self.scorer.submit(text, list(job.golds), job.gold_type)
            self.order.append(job.key)

    def on_result(self, request: GenRequest, result: GenResult) -> None:
        job = self.by_key[request.key]
        with self._lock:
            for name in ("all", job.task):
                counted = self.throughput.setdefault(name, Throughput())
                counted.requests += 1
                counted.tokens += result.completion_tokens
                counted.seconds = time.monotonic() - self.started
        if result.finish_reason == "error":
            self.failures[job.key] = result.error or "error"
        elif job.key not in self.scored:  # else a cached answer regenerated with its chunk: kept as it was
            self.cache.put(
                {
                    "key": job.key,
                    "task": job.task,
                    "index": job.index,
                    "sample": job.sample,
                    "text": result.text,
                    "finish_reason": result.finish_reason,
                    "completion_tokens": result.completion_tokens,
                    "prompt_sha256": result.prompt_sha256,
                }
            )
            self.score(job, result.text)
            self.generated += 1
            faults.reached("answers", self.generated, {"server": getattr(self.backend, "kill_server", lambda: None)})
        self.progress.advance(job.task, result.completion_tokens)

    def scores(self) -> dict[str, Score]:
        """Each scored key's score, once every submitted answer is scored."""
        return dict(zip(self.order, self.scorer.results(), strict=True))
