"""The shipped recipes reproduce the paper (DESIGN.md section 2) and resolve as documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import assert_error, invoke

SYSTEM_PROMPT = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with "
    "the answer, and put your final answer within \\boxed{{}} . The reasoning process and answer are enclosed "
    "within <think> </think> and <answer> </answer> tags, respectively, i.e., <think> reasoning process "
    "here </think> <answer> answer here </answer>. Note that respond by English, NOT use other languages."
)
# The paper's shared settings as the reference code ran them, with every TRL default that changed in 1.x
# set explicitly (the system prompt keeps the literal "{{}}" that grpo.py never formatted away).
PAPER_SHARED = {
    "model_name_or_path": "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
    "learning_rate": 1e-6,
    "lr_scheduler_type": "cosine_with_min_lr",
    "lr_scheduler_kwargs": {"min_lr_rate": 0.1},
    "warmup_steps": 0.1,
    "bf16": True,
    "gradient_checkpointing": True,
    "per_device_train_batch_size": 6,
    "gradient_accumulation_steps": 4,
    "num_generations": 6,
    "max_prompt_length": 512,
    "temperature": 0.7,
    "vllm_max_model_length": 4608,
    "max_steps": 500,
    "save_steps": 50,
    "seed": 42,
    "beta": 0.04,
    "use_bias_correction_kl": False,
    "logprobs_temperature": 1.0,
    "steps_per_generation": 1,
    "top_p": 1.0,
    "vllm_importance_sampling_correction": False,
    "gradient_checkpointing_kwargs": {"use_reentrant": False},
    "completions_per_step": 72,
    "loss_type": "bnpo",
    "scale_rewards": "group",
    "use_vllm": True,
    "vllm_mode": "server",
    "system_prompt": SYSTEM_PROMPT,
}
PAPER_EXPERIMENTS = {
    1: {
        "dataset_name": "knoveleng/open-s1",
        "reward_funcs": ["accuracy", "format"],
        "reward_weights": [1.0, 1.0],
        "max_completion_length": 4096,
    },
    2: {
        "dataset_name": "knoveleng/open-rs",
        "reward_funcs": ["accuracy", "format"],
        "reward_weights": [1.0, 1.0],
        "max_completion_length": 3584,
    },
    3: {
        "dataset_name": "knoveleng/open-rs",
        "reward_funcs": ["format", "cosine"],
        "reward_weights": [1.0, 2.0],
        "max_completion_length": 3584,
        # the reference README's command adds --cosine_max_len 3584; the rest are grpo.py's defaults
        "cosine_max_len": 3584,
        "cosine_min_value_wrong": 0.0,
        "cosine_max_value_wrong": -0.5,
        "cosine_min_value_correct": 0.5,
        "cosine_max_value_correct": 1.0,
    },
}


def dry_run(capsys, *args: str) -> dict:
    code, out, err = invoke(capsys, "train", *args, "--dry-run", "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("exp", [1, 2, 3])
def test_paper_experiments_resolve_to_the_papers_settings(capsys, exp):
    plan = dry_run(capsys, "--exp", str(exp), "--gpus", "4")
    expected = {**PAPER_SHARED, **PAPER_EXPERIMENTS[exp]}
    got = {key: plan["config"].get(key) for key in expected}
    assert got == expected
    # 3 ranks x 6 per device x 4 accumulation = 72 completions = 12 prompts of 6 per optimiser step
    assert plan["training_processes"] * 6 * 4 == 72


def test_exp3_on_four_gpus_is_the_papers_server_layout(capsys):
    plan = dry_run(capsys, "--exp", "3", "--gpus", "4")
    assert plan["layout"] == "server" and plan["training_processes"] == 3 and plan["vllm_gpus"] == [3]
    vllm, train = plan["processes"]
    assert vllm["argv"][1:3] == ["-m", "vllm.entrypoints.launchers.api_server.entry"]
    assert vllm["env"] == {"CUDA_VISIBLE_DEVICES": "3", "VLLM_SERVER_DEV_MODE": "1"}
    assert vllm["argv"][vllm["argv"].index("--max-model-len") + 1] == "4608"
    assert train["env"] == {"CUDA_VISIBLE_DEVICES": "0,1,2"}
    assert train["argv"][:2] == ["accelerate", "launch"]
    assert train["argv"][train["argv"].index("--num_processes") + 1] == "3"
    assert train["argv"][train["argv"].index("--config_file") + 1].endswith("zero2.yaml")
    assert plan["commands"] == [vllm["argv"], train["argv"]]
    assert plan["config"]["vllm_server_port"] == 8000


def test_qwen3_recipe_is_exp3_on_qwen3_with_a_500_step_schedule_stopped_at_400(capsys):
    exp3 = dry_run(capsys, "--exp", "3", "--gpus", "4")["config"]
    qwen3 = dry_run(capsys, "--recipe", "qwen3", "--gpus", "4")["config"]
    assert qwen3["model_name_or_path"] == "Qwen/Qwen3-1.7B"
    assert (qwen3["max_steps"], qwen3["stop_at_step"], qwen3["warmup_steps"]) == (500, 400, 0.1)
    ignore = {"model_name_or_path", "stop_at_step", "output_dir", "recipe", "recipe_description"}
    assert {k: v for k, v in qwen3.items() if k not in ignore} == {k: v for k, v in exp3.items() if k not in ignore}


@pytest.mark.parametrize(
    ("gpus", "extra", "layout", "ranks", "vllm"),
    [
        ("1", [], "colocate", 1, []),
        ("8", [], "server", 6, [6, 7]),
        ("4", ["--layout", "colocate"], "colocate", 4, []),
        ("2", ["--nodes", "2", "--main-process-ip", "10.0.0.1"], "colocate", 4, []),
        ("0", [], "cpu", 1, []),
    ],
)
def test_layout_is_sized_to_the_gpus(capsys, gpus, extra, layout, ranks, vllm):
    plan = dry_run(capsys, "--exp", "3", "--gpus", gpus, *extra)
    assert (plan["layout"], plan["training_processes"], plan["vllm_gpus"]) == (layout, ranks, vllm)
    if layout == "colocate":
        assert plan["config"]["vllm_mode"] == "colocate" and plan["config"]["vllm_gpu_memory_utilization"] == 0.3
    if layout == "cpu":
        assert plan["config"]["use_vllm"] is False and plan["config"]["use_cpu"] is True
        assert any("CPU" in note for note in plan["notes"])


def test_first_class_options_and_set_override_the_recipe(capsys, tmp_path):
    (tmp_path / "config.json").write_text("{}")  # a model folder (a folder without one is refused)
    plan = dry_run(
        capsys,
        "--exp",
        "3",
        "--gpus",
        "4",
        "--model",
        str(tmp_path),
        "--dataset",
        "me/my-data",
        "--output-dir",
        str(tmp_path / "out"),
        "--loss",
        "dapo",
        "--beta",
        "0",
        "--set",
        "learning_rate=2e-6",
        "--set",
        "reward_weights=[1.0, 1.0]",
    )
    config = plan["config"]
    assert config["model_name_or_path"] == str(tmp_path) and config["dataset_name"] == "me/my-data"
    assert config["output_dir"] == str(tmp_path / "out")
    assert (config["loss_type"], config["beta"], config["learning_rate"]) == ("dapo", 0.0, 2e-6)
    assert config["reward_weights"] == [1.0, 1.0]


def test_recipes_list_show_and_copy(capsys, tmp_path):
    code, out, _ = invoke(capsys, "recipes", "list")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names == [
        "exp1",
        "exp2",
        "exp3",
        "exp3-cosine-fixed",
        "qwen3",
        "smoke",
        *(f"tina-open-rs{n}" for n in (1, 2, 3)),
    ]
    code, out, _ = invoke(capsys, "recipes", "list", "--json")
    assert [r["name"] for r in json.loads(out)] == names
    code, out, _ = invoke(capsys, "recipes", "show", "exp3")
    assert code == 0 and yaml.safe_load(out)["reward_funcs"] == ["format", "cosine"]
    mine = tmp_path / "mine.yaml"
    code, out, err = invoke(capsys, "recipes", "copy", "exp3", str(mine))
    assert code == 0, err
    assert mine.read_text() == (Path(__file__).parent.parent / "openrs_cli" / "recipes" / "exp3.yaml").read_text()
    assert_error(invoke(capsys, "recipes", "copy", "smoke", str(mine)), 2, "already exists")
    assert yaml.safe_load(mine.read_text())["reward_funcs"] == ["format", "cosine"]  # not overwritten


def test_the_old_train_spellings_still_work_and_say_where_the_new_command_is(capsys):
    code, out, err = invoke(capsys, "train", "--list")
    assert code == 0 and out == invoke(capsys, "recipes", "list")[1]
    assert "'train --list' is now 'openrs recipes list'" in err
    code, out, err = invoke(capsys, "train", "--show", "smoke")
    assert code == 0 and out == invoke(capsys, "recipes", "show", "smoke")[1] and "openrs recipes show" in err
    code, out, err = invoke(capsys, "train", "--show", "exp3", "--sources", "--json")
    new = invoke(capsys, "recipes", "show", "exp3", "--sources", "--json")[1]
    assert code == 0 and json.loads(out) == json.loads(new)


def test_user_config_file_runs_as_given(capsys, tmp_path):
    path = tmp_path / "mine.yaml"
    assert invoke(capsys, "recipes", "copy", "smoke", str(path))[0] == 0
    mine = yaml.safe_load(path.read_text())
    mine["learning_rate"] = 3e-5
    path.write_text(yaml.safe_dump(mine))
    plan = dry_run(capsys, "--config", str(path), "--gpus", "0")
    assert plan["config"]["learning_rate"] == 3e-5 and plan["config"]["recipe"] == str(path)


def test_slurm_writes_an_sbatch_script_and_the_config(capsys, tmp_path):
    script = tmp_path / "job.sbatch"
    code, out, err = invoke(
        capsys,
        "train",
        "--exp",
        "3",
        "--gpus",
        "8",
        "--nodes",
        "2",
        "--main-process-ip",
        "10.1.1.1",
        "--output-dir",
        str(tmp_path / "out"),
        "--slurm",
        str(script),
    )
    assert code == 0, err
    text = script.read_text()
    assert "#SBATCH --nodes=2" in text and "#SBATCH --gres=gpu:8" in text
    assert "--node-rank $SLURM_NODEID" in text and "--layout colocate" in text
    written = yaml.safe_load((tmp_path / "out" / "openrs_config.yaml").read_text())
    assert written["reward_funcs"] == ["format", "cosine"] and "recipe" not in written


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--exp", "4"], ["unknown experiment 4"]),
        (["--recipe", "exp33"], ["unknown recipe 'exp33'", "exp3"]),
        (["--exp", "3", "--recipe", "smoke"], ["alternatives"]),
        (["--exp", "3", "--set", "learning_rat=1e-6"], ["unknown key 'learning_rat'", "learning_rate"]),
        (["--exp", "3", "--set", "noequals"], ["key=value"]),
        (["--exp", "3", "--set", "max_steps=abc"], ["'max_steps' must be int"]),
        (["--exp", "3", "--set", "reward_funcs=[format, nosuch]"], ["unknown reward 'nosuch'"]),
        (
            ["--exp", "3", "--set", "num_generations=5"],
            ["completions_per_step 72 is not a multiple of num_generations"],
        ),
        (
            ["--exp", "3", "--set", "num_generations=5", "--set", "completions_per_step=null"],
            ["not a multiple of num_generations=5"],
        ),
        (["--exp", "3", "--set", "cosine_max_len=0"], ["cosine_max_len must be at least 1"]),
        (["--exp", "3", "--set", "logprobs_temperature=0"], ["logprobs_temperature must be > 0"]),
        (["--recipe", "qwen3", "--set", "stop_at_step=501"], ["stop_at_step 501 is not within"]),
        (["--exp", "3", "--generation", "tpu"], ["tpu"]),
        (["--exp", "3", "--generation", "transformers", "--layout", "server", "--gpus", "2"], ["without it"]),
        (["--exp", "3", "--gpus", "many"], ["--gpus must be a number"]),
        (["--exp", "3", "--layout", "server", "--gpus", "1"], ["at least 2 GPUs"]),
        # (a dry run of several nodes may leave --main-process-ip out: tests/test_train_nodes.py)
        (["--exp", "3", "--nodes", "2", "--gpus", "4", "--layout", "server"], ["runs on one node", "vllm-node"]),
        (["--exp", "3", "--layout", "weird"], ["weird"]),
        (["--recipe", "smoke", "--resume", "/nonexistent/checkpoint-5"], ["not a checkpoint folder"]),
    ],
)
def test_bad_train_input_is_one_line_exit_2(capsys, args, needles):
    assert_error(invoke(capsys, "train", *args, "--dry-run"), 2, *needles)


def test_malformed_user_yaml(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("learning_rate: [1e-6\nbeta: 0.04\n")
    assert_error(invoke(capsys, "train", "--config", str(bad), "--dry-run"), 2, "not valid YAML", "line")
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    assert_error(invoke(capsys, "train", "--config", str(listy), "--dry-run"), 2, "YAML mapping")


def test_more_gpus_than_found_is_refused_outside_planning(capsys, tmp_path):
    line = assert_error(
        invoke(capsys, "train", "--exp", "3", "--gpus", "64", "--output-dir", str(tmp_path)), 2, "--gpus 64"
    )
    assert "visible" in line
    assert not (tmp_path / "openrs_config.yaml").exists()  # nothing written before validation passes


@pytest.mark.parametrize(
    ("dataset", "content", "needle"),
    [
        ("/nonexistent/data.jsonl", None, "was not found"),
        ("noproblem.jsonl", '{"question": "1+1?", "answer": "2"}\n', "no 'problem' column"),
        ("empty.jsonl", "", "is empty"),
    ],
)
def test_bad_datasets_are_caught_before_training(capsys, tmp_path, dataset, content, needle):
    path = dataset if content is None else str(tmp_path / dataset)
    if content is not None:
        (tmp_path / dataset).write_text(content)
    args = [
        "train",
        "--recipe",
        "smoke",
        "--dataset",
        path,
        "--gpus",
        "0",
        "--output-dir",
        str(tmp_path / "o"),
    ]
    assert_error(invoke(capsys, *args), 2, needle)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", ["exp1", "exp2", "exp3", "exp3-cosine-fixed", "qwen3", "smoke"])
def test_shipped_recipes_are_read_by_trls_own_parser(name):
    from importlib import resources

    from openrs_cli.train.entry import parse_config

    path = str(resources.files("openrs_cli.recipes") / f"{name}.yaml")
    # this machine has no GPU: bf16 is switched off on the command line, as a CPU plan does
    _, script, training, model = parse_config(["--config", path, "--bf16", "false"])
    recipe = yaml.safe_load(resources.files("openrs_cli.recipes").joinpath(f"{name}.yaml").read_text())
    assert script.reward_funcs == recipe["reward_funcs"]
    assert training.reward_weights == recipe["reward_weights"]
    assert (training.beta, training.loss_type) == (recipe["beta"], recipe["loss_type"])
    assert model.model_name_or_path == recipe["model_name_or_path"]
    assert script.system_prompt == recipe["system_prompt"]


def test_importance_sampling_correction_is_allowed_when_both_temperatures_agree(capsys):
    """The refusal is for mismatched temperatures only: TRL's own maths (logprobs_temperature null) may correct."""
    plan = dry_run(
        capsys,
        "--exp",
        "3",
        "--gpus",
        "4",
        "--set",
        "vllm_importance_sampling_correction=true",
        "--set",
        "logprobs_temperature=null",
    )
    assert plan["config"]["vllm_importance_sampling_correction"] is True


@pytest.mark.parametrize("planted", ["$(touch PWNED)", "`touch PWNED`", "x; touch PWNED", "a'b\"c $HOME"])
def test_slurm_script_runs_no_text_planted_in_a_path(capsys, tmp_path, planted):
    """The sbatch script is executed by bash with stub scontrol/srun/openrs: nothing planted in --output-dir runs,
    and openrs receives the path as one literal argument."""
    import os
    import subprocess

    out = tmp_path / f"out {planted}"
    script = tmp_path / "job.sh"
    code, _, err = invoke(
        capsys, "train", "--exp", "3", "--gpus", "4", "--output-dir", str(out), "--slurm", str(script)
    )
    assert code == 0, err
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "scontrol").write_text("#!/bin/sh\necho node1\n")
    (stubs / "srun").write_text('#!/bin/sh\nwhile [ "${1#--}" != "$1" ]; do shift; done\nexec "$@"\n')
    (stubs / "openrs").write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "$OPENRS_ARGS"\n')
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "SLURM_JOB_NODELIST": "node1", "SLURM_NODEID": "0"}
    env["OPENRS_ARGS"] = str(tmp_path / "args.txt")
    result = subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert not list(tmp_path.rglob("PWNED")) and not (tmp_path / "PWNED").exists()
    args = (tmp_path / "args.txt").read_text().splitlines()
    config = args[args.index("--config") + 1]
    assert config == str(out / "openrs_config.yaml")  # the planted text arrives as part of one literal path


def test_a_newline_in_a_path_bound_for_a_script_is_refused(capsys, tmp_path):
    script = tmp_path / "job.sh"
    result = invoke(capsys, "train", "--exp", "3", "--gpus", "4", "--output-dir", str(tmp_path / "a\ntouch PWNED"),
                    "--slurm", str(script))  # fmt: skip
    assert_error(result, 2, "control character")
    assert not script.exists()
