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

from openrs_cli.train.fields import OPENRS_FIELDS

logger = logging.getLogger("openrs.train")


def script_arguments_class():
    """TRL's ScriptArguments plus openrs's recipe fields, as one dataclass TrlParser understands."""
    from trl import ScriptArguments

    specs = []
    for name, (default, help_text) in OPENRS_FIELDS.items():
        if isinstance(default, list):
            spec = (name, list[str], dataclasses.field(default_factory=lambda d=default: list(d)))
        elif isinstance(default, bool):
            spec = (name, bool, dataclasses.field(default=default))
        elif isinstance(default, int) and name != "max_prompt_length":
            spec = (name, int, dataclasses.field(default=default))
        elif isinstance(default, float):
            spec = (name, float, dataclasses.field(default=default))
        elif name == "max_prompt_length":
            spec = (name, int | None, dataclasses.field(default=default))
        else:
            spec = (name, str | None, dataclasses.field(default=default))
        spec[2].metadata = {"help": help_text}  # type: ignore[misc]
        specs.append(spec)
    return dataclasses.make_dataclass("OpenrsScriptArguments", specs, bases=(ScriptArguments,))


def _attn_implementation(requested: str | None) -> str | None:
    if requested not in (None, "auto"):
        return requested
    import torch

    if torch.cuda.is_available() and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def build_dataset(script_args, tokenizer):
    from openrs_cli.train.dataset import load_rows, to_prompt

    rows = load_rows(script_args.dataset_name, script_args.dataset_train_split, script_args.dataset_config)
    prompt_col, gold_col = script_args.dataset_prompt_column, script_args.dataset_solution_column
    dataset = rows.map(
        lambda row: to_prompt(row, script_args.system_prompt, prompt_col, gold_col),
        remove_columns=[c for c in rows.column_names if c not in ("level",)],
    )
    limit = script_args.max_prompt_length
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
    from trl import GRPOConfig, GRPOTrainer, ModelConfig, TrlParser

    from openrs_cli.rewards.registry import build_rewards

    logging.basicConfig(level=logging.INFO, format="%(asctime)s openrs %(levelname)s %(message)s")
    parser = TrlParser((script_arguments_class(), GRPOConfig, ModelConfig))
    script_args, training_args, model_args = parser.parse_args_and_config(args=argv)

    training_args.model_init_kwargs = {
        **(training_args.model_init_kwargs or {}),
        "revision": model_args.model_revision,
        "dtype": model_args.dtype or "auto",
        "attn_implementation": _attn_implementation(model_args.attn_implementation),
    }
    tokenizer = AutoTokenizer.from_pretrained(model_args.model_name_or_path, revision=model_args.model_revision)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dataset = build_dataset(script_args, tokenizer)
    options = dataclasses.asdict(script_args)
    rewards = build_rewards(list(script_args.reward_funcs), options)

    trainer = GRPOTrainer(
        model=model_args.model_name_or_path,
        reward_funcs=rewards,
        args=training_args,
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    resume = training_args.resume_from_checkpoint
    if resume:
        logger.info("resuming from %s", resume)
    trainer.train(resume_from_checkpoint=resume or None)
    trainer.save_model(training_args.output_dir)
    if trainer.accelerator.is_main_process:
        trainer.create_model_card(dataset_name=script_args.dataset_name, tags=["openrs", "grpo"])


if __name__ == "__main__":
    main(sys.argv[1:])
