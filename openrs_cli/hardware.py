"""GPU detection, kept pure so train and eval can size their processes and tests can fake it.

`detect_gpus()` asks nvidia-smi first (no torch import), then torch.cuda when torch is importable,
and keeps only the devices CUDA_VISIBLE_DEVICES exposes, renumbered as CUDA renumbers them. Each
GPU keeps its physical index too: a child process must be given physical indices in its own
CUDA_VISIBLE_DEVICES (an ordinal from the parent's numbering would land on the wrong card).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

MAX_GPUS_PER_NODE = 64  # a bound for plans: more is a typo, and would allocate index lists until memory runs out
NVIDIA_SMI_QUERY = ["--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits"]


@dataclass(frozen=True)
class Gpu:
    """One visible GPU. `index` is the CUDA ordinal a child process sees; `physical_index` the card's."""

    index: int
    physical_index: int
    name: str
    memory_mib: int
    uuid: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """Parse `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits`.

    >>> parse_nvidia_smi("0, GPU-aa, NVIDIA H100 80GB HBM3, 81559\\n")
    [Gpu(index=0, physical_index=0, name='NVIDIA H100 80GB HBM3', memory_mib=81559, uuid='GPU-aa')]
    """
    gpus = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 4 or not parts[0].isdigit():
            continue
        index, uuid, memory = int(parts[0]), parts[1], parts[-1]
        name = ", ".join(parts[2:-1])
        mib = int(float(memory)) if memory.replace(".", "", 1).isdigit() else 0
        gpus.append(Gpu(index=index, physical_index=index, name=name, memory_mib=mib, uuid=uuid))
    return gpus


def filter_visible(gpus: list[Gpu], cuda_visible_devices: str | None) -> list[Gpu]:
    """Keep the GPUs CUDA_VISIBLE_DEVICES exposes, in its order, renumbered from 0.

    Entries are indices or UUIDs (or UUID prefixes); CUDA stops at the first invalid entry.

    >>> cards = [Gpu(i, i, "H100", 81559, f"GPU-{i}") for i in range(4)]
    >>> [(g.index, g.physical_index) for g in filter_visible(cards, "2,0")]
    [(0, 2), (1, 0)]
    >>> filter_visible(cards, "")
    []
    """
    if cuda_visible_devices is None:
        return list(gpus)
    visible: list[Gpu] = []
    for raw in cuda_visible_devices.split(","):
        entry = raw.strip()
        if not entry:
            break
        if entry.lstrip("-").isdigit():
            match = [g for g in gpus if g.physical_index == int(entry)]
        else:
            match = [g for g in gpus if g.uuid and g.uuid.startswith(entry)]
        if len(match) != 1 or match[0] in visible:
            break
        visible.append(match[0])
    return [
        Gpu(index=i, physical_index=g.physical_index, name=g.name, memory_mib=g.memory_mib, uuid=g.uuid)
        for i, g in enumerate(visible)
    ]


Runner = Callable[[list[str]], str]


def _run_nvidia_smi(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=20).stdout


def physical_indices(count: int, cuda_visible_devices: str | None) -> list[int]:
    """Physical indices of the first `count` ordinals, read from numeric CUDA_VISIBLE_DEVICES entries.

    >>> physical_indices(2, "4,5,6"), physical_indices(2, None), physical_indices(2, "GPU-ab,GPU-cd")
    ([4, 5], [0, 1], [0, 1])
    """
    entries = [e.strip() for e in (cuda_visible_devices or "").split(",") if e.strip()]
    if len(entries) >= count and all(e.isdigit() for e in entries[:count]):
        return [int(e) for e in entries[:count]]
    return list(range(count))


def _torch_gpus(env: Mapping[str, str]) -> list[Gpu]:
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    count = torch.cuda.device_count()
    physical = physical_indices(count, env.get("CUDA_VISIBLE_DEVICES"))
    out = []
    for i in range(count):
        props = torch.cuda.get_device_properties(i)
        mib = props.total_memory // (1024 * 1024)
        out.append(Gpu(i, physical[i], props.name, mib, str(getattr(props, "uuid", ""))))
    return out


def detect_gpus(
    env: Mapping[str, str] | None = None,
    runner: Runner | None = None,
    which: Callable[[str], str | None] = shutil.which,
    use_torch: bool = True,
) -> tuple[list[Gpu], str]:
    """Return the visible GPUs and where the answer came from ('nvidia-smi', 'torch' or 'none')."""
    env = os.environ if env is None else env
    exe = which("nvidia-smi")
    if exe:
        try:
            text = (runner or _run_nvidia_smi)([exe, *NVIDIA_SMI_QUERY])
            return filter_visible(parse_nvidia_smi(text), env.get("CUDA_VISIBLE_DEVICES")), "nvidia-smi"
        except (OSError, subprocess.SubprocessError):
            pass
    if use_torch:
        gpus = _torch_gpus(env)  # torch applies CUDA_VISIBLE_DEVICES itself
        if gpus:
            return gpus, "torch"
    return [], "none"


def resolve_gpus(requested: str, planning_only: bool) -> tuple[list[int], list[str]]:
    """Physical indices of the GPUs a command uses (`--gpus auto|N`), and notes for its plan.

    A stated count is not checked with torch when only planning, so a dry run imports no torch;
    GPUs planned beyond those present take the next free indices.
    """
    from openrs_cli.errors import BadInputError

    if requested != "auto" and not requested.isdigit():
        raise BadInputError(f"--gpus must be a number or 'auto', got '{requested}'")
    if requested == "0":
        return [], []
    if requested.isdigit() and int(requested) > MAX_GPUS_PER_NODE:
        raise BadInputError(
            f"--gpus {requested} is more than a node holds (at most {MAX_GPUS_PER_NODE})",
            "give the GPUs of one machine; --nodes multiplies them",
        )
    found, _ = detect_gpus(use_torch=requested == "auto" or not planning_only)
    ids = [g.physical_index for g in found]
    if requested == "auto":
        return ids, []
    wanted = int(requested)
    if wanted <= len(ids):
        return ids[:wanted], []
    if not planning_only:
        raise BadInputError(
            f"--gpus {wanted} but only {len(ids)} GPU(s) are visible",
            "lower --gpus, check CUDA_VISIBLE_DEVICES, or use --dry-run to plan for another machine",
        )
    if not ids:
        ids = physical_indices(wanted, os.environ.get("CUDA_VISIBLE_DEVICES"))
    spare = (i for i in range(max(ids, default=-1) + 1, 1 << 16) if i not in ids)
    ids = ids + [next(spare) for _ in range(wanted - len(ids))]
    return ids, [f"planning for {wanted} GPUs; this machine has {len(found)}"]


def visible_devices_env(gpu_ids: list[int]) -> dict[str, str]:
    """The environment that puts a child process on exactly these physical GPUs."""
    return {"CUDA_VISIBLE_DEVICES": ",".join(map(str, gpu_ids))}
