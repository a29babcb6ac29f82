"""Check a resolved config before any process starts: types, cross-field rules, rewards."""

from __future__ import annotations

import math
from typing import Any

from openrs_cli.errors import BadInputError
from openrs_cli.rewards.registry import REWARDS, is_known
from openrs_cli.train.chat_templates import resolve_chat_template
from openrs_cli.train.fields import LOSS_TYPES, openrs_types
from openrs_cli.train.trl_table import scalar_kind, trl_kinds


def field_kinds() -> dict[str, str | None]:
    """Every recipe key's scalar kind ('int', 'float', 'bool', 'str'; None: left to TRL's parser)."""
    return {**trl_kinds(), **{k: scalar_kind(v) for k, v in openrs_types().items()}}


def coerced(config: dict[str, Any], where: str | None = None) -> dict[str, Any]:
    """`config` with each scalar coerced to its field's kind; the first that cannot be is a one-line error
    (naming `where` the value came from, when given)."""
    kinds = field_kinds()
    return {k: _coerce(k, v, kinds.get(k), where) for k, v in config.items()}


def _coerce(key: str, value: Any, kind: str | None, where: str | None = None) -> Any:
    """Coerce a scalar to its field's kind; anything complex is left to TRL's parser."""
    if value is None or kind is None:
        return value
    name = f"'{key}' in {where}" if where else f"'{key}'"
    try:
        if kind == "bool" and not isinstance(value, bool):
            raise ValueError
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if kind == "float" and not isinstance(value, bool):
            number = float(value)
            if not math.isfinite(number):  # nan or inf: a 50-line torch traceback later
                raise BadInputError(f"{name} must be a finite number, got {value!r}", "fix the recipe or --set value")
            return number
        if kind == "str" and isinstance(value, (dict, list)):
            raise ValueError
    except (TypeError, ValueError):
        raise BadInputError(f"{name} must be {kind}, got {value!r}", "fix the recipe or the --set value") from None
    return value


def validate(config: dict[str, Any], training_processes: int) -> dict[str, Any]:
    """Return the config with scalars coerced; raise BadInputError naming the first problem."""
    out = coerced(config)
    if not out.get("model_name_or_path"):
        raise BadInputError("no model given", "pass --model or set model_name_or_path in the recipe")
    if not out.get("dataset_name"):
        raise BadInputError("no dataset given", "pass --dataset or set dataset_name in the recipe")
    rewards = out.get("reward_funcs") or []
    if isinstance(rewards, str):
        rewards = out["reward_funcs"] = [rewards]
    if not rewards:
        raise BadInputError("no reward functions", f"set reward_funcs to some of {', '.join(REWARDS)}")
    for name in rewards:
        if not is_known(name):
            raise BadInputError(f"unknown reward '{name}'", f"choose from {', '.join(REWARDS)} or a dotted path")
    weights = out.get("reward_weights")
    if weights is not None and len(weights) != len(rewards):
        raise BadInputError(
            f"reward_weights has {len(weights)} values for {len(rewards)} reward_funcs",
            "give one weight each",
        )
    if out.get("loss_type", "dapo") not in LOSS_TYPES:  # absent: TRL 1.16's own default, dapo
        raise BadInputError(f"unknown loss_type '{out['loss_type']}'", f"choose from {', '.join(LOSS_TYPES)}")
    check_sizes(out)
    target = out.get("completions_per_step")
    if target is not None and (int(target) < 1 or int(target) % int(out["num_generations"])):
        raise BadInputError(
            f"completions_per_step {target} is not a multiple of num_generations={out['num_generations']}",
            "set completions_per_step to whole groups, or null to scale with the GPUs",
        )
    batch = int(out["per_device_train_batch_size"]) * int(out["gradient_accumulation_steps"]) * training_processes
    if batch % int(out["num_generations"]):
        raise BadInputError(
            f"{batch} completions per step ({training_processes} processes x per_device_train_batch_size "
            f"x gradient_accumulation_steps) is not a multiple of num_generations={out['num_generations']}",
            "change the batch size or num_generations",
        )
    if float(out.get("beta") or 0) < 0:
        raise BadInputError("beta must be >= 0")
    if float(out.get("repetition_max_penalty", -1.0)) > 0:
        raise BadInputError("repetition_max_penalty must be <= 0")
    max_steps = int(out.get("max_steps", -1) if out.get("max_steps") is not None else -1)
    if max_steps == 0 or max_steps < -1:
        raise BadInputError(f"max_steps must be positive, got {max_steps}", "set >= 1, or -1 for num_train_epochs")
    if float(out.get("learning_rate") or 0) < 0:
        raise BadInputError(
            f"learning_rate must be >= 0, got {out['learning_rate']}", "fix the recipe or the --set value"
        )
    if int(out.get("cosine_max_len") or 0) < 1:
        raise BadInputError("cosine_max_len must be at least 1", "fix the recipe or the --set value")
    temperature = out.get("logprobs_temperature")
    if temperature is not None and float(temperature) <= 0:
        raise BadInputError("logprobs_temperature must be > 0 or null", "1.0: raw logits as the paper's TRL")
    sampling_temperature = float(out.get("temperature", 1.0) if out.get("temperature") is not None else 1.0)
    if (
        temperature is not None
        and float(temperature) != sampling_temperature
        and out.get("use_vllm")
        and out.get("vllm_importance_sampling_correction", True)  # TRL 1.16's default is on
    ):
        raise BadInputError(
            f"vllm_importance_sampling_correction compares vLLM's log-probs at temperature {sampling_temperature} "
            f"with the trainer's at logprobs_temperature {temperature}: the correction would be biased",
            "set vllm_importance_sampling_correction=false (the paper had none) or logprobs_temperature=null",
        )
    if out.get("chat_template") is not None:
        resolve_chat_template(str(out["chat_template"]))
    stop = out.get("stop_at_step")
    if stop is not None and (int(stop) < 1 or (max_steps > 0 and int(stop) > max_steps)):
        raise BadInputError(
            f"stop_at_step {stop} is not within 1..max_steps ({max_steps})", "set it to at most max_steps"
        )
    return out


def check_sizes(cfg: dict, where: str = "the recipe") -> None:
    """The batch and group sizes the layout divides by: checked before it does (a 0 would divide by zero)."""
    for key in ("per_device_train_batch_size", "gradient_accumulation_steps", "num_generations"):
        if cfg.get(key) is None:
            raise BadInputError(f"{key} is not set in {where}", f"set it there or with --set {key}=N")
        if int(_coerce(key, cfg[key], "int")) < 1:
            raise BadInputError(f"{key} must be at least 1", "fix the recipe or the --set value")
    if int(cfg["num_generations"]) < 2:
        raise BadInputError(
            "num_generations must be at least 2 (GRPO compares completions in a group)", "set num_generations=2 or more"
        )
