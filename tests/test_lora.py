"""A LoRA run end to end on CPU: TRL trains an adapter on the tiny model, `openrs eval` evaluates the adapter
folder (merged on the fly) to the answers of the merged model, and `openrs push` uploads the adapter and, on
request, the merged model (only huggingface_hub's network calls patched)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli_helpers import invoke, run_openrs, smoke_train_args

LORA = ["use_peft=true", "lora_r=4", "lora_alpha=16", "lora_target_modules=[q_proj,v_proj]"]


@pytest.fixture(scope="module")
def lora_run(tiny_model, data_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lora") / "run"
    args = smoke_train_args(
        tiny_model,
        out,
        *LORA,
        "max_steps=2",
        "save_steps=1",
        "max_completion_length=16",
        "learning_rate=1e-2",
        "reward_funcs=[tests.rewards_for_tests.vowel_share]",
        "reward_weights=[1.0]",
        dataset=data_dir / "train/deepscaler_sub1209.jsonl",
    )
    result = run_openrs(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def eval_args(model: Path, out: Path, data_dir: Path, *extra: str) -> list[str]:
    return [
        "eval",
        "--model",
        str(model),
        "--backend",
        "transformers",
        "--tasks",
        "aime24,amc23",
        "--limit",
        "3",
        "--max-new-tokens",
        "12",
        "--temperature",
        "0.7",
        "--data-dir",
        str(data_dir / "bench"),
        "--output-dir",
        str(out),
        *extra,
    ]


def answers(folder: Path) -> dict[tuple[str, str, int], str | None]:
    from openrs_cli.eval.details import details_files, file_task, read_answers

    return {
        (file_task(path), a.problem, a.sample): a.text for path in details_files(folder) for a in read_answers(path)
    }


def test_a_lora_run_saves_an_adapter_that_changes_the_model(lora_run, tiny_model):
    import torch
    from safetensors.torch import load_file

    from openrs_cli.lora import adapter_base, is_adapter

    assert is_adapter(lora_run) and is_adapter(lora_run / "checkpoint-1")
    assert adapter_base(lora_run) == str(tiny_model)
    weights = load_file(lora_run / "adapter_model.safetensors")
    assert any("lora_B" in k and torch.count_nonzero(v) for k, v in weights.items())  # trained, not the zero init


def test_eval_of_the_adapter_gives_the_merged_models_answers(lora_run, data_dir, tmp_path):
    from safetensors.torch import load_file

    from openrs_cli.lora import merge_adapter

    result = run_openrs(*eval_args(lora_run, tmp_path / "adapter", data_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "merging the LoRA adapter" in result.stderr
    assert not (tmp_path / "adapter" / ".merged-model").exists()  # removed after the eval
    merged = merge_adapter(lora_run, tmp_path / "merged")
    written = (merged / "model.safetensors").stat().st_mtime_ns
    assert merge_adapter(lora_run, merged) == merged  # stamped for this adapter: kept, not merged again
    assert (merged / "model.safetensors").stat().st_mtime_ns == written
    base_dir = Path(json.loads((lora_run / "adapter_config.json").read_text())["base_model_name_or_path"])
    base = load_file(base_dir / "model.safetensors")
    merged_weights = load_file(merged / "model.safetensors")
    assert any(not base[k].equal(merged_weights[k]) for k in base if "q_proj" in k)
    result = run_openrs(*eval_args(merged, tmp_path / "merged-eval", data_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    from_adapter, from_merged = answers(tmp_path / "adapter"), answers(tmp_path / "merged-eval")
    assert len(from_adapter) == 6 and from_adapter == from_merged
    result = run_openrs(*eval_args(base_dir, tmp_path / "base-eval", data_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert answers(tmp_path / "base-eval") != from_adapter  # the adapter was applied, not left out
    summary = json.loads((tmp_path / "adapter" / "summary.json").read_text())
    assert summary["provenance"]["model"]["adapter"]["kind"] == "local"  # which run the answers came from


def test_a_second_eval_of_the_adapter_is_all_cached(lora_run, data_dir, tmp_path):
    first = run_openrs(*eval_args(lora_run, tmp_path / "ev", data_dir))
    assert first.returncode == 0, first.stderr[-3000:]
    again = run_openrs(*eval_args(lora_run, tmp_path / "ev", data_dir))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "6 answers needed, 6 cached, 0 to generate" in again.stderr  # the merge is the same model again


def test_checkpoints_of_a_lora_run_are_evaluated_as_adapters(capsys, lora_run, data_dir, tmp_path):
    code, out, err = invoke(
        capsys, *eval_args(lora_run, tmp_path / "sweep", data_dir, "--checkpoints", "all"), "--dry-run", "--json"
    )
    assert code == 0, err
    plan = json.loads(out)
    assert [m["adapter"] for m in plan["models"]] == [str(lora_run / f"checkpoint-{s}") for s in (1, 2)]
    assert all(m["path"].endswith(".merged-model") for m in plan["models"])
    assert any("is a LoRA adapter: merged into" in note for note in plan["notes"])


def test_push_dry_run_of_a_lora_run_lists_the_adapter_and_the_merge(capsys, lora_run, hub, tiny_model):
    code, out, err = invoke(
        capsys, "push", "--model", str(lora_run), "--repo-id", "me/tiny-lora", "--merged", "--dry-run", "--json"
    )
    assert code == 0, err
    assert hub == []
    plan = json.loads(out)
    adapter, merged = plan["uploads"]
    assert adapter["revision"] == "main" and {"adapter_model.safetensors", "adapter_config.json"} <= set(
        adapter["files"]
    )
    assert not any(f.startswith("checkpoint-") for f in adapter["files"])
    assert merged["revision"] == "merged" and merged["merged_from"] == str(lora_run)
    card = yaml.safe_load(plan["cards"]["main"].split("---")[1])
    assert card["library_name"] == "peft" and card["base_model_relation"] == "adapter" and "lora" in card["tags"]
    assert "AutoPeftModelForCausalLM" in plan["cards"]["main"] and 'revision="merged"' in plan["cards"]["main"]
    merged_card = yaml.safe_load(plan["cards"]["merged"].split("---")[1])
    assert merged_card["library_name"] == "transformers" and merged_card["base_model_relation"] == "finetune"
    assert "rank 4, alpha 16" in plan["cards"]["merged"]


def test_push_uploads_the_adapter_then_its_merge_on_a_branch(capsys, lora_run, hub, monkeypatch, tmp_path):
    import hashlib

    from openrs_cli.lora import merge_adapter

    monkeypatch.setenv("HF_TOKEN", "hf_" + "Q7w" * 12)
    code, out, err = invoke(capsys, "push", "--model", str(lora_run), "--repo-id", "me/tiny-lora", "--merged")
    assert code == 0, err
    assert [c[0] for c in hub] == ["repo", "commit", "branch", "commit"]
    adapter, merged = hub[1][2], hub[3][2]
    assert adapter["revision"] == "main" and "adapter_model.safetensors" in adapter["files"]
    assert hub[2][2]["branch"] == "merged" and merged["revision"] == "merged"
    assert {"config.json", "model.safetensors", "tokenizer.json", "README.md"} <= set(merged["files"])
    assert "adapter_config.json" not in merged["files"] and "openrs_merged_from.json" not in merged["files"]
    local = merge_adapter(lora_run, tmp_path / "merged")  # the same merge, made here: the same weights uploaded
    assert (
        merged["sha256"]["model.safetensors"] == hashlib.sha256((local / "model.safetensors").read_bytes()).hexdigest()
    )


@pytest.mark.parametrize(
    ("extra", "needle"),
    [(["--checkpoints", "all"], "drop --checkpoints or --merged"), ([], "needs a LoRA adapter folder")],
)
def test_merged_needs_the_final_adapter(capsys, lora_run, tiny_model, extra, needle):
    model = lora_run if extra else tiny_model
    code, _, err = invoke(capsys, "push", "--model", str(model), "--repo-id", "me/x", "--merged", *extra, "--dry-run")
    assert code == 2 and needle in err and "Traceback" not in err
