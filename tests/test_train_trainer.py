"""openrs's GRPOTrainer subclass and stop step, on the tiny model with the real TRL 1.16 (CPU)."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import run_openrs, smoke_train_args


def _trainer(tiny_model, tmp_path, logprobs_temperature):
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import GRPOConfig

    from openrs_cli.train.trainer import OpenrsGRPOTrainer

    args = GRPOConfig(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=2,
        num_generations=2,
        max_completion_length=8,
        temperature=0.7,
        beta=0.04,
        report_to="none",
    )
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    data = Dataset.from_list([{"prompt": "What is 3 + 4?"}] * 4)
    return OpenrsGRPOTrainer(
        model=str(tiny_model),
        reward_funcs=lambda completions, **kw: [0.0] * len(completions),
        args=args,
        train_dataset=data,
        processing_class=tokenizer,
        logprobs_temperature=logprobs_temperature,
    ), tokenizer


def _logps(trainer, model, ids, keep):
    import torch

    mask = torch.ones_like(ids)
    with torch.no_grad():
        return trainer._get_per_token_logps_and_entropies(model, ids, mask, keep)[0]


def _expected(model, ids, keep, temperature):
    import torch

    with torch.no_grad():
        logits = model(input_ids=ids).logits[:, :-1] / temperature
    logps = torch.log_softmax(logits.float(), dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return logps[:, -keep:]


@pytest.mark.parametrize(("setting", "divisor"), [(1.0, 1.0), (None, 0.7)])
def test_logprobs_temperature_sets_the_logits_divisor(tiny_model, tmp_path, setting, divisor):
    """1.0: log_softmax of the raw logits (the paper's TRL); None: TRL 1.16's logits / temperature."""
    import torch

    trainer, tokenizer = _trainer(tiny_model, tmp_path, setting)
    ids = tokenizer("What is 3 + 4? Let x = 2, y = 5; compute", return_tensors="pt")["input_ids"]
    keep = 6
    for model in (trainer.model, trainer.ref_model):  # the policy and the KL's reference model
        got = _logps(trainer, model, ids, keep)
        torch.testing.assert_close(got, _expected(model, ids, keep, divisor), atol=1e-5, rtol=1e-5)
        other = 0.7 if divisor == 1.0 else 1.0
        assert not torch.allclose(got, _expected(model, ids, keep, other), atol=1e-4)


def test_generation_keeps_the_sampling_temperature(tiny_model, tmp_path):
    trainer, _ = _trainer(tiny_model, tmp_path, 1.0)
    assert trainer.temperature == 0.7 and trainer.logprobs_temperature == 1.0


def test_stop_at_step_saves_and_ends_on_the_full_schedule_and_resume_respects_it(tiny_model, tmp_path):
    out = tmp_path / "run"
    sets = ["max_completion_length=16", "max_steps=6", "save_steps=2", "stop_at_step=3", "learning_rate=1e-3"]
    args = smoke_train_args(tiny_model, out, *sets)
    result = run_openrs(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-3"]
    state = json.loads((out / "checkpoint-3" / "trainer_state.json").read_text())
    assert state["global_step"] == 3 and state["max_steps"] == 6  # the schedule still spans max_steps
    logged = {h["step"]: h["learning_rate"] for h in state["log_history"] if "learning_rate" in h}
    # warmup 0.1 of 6 steps = 1 step, then cosine to 0.1 x lr over the remaining 5: step 3 is mid-decay
    assert logged[3] > 1e-4 * 1.5 and logged[3] < 1e-3
    again = run_openrs(*args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "at stop_at_step 3" in again.stderr
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-3"]


def test_lora_through_trls_model_config_trains_an_adapter_on_cpu(tiny_model, tmp_path):
    out = tmp_path / "lora"
    sets = ["max_completion_length=16", "max_steps=2", "save_steps=2", "learning_rate=1e-3", "use_peft=true"]
    sets += ["lora_r=4", "lora_alpha=8", "lora_target_modules=[q_proj, v_proj]"]
    result = run_openrs(*smoke_train_args(tiny_model, out, *sets))
    assert result.returncode == 0, result.stderr[-3000:]
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and set(adapter["target_modules"]) == {"q_proj", "v_proj"}
    assert (out / "adapter_model.safetensors").stat().st_size > 0
    assert not (out / "model.safetensors").exists()  # an adapter, not a full copy of the model


def test_generation_with_transformers_trains_on_cpu_and_plans_every_gpu_as_a_rank(capsys, tiny_model, tmp_path):
    """`--generation transformers`: no vLLM anywhere; on GPUs every one is a training rank (planned here with
    four), and the same entry and TRL generation path train for real on the CPU."""
    from tests.cli_helpers import invoke

    code, out, err = invoke(
        capsys, "train", "--exp", "3", "--gpus", "4", "--generation", "transformers", "--dry-run", "--json"
    )
    assert code == 0, err
    plan = json.loads(out)
    assert plan["layout"] == "transformers" and plan["training_processes"] == 4 and plan["vllm_gpus"] == []
    assert plan["config"]["use_vllm"] is False and plan["completions_per_step"] == 72
    assert any("several times longer" in note for note in plan["notes"])
    out_dir = tmp_path / "run"
    args = smoke_train_args(tiny_model, out_dir, "max_completion_length=16", "max_steps=2", "save_steps=2")
    result = run_openrs(*args, "--generation", "transformers")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "use_vllm: false" in (out_dir / "openrs_config.yaml").read_text()
    assert (out_dir / "checkpoint-2" / "trainer_state.json").is_file()


def test_first_logprobs_are_checked_against_the_raw_logits(tiny_model, tmp_path):
    """The check passes on TRL 1.16 as installed, for the policy and the reference model, once each."""
    import torch

    trainer, tokenizer = _trainer(tiny_model, tmp_path, 1.0)
    ids = tokenizer("What is 3 + 4? Let x = 2, y = 5; compute", return_tensors="pt")["input_ids"]
    for model in (trainer.model, trainer.ref_model):
        _logps(trainer, model, ids, 6)
    assert trainer._logprobs_checked == {id(trainer.model), id(trainer.ref_model)}
    torch.testing.assert_close(_logps(trainer, trainer.model, ids, 6), _expected(trainer.model, ids, 6, 1.0))


def test_a_trl_that_rebinds_the_temperature_stops_the_run_naming_its_version(tiny_model, tmp_path):
    """As if a TRL release bound the sampling temperature into its LM head after openrs set 1.0."""
    import trl
    from trl.trainer.utils import add_fused_lm_head

    trainer, tokenizer = _trainer(tiny_model, tmp_path, 1.0)
    add_fused_lm_head(trainer.model, temperature=0.05, outputs=("log_probs", "entropy"))
    ids = tokenizer("What is 3 + 4? Let x = 2, y = 5; compute", return_tensors="pt")["input_ids"]
    with pytest.raises(RuntimeError, match=f"TRL {trl.__version__} computed per-token log-probs"):
        _logps(trainer, trainer.model, ids, 6)
