"""The GPU paths, run for real on a CUDA machine: `python -m pytest -m gpu tests/gpu` (add `-m "gpu or vllm"`
where vLLM is installed). Without CUDA every test here is skipped with a reason, never passed.

What they need: one CUDA GPU (two for the server layout), torch with CUDA, DeepSpeed (`pip install -e ".[gpu]"`
or DS_BUILD_OPS=0 deepspeed), and for the `vllm` ones, vLLM. The tiny model is built offline.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.cli_helpers import run_openrs, smoke_train_args


def _cuda_gpus() -> int:
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


GPUS = _cuda_gpus()
HAS_VLLM = importlib.util.find_spec("vllm") is not None
HAS_DEEPSPEED = importlib.util.find_spec("deepspeed") is not None

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(GPUS == 0, reason="no CUDA GPU here: the GPU suite runs only on a GPU machine"),
]
BF16 = ["dtype=bfloat16", "bf16=true", "max_completion_length=32", "save_steps=2", "logging_steps=1"]


def _zero_stage(checkpoint) -> int:
    import torch

    (states,) = list(checkpoint.glob("global_step*/mp_rank_00_model_states.pt"))
    return torch.load(states, map_location="cpu", weights_only=False)["ds_config"]["zero_optimization"]["stage"]


@pytest.mark.skipif(not HAS_DEEPSPEED, reason="DeepSpeed is not installed")
def test_train_on_cuda_with_zero2_bf16_then_resume(tiny_model, tmp_path):
    out = tmp_path / "run"
    args = [*smoke_train_args(tiny_model, out, *BF16, "max_steps=4"), "--gpus", "1", "--generation", "transformers"]
    result = run_openrs(*args, timeout=1200)
    assert result.returncode == 0, result.stderr[-4000:]
    assert (out / "checkpoint-4" / "trainer_state.json").is_file()
    assert _zero_stage(out / "checkpoint-4") == 2
    args = [*smoke_train_args(tiny_model, out, *BF16, "max_steps=6"), "--gpus", "1", "--generation", "transformers"]
    resumed = run_openrs(*args, timeout=1200)
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert "resuming from checkpoint-4" in resumed.stderr
    state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6 and any("openrs/generation_seconds" in h for h in state["log_history"])


def test_eval_on_cuda_with_transformers(tiny_model, data_dir, tmp_path):
    out = tmp_path / "ev"
    result = run_openrs(
        "eval", "--model", str(tiny_model), "--backend", "transformers", "--gpus", "1", "--tasks", "aime24",
        "--limit", "3", "--samples", "2", "--max-new-tokens", "32", "--data-dir", str(data_dir / "bench"),
        "--output-dir", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["tasks"]["aime24"]["complete"] and summary["tasks"]["aime24"]["n_samples"] == 6


@pytest.mark.parametrize("layout", ["colocate", "server"])
@pytest.mark.vllm
@pytest.mark.skipif(not HAS_VLLM, reason="vLLM is not installed")
def test_train_with_vllm(tiny_model, tmp_path, layout):
    gpus = 1 if layout == "colocate" else 2
    if gpus > GPUS:
        pytest.skip(f"the {layout} layout needs {gpus} GPUs")
    out = tmp_path / layout
    args = [*smoke_train_args(tiny_model, out, *BF16, "max_steps=2", "use_vllm=true"), "--gpus", str(gpus)]
    result = run_openrs(*args, "--layout", layout, timeout=1800)
    assert result.returncode == 0, result.stderr[-4000:]
    assert (out / "checkpoint-2").is_dir()


@pytest.mark.vllm
@pytest.mark.skipif(not HAS_VLLM, reason="vLLM is not installed")
def test_eval_with_vllm_data_parallel(tiny_model, data_dir, tmp_path):
    out = tmp_path / "ev"
    result = run_openrs(
        "eval", "--model", str(tiny_model), "--backend", "vllm", "--gpus", str(GPUS), "--tasks", "aime24,amc23",
        "--limit", "4", "--samples", "2", "--max-new-tokens", "64", "--data-dir", str(data_dir / "bench"),
        "--output-dir", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    assert json.loads((out / "summary.json").read_text())["tasks"]["amc23"]["complete"]
