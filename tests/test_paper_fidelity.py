"""The paper recipes equal what the reference code ran (knoveleng/open-rs@2889c47, its pinned TRL, the
Qwen3 fork), checked against copies of the reference files in tests/fixtures/reference/."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import invoke

FIXTURES = Path(__file__).parent / "fixtures" / "reference"
PAPER_RECIPES = ["exp1", "exp2", "exp3", "exp3-cosine-fixed", "qwen3"]
# src/open_r1/grpo.py GRPOScriptArguments defaults at 2889c47 (the released recipes set none of them)
GRPO_PY_COSINE = {
    "cosine_max_len": 1000,
    "cosine_min_value_wrong": 0.0,
    "cosine_max_value_wrong": -0.5,
    "cosine_min_value_correct": 0.5,
    "cosine_max_value_correct": 1.0,
}
# reference key -> openrs/TRL 1.16 key, where TRL renamed it
RENAMED = {"torch_dtype": "dtype", "vllm_max_model_len": "vllm_max_model_length", "warmup_ratio": "warmup_steps"}
# reference keys openrs does not carry, and why
NOT_CARRIED = {
    "attn_implementation",  # flash_attention_2 when importable (openrs picks; sdpa otherwise)
    "vllm_device",  # TRL 1.x has no such key: the plan's server layout puts vLLM on its own GPU
    "vllm_enforce_eager",  # no GRPOConfig key in TRL 1.16; speed only
    "do_eval",
    "hub_model_id",
    "hub_strategy",
    "push_to_hub",  # `openrs push` uploads
    "overwrite_output_dir",  # rejected by TRL 1.16
    "per_device_eval_batch_size",
    "log_level",
    "logging_strategy",
    "report_to",  # wandb in the reference; openrs: --report-to
    "output_dir",
    "trust_remote_code",  # Qwen3 is native in transformers 5
}


def recipe(name: str) -> dict:
    return yaml.safe_load((resources.files("openrs_cli.recipes") / f"{name}.yaml").read_text())


def dry_run(capsys, *args: str) -> dict:
    code, out, err = invoke(capsys, "train", *args, "--dry-run", "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize(("name", "reference"), [("exp3", "open-rs-grpo.yaml"), ("qwen3", "ben-grpoqwen3.yaml")])
def test_recipe_carries_every_value_of_the_reference_yaml(name, reference):
    ref = yaml.safe_load((FIXTURES / reference).read_text())
    mine = recipe(name)
    compared = 0
    for key, value in ref.items():
        if key in NOT_CARRIED:
            continue
        assert RENAMED.get(key, key) in mine, f"{name} lacks the reference key {key}"
        assert mine[RENAMED.get(key, key)] == value, key
        compared += 1
    assert compared >= 25


def readme_command_flags() -> dict[str, str]:
    """`--key value` pairs the reference README's Experiment 3 command adds after `--config`."""
    words = (FIXTURES / "open-rs-readme-exp3.sh").read_text().replace("\\\n", " ").split()
    flags = words[words.index("recipes/grpo.yaml") + 1 :]
    return dict(zip(flags[::2], flags[1::2], strict=True))


@pytest.mark.parametrize("name", ["exp3", "qwen3"])
def test_cosine_length_is_the_readme_command_and_the_rest_grpo_py_defaults(name):
    flags = readme_command_flags()
    assert flags == {"--cosine_max_len": "3584"}
    assert recipe(name)["cosine_max_len"] == int(flags["--cosine_max_len"])
    others = {k: v for k, v in GRPO_PY_COSINE.items() if k != "cosine_max_len"}
    assert {k: recipe(name)[k] for k in others} == others
    assert recipe(name)["reward_funcs"] == ["format", "cosine"]


def test_openrs_defaults_equal_the_reference_code():
    from openrs_cli.rewards.registry import build_reward
    from openrs_cli.train.fields import openrs_defaults

    assert {k: openrs_defaults()[k] for k in GRPO_PY_COSINE} == GRPO_PY_COSINE
    cosine = build_reward("cosine", {})  # a config without cosine keys gets the reference defaults
    assert (cosine.max_len, cosine.wrong, cosine.correct) == (1000, (0.0, -0.5), (0.5, 1.0))


def test_stated_intent_variant_uses_tokens_clamped():
    variant = recipe("exp3-cosine-fixed")
    assert variant["reward_funcs"] == ["format", "cosine_fixed"] and variant["cosine_max_len"] == 3584
    ignore = {"reward_funcs", "cosine_max_len", "recipe_description", "output_dir"}
    assert {k: v for k, v in variant.items() if k not in ignore} == {
        k: v for k, v in recipe("exp3").items() if k not in ignore
    }


@pytest.mark.parametrize("name", PAPER_RECIPES)
def test_system_prompt_is_the_unformatted_reference_text(name):
    ref = yaml.safe_load((FIXTURES / "open-rs-grpo.yaml").read_text())["system_prompt"]
    assert "\\boxed{{}}" in ref  # the literal text the model saw: grpo.py never formats it
    assert recipe(name)["system_prompt"] == ref


@pytest.mark.parametrize("name", PAPER_RECIPES)
def test_paper_recipes_set_the_paper_era_trl_maths(name):
    config = recipe(name)
    assert config["use_bias_correction_kl"] is False  # TRL 1.16 default: True
    assert config["logprobs_temperature"] == 1.0  # raw logits, as the paper's TRL
    assert config["steps_per_generation"] == 1  # one prompt group per micro-batch, no shuffle across prompts
    assert config["vllm_importance_sampling_correction"] is False
    assert (config["beta"], config["loss_type"], config["scale_rewards"]) == (0.04, "bnpo", "group")


def test_qwen3_keeps_the_500_step_schedule_and_stops_at_400():
    ben = yaml.safe_load((FIXTURES / "ben-grpoqwen3.yaml").read_text())
    config = recipe("qwen3")
    assert config["max_steps"] == ben["max_steps"] == 500
    assert config["warmup_steps"] == ben["warmup_ratio"] == 0.1
    assert config["stop_at_step"] == 400


@pytest.mark.parametrize("name", PAPER_RECIPES)
def test_every_key_of_a_paper_recipe_names_its_source(name):
    from openrs_cli.train.provenance import TAGS, recipe_tags

    text = (resources.files("openrs_cli.recipes") / f"{name}.yaml").read_text()
    tags = recipe_tags(text)
    untagged = set(recipe(name)) - set(tags) - {"recipe_description"}
    assert not untagged
    assert set(tags.values()) <= set(TAGS)


def test_sources_lists_every_effective_key_with_its_origin(capsys):
    code, out, err = invoke(capsys, "recipes", "show", "exp3", "--sources", "--gpus", "8", "--json")
    assert code == 0, err
    rows = {r["key"]: r for r in json.loads(out)}
    assert rows["cosine_max_len"]["value"] == 3584 and "README.md" in rows["cosine_max_len"]["source"]
    assert "grpo.py" in rows["cosine_min_value_wrong"]["source"]
    assert "recipes/grpo.yaml" in rows["learning_rate"]["source"]
    assert "69ad852" in rows["use_bias_correction_kl"]["source"]
    assert rows["gradient_accumulation_steps"]["value"] == 2 and "plan" in rows["gradient_accumulation_steps"]["source"]
    assert rows["delta"]["source"].startswith("TRL 1.16.0 GRPOConfig default")
    assert rows["reward_workers"]["source"] == "openrs default"
    code, out, _ = invoke(capsys, "recipes", "show", "exp3", "--sources", "--set", "beta=0.01")
    assert code == 0
    assert any(line.startswith("beta") and "--set" in line for line in out.splitlines())


@pytest.mark.parametrize("name", ["exp1", "exp2", "exp3", "qwen3"])
@pytest.mark.parametrize("gpus", range(1, 9))
def test_the_papers_72_completions_per_step_on_any_gpu_count(capsys, name, gpus):
    plan = dry_run(capsys, "--recipe", name, "--gpus", str(gpus))
    config = plan["config"]
    assert (plan["completions_per_step"], plan["prompts_per_step"]) == (72, 12)
    per_device, accumulation = config["per_device_train_batch_size"], config["gradient_accumulation_steps"]
    assert per_device * accumulation * plan["training_processes"] == 72
    # TRL generates ranks x per_device x steps_per_generation completions at once: whole groups of 6
    assert (plan["training_processes"] * per_device * config["steps_per_generation"]) % 6 == 0
    assert plan["training_processes"] + len(plan["vllm_gpus"]) <= gpus


def test_the_paper_layout_is_unchanged_on_four_gpus(capsys):
    plan = dry_run(capsys, "--exp", "3", "--gpus", "4")
    assert (plan["training_processes"], plan["vllm_gpus"]) == (3, [3])
    assert (plan["per_device_train_batch_size"], plan["gradient_accumulation_steps"]) == (6, 4)


def test_a_set_that_changes_the_batch_says_so(capsys):
    plan = dry_run(capsys, "--exp", "3", "--gpus", "4", "--set", "gradient_accumulation_steps=8")
    assert plan["completions_per_step"] == 144
    assert any("144 completions per step" in note and "72" in note for note in plan["notes"])


def test_no_exact_split_says_what_it_chose(capsys):
    plan = dry_run(capsys, "--exp", "3", "--gpus", "5", "--layout", "colocate")
    assert plan["completions_per_step"] != 72
    assert any("no split of 72 completions fits 5 training ranks" in note for note in plan["notes"])


def test_batch_shows_in_the_text_dry_run(capsys):
    code, out, _ = invoke(capsys, "train", "--exp", "3", "--gpus", "8", "--dry-run")
    assert code == 0
    assert "72 completions (12 prompts x 6) per step = 6 ranks x 6 per device x 2 accumulation" in out
    assert "prompts_per_step 12" in out


@pytest.fixture
def eight_gpus_show_four(tmp_path, monkeypatch):
    """A machine with 8 GPUs (a fake nvidia-smi) of which CUDA_VISIBLE_DEVICES exposes physical 4-7."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    rows = "".join(f"{i}, GPU-{i:04d}, NVIDIA H100 80GB HBM3, 81559\\n" for i in range(8))
    smi = bindir / "nvidia-smi"
    smi.write_text(f"#!/bin/sh\nprintf '{rows}'\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6,7")


def test_training_processes_land_on_the_visible_physical_gpus(capsys, eight_gpus_show_four):
    plan = dry_run(capsys, "--exp", "3", "--gpus", "4")
    vllm, train = plan["processes"]
    assert vllm["env"]["CUDA_VISIBLE_DEVICES"] == "7" and plan["vllm_gpus"] == [7]
    assert train["env"] == {"CUDA_VISIBLE_DEVICES": "4,5,6"}


def test_eval_server_lands_on_the_visible_physical_gpus(capsys, eight_gpus_show_four):
    code, out, err = invoke(capsys, "eval", "--model", "org/model", "--gpus", "2", "--dry-run", "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["gpu_ids"] == [4, 5] and plan["server_env"] == {"CUDA_VISIBLE_DEVICES": "4,5"}


# src/open_r1/evaluate.py at knoveleng/open-rs@2889c47: MATH_QUERY_TEMPLATE after .strip(), formatted
REFERENCE_PROMPT = (
    "Solve the following math problem efficiently and clearly.  The last line of your response should be of the "
    "following format: 'Therefore, the final answer is: $\\boxed{ANSWER}$. I hope it is correct' (without quotes) "
    "where ANSWER is just the final number or expression that solves the problem. Think step by step before "
    "answering.\n\nWhat is $1+1$?"
)


def test_eval_prompt_is_byte_identical_to_the_reference():
    from openrs_cli.eval.prompts import messages_for

    assert messages_for("What is $1+1$?") == [{"role": "user", "content": REFERENCE_PROMPT}]


def test_qwen3_base_row_is_quoted_as_a_single_sample():
    data = json.loads((resources.files("openrs_cli.report") / "reference.json").read_text())
    (row,) = [r for r in data["rows"] if r["name"] == "Qwen3-1.7B"]
    assert row["samples"] == 1 and "eval_qwen3_orig.sh" in data["footnote"]


def test_the_shipped_trl_field_table_matches_the_installed_trl():
    """`openrs train --dry-run` reads TRL's fields from a table instead of importing TRL: it must be current."""
    from openrs_cli.train.trl_table import TABLE, generate

    shipped = json.loads((resources.files("openrs_cli.train") / TABLE).read_text())
    assert shipped == json.loads(json.dumps(generate())), (
        "run: python -m openrs_cli.train.trl_table openrs_cli/train/trl_fields.json"
    )


def test_a_dry_run_imports_neither_trl_nor_torch(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from openrs_cli.cli.app import main\n"
        "try: main(['train', '--exp', '3', '--gpus', '4', '--dry-run', '--json'])\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in ('trl', 'torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_qwen3_sources_name_the_fork_readme_for_the_cosine_length(capsys):
    code, out, err = invoke(capsys, "recipes", "show", "qwen3", "--sources", "--json")
    assert code == 0, err
    rows = {r["key"]: r for r in json.loads(out)}
    assert rows["cosine_max_len"]["value"] == 3584
    assert "BenLus/open-rs-GRPO_RL_for_small_LLMs README.md" in rows["cosine_max_len"]["source"]
