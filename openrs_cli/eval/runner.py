"""Run an eval plan, model by model, in named steps: the jobs, generate and score, one result per task,
the summary.

    plan = plan_eval(options)
    summaries = run(plan, say)
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openrs_cli.atomic import clean_temporaries, folder_lock
from openrs_cli.errors import RuntimeFailure
from openrs_cli.eval.backends.base import BackendSettings
from openrs_cli.eval.backends.factory import make_backend
from openrs_cli.eval.cache import AnswerCache, answer_key
from openrs_cli.eval.plan import EvalPlan, ModelTarget
from openrs_cli.eval.prompts import messages_for, prompt_id, render
from openrs_cli.eval.results import lighteval_results, timestamp, write_summary, write_task
from openrs_cli.eval.stage import Answer, Job, StageResult, Throughput, generate_and_score, sample_seed
from openrs_cli.eval.tasks import PAPER_TASKS, Problem, Task, load_problems
from openrs_cli.progress import ProgressFactory, line_progress
from openrs_cli.stats import task_stats

Say = Callable[[str], None]


def generation_settings(plan: EvalPlan) -> dict[str, Any]:
    """Every sampling field and the run's seed, as the results record them."""
    return {**plan.sampling.to_dict(), "seed": plan.seed}


def target_identity(plan: EvalPlan, target: ModelTarget) -> dict[str, Any]:
    """The model the answers come from: its content or commit, or the endpoint's URL and name."""
    from openrs_cli.provenance import endpoint_identity, model_identity

    if plan.backend.kind == "endpoint":
        return endpoint_identity(plan.backend.base_url or "", plan.backend.served_model_name or target.path)
    identity = model_identity(target.path, plan.revision)
    if target.adapter:  # the answers come from the merge; the adapter says which run it was
        identity["adapter"] = model_identity(target.adapter)
    return identity


def run_provenance(plan: EvalPlan, identity: dict[str, Any]) -> dict[str, Any]:
    """What these numbers were produced with (recorded in every results file and the summary)."""
    from openrs_cli.provenance import devices, software

    return {
        "software": software(),
        "devices": devices(plan.gpu_ids),
        "model": identity,
        "engine": plan.backend.engine_identity(),
        "dtype": plan.backend.dtype,
        "prompt": prompt_id(plan.template, plan.system_prompt),
        "prompt_tokens": plan.backend.prompt_tokens,
        "sampling": generation_settings(plan),
        "seed_scheme": "sha256(seed|task|problem|sample) per answer",
    }


def build_jobs(
    plan: EvalPlan, target: ModelTarget, problems: dict[str, list[Problem]], identity: dict[str, Any]
) -> list[Job]:
    """One job per (task, problem, sample), keyed by everything that changes its answer."""
    prompt = f"{prompt_id(plan.template, plan.system_prompt)}|{plan.backend.prompt_tokens}"
    engine = plan.backend.engine_identity()
    jobs = []
    for task in plan.tasks:
        for problem in problems[task.name]:
            for sample in range(plan.samples[task.name]):
                key = answer_key(
                    identity,
                    engine,
                    plan.sampling,
                    prompt,
                    task.name,
                    problem.digest,
                    problem.index,
                    sample,
                    plan.seed,
                )
                seed = sample_seed(plan.seed, task.name, problem.question, sample)
                messages = tuple(messages_for(problem.question, plan.template, plan.system_prompt))
                jobs.append(
                    Job(
                        key,
                        task.name,
                        problem.index,
                        sample,
                        problem.question,
                        problem.golds,
                        task.gold_type,
                        seed,
                        messages,
                    )
                )
    return jobs


def task_result(
    plan: EvalPlan,
    target: ModelTarget,
    task: Task,
    problems: list[Problem],
    answers: list[Answer],
    failed: int,
    started: float,
    stamp: str,
    throughput: dict[str, float] | None = None,
    provenance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write one task's lighteval-layout results and details; return its summary entry."""
    per_problem: dict[int, list[tuple[int, float]]] = {p.index: [] for p in problems}
    details = []
    for answer in answers:
        job, record, score = answer.job, answer.record, answer.score
        per_problem[job.index].append((job.sample, score.correct))
        details.append(
            {
                "index": job.index,
                "sample": job.sample,
                "question": job.question,
                "prompt": render(job.question, plan.template),
                "answer": record["text"],
                "finish_reason": record.get("finish_reason"),
                "prompt_sha256": record.get("prompt_sha256"),
                "extracted_prediction": score.extracted_predictions,
                "gold": list(job.golds),
                "extracted_gold": score.extracted_golds,
                "correct": score.correct,
            }
        )
    # each problem's scores in sample order: sample j of every problem is seed run j
    stats = task_stats([[c for _, c in sorted(per_problem[p.index])] for p in problems])
    extra = {
        "failed": failed,
        "truncated": sum(a.record.get("finish_reason") == "length" for a in answers),
        "scoring_timeouts": sum(a.score.timed_out for a in answers),
        "backend": plan.backend.kind,
        "throughput": throughput or Throughput().to_dict(),
        "provenance": provenance,
    }
    generation = generation_settings(plan)
    result = lighteval_results(task, stats, target.name, plan.revision, generation, started, time.time(), extra)
    path = write_task(target.out_dir, target.name, task, result, details, stamp)
    extra.pop("provenance")  # in the results file; the summary holds it once
    return {**stats.to_dict(), **extra, "results_file": str(path)}


def summarise(
    plan: EvalPlan, target: ModelTarget, tasks: dict[str, dict[str, Any]], provenance: dict[str, Any]
) -> dict[str, Any]:
    paper = [tasks[t]["avg_at_k"] for t in PAPER_TASKS if tasks.get(t, {}).get("complete")]
    return {
        "model": target.path,
        "name": target.name,
        "step": target.step,
        "revision": plan.revision,
        "backend": plan.backend.kind,
        "sampling": generation_settings(plan),
        "samples": plan.samples,
        "tasks": tasks,
        "average": sum(paper) / len(paper) if len(paper) == len(PAPER_TASKS) else None,
        "output_dir": str(target.out_dir),
        "provenance": provenance,
    }


def evaluate_model(
    plan: EvalPlan, target: ModelTarget, say: Say, progress: ProgressFactory = line_progress
) -> dict[str, Any]:
    with folder_lock(target.out_dir, "eval"):
        clean_temporaries(target.out_dir)
        return _evaluate_model(plan, target, say, progress)


def _evaluate_model(plan: EvalPlan, target: ModelTarget, say: Say, progress: ProgressFactory) -> dict[str, Any]:
    if not target.adapter:
        return _evaluate_loaded(plan, target, say, progress)
    from openrs_cli.lora import merge_adapter

    merged = merge_adapter(Path(target.adapter), Path(target.path), say)
    try:
        return _evaluate_loaded(plan, target, say, progress)
    finally:  # a checkpoint sweep keeps one merged model on disk at a time
        shutil.rmtree(merged, ignore_errors=True)


def _evaluate_loaded(plan: EvalPlan, target: ModelTarget, say: Say, progress: ProgressFactory) -> dict[str, Any]:
    started = time.time()
    problems = {t.name: load_problems(t, plan.data_dir, plan.limit) for t in plan.tasks}
    identity = target_identity(plan, target)
    provenance = run_provenance(plan, identity)
    jobs = build_jobs(plan, target, problems, identity)
    cache = AnswerCache(target.out_dir / "cache.jsonl")
    cached = sum(cache.get(job.key) is not None for job in jobs)
    say(f"{target.name}: {len(jobs)} answers needed, {cached} cached, {len(jobs) - cached} to generate")

    def start_backend():
        return make_backend(
            plan.backend,
            target.path,
            plan.sampling,
            target.out_dir,
            revision=plan.revision,
            seed=plan.seed,
            server_command=target.server_command,
        )

    workers = scoring_processes(plan.backend)
    chunk = plan.backend.batch_size if plan.backend.kind == "transformers" else 1
    stage: StageResult = generate_and_score(
        jobs, cache, start_backend, plan.sampling, workers, say, plan.truncated, chunk, progress
    )
    stamp = timestamp()
    task_of = {job.key: job.task for job in jobs}
    summary_tasks: dict[str, Any] = {}
    incomplete = []
    for task in plan.tasks:
        answers = [a for a in stage.answers.values() if a.job.task == task.name]
        failed = sum(1 for key in stage.failures if task_of[key] == task.name)
        expected = len(problems[task.name]) * plan.samples[task.name]
        if failed or len(answers) < expected:
            # a task with missing answers must never read as a score: no results file, marked incomplete
            summary_tasks[task.name] = {
                "complete": False,
                "failed": failed,
                "answers": len(answers),
                "expected": expected,
            }
            incomplete.append(task.name)
            say(f"{target.name} {task.name}: incomplete, {len(answers)} of {expected} answers ({failed} failed)")
            continue
        speed = stage.throughput.get(task.name, Throughput()).to_dict()
        entry = task_result(plan, target, task, problems[task.name], answers, failed, started, stamp, speed, provenance)
        summary_tasks[task.name] = {"complete": True, **entry}
        low, high = entry["ci95_low"] * 100, entry["ci95_high"] * 100
        say(
            f"{target.name} {task.name}: {entry['avg_at_k'] * 100:.1f}% (95% CI {low:.1f}-{high:.1f}, "
            f"{entry['n_problems']} problems x {entry['k']} samples)"
        )
    summary = summarise(plan, target, summary_tasks, provenance)
    summary["throughput"] = stage.throughput["all"].to_dict()
    write_summary(target.out_dir, summary)
    if incomplete:
        reason = next(iter(stage.failures.values()), "answers missing")[:120]
        raise RuntimeFailure(
            f"{', '.join(incomplete)} incomplete: {len(stage.failures)} generation(s) failed ({reason}); "
            "no score was written for them",
            f"run the same command again to retry the missing answers; see {target.out_dir / 'summary.json'}",
        )
    return summary


def run(plan: EvalPlan, say: Say, progress: ProgressFactory = line_progress) -> list[dict[str, Any]]:
    """Every model of the plan evaluated in turn; `progress` is how the front shows answers arriving."""
    return [evaluate_model(plan, target, say, progress) for target in plan.models]


def scoring_processes(backend: BackendSettings) -> int:
    """--scoring-workers 0 (auto): a pool, one per core, unless this CPU also generates the answers: then the
    pool's start (each worker imports lighteval) takes the cores from the engine (measured on 2 cores: vLLM's CPU
    engine stalled for 10-20 s at the first requests), and scoring in-process at the end costs far less.

    >>> [scoring_processes(BackendSettings(kind, gpus, cpu=cpu)) for kind, gpus, cpu in
    ...  (("vllm", [], True), ("transformers", [], False), ("vllm", [0, 1], False), ("endpoint", [], False))]
    [1, 1, 0, 0]
    >>> scoring_processes(BackendSettings("vllm", [], cpu=True, scoring_workers=3))
    3
    """
    return backend.scoring_workers or (1 if backend.generates_on_cpu else 0)
