"""`openrs eval` on CPU: transformers in-process, a real `transformers serve` endpoint, resume, plans."""

from __future__ import annotations

import json
import shutil

import pytest

from openrs_cli.eval.backends.base import Sampling
from tests.cli_helpers import assert_error, invoke
from tests.servers import transformers_serve

COMMON = ["--tasks", "aime24,math_500", "--limit", "3", "--samples", "2", "--max-new-tokens", "32"]


def check_lighteval_layout(out_dir, model_name, tasks=("aime24", "math_500"), problems=3, samples=2):
    results = sorted((out_dir / "results").rglob("results_*.json"))
    assert len(results) == len(tasks)
    for path in results:
        data = json.loads(path.read_text())
        assert data["config_general"]["model_name"] == model_name
        (task_key,) = [k for k in data["results"] if k != "all"]
        suite, task, fewshot = task_key.split("|")
        assert (suite, fewshot) == ("custom", "0") and task in tasks
        assert set(data["results"][task_key]) == {"extractive_match", "extractive_match_stderr"}
        assert f"custom|{task}" in data["config_tasks"]
        assert data["openrs"]["n_problems"] == problems and data["openrs"]["n_samples"] == problems * samples
    details = sorted((out_dir / "details").rglob("details_*.jsonl"))
    assert len(details) == len(tasks)
    rows = [json.loads(line) for line in details[0].read_text().splitlines()]
    assert len(rows) == problems * samples
    assert {"prompt", "answer", "extracted_prediction", "gold", "correct"} <= set(rows[0])
    assert rows[0]["prompt"].startswith("Solve the following math problem efficiently and clearly.")
    summary = json.loads((out_dir / "summary.json").read_text())
    assert set(summary["tasks"]) == set(tasks)
    return summary


def test_transformers_backend_writes_lighteval_results_and_details(capsys, tiny_model, data_dir, tmp_path):
    out = tmp_path / "ev"
    code, stdout, err = invoke(
        capsys,
        "eval",
        "--model",
        str(tiny_model),
        "--backend",
        "transformers",
        *COMMON,
        "--data-dir",
        str(data_dir / "bench"),
        "--output-dir",
        str(out),
        "--json",
    )
    assert code == 0, err
    summary = check_lighteval_layout(out, tiny_model.name)
    assert json.loads(stdout)["tasks"]["aime24"]["k"] == 2
    assert summary["backend"] == "transformers" and summary["average"] is None  # not all five tasks


def test_endpoint_backend_against_a_real_transformers_serve(capsys, tiny_model, data_dir, tmp_path):
    out = tmp_path / "ev"
    with transformers_serve(tiny_model, tmp_path / "hub-cache") as (url, _):
        code, _, err = invoke(
            capsys,
            "eval",
            "--model",
            str(tiny_model),
            "--base-url",
            url,
            *COMMON,
            "--data-dir",
            str(data_dir / "bench"),
            "--output-dir",
            str(out),
        )
    assert code == 0, err
    summary = check_lighteval_layout(out, tiny_model.name)
    assert summary["backend"] == "endpoint"
    answers = [json.loads(line) for line in (out / "cache.jsonl").read_text().splitlines()]
    assert len(answers) == 12 and all(a["finish_reason"] in ("stop", "length") for a in answers)


def test_smollm2_answers_through_the_endpoint_and_is_scored(capsys, smollm2_model, data_dir, tmp_path):
    out = tmp_path / "ev"
    with transformers_serve(smollm2_model, tmp_path / "hub-cache") as (url, _):
        code, _, err = invoke(
            capsys,
            "eval",
            "--model",
            str(smollm2_model),
            "--base-url",
            url,
            "--tasks",
            "math_500",
            "--limit",
            "2",
            "--samples",
            "1",
            "--max-new-tokens",
            "48",
            "--temperature",
            "0",
            "--data-dir",
            str(data_dir / "bench"),
            "--output-dir",
            str(out),
        )
    assert code == 0, err
    rows = [json.loads(line) for line in next((out / "details").rglob("*.jsonl")).read_text().splitlines()]
    assert all(len(r["answer"].split()) > 5 for r in rows)  # a real model writes real text


def test_killed_eval_regenerates_nothing_it_has(monkeypatch, tiny_model, data_dir, tmp_path):
    from openrs_cli.eval import runner
    from openrs_cli.eval.backends import transformers_backend as hf
    from openrs_cli.eval.plan import EvalOptions, plan_eval

    calls: list[str] = []
    real_generate = hf.TransformersBackend.generate

    def counting(self, requests, sampling, on_result, stop_after=None):
        def counted(request, result):
            calls.append(request.key)
            on_result(request, result)
            if stop_after is not None and len(calls) >= stop_after:
                raise KeyboardInterrupt  # the eval is killed here

        real_generate(self, requests, sampling, counted)

    opts = EvalOptions(
        model=str(tiny_model),
        tasks="aime24,math_500",
        backend="transformers",
        limit=3,
        samples=2,
        sampling=Sampling(max_new_tokens=16),
        data_dir=data_dir / "bench",
        output_dir=tmp_path / "ev",
    )
    monkeypatch.setattr(hf.TransformersBackend, "generate", lambda *a: counting(*a, stop_after=5))
    with pytest.raises(KeyboardInterrupt):
        runner.run(plan_eval(opts), lambda _: None)
    assert len(calls) == 5
    first = list(calls)
    calls.clear()
    monkeypatch.setattr(hf.TransformersBackend, "generate", lambda *a: counting(*a))
    (resumed,) = runner.run(plan_eval(opts), lambda _: None)
    assert len(calls) == 12 - 5 and not set(calls) & set(first)
    calls.clear()
    # an uninterrupted run from scratch gives the same scores as the resumed one
    fresh = EvalOptions(**{**opts.__dict__, "output_dir": tmp_path / "fresh"})
    (uninterrupted,) = runner.run(plan_eval(fresh), lambda _: None)
    assert len(calls) == 12
    for task in ("aime24", "math_500"):
        assert resumed["tasks"][task]["avg_at_k"] == uninterrupted["tasks"][task]["avg_at_k"]
    cached = {
        json.loads(x)["key"]: json.loads(x)["text"] for x in (tmp_path / "ev/cache.jsonl").read_text().splitlines()
    }
    fresh_cached = {
        json.loads(x)["key"]: json.loads(x)["text"] for x in (tmp_path / "fresh/cache.jsonl").read_text().splitlines()
    }
    assert cached == fresh_cached  # per-sample seeds: the same answers, killed or not


def test_checkpoint_sweep_gives_one_result_set_per_checkpoint(capsys, tiny_model, data_dir, tmp_path):
    run_dir = tmp_path / "run"
    for step in (50, 100):
        shutil.copytree(tiny_model, run_dir / f"checkpoint-{step}")
        (run_dir / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    out = tmp_path / "ev"
    code, stdout, err = invoke(
        capsys,
        "eval",
        "--model",
        str(run_dir),
        "--checkpoints",
        "all",
        "--backend",
        "transformers",
        "--tasks",
        "aime24",
        "--limit",
        "2",
        "--max-new-tokens",
        "8",
        "--data-dir",
        str(data_dir / "bench"),
        "--output-dir",
        str(out),
        "--json",
    )
    assert code == 0, err
    summaries = json.loads(stdout)
    assert [s["step"] for s in summaries] == [50, 100]
    assert [s["name"] for s in summaries] == ["run/checkpoint-50", "run/checkpoint-100"]
    for step in (50, 100):
        assert len(list((out / f"checkpoint-{step}" / "results").rglob("results_*.json"))) == 1


def test_dry_run_on_eight_gpus_plans_a_data_parallel_vllm_server(capsys):
    code, out, err = invoke(
        capsys,
        "eval",
        "--model",
        "Ben-Lustig/OpenRS-GRPO_Qwen3",
        "--tasks",
        "all",
        "--gpus",
        "8",
        "--dry-run",
        "--json",
    )
    assert code == 0, err
    plan = json.loads(out)
    assert plan["backend"] == "vllm" and plan["gpus"] == 8
    argv = plan["server_command"]
    assert argv[1:5] == ["-m", "vllm.entrypoints.launchers.api_server.entry", "--model", "Ben-Lustig/OpenRS-GRPO_Qwen3"]
    assert argv[argv.index("--generation-config") + 1] == "vllm"  # the model folder's sampling defaults never apply
    assert argv[argv.index("--data-parallel-size") + 1] == "8"
    assert int(argv[argv.index("--max-model-len") + 1]) > 32768
    assert [t["name"] for t in plan["tasks"]] == ["aime24", "math_500", "amc23", "minerva", "olympiadbench"]
    assert plan["samples"] == {t: 1 for t in ["aime24", "math_500", "amc23", "minerva", "olympiadbench"]}
    assert plan["sampling"] == {
        "temperature": 0.6,
        "top_p": 0.95,
        "top_k": -1,
        "min_p": 0.0,
        "repetition_penalty": 1.0,
        "max_new_tokens": 32768,
        "seed": 42,
    }
    assert plan["prompt_tokens"] == "paper" and "--enforce-eager" not in argv  # compiled on GPUs, as the paper


def robust_plan(capsys, bench):
    code, out, _ = invoke(
        capsys,
        "eval",
        "--model",
        "org/m",
        "--tasks",
        "all",
        "--gpus",
        "8",
        "--protocol",
        "robust",
        "--data-dir",
        str(bench),
        "--dry-run",
        "--json",
    )
    assert code == 0
    return json.loads(out)


def test_robust_protocol_and_local_problem_counts(capsys, data_dir):
    plan = robust_plan(capsys, data_dir / "bench")
    assert plan["samples"] == {"aime24": 16, "math_500": 4, "amc23": 16, "minerva": 4, "olympiadbench": 4}
    counts = {f.stem: len(f.read_text().splitlines()) for f in (data_dir / "bench").glob("*.jsonl")}
    assert {t["name"]: t["problems"] for t in plan["tasks"]} == {
        "aime24": counts["aime24"],
        "math_500": counts["math500"],
        "amc23": counts["amc23"],
        "minerva": counts["minerva"],
        "olympiadbench": counts["olympiadbench"],
    }


def test_the_full_benchmarks_have_the_official_sizes(capsys, full_data):
    plan = robust_plan(capsys, full_data.path("data/bench"))
    assert {t["name"]: t["problems"] for t in plan["tasks"]} == {
        "aime24": 30,
        "math_500": 500,
        "amc23": 40,
        "minerva": 272,
        "olympiadbench": 675,
    }


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (["--model", "org/m", "--tasks", "aime42", "--dry-run"], 2, ["unknown task 'aime42'"]),
        (["--model", "/nonexistent/model", "--dry-run"], 2, ["does not exist"]),
        (["--model", "org/m", "--backend", "endpoint", "--dry-run"], 2, ["--base-url"]),
        (["--model", "org/m", "--samples", "0", "--dry-run"], 2, ["--samples"]),
        (["--model", "org/m", "--checkpoints", "all", "--dry-run"], 2, ["local training output"]),
        (["--model", "org/m", "--gpus", "8"], 2, ["--gpus 8"]),
        (
            ["--model", "org/m", "--base-url", "http://127.0.0.1:9/v1", "--backend", "transformers"],
            2,
            ["conflicts"],
        ),
    ],
)
def test_bad_eval_input(capsys, args, code, needles):
    assert_error(invoke(capsys, "eval", *args), code, *needles)


def test_unreachable_endpoint_and_empty_model_folder(capsys, tiny_model, data_dir, tmp_path):
    data = ["--data-dir", str(data_dir / "bench"), "--limit", "1", "--output-dir", str(tmp_path / "o")]
    assert_error(
        invoke(capsys, "eval", "--model", str(tiny_model), "--base-url", "http://127.0.0.1:9/v1", *data),
        2,
        "cannot reach",
        "--base-url",
    )
    (tmp_path / "empty").mkdir()
    assert_error(invoke(capsys, "eval", "--model", str(tmp_path / "empty"), *data), 2, "no config.json")


def _answers(out_dir) -> dict[tuple, str]:
    rows = [json.loads(x) for x in (out_dir / "cache.jsonl").read_text().splitlines()]
    return {(r["task"], r["index"], r["sample"]): r["text"] for r in rows}


def test_the_same_model_in_two_folders_gives_the_same_answers(capsys, tiny_model, data_dir, tmp_path):
    """Seeds depend on (seed, task, problem, sample) only: not on where the model lies."""
    copies = [tmp_path / "a" / "model", tmp_path / "elsewhere" / "renamed"]
    answers = []
    for i, copy in enumerate(copies):
        shutil.copytree(tiny_model, copy)
        out = tmp_path / f"ev{i}"
        args = ["eval", "--model", str(copy), "--backend", "transformers", *COMMON, "--temperature", "1.0"]
        code, _, err = invoke(capsys, *args, "--data-dir", str(data_dir / "bench"), "--output-dir", str(out))
        assert code == 0, err
        answers.append(_answers(out))
    assert answers[0] == answers[1] and len(answers[0]) == 12
    assert len(set(answers[0].values())) > 1  # sampled: different samples differ


def test_jobs_of_two_models_share_seeds_sample_by_sample(data_dir, tmp_path):
    from openrs_cli.eval.plan import EvalOptions, plan_eval
    from openrs_cli.eval.runner import build_jobs, target_identity
    from openrs_cli.eval.tasks import load_problems

    def jobs(model):
        (model / "config.json").parent.mkdir(parents=True)
        (model / "config.json").write_text(json.dumps({"name": model.name}))  # two models, two contents
        opts = EvalOptions(model=str(model), tasks="aime24", samples=3, limit=2, data_dir=data_dir / "bench", gpus="0")
        plan = plan_eval(opts)
        problems = {t.name: load_problems(t, plan.data_dir, plan.limit) for t in plan.tasks}
        return build_jobs(plan, plan.models[0], problems, target_identity(plan, plan.models[0]))

    before, after = jobs(tmp_path / "before"), jobs(tmp_path / "train" / "after")
    assert [j.seed for j in before] == [j.seed for j in after]
    assert len({j.seed for j in before}) == 6
    assert {j.key for j in before}.isdisjoint({j.key for j in after})  # the cache still tells models apart


def test_max_new_tokens_is_capped_at_the_models_context_once(capsys, data_dir, tmp_path):
    from openrs_cli.localmodels import build_tiny_model

    model = build_tiny_model(tmp_path / "short-context", context=400)
    out = tmp_path / "ev"
    args = ["eval", "--model", str(model), "--backend", "transformers", "--tasks", "aime24", "--limit", "2"]
    code, stdout, err = invoke(
        capsys, *args, "--max-new-tokens", "32768", "--temperature", "0", "--data-dir", str(data_dir / "bench"),
        "--output-dir", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert (stdout + err).count("capped at the model's context (400 tokens)") == 1
    rows = [json.loads(x) for x in (out / "cache.jsonl").read_text().splitlines()]
    assert all(r["completion_tokens"] <= 400 for r in rows)


def batched_options(tiny_model, data_dir, out, limit):
    from openrs_cli.eval.plan import EvalOptions

    return EvalOptions(
        model=str(tiny_model), tasks="aime24", backend="transformers", limit=limit, samples=2,
        sampling=Sampling(temperature=1.0, max_new_tokens=12), data_dir=data_dir / "bench", output_dir=out,
        batch_size=4, gpus="0",
    )  # fmt: skip


def test_batched_generation_resumes_to_the_uninterrupted_answers(monkeypatch, tiny_model, data_dir, tmp_path):
    """Fixed chunks: a killed batched eval regenerates whole chunks and ends with the same answers."""
    from openrs_cli.eval import runner
    from openrs_cli.eval.plan import plan_eval

    def opts(out):
        return batched_options(tiny_model, data_dir, out, limit=3)

    monkeypatch.setenv("OPENRS_FAULT", "answers:2:interrupt")  # a Ctrl-C half-way through the first chunk of 4
    with pytest.raises(KeyboardInterrupt):
        runner.run(plan_eval(opts(tmp_path / "killed")), lambda _: None)
    monkeypatch.delenv("OPENRS_FAULT")
    assert len((tmp_path / "killed" / "cache.jsonl").read_text().splitlines()) == 2
    runner.run(plan_eval(opts(tmp_path / "killed")), lambda _: None)
    runner.run(plan_eval(opts(tmp_path / "fresh")), lambda _: None)

    def answers(out):
        return {
            (r["index"], r["sample"]): r["text"]
            for r in map(json.loads, (out / "cache.jsonl").read_text().splitlines())
        }

    assert answers(tmp_path / "killed") == answers(tmp_path / "fresh") and len(answers(tmp_path / "fresh")) == 6


def test_a_chunk_cut_in_the_middle_is_generated_whole_again(monkeypatch, tiny_model, data_dir, tmp_path):
    from openrs_cli.eval import runner
    from openrs_cli.eval.backends import transformers_backend as hf
    from openrs_cli.eval.plan import plan_eval

    def opts(out):
        return batched_options(tiny_model, data_dir, out, limit=2)

    real = hf.TransformersBackend._batch

    def cut(self, chunk, sampling, on_result):
        done = []

        def counted(request, result):
            if len(done) == 2:
                raise KeyboardInterrupt  # two of the chunk's four answers saved, then killed
            done.append(request)
            on_result(request, result)

        real(self, chunk, sampling, counted)

    monkeypatch.setattr(hf.TransformersBackend, "_batch", cut)
    with pytest.raises(KeyboardInterrupt):
        runner.run(plan_eval(opts(tmp_path / "killed")), lambda _: None)
    monkeypatch.setattr(hf.TransformersBackend, "_batch", real)
    assert len((tmp_path / "killed" / "cache.jsonl").read_text().splitlines()) == 2
    (resumed,) = runner.run(plan_eval(opts(tmp_path / "killed")), lambda _: None)
    (fresh,) = runner.run(plan_eval(opts(tmp_path / "fresh")), lambda _: None)

    assert _answers(tmp_path / "killed") == _answers(tmp_path / "fresh")
    assert resumed["tasks"]["aime24"]["n_samples"] == 4  # each answer scored once


@pytest.mark.parametrize("cpu_build", [False, True])
def test_vllm_without_gpus_needs_vllms_cpu_build(capsys, monkeypatch, cpu_build):
    """No GPUs: refused unless vLLM's CPU build is installed; with it, the server gets its CPU settings."""
    from openrs_cli.eval.backends import factory

    monkeypatch.setattr(factory, "vllm_cpu_build", lambda: cpu_build)
    result = invoke(capsys, "eval", "--model", "org/m", "--backend", "vllm", "--gpus", "0", "--dry-run", "--json")
    if not cpu_build:
        assert_error(result, 2, "needs GPUs", "vllm-cpu")
        return
    code, out, err = result
    assert code == 0, err
    plan = json.loads(out)
    argv = plan["server_command"]
    assert "--no-enable-chunked-prefill" in argv and "--data-parallel-size" not in argv
    assert plan["dtype"] == "float32" and plan["engine"]["device"] == "cpu"
    # the model runs in the engine's process: the CPU build keeps `uni` only with V1 multiprocessing off
    assert argv[argv.index("--distributed-executor-backend") + 1] == "uni"
    from openrs_cli.eval.backends.base import BackendSettings
    from openrs_cli.eval.backends.vllm_server import server_env

    assert server_env(BackendSettings("vllm", [], cpu=True))["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0"


def test_a_checkpoint_still_being_written_is_never_evaluated(capsys, tiny_model, tmp_path):
    """A checkpoint without trainer_state.json (the trainer writes it last) may hold half-written weights: `all`
    leaves it out and says so, naming it is refused."""
    run_dir = tmp_path / "run"
    for step in (50, 100):
        shutil.copytree(tiny_model, run_dir / f"checkpoint-{step}")
    (run_dir / "checkpoint-50" / "trainer_state.json").write_text(json.dumps({"global_step": 50}))
    args = ["eval", "--model", str(run_dir), "--tasks", "aime24", "--backend", "transformers", "--dry-run", "--json"]
    code, out, err = invoke(capsys, *args, "--checkpoints", "all")
    assert code == 0, err
    plan = json.loads(out)
    assert [m["name"] for m in plan["models"]] == ["run/checkpoint-50"]
    assert any("left out checkpoint-100" in n and "trainer_state.json" in n for n in plan["notes"])
    code, out, err = invoke(capsys, *args, "--checkpoints", "100")
    assert code == 2 and "checkpoint-100 in" in err and "is incomplete" in err and "have: 50" in err
    (run_dir / "checkpoint-50" / "trainer_state.json").unlink()
    code, out, err = invoke(capsys, *args, "--checkpoints", "all")
    assert code == 2 and "no complete checkpoint" in err
