"""The model's tokenizer, for the backends that choose the prompt's tokens themselves."""

from __future__ import annotations

from openrs_cli.errors import BadInputError


def load_tokenizer(model: str, revision: str | None = None, option: str = "--model"):
    """`AutoTokenizer` of `model` (a folder or Hub id), or a one-line error naming it and the option it came from."""
    from pathlib import Path

    from transformers import AutoTokenizer
    from transformers.utils import logging as transformers_logging

    if not Path(model).expanduser().exists() and (model.startswith(("/", ".", "~")) or model.count("/") > 1):
        raise BadInputError(f"{option} {model} does not exist", "give a model folder or a Hub id org/name")
    transformers_logging.set_verbosity_error()
    try:
        return AutoTokenizer.from_pretrained(model, revision=revision)
    except (OSError, ValueError, TypeError) as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise BadInputError(f"cannot load the tokenizer of {option} {model}: {first}", f"check {option}") from exc
