"""What users get wrong, across every command: exit code, one line that says what to do, no traceback,
nothing half-written left behind."""

from __future__ import annotations

import pytest

from tests.cli_helpers import assert_error, invoke

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
    (tmp / "run" / "checkpoint-10").mkdir(parents=True)
    (tmp / "run" / "checkpoint-10" / "config.json").write_text("{}")
    for name, content in (("emptybench", ""), ("junkbench", "{not json"), ("listbench", "[1, 2]\n")):
        (tmp / name).mkdir()
        (tmp / name / "aime24.jsonl").write_text(content)
    for model in ("org/a", "org/b"):  # lighteval's layout: several models under one output folder
        folder = tmp / "twomodels" / "details" / model / "2026-01-01T00-00-00"
        folder.mkdir(parents=True)
        (folder / "details_amc23_2026-01-01T00-00-00.jsonl").write_text('{"index": 0, "correct": 1.0}\n')
    # malformed files of every kind a reader meets (each must be one line naming the file, exit 2)
    (tmp / "str.json").write_text('"just a string"')
    (tmp / "list.jsonl").write_text("[1, 2]\n")
    (tmp / "nums.json").write_text("[1, 2, 3]")
    (tmp / "badline.jsonl").write_text('{"problem": "1+1", "answer": "2"}\n{"problem": \n')
    (tmp / "badprep").mkdir()
    (tmp / "badprep" / "train.parquet").write_text("not parquet at all")
    (tmp / "nocfg").mkdir()
    (tmp / "strbench").mkdir()
    (tmp / "strbench" / "aime24.jsonl").write_text('"a question"\n')
    (tmp / "listq").mkdir()
    (tmp / "listq" / "aime24.jsonl").write_text('{"problem": ["a", "b"], "answer": "2"}\n')
    return {
        "STRJSON": str(tmp / "str.json"),
        "LISTJSONL": str(tmp / "list.jsonl"),
        "NUMSJSON": str(tmp / "nums.json"),
        "BADLINE": str(tmp / "badline.jsonl"),
        "BADPREP": str(tmp / "badprep"),
        "NOCFG": str(tmp / "nocfg"),
        "STRBENCH": str(tmp / "strbench"),
        "LISTQ": str(tmp / "listq"),
        "TWOMODELS": str(tmp / "twomodels"),
        "EMPTYBENCH": str(tmp / "emptybench"),
        "JUNKBENCH": str(tmp / "junkbench"),
        "LISTBENCH": str(tmp / "listbench"),
        "TMP": str(tmp),
        "EMPTY": str(tmp / "empty"),
        "JUNK": str(tmp / "junk"),
        "BADYAML": str(tmp / "bad.yaml"),
        "NOPROBLEM": str(tmp / "noproblem.jsonl"),
        "TINY": str(tiny),
        "BENCH": str(shared / "bench"),
        "AIME": str(shared / "train" / "aime_1983_2023.jsonl"),
        "NOPREP": str(tmp / "noprep"),
        "RUN": str(tmp / "run"),
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
    # option ranges, checked before anything starts
    ("eval --model org/m --limit 0 --dry-run", 2, "--limit must be at least 1"),
    ("eval --model org/m --limit -1 --dry-run", 2, "--limit must be at least 1"),
    ("eval --model org/m --temperature -1 --dry-run", 2, "--temperature must be at least 0"),
    ("eval --model org/m --top-p 7 --dry-run", 2, "--top-p must be in (0, 1]"),
    ("eval --model org/m --top-p 0 --dry-run", 2, "--top-p must be in (0, 1]"),
    ("eval --model org/m --max-new-tokens 0 --dry-run", 2, "--max-new-tokens"),
    ("eval --model org/m --concurrency 0 --dry-run", 2, "--concurrency"),
    ("eval --model org/m --port 70000 --dry-run", 2, "--port"),
    ("eval --model org/m --request-timeout 0 --dry-run", 2, "--request-timeout"),
    ("eval --model org/m --retries -1 --dry-run", 2, "--retries"),
    ("eval --model org/m --max-num-seqs 0 --dry-run", 2, "--max-num-seqs"),
    ("eval --model org/m --tensor-parallel 0 --dry-run", 2, "--tensor-parallel"),
    ("eval --model org/m --backend tpu --dry-run", 2, "tpu"),
    ("eval --model org/m --protocol fast --dry-run", 2, "fast"),
    ("eval --model org/m --base-url http://x/v1 --backend vllm --dry-run", 2, "conflicts"),
    ("eval --model org/m --backend endpoint --dry-run", 2, "--base-url"),
    ("eval --model org/m --tasks , --dry-run", 2, "no tasks given"),
    ("eval --model org/m --seed -3 --dry-run", 2, "--seed"),
    ("eval --model org/m --limit 1 --output-dir BADYAML/x", 2, "not writable"),
    (
        "eval --model TINY --limit 1 --backend transformers --data-dir EMPTYBENCH --output-dir TMP/e",
        2,
        "holds no problems",
    ),
    ("eval --model TINY --limit 1 --backend transformers --data-dir JUNKBENCH --output-dir TMP/e", 2, "not valid JSON"),
    ("eval --model TINY --limit 1 --backend transformers --data-dir LISTBENCH --output-dir TMP/e", 2, "not an object"),
    ("train --exp 3 --set cosine_max_len=0 --dry-run", 2, "cosine_max_len"),
    ("train --exp 3 --set num_generations=1 --dry-run", 2, "num_generations"),
    ("train --exp 3 --set per_device_train_batch_size=0 --dry-run", 2, "per_device_train_batch_size"),
    ("train --exp 3 --set beta=-1 --dry-run", 2, "beta"),
    ("train --exp 3 --set max_steps=0 --dry-run", 2, "max_steps"),
    ("train --recipe qwen3 --set stop_at_step=600 --dry-run", 2, "stop_at_step"),
    ("train --exp 3 --set logprobs_temperature=-1 --dry-run", 2, "logprobs_temperature"),
    ("train --exp 3 --gpus 4 --set vllm_importance_sampling_correction=true --dry-run", 2, "biased"),
    ("train --exp 3 --set reward_weights=[1.0] --dry-run", 2, "reward_weights"),
    ("train --exp 3 --nodes 0 --dry-run", 2, "--nodes"),
    ("train --exp 3 --vllm-port 0 --dry-run", 2, "--vllm-port"),
    ("train --exp 3 --generation fast --dry-run", 2, "fast"),
    ("train --show exp3 --sources --set nope=1", 2, "unknown key 'nope'"),
    ("train --sources", 2, "--show"),
    ("recipes show exp3 --sources --set nope=1", 2, "unknown key 'nope'"),
    ("recipes show exp3 --set beta=0", 2, "--sources"),
    ("recipes show exp9", 2, "unknown recipe 'exp9'"),
    ("recipes copy exp3 TMP/mine.txt", 2, "not a .yaml file"),
    ("recipes copy exp3 BADYAML", 2, "already exists"),
    ("rescore EMPTY", 2, "no details files"),
    ("rescore TMP/nope --dry-run", 2, "is not a folder"),
    ("eval --rescore EMPTY --model org/m --tasks aime24", 2, "--model, --tasks cannot apply"),
    ("eval --model org/m --scorer math-verify-strict", 2, "--scorer goes with"),
    ("data prepare --output TMP/d --source s1=AIME --test-size -5", 2, "--test-size"),
    ("data prepare --output TMP/d --source s1=AIME --mix s1=-5", 2, "--mix count"),
    ("data prepare --output TMP/d --source s1=AIME --ngram 0", 2, "--ngram"),
    ("data prepare --output TMP/d --source s1=AIME --scale 0", 2, "--scale"),
    ("data prepare --output TMP/d --source s1=AIME --min-overlap 2", 2, "--min-overlap"),
    ("data prepare --output TMP/d --source s1=AIME --max-tokens 100", 2, "--max-tokens needs --tokenizer"),
    ("data prepare --output TMP/d", 2, "no sources given"),
    ("data prepare --output TMP/d --source s1=AIME --level s1=medium", 2, "--level"),
    ("data prepare --output TMP --source s1=AIME --no-decontaminate", 2, "files openrs did not write"),
    ("data bench --output-dir TMP/b --tasks arithmetic", 2, "ships with openrs"),
    ("data filter --dataset NOPREP --model TINY --samples 0", 2, "--samples"),
    ("data filter --dataset NOPREP --model TINY --backend tpu", 2, "tpu"),
    ("report --costs --price-per-gpu-hour nan --no-figures --output-dir TMP/r", 2, "--price-per-gpu-hour"),
    ("report --costs --price-per-gpu-hour 2 --gpu-hours x=nan --no-figures --output-dir TMP/r", 2, "--gpu-hours"),
    ("report --train-dir TMP/nope --no-figures --output-dir TMP/r", 2, "--train-dir"),
    ("report --output-dir BADYAML/x --no-figures", 2, "not writable"),
    ("push --model-dir TINY --repo-id me/x..y --dry-run", 2, "user/name"),
    ("push --model-dir TINY --repo-id me/--x --dry-run", 2, "user/name"),
    # impossible values, empty selections, unbounded sizes (the second hostile probe)
    ("train --exp 3 --beta nan --dry-run", 2, "finite"),
    ("train --exp 3 --set learning_rate=.inf --dry-run", 2, "finite"),
    ("train --exp 3 --set temperature=nan --dry-run", 2, "finite"),
    ("train --exp 3 --gpus 99999999999 --dry-run", 2, "at most 64"),
    ("eval --model org/m --gpus 99999999999 --dry-run", 2, "at most 64"),
    ("eval --model RUN --checkpoints , --dry-run", 2, "names no checkpoint"),
    ("eval --model RUN --checkpoints 10,abc --dry-run", 2, "--checkpoints"),
    ("push --model RUN --repo-id me/x --checkpoints 10", 2, "is incomplete"),  # checkpoint-10 has no trainer state
    ("push --model RUN --repo-id me/x --checkpoints all", 2, "no complete checkpoint"),
    ("eval --model org/m --sampling top_k=1.5 --dry-run", 2, "top_k"),
    ("eval --model org/m --sampling nope=1 --dry-run", 2, "--sampling expects NAME=VALUE"),
    ("eval --model org/m --sampling min_p=2 --dry-run", 2, "min_p"),
    ("eval --model org/m --sampling repetition_penalty=0 --dry-run", 2, "repetition_penalty"),
    ("eval --model org/m --temperature nan --dry-run", 2, "finite"),
    ("eval --model org/m --dtype float8 --dry-run", 2, "float8"),
    ("eval --model org/m --engine turbo --dry-run", 2, "turbo"),
    ("eval --model org/m --backend transformers --prompt-tokens server --dry-run", 2, "needs an endpoint"),
    ("compare JUNK EMPTY --resamples 1000000000", 2, "--resamples"),
    ("data filter --dataset NOPREP --model TINY --samples 100000000", 2, "--samples"),
    ("data filter --dataset NOPREP --model TINY --temperature nan", 2, "finite"),
    ("data prepare --output TMP/d --source s1=AIME --hard-difficulty nan", 2, "--hard-difficulty"),
    ("train --recipe smoke --gpus 0 --model TINY --generation vllm --output-dir TMP/o", 2, "weight_loader"),
    # the third probe: out-of-range sizes and values, URLs that can never answer, folders of several models
    ("train --exp 3 --set num_generations=0 --dry-run", 2, "num_generations must be at least 1"),
    ("train --exp 3 --set num_generations=1 --dry-run", 2, "at least 2"),
    ("train --exp 3 --set max_steps=-5 --dry-run", 2, "max_steps must be positive"),
    ("train --exp 3 --set learning_rate=-1 --dry-run", 2, "learning_rate must be >= 0"),
    ("train --exp 3 --set per_device_train_batch_size=0 --dry-run", 2, "per_device_train_batch_size"),
    ("eval --model org/m --base-url ftp://x --dry-run", 2, "not an http(s) URL"),
    ("eval --model org/m --base-url localhost:8000 --dry-run", 2, "not an http(s) URL"),
    ("eval --model org/m --max-model-len 10 --dry-run", 2, "leaves no room"),
    ("eval --model org/m --top-p 1.5 --dry-run", 2, "--top-p"),
    ("eval --model org/m --temperature -1 --dry-run", 2, "--temperature"),
    ("eval --model org/m --max-new-tokens 0 --dry-run", 2, "--max-new-tokens"),
    ("eval --model org/m --samples 0 --dry-run", 2, "--samples"),
    ("eval --model org/m --limit 0 --dry-run", 2, "--limit"),
    ("eval --model org/m --tensor-parallel 0 --dry-run", 2, "--tensor-parallel"),
    ("eval --model org/m --port 70000 --dry-run", 2, "--port"),
    ("eval --model org/m --concurrency 0 --dry-run", 2, "--concurrency"),
    ("eval --model org/m --request-timeout 0 --dry-run", 2, "--request-timeout"),
    ("eval --model org/m --retries -1 --dry-run", 2, "--retries"),
    ("eval --model org/m --max-num-seqs 0 --dry-run", 2, "--max-num-seqs"),
    ("eval --model org/m --scoring-workers -2 --dry-run", 2, "--scoring-workers"),
    ("eval --model org/m --batch-size 0 --dry-run", 2, "--batch-size"),
    ("eval --model org/m --tasks aime24,nope --dry-run", 2, "unknown task 'nope'"),
    ("eval --model org/m --prompt-template TMP/nope.txt --dry-run", 2, "--prompt-template"),
    ("compare TWOMODELS TWOMODELS", 2, "2 models"),
    ("compare EMPTY EMPTY", 2, "no details_*"),
    ("report EMPTY --format docx", 2, "docx"),
    ("push --model-dir EMPTY --repo-id a/b --dry-run", 2, "config.json"),
    ("data prepare --output TMP/d --source s1=TMP/nope.jsonl", 2, "does not exist"),
    ("demo --eval-backend turbo", 2, "turbo"),
    ("demo --heldout 0", 2, "--heldout"),
    ("demo --steps 0", 2, "--steps"),
    ("data prepare --output TMP/d --source s=STRJSON", 2, "holds a string, not a list of rows"),
    ("data prepare --output TMP/d --source s=LISTJSONL", 2, "row 1 is a list"),
    ("data prepare --output TMP/d --source s=NUMSJSON", 2, "row 1 is a number"),
    ("data prepare --output TMP/d --source s=BADLINE", 2, "line 2 is not valid JSON"),
    ("data prepare --output TMP/d --source s=AIME --tokenizer TMP/nope", 2, "--tokenizer"),
    ("data filter --dataset BADPREP --model TINY", 2, "as parquet"),
    ("eval --model TINY --backend transformers --tasks aime24 --data-dir STRBENCH --output-dir TMP/e", 2, "row 1"),
    ("eval --model TINY --backend transformers --tasks aime24 --data-dir LISTQ --output-dir TMP/e", 2, "must be text"),
    ("train --recipe smoke --model NOCFG --gpus 0 --dry-run --output-dir TMP/t", 2, "no config.json"),
    ("train --recipe smoke --model TMP/nope --gpus 0 --dry-run --output-dir TMP/t", 2, "does not exist"),
    ("train --recipe smoke --model STRJSON --gpus 0 --dry-run --output-dir TMP/t", 2, "is a file"),
    ("report EMPTY --price-per-gpu-hour -3 --no-figures --output-dir TMP/r", 2, "--price-per-gpu-hour"),
    ("report EMPTY --price-per-gpu-hour nan --no-figures --output-dir TMP/r", 2, "finite"),
    ("train --recipe smoke --set per_device_train_batch_size=x --dry-run", 2, "must be int"),
    ("train --recipe smoke --server-timeout 0 --dry-run", 2, "--server-timeout"),
    ("train --recipe smoke --gpus 0 --nodes 2", 2, "--main-process-ip"),  # a dry run may leave it out
    # output locations are checked before any work: the missing source is never reached
    ("data prepare --output BADYAML/x --source s=TMP/missing.jsonl", 2, "not writable"),
    ("data prepare --output JUNK --source s=TMP/missing.jsonl", 2, "did not write"),
    ("data bench --output-dir BADYAML/x --tasks aime24", 2, "not writable"),
    ("demo --output-dir BADYAML/x", 2, "not writable"),
]


@pytest.mark.parametrize(("line", "code", "needle"), CASES, ids=[c[0][:60] for c in CASES])
def test_misuse(capsys, monkeypatch, tmp_path, data_dir, tiny_model, line, code, needle):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    names = setup_files(tmp_path, data_dir, tiny_model)
    import re

    # one pass, longest names first: a substituted path is never scanned again
    pattern = re.compile("|".join(sorted(map(re.escape, names), key=len, reverse=True)))
    args = [pattern.sub(lambda m: names[m.group(0)], word) for word in line.split()]
    before = {p for p in tmp_path.rglob("*")}
    message = assert_error(invoke(capsys, *args), code, needle)
    assert any(word in message.lower() for word in ACTION_WORDS), f"no hint on what to do: {message}"
    left = {p for p in tmp_path.rglob("*")} - before
    assert not [p for p in left if p.name.endswith(".tmp") or ".tmp" in p.suffixes], left
    assert not [p for p in left if p.is_file() and p.stat().st_size == 0], left


def test_there_are_at_least_60_misuses():
    assert len(CASES) >= 130
    assert {c[0].split()[0] for c in CASES} >= {"train", "eval", "report", "push", "data", "demo"}


def test_rescore_in_a_folder_it_cannot_write_stops_before_scoring(capsys, tmp_path):
    """An eval folder that cannot be written (here made immutable): one line, exit 2, nothing scored."""
    import shutil
    import subprocess
    from pathlib import Path

    folder = tmp_path / "le"
    shutil.copytree(Path(__file__).parent / "fixtures" / "lighteval-0.13", folder)
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("chattr +i is not allowed here: no way to make a folder unwritable for root")
    try:
        assert_error(invoke(capsys, "rescore", str(folder)), 2, "not writable", str(folder))
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    assert sorted(p.name for p in folder.iterdir()) == ["details", "results"]
