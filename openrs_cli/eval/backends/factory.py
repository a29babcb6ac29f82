"""Choose and start a generation backend; shared by `openrs eval` and `openrs data filter`."""

from __future__ import annotations

from pathlib import Path

from openrs_cli.errors import BadInputError
from openrs_cli.eval.backends.base import Backend, Sampling


def choose_backend(kind: str, base_url: str | None, gpus: int) -> str:
    """'auto' means: the endpoint when --base-url is given, vLLM when there are GPUs, else transformers."""
    if kind == "auto":
        kind = "endpoint" if base_url else ("vllm" if gpus > 0 else "transformers")
    if kind == "endpoint" and not base_url:
        raise BadInputError("the endpoint backend needs --base-url", "e.g. --base-url http://localhost:8000/v1")
    if kind == "vllm" and gpus == 0:
        raise BadInputError("the vllm backend needs GPUs and none are in use", "use --backend transformers on CPU")
    return kind


def make_backend(
    kind: str,
    model: str,
    sampling: Sampling,
    log_dir: Path,
    *,
    revision: str | None = None,
    base_url: str | None = None,
    served_model_name: str | None = None,
    concurrency: int = 64,
    gpu_ids: list[int] | None = None,
    port: int = 8011,
    seed: int = 42,
    tensor_parallel: int = 1,
) -> Backend:
    """A started backend for `kind` as `choose_backend` returned it (heavy imports happen here, not before)."""
    if kind == "transformers":
        from openrs_cli.eval.backends.hf import TransformersBackend

        return TransformersBackend(model, revision)
    if kind == "endpoint":
        from openrs_cli.eval.backends.endpoint import EndpointBackend

        backend = EndpointBackend(base_url or "", served_model_name, fallback_model=model, concurrency=concurrency)
        backend.check()
        return backend
    from openrs_cli.eval.backends.vllm_server import VllmBackend, served_name, server_command
    from openrs_cli.hardware import visible_devices_env

    gpu_ids = gpu_ids or []
    name = served_name(model)
    argv = server_command(model, len(gpu_ids), sampling, port, name, seed, revision, tensor_parallel)
    return VllmBackend(argv, port, name, log_dir, env=visible_devices_env(gpu_ids))
