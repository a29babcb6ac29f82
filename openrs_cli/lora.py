"""LoRA adapters: recognise an adapter folder, name its base model, and merge it into a full model folder.

A LoRA run (`use_peft: true`) saves an adapter: `adapter_config.json` and `adapter_model.safetensors`, and no
`config.json`. `openrs eval` merges an adapter before generating, so every backend loads a plain model, and
`openrs push --merged` uploads the merged model beside the adapter. A merge is stamped with the adapter's
content hash and base model: a folder stamped for the same adapter is reused, any other is made again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from openrs_cli.errors import BadInputError

ADAPTER_CONFIG = "adapter_config.json"
MERGED_FOLDER = ".merged-model"  # where eval writes an adapter's merge, inside the target's output folder
MERGED_STAMP = "openrs_merged_from.json"


def is_adapter(folder: Path) -> bool:
    """A PEFT adapter folder (its config names a base model) rather than a full model."""
    return (folder / ADAPTER_CONFIG).is_file() and not (folder / "config.json").is_file()


def adapter_base(folder: Path) -> str:
    """The base model an adapter was trained on (`base_model_name_or_path` of its config)."""
    path = folder / ADAPTER_CONFIG
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"{path} is not readable JSON ({exc})", "save the adapter again") from exc
    base = data.get("base_model_name_or_path") if isinstance(data, dict) else None
    if not isinstance(base, str) or not base:
        raise BadInputError(f"{path} names no base model (base_model_name_or_path)", "set it to the base model")
    return base


def _stamp(adapter: Path) -> dict[str, str]:
    from openrs_cli.provenance import folder_digest

    return {"adapter": str(adapter.resolve()), "adapter_sha256": folder_digest(adapter), "base": adapter_base(adapter)}


def _stamped(out: Path) -> dict | None:
    """The stamp of an earlier merge in `out`, or None (no merge there, or an unreadable stamp)."""
    try:
        stamp = json.loads((out / MERGED_STAMP).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def merge_adapter(adapter: Path, out: Path, say: Callable[[str], None] = lambda message: None) -> Path:
    """`out` holding the base model with `adapter` merged in (and the adapter's tokenizer), written whole."""
    from openrs_cli.atomic import replace_folder, write_json
    from openrs_cli.localmodels import usable_model

    stamp = _stamp(adapter)
    earlier = _stamped(out)
    if earlier is not None and earlier.get("adapter_sha256") == stamp["adapter_sha256"]:
        return out
    base = usable_model(stamp["base"], None, "base model", say)
    say(f"merging the LoRA adapter {adapter} into {stamp['base']} -> {out}")
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with torch.no_grad():
        model = AutoModelForCausalLM.from_pretrained(base, dtype="auto")
        merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    has_tokenizer = any((adapter / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json"))
    tokenizer = AutoTokenizer.from_pretrained(str(adapter) if has_tokenizer else base)
    owned = {p.name for p in out.iterdir()} if earlier is not None else set()
    with replace_folder(out, owned) as staging:
        merged.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        write_json(staging / MERGED_STAMP, stamp)
    return out
