"""Score answers with lighteval 0.13's extractive-match metric, configured as the paper's tasks.

Gold parsed as an expression (AIME, AMC) or as LaTeX (MATH-500, Minerva, OlympiadBench); the
prediction tried as an expression then as LaTeX with \\boxed{} first; precision 5; max over golds.
lighteval is imported only here, after a stub that keeps its task registry from downloading at import.
"""

from __future__ import annotations

import atexit
import sys
import types
from dataclasses import dataclass
from functools import cache

from openrs_cli.parallel import BoundedPool


@dataclass
class Score:
    correct: float
    extracted_predictions: list[str]
    extracted_golds: list[str]
    timed_out: bool = False


def install_offline_stub() -> None:
    """lighteval's registry imports tiny_benchmarks, which downloads a file at import time."""
    name = "lighteval.tasks.tasks.tiny_benchmarks"
    if name not in sys.modules:
        stub = types.ModuleType(name)
        stub.TASKS_TABLE = []
        sys.modules[name] = stub


@cache
def _metric(gold_type: str):
    install_offline_stub()
    from lighteval.metrics.dynamic_metrics import MultilingualExtractiveMatchMetric
    from lighteval.metrics.utils.extractive_match_utils import ExprExtractionConfig, LatexExtractionConfig
    from lighteval.utils.language import Language

    gold = (ExprExtractionConfig(),) if gold_type == "expr" else (LatexExtractionConfig(),)
    return MultilingualExtractiveMatchMetric(
        language=Language.ENGLISH,
        fallback_mode="first_match",
        precision=5,
        gold_extraction_target=gold,
        pred_extraction_target=(ExprExtractionConfig(), LatexExtractionConfig(boxed_match_priority=0)),
        aggregation_function=max,
    )


def score_answer(prediction: str, golds: list[str], gold_type: str) -> Score:
    """1.0 when lighteval's metric matches the prediction to any gold."""
    import logging

    install_offline_stub()
    from lighteval.models.model_output import ModelResponse
    from lighteval.tasks.requests import Doc

    logging.getLogger("lighteval").setLevel(logging.ERROR)
    doc = Doc(query="", choices=list(golds), gold_index=list(range(len(golds))))
    correct = _metric(gold_type).compute(doc, ModelResponse(text=[prediction]))
    specific = doc.specific or {}
    return Score(
        float(correct),
        [str(x) for x in specific.get("extracted_predictions", [])],
        [str(x) for x in specific.get("extracted_golds", [])],
    )


def _warm() -> None:
    install_offline_stub()
    _metric("expr")
    _metric("latex")


def score_many(items: list[tuple[str, list[str], str]]) -> list[Score]:
    return [score_answer(*item) for item in items]


class SerialScorer:
    """Scores in this process when results are asked for (a few answers: no pool to start)."""

    def __init__(self) -> None:
        self._items: list[tuple[str, list[str], str]] = []

    def submit(self, prediction: str, golds: list[str], gold_type: str) -> None:
        self._items.append((prediction, list(golds), gold_type))

    def results(self) -> list[Score]:
        return [score_answer(*item) for item in self._items]

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


_POOLS: dict[int, BoundedPool] = {}


def shared_pool(workers: int) -> BoundedPool:
    """One scoring pool per process and size, started at once and reused (a sweep's checkpoints share it)."""
    if workers not in _POOLS:
        _POOLS[workers] = BoundedPool(workers, initializer=_warm)
        atexit.register(_POOLS[workers].shutdown)
    _POOLS[workers].start()
    return _POOLS[workers]


class PoolScorer:
    """Scores answers in worker processes while generation goes on; results equal serial scoring.

    Answers travel in chunks (fewer round trips); a chunk that overruns `timeout_s` per answer
    scores 0 with `timed_out` set, so one pathological answer cannot stall the run. The pool is the
    process's shared one, started when the scorer is made, so it is warm when the first answers come.
    """

    def __init__(self, workers: int, timeout_s: float = 60.0, chunk: int = 16) -> None:
        self.timeout_s, self.chunk = timeout_s, chunk
        self.pool = shared_pool(workers)
        self._jobs: list = []
        self._buffer: list[tuple[str, list[str], str]] = []

    def submit(self, prediction: str, golds: list[str], gold_type: str) -> None:
        self._buffer.append((prediction, list(golds), gold_type))
        if len(self._buffer) >= self.chunk:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._jobs.append(self.pool.submit(score_many, self._buffer))
            self._buffer = []

    def results(self) -> list[Score]:
        self._flush()
        chunks = self.pool.results(
            self._jobs,
            self.timeout_s * self.chunk,
            fallback=lambda job: [Score(0.0, [], [], True) for _ in job.args[0]],
        )
        return [score for chunk in chunks for score in chunk]

    def close(self) -> None:
        pass  # the shared pool outlives one eval: the next checkpoint of a sweep reuses it

    def abort(self) -> None:
        """Stop the workers now (Ctrl-C, a failure): at exit Python would wait for a busy worker to finish."""
        self.pool.shutdown()


def make_scorer(workers: int) -> SerialScorer | PoolScorer:
    """In-process scoring for one worker, a pool of processes for more."""
    return PoolScorer(workers) if workers > 1 else SerialScorer()
