"""Tina's recipes equal what Tina ran (shangshang-wang/Tina@c6274cd), checked against copies of its files in
tests/fixtures/reference/ (its YAML recipes and launch script, unchanged; its prompts and template renders,
computed from its code by the make_tina_*.py scripts there)."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "reference"
TINA_RECIPES = {1: "tina-open-rs1", 2: "tina-open-rs2", 3: "tina-open-rs3"}
# tina/utils/constant.py RL_POST_TRAIN_CONFIG_MAP, the entries these recipes name
DATASETS = {"open_rs1": "knoveleng/open-s1", "open_rs2": "knoveleng/open-rs", "open_rs3": "knoveleng/open-rs"}
# Tina key -> openrs/TRL 1.16 key, where the name differs
RENAMED = {
    "rl_post_train_reward_funcs": "reward_funcs",
    "rl_post_train_reward_weights": "reward_weights",
    "vllm_max_model_len": "vllm_max_model_length",
    "warmup_ratio": "warmup_steps",
}
# Tina keys openrs does not carry as they are, and why
NOT_CARRIED = {
    "model_post_train_dataset_name",  # a name Tina maps to a dataset id (checked below)
    "model_post_train_type",  # grpo: the only kind openrs trains
    "model_name_or_path",  # a folder name under CKPT_DIR; the Hub id is checked below
    "attn_implementation",  # flash_attention_2 when importable (openrs picks; sdpa otherwise)
    "vllm_device",  # TRL 1.16 has no such key: cuda:0 (a training GPU) is vllm_mode colocate
    "log_level",
    "logging_strategy",
    "push_to_hub",  # `openrs push` uploads
    "hub_strategy",
    "hub_private_repo",
    "hub_model_id",
    "overwrite_output_dir",  # rejected by TRL 1.16
    "report_to",  # wandb in Tina; openrs: --report-to
}


def recipe(name: str) -> dict:
    return yaml.safe_load((resources.files("openrs_cli.recipes") / f"{name}.yaml").read_text())


def tina(n: int) -> dict:
    return yaml.safe_load((FIXTURES / f"tina-train_model_open_rs{n}.yaml").read_text())


def dry_run(capsys, *args: str) -> dict:
    code, out, err = invoke(capsys, "train", *args, "--dry-run", "--json")
    assert code == 0, err
    return json.loads(out)


def launch_flags(config_name: str) -> dict[str, str]:
    """The flags post_train_model_grpo.sh adds after `--config` for one of Tina's config names."""
    script = (FIXTURES / "tina-post_train_model_grpo.sh").read_text()
    branches = re.search(r"if \[\[(.*?)\]\]; then(.*?)\nelse(.*?)\nfi\b", script, re.DOTALL)
    condition, with_flags, without = branches.groups()
    names = re.findall(r'== "(\w+)"', condition)
    body = with_flags if config_name in names else without
    words = body.replace("\\\n", " ").split()
    flags = words[words.index('"${PY_CONFIG}"') + 1 :]
    return dict(zip(flags[::2], flags[1::2], strict=True))


@pytest.mark.parametrize("n", sorted(TINA_RECIPES))
def test_recipe_carries_every_value_of_tinas_yaml(n):
    ref, mine = tina(n), recipe(TINA_RECIPES[n])
    compared = 0
    for key, value in ref.items():
        if key in NOT_CARRIED:
            continue
        ours = RENAMED.get(key, key)
        assert ours in mine, f"{TINA_RECIPES[n]} lacks Tina's key {key}"
        if key == "rl_post_train_reward_funcs":  # Tina's accuracy reward is its own: accuracy_tina
            value = ["accuracy_tina" if v == "accuracy" else v for v in value]
        assert mine[ours] == value, key
        compared += 1
    assert compared >= 30
    assert mine["dataset_name"] == DATASETS[ref["model_post_train_dataset_name"]]
    assert mine["model_name_or_path"] == "deepseek-ai/" + ref["model_name_or_path"]
    assert ref["vllm_device"] == "cuda:0" and mine["vllm_mode"] == "colocate"


@pytest.mark.parametrize("n", sorted(TINA_RECIPES))
def test_the_schedule_is_tinas_and_the_run_stops_where_its_comment_says(n):
    text = (FIXTURES / f"tina-train_model_open_rs{n}.yaml").read_text()
    schedule, stop = map(int, re.search(r"use (\d+) for lr scheduler but stop at (\d+) steps", text).groups())
    mine = recipe(TINA_RECIPES[n])
    assert (mine["max_steps"], mine["stop_at_step"]) == (schedule, stop) == (tina(n)["max_steps"], stop)


@pytest.mark.parametrize("n", sorted(TINA_RECIPES))
def test_cosine_length_is_what_the_launch_script_passes(n):
    flags = launch_flags(f"open_rs{n}")
    mine = recipe(TINA_RECIPES[n])
    if "cosine" in mine["reward_funcs"]:
        assert flags == {"--cosine_max_len": "3584"}
        assert mine["cosine_max_len"] == 3584
    else:
        assert flags == {} and "cosine_max_len" not in mine


@pytest.mark.parametrize("n", sorted(TINA_RECIPES))
def test_system_prompt_is_the_one_tinas_code_picks(n):
    prompts = json.loads((FIXTURES / "tina-prompts.json").read_text())["system_prompts"]
    mine = recipe(TINA_RECIPES[n])
    expected = "OPEN_RS_SYSTEM_PROMPT" if "open-rs" in mine["dataset_name"] else "OPEN_R1_SYSTEM_PROMPT"
    assert mine["system_prompt"] == prompts[expected]
    assert (expected == "OPEN_R1_SYSTEM_PROMPT") == (n == 1)


def test_r1_no_think_renders_as_tinas_template():
    from transformers.utils.chat_template_utils import render_jinja_template

    from openrs_cli.train.chat_templates import resolve_chat_template

    data = json.loads((FIXTURES / "tina-prompts.json").read_text())
    template = resolve_chat_template("r1-no-think")
    assert len(data["renders"]) == 6
    for case in data["renders"]:
        rendered, _ = render_jinja_template(
            [case["messages"]],
            chat_template=template,
            add_generation_prompt=case["add_generation_prompt"],
            bos_token=data["bos_token"],
        )
        assert rendered[0] == case["text"], case["messages"]
    assert all(not case["text"].endswith("<think>\n") for case in data["renders"])


@pytest.mark.parametrize("n", sorted(TINA_RECIPES))
def test_tina_recipes_set_the_maths_of_tinas_trainer(n):
    config = recipe(TINA_RECIPES[n])
    assert (config["beta"], config["loss_type"], config["scale_rewards"]) == (0.04, "grpo", "group")
    assert config["use_bias_correction_kl"] is False and config["logprobs_temperature"] == 1.0
    assert config["steps_per_generation"] == 1 and config["num_iterations"] == 1
    assert config["vllm_importance_sampling_correction"] is False and config["mask_truncated_completions"] is False
    assert (config["chat_template"], config["pad_token"]) == ("r1-no-think", "<|fim_pad|>")


@pytest.mark.parametrize("n", sorted(TINA_RECIPES))
def test_every_key_of_a_tina_recipe_names_its_source(n):
    from openrs_cli.train.provenance import TAGS, recipe_tags

    text = (resources.files("openrs_cli.recipes") / f"{TINA_RECIPES[n]}.yaml").read_text()
    tags = recipe_tags(text)
    assert not set(recipe(TINA_RECIPES[n])) - set(tags) - {"recipe_description"}
    assert set(tags.values()) <= set(TAGS)


@pytest.mark.parametrize("n", sorted(TINA_RECIPES))
def test_two_gpus_plan_tinas_layout_and_batch(capsys, n):
    """Tina ran 2 training ranks with vLLM on GPU 0 beside training (post_train_model_grpo.sh)."""
    ref = tina(n)
    plan = dry_run(capsys, "--recipe", TINA_RECIPES[n], "--gpus", "2")
    config = plan["config"]
    assert plan["layout"] == "colocate" and plan["training_processes"] == 2 and plan["vllm_gpus"] == []
    assert config["vllm_gpu_memory_utilization"] == ref["vllm_gpu_memory_utilization"] == 0.4
    batch = (config["per_device_train_batch_size"], config["gradient_accumulation_steps"])
    assert batch == (ref["per_device_train_batch_size"], ref["gradient_accumulation_steps"])
    assert plan["completions_per_step"] == 2 * ref["per_device_train_batch_size"] * ref["gradient_accumulation_steps"]
    assert config["use_peft"] is True and config["lora_r"] == 32


@pytest.mark.parametrize("n", sorted(TINA_RECIPES))
def test_one_gpu_keeps_tinas_step_with_more_accumulation(capsys, n):
    ref = tina(n)
    plan = dry_run(capsys, "--recipe", TINA_RECIPES[n], "--gpus", "1")
    assert plan["layout"] == "colocate" and plan["training_processes"] == 1
    assert plan["completions_per_step"] == 2 * ref["per_device_train_batch_size"] * ref["gradient_accumulation_steps"]
    assert plan["config"]["vllm_gpu_memory_utilization"] == 0.4


def test_the_text_dry_run_shows_the_lora_settings(capsys):
    code, out, err = invoke(capsys, "train", "--recipe", "tina-open-rs3", "--gpus", "2", "--dry-run")
    assert code == 0, err
    lora = [line for line in out.splitlines() if line.startswith("lora:")]
    assert lora and "r 32, alpha 128, dropout 0.05" in lora[0] and "gate_proj" in lora[0]
    assert "inside each rank" in out


def test_recipes_list_shows_the_tina_recipes(capsys):
    code, out, err = invoke(capsys, "recipes", "list")
    assert code == 0, err
    for name in TINA_RECIPES.values():
        assert name in out


def test_an_unknown_chat_template_name_is_one_line(capsys):
    code, _, err = invoke(capsys, "train", "--recipe", "tina-open-rs3", "--set", "chat_template=r2", "--dry-run")
    assert code == 2 and "chat_template 'r2'" in err and "r1-no-think" in err


def test_a_context_too_short_for_the_completions_is_named_in_the_plan(capsys):
    args = ("--recipe", "tina-open-rs3", "--gpus", "3", "--layout", "server", "--set", "max_completion_length=8960")
    notes = dry_run(capsys, *args)["notes"]
    assert any("vllm_max_model_length 4608 < max_prompt_length 512 + max_completion_length 8960" in n for n in notes)
    assert not any("vllm_max_model_length" in n for n in dry_run(capsys, "--recipe", "tina-open-rs3")["notes"])


def test_the_recipe_template_and_pad_token_reach_the_tokenizer(tiny_model):
    from types import SimpleNamespace

    from transformers import AutoTokenizer

    from openrs_cli.train.entry import set_tokens

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    pad = next(t for t in tokenizer.all_special_tokens if t != tokenizer.pad_token)
    set_tokens(tokenizer, SimpleNamespace(chat_template="r1-no-think", pad_token=pad))
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert text.endswith("S<｜User｜>Q<｜Assistant｜>") and tokenizer.pad_token == pad
    with pytest.raises(ValueError, match="not in the tokenizer's vocabulary"):
        set_tokens(tokenizer, SimpleNamespace(chat_template=None, pad_token="<|no-such-token|>"))
