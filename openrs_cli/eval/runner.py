"""Run a plan: generate what the cache lacks, score while generating, write results and a summary."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from openrs_cli.errors import RuntimeFailure
from openrs_cli.eval.backends.base import GenRequest, GenResult
from openrs_cli.eval.backends.factory import make_backend
from openrs_cli.eval.cache import AnswerCache, request_key, sample_seed
from openrs_cli.eval.plan import EvalOptions, EvalPlan, ModelTarget
from openrs_cli.eval.prompts import MATH_QUERY_TEMPLATE, messages_for
from openrs_cli.eval.results import lighteval_results, timestamp, write_summary, write_task
from openrs_cli.eval.scoring import ParallelScorer
from openrs_cli.eval.stats import task_stats
from openrs_cli.eval.tasks import PAPER_TASKS, Problem, load_problems

PROMPT_VERSION = 2  # bump when MATH_QUERY_TEMPLATE changes, so cached answers are not reused (2: two spaces)


class Progress:
    """A rich progress bar per task and overall on a terminal; nothing when output is redirected."""

    def __init__(self, totals: dict[str, int], done: dict[str, int]) -> None:
        self.enabled = sys.stderr.isatty()
        self.tokens, self.start = 0, time.monotonic()
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("{task.description:14s}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.ids = {t: self.bar.add_task(t, total=n, completed=done.get(t, 0), rate="") for t, n in totals.items()}
        self.overall = self.bar.add_task("overall", total=sum(totals.values()), completed=sum(done.values()), rate="")
        self.bar.start()

    def advance(self, task: str, tokens: int) -> None:
        self.tokens += tokens
        if self.enabled:
            rate = f"{self.tokens / max(1e-6, time.monotonic() - self.start):.0f} tok/s"
            self.bar.update(self.ids[task], advance=1, rate=rate)
            self.bar.update(self.overall, advance=1, rate=rate)

    def close(self) -> None:
        if self.enabled:
            self.bar.stop()


def evaluate_model(
    plan: EvalPlan, opts: EvalOptions, target: ModelTarget, say: Callable[[str], None]
) -> dict[str, Any]:
    started = time.time()
    problems: dict[str, list[Problem]] = {t.name: load_problems(t, opts.data_dir, opts.limit) for t in plan.tasks}
    task_of = {t.name: t for t in plan.tasks}
    cache = AnswerCache(target.out_dir / "cache.jsonl")
    sampling = plan.sampling
    generation = {
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_new_tokens": sampling.max_new_tokens,
        "seed": plan.seed,
    }

    slots: dict[str, tuple[Problem, int]] = {}
    missing: list[GenRequest] = []
    for name, probs in problems.items():
        for problem in probs:
            for sample in range(plan.samples[name]):
                key = request_key(
                    model=target.path,
                    revision=opts.revision,
                    task=name,
                    problem=problem.digest,
                    index=problem.index,
                    sample=sample,
                    prompt=PROMPT_VERSION,
                    **generation,
                )
                slots[key] = (problem, sample)
                if cache.get(key) is None:
                    missing.append(
                        GenRequest(
                            key,
                            name,
                            problem.index,
                            sample,
                            tuple(messages_for(problem.question)),
                            sample_seed(plan.seed, key),
                        )
                    )
    total = len(slots)
    say(f"{target.name}: {total} answers needed, {total - len(missing)} cached, {len(missing)} to generate")

    workers = opts.scoring_workers or min(16, __import__("os").cpu_count() or 1)
    scorer = ParallelScorer(workers if total > 8 else 1)
    order: list[str] = []
    lock = threading.Lock()
    failures: dict[str, str] = {}

    def score(key: str, text: str) -> None:
        problem, _ = slots[key]
        with lock:
            scorer.submit(text, list(problem.golds), task_of[problem.task].gold_type)
            order.append(key)

    for key in slots:
        if (record := cache.get(key)) is not None:
            score(key, record["text"])

    per_task_totals = {n: len(p) * plan.samples[n] for n, p in problems.items()}
    done = {n: per_task_totals[n] - sum(1 for r in missing if r.task == n) for n in per_task_totals}
    progress = Progress(per_task_totals, done)

    def on_result(request: GenRequest, result: GenResult) -> None:
        if result.finish_reason == "error":
            failures[request.key] = result.error or "error"
        else:
            cache.put(
                {
                    "key": request.key,
                    "task": request.task,
                    "index": request.index,
                    "sample": request.sample,
                    "text": result.text,
                    "finish_reason": result.finish_reason,
                    "completion_tokens": result.completion_tokens,
                }
            )
            score(request.key, result.text)
        progress.advance(request.task, result.completion_tokens)

    backend = None
    try:
        if missing:
            backend = make_backend(
                plan.backend,
                target.path,
                sampling,
                target.out_dir,
                revision=opts.revision,
                base_url=opts.base_url,
                served_model_name=opts.served_model_name,
                concurrency=opts.concurrency,
                gpu_ids=plan.gpu_ids,
                port=opts.port,
                seed=plan.seed,
                tensor_parallel=opts.tensor_parallel,
            )
            backend.generate(missing, sampling, on_result)
    finally:
        progress.close()
        if backend is not None:
            backend.close()
    scores = dict(zip(order, scorer.results(), strict=True))
    scorer.close()

    stamp = timestamp()
    summary_tasks: dict[str, Any] = {}
    for name, probs in problems.items():
        task = task_of[name]
        per_problem: dict[int, list[float]] = {p.index: [] for p in probs}
        details, truncated, timeouts = [], 0, 0
        for key, (problem, sample) in slots.items():
            if problem.task != name or key not in scores:
                continue
            record, score_ = cache.get(key), scores[key]
            per_problem[problem.index].append(score_.correct)
            truncated += record.get("finish_reason") == "length"
            timeouts += score_.timed_out
            details.append(
                {
                    "index": problem.index,
                    "sample": sample,
                    "prompt": MATH_QUERY_TEMPLATE.format(question=problem.question),
                    "answer": record["text"],
                    "finish_reason": record.get("finish_reason"),
                    "extracted_prediction": score_.extracted_predictions,
                    "gold": list(problem.golds),
                    "extracted_gold": score_.extracted_golds,
                    "correct": score_.correct,
                }
            )
        stats = task_stats([per_problem[p.index] for p in probs])
        failed = sum(1 for k in failures if slots[k][0].task == name)
        extra = {
            "failed": failed,
            "truncated": truncated,
            "scoring_timeouts": timeouts,
            "backend": plan.backend,
        }
        result = lighteval_results(task, stats, target.name, opts.revision, generation, started, time.time(), extra)
        path = write_task(target.out_dir, target.name, task, result, details, stamp)
        summary_tasks[name] = {**stats.to_dict(), **extra, "results_file": str(path)}
        low, high = stats.ci95_low * 100, stats.ci95_high * 100
        say(
            f"{target.name} {name}: {stats.avg_at_k * 100:.1f}% (95% CI {low:.1f}-{high:.1f}, "
            f"{stats.n_problems} problems x {stats.k} samples)" + (f", {failed} failed" if failed else "")
        )
    paper = [summary_tasks[t]["avg_at_k"] for t in PAPER_TASKS if t in summary_tasks]
    summary = {
        "model": target.path,
        "name": target.name,
        "step": target.step,
        "revision": opts.revision,
        "backend": plan.backend,
        "sampling": generation,
        "samples": plan.samples,
        "tasks": summary_tasks,
        "average": sum(paper) / len(paper) if len(paper) == len(PAPER_TASKS) else None,
        "output_dir": str(target.out_dir),
    }
    write_summary(target.out_dir, summary)
    if failures:
        raise RuntimeFailure(
            f"{len(failures)} generation(s) failed ({next(iter(failures.values()))[:120]}); results exclude them",
            f"run the same command again to retry; see {target.out_dir / 'summary.json'}",
        )
    return summary


def run(plan: EvalPlan, opts: EvalOptions, say: Callable[[str], None]) -> list[dict[str, Any]]:
    summaries = []
    for target in plan.models:
        summaries.append(evaluate_model(plan, opts, target, say))
    return summaries
