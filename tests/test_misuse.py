"""What users get wrong, across every command: exit code, one line that says what to do, no traceback,
nothing half-written left behind."""

from __future__ import annotations

import pytest

from tests.cli_helpers import assert_invoke_error, invoke

ACTION_WORDS = (
    "use",
    "give",
    "pass",
    "add",
    "run",
    "check",
    "choose",
    "set",
    "lower",
    "drop",
    "point",
    "see",
    "did you mean",
    "fix",
    "e.g.",
    "need",
    "must",
    "rename",
    "remove",
)


def setup_files(tmp, shared, tiny):
    (tmp / "empty").mkdir()
    (tmp / "junk").mkdir()
    (tmp / "junk" / "results_2025-01-01T00-00-00.json").write_text('{"results": {"custom|aime24|0": ')
    (tmp / "junk" / "other.json").write_text('{"tool": "something else"}')
    (tmp / "bad.yaml").write_text("beta: [0.04\n")
    (tmp / "noproblem.jsonl").write_text('{"question_text": "1+1", "answer": "2"}\n')
    (tmp / "noprep").mkdir()
    return {
        "TMP": str(tmp),
        "EMPTY": str(tmp / "empty"),
        "JUNK": str(tmp / "junk"),
        "BADYAML": str(tmp / "bad.yaml"),
        "NOPROBLEM": str(tmp / "noproblem.jsonl"),
        "TINY": str(tiny),
        "BENCH": str(shared / "data" / "bench"),
        "AIME": str(shared / "data" / "train" / "aime_1983_2023.jsonl"),
        "NOPREP": str(tmp / "noprep"),
    }


CASES = [
    # (command line, exit code, words the message must hold)
    ("trian", 2, "No such command"),
    ("eval --tasks all", 2, "--model"),
    ("train --exp 7 --dry-run", 2, "unknown experiment 7"),
    ("train --recipe exp9 --dry-run", 2, "unknown recipe 'exp9'"),
    ("train --exp 3 --set lerning_rate=1e-6 --dry-run", 2, "did you mean 'learning_rate'"),
    ("train --exp 3 --gpus -1 --dry-run", 2, "--gpus must be a number"),
    ("train --exp 3 --gpus 99 --output-dir TMP/o", 2, "--gpus 99"),
    ("train --config BADYAML --dry-run", 2, "not valid YAML"),
    ("train --recipe smoke --gpus 0 --dataset NOPROBLEM --output-dir TMP/o", 2, "no 'problem' column"),
    ("train --recipe smoke --gpus 0 --dataset TMP/missing.jsonl --output-dir TMP/o", 2, "was not found"),
    ("train --exp 3 --recipe smoke --dry-run", 2, "alternatives"),
    ("train --exp 3 --layout server --gpus 1 --dry-run", 2, "at least 2 GPUs"),
    ("train --exp 3 --loss ppo --dry-run", 2, "ppo"),
    ("eval --model org/m --tasks aime42 --dry-run", 2, "unknown task 'aime42'"),
    ("eval --model TMP/missing-model --limit 1", 2, "does not exist"),
    ("eval --model EMPTY --limit 1 --data-dir BENCH", 2, "no config.json"),
    (
        "eval --model TINY --base-url http://127.0.0.1:9/v1 --limit 1 --data-dir BENCH --output-dir TMP/e",
        2,
        "cannot reach",
    ),
    ("eval --model org/m --samples 0 --dry-run", 2, "--samples"),
    ("eval --model org/m --backend vllm --gpus 0 --dry-run", 2, "needs GPUs"),
    ("eval --model TINY --checkpoints 5 --dry-run", 2, "no checkpoint-N folders"),
    ("eval --model org/m --data-dir TMP/nowhere --dry-run", 2, "not a folder"),
    ("report --results EMPTY --no-figures --output-dir TMP/r", 2, "no lighteval result files"),
    ("report --results JUNK --no-figures --output-dir TMP/r", 2, "no lighteval result files"),
    ("report --costs --no-figures --output-dir TMP/r", 2, "--price-per-gpu-hour"),
    ("push --model-dir TINY --repo-id me/x", 2, "hf auth login"),
    ("push --model-dir TINY --repo-id not-a-repo --dry-run", 2, "user/name"),
    ("push --model-dir TMP/none --repo-id me/x --dry-run", 2, "does not exist"),
    ("data prepare --output TMP/d --source s1=TMP/nothing.jsonl", 2, "does not exist"),
    ("data prepare --output TMP/d --source s1=NOPROBLEM", 2, "no problem field"),
    (
        "data prepare --output TMP/d --recipe open-rs --source s1=AIME --source deepscaler=AIME --no-decontaminate",
        2,
        "the mix asks for",
    ),
    ("data filter --dataset NOPREP --model TINY", 2, "not an 'openrs data prepare' output"),
    ("data filter --dataset NOPREP --model TINY --keep-range 0.9-0.1", 2, "--keep-range"),
    ("demo --steps 0", 2, "--steps"),
]


@pytest.mark.parametrize(("line", "code", "needle"), CASES, ids=[c[0][:60] for c in CASES])
def test_misuse(capsys, monkeypatch, tmp_path, shared_dir, tiny_model, line, code, needle):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    names = setup_files(tmp_path, shared_dir, tiny_model)
    args = []
    for word in line.split():
        for key, value in sorted(names.items(), key=lambda kv: -len(kv[0])):
            word = word.replace(key, value)
        args.append(word)
    before = {p for p in tmp_path.rglob("*")}
    message = assert_invoke_error(invoke(capsys, *args), code, needle)
    assert any(word in message.lower() for word in ACTION_WORDS), f"no hint on what to do: {message}"
    left = {p for p in tmp_path.rglob("*")} - before
    assert not [p for p in left if p.name.endswith(".tmp") or ".tmp" in p.suffixes], left
    assert not [p for p in left if p.is_file() and p.stat().st_size == 0], left


def test_there_are_at_least_25_misuses():
    assert len(CASES) >= 25
    assert {c[0].split()[0] for c in CASES} >= {"train", "eval", "report", "push", "data", "demo"}
