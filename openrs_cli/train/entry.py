"""The training process: read a resolved openrs config with TRL's TrlParser and run GRPOTrainer.

Started by `openrs train`, either directly on CPU or under accelerate:

    accelerate launch --config_file zero2.yaml --num_processes 3 -m openrs_cli.train.entry --config run.yaml
    python -m openrs_cli.train.entry --config outputs/openrs-smoke/openrs_config.yaml
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import sys
from pathlib import Path

from openrs_cli.checkpoints import step_of
from openrs_cli.train.fields import OpenrsArguments

logger = logging.getLogger("openrs.train")


def parser_classes() -> tuple:
    """The dataclasses TrlParser reads a resolved config into: TRL's three and openrs's own keys."""
    from trl import GRPOConfig, ModelConfig, ScriptArguments

    return (ScriptArguments, OpenrsArguments, GRPOConfig, ModelConfig)


def parse_config(argv: list[str] | None) -> tuple:
    """(script_args, openrs_args, training_args, model_args) from `--config FILE` (TRL's parser)."""
    from trl import TrlParser

    return TrlParser(parser_classes()).parse_args_and_config(args=argv)


def _attn_implementation(requested: str | None) -> str | None:
    if requested not in (None, "auto"):
        return requested
    import torch

    if torch.cuda.is_available() and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def set_tokens(tokenizer, openrs_args) -> None:
    """The recipe's chat template and padding token, put on the tokenizer before any prompt is rendered."""
    from openrs_cli.train.chat_templates import resolve_chat_template

    if openrs_args.chat_template is not None:
        tokenizer.chat_template = resolve_chat_template(openrs_args.chat_template)
    if openrs_args.pad_token is not None:
        if openrs_args.pad_token not in tokenizer.get_vocab():
            raise ValueError(f"pad_token {openrs_args.pad_token!r} is not in the tokenizer's vocabulary")
        tokenizer.pad_token = openrs_args.pad_token
    elif tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token


def build_dataset(script_args, openrs_args, tokenizer):
    from openrs_cli.train.dataset import load_rows, to_prompt

    rows = load_rows(script_args.dataset_name, script_args.dataset_train_split, script_args.dataset_config)
    prompt_col, gold_col = openrs_args.dataset_prompt_column, openrs_args.dataset_solution_column
    dataset = rows.map(
        lambda row: to_prompt(row, openrs_args.system_prompt, prompt_col, gold_col),
        remove_columns=[c for c in rows.column_names if c not in ("level",)],
    )
    limit = openrs_args.max_prompt_length
    if limit:
        before = len(dataset)

        def short_enough(row) -> bool:
            ids = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=True)
            ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
            return len(ids) <= limit

        dataset = dataset.filter(short_enough)
        if len(dataset) < before:
            logger.warning("dropped %d prompts longer than %d tokens", before - len(dataset), limit)
    return dataset


def main(argv: list[str] | None = None) -> None:
    from transformers import AutoTokenizer

    from openrs_cli.rewards.registry import build_rewards
    from openrs_cli.train.trainer import OpenrsGRPOTrainer, ProgressLine, StopAtStep

    logging.basicConfig(level=logging.INFO, format="%(asctime)s openrs %(levelname)s %(message)s")
    script_args, openrs_args, training_args, model_args = parse_config(argv)

    resume = training_args.resume_from_checkpoint
    stop = openrs_args.stop_at_step
    if stop is not None and resume and (step_of(Path(resume)) or 0) >= stop:
        logger.info("%s is at or past stop_at_step %d: nothing to train", resume, stop)
        return

    training_args.model_init_kwargs = {
        **(training_args.model_init_kwargs or {}),
        "revision": model_args.model_revision,
        "dtype": model_args.dtype or "auto",
        "attn_implementation": _attn_implementation(model_args.attn_implementation),
    }
    tokenizer = AutoTokenizer.from_pretrained(model_args.model_name_or_path, revision=model_args.model_revision)
    set_tokens(tokenizer, openrs_args)
    dataset = build_dataset(script_args, openrs_args, tokenizer)
    options = {**dataclasses.asdict(openrs_args), "max_completion_length": training_args.max_completion_length}
    rewards = build_rewards(list(openrs_args.reward_funcs), options)

    from trl import get_peft_config

    trainer = OpenrsGRPOTrainer(
        model=model_args.model_name_or_path,
        peft_config=get_peft_config(model_args),  # None unless use_peft: LoRA through TRL's own ModelConfig keys
        reward_funcs=rewards,
        args=training_args,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=[ProgressLine(), *([StopAtStep(stop)] if stop is not None else [])],
        logprobs_temperature=openrs_args.logprobs_temperature,
    )
    accelerator = trainer.accelerator
    logger.info("world size %d; this is process %d", accelerator.num_processes, accelerator.process_index)
    if resume:
        logger.info("resuming from %s", resume)
    trainer.train(resume_from_checkpoint=resume or None)
    trainer.save_model(training_args.output_dir)
    if trainer.accelerator.is_main_process:
        trainer.create_model_card(dataset_name=script_args.dataset_name, tags=["openrs", "grpo"])


if __name__ == "__main__":
    main(sys.argv[1:])
