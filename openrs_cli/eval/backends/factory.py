"""Choose and start a generation backend; shared by `openrs eval` and `openrs data filter`."""

from __future__ import annotations

from pathlib import Path

from openrs_cli.errors import BadInputError
from openrs_cli.eval.backends.base import Backend, BackendSettings, Sampling


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
    settings: BackendSettings,
    model: str,
    sampling: Sampling,
    log_dir: Path,
    *,
    revision: str | None = None,
    seed: int = 42,
    server_command: list[str] | None = None,
) -> Backend:
    """A started backend as `settings` describe it (heavy imports happen here, not before).

    The vllm backend runs `server_command` (the plan's) or builds one for `model`.
    """
    if settings.kind == "transformers":
        from openrs_cli.eval.backends.transformers_backend import TransformersBackend

        return TransformersBackend(model, revision, batch_size=settings.batch_size)
    if settings.kind == "endpoint":
        from openrs_cli.eval.backends.endpoint import EndpointBackend

        backend = EndpointBackend(
            settings.base_url or "",
            settings.served_model_name,
            fallback_model=model,
            concurrency=settings.in_flight,
            timeout_s=settings.request_timeout_s,
            retries=settings.retries,
        )
        backend.check()
        return backend
    from openrs_cli.eval.backends.vllm_server import SERVED_NAME, VllmBackend
    from openrs_cli.eval.backends.vllm_server import server_command as build_command

    argv = server_command or build_command(
        model,
        len(settings.gpu_ids),
        sampling,
        settings.port,
        SERVED_NAME,
        seed,
        revision,
        settings.tensor_parallel,
        settings.max_num_seqs,
        settings.max_model_len,
    )
    return VllmBackend(
        argv,
        settings.port,
        SERVED_NAME,
        log_dir,
        env=settings.server_env,
        concurrency=settings.in_flight,
        request_timeout_s=settings.request_timeout_s,
        retries=settings.retries,
    )
