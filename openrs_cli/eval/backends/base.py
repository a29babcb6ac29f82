"""The request and result types every backend shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, Protocol, get_args

from openrs_cli.checks import at_least, within
from openrs_cli.errors import BadInputError

BackendName = Literal["auto", "vllm", "endpoint", "transformers"]
BACKENDS: tuple[str, ...] = get_args(BackendName)


def _option(flag: str, help: str, low: float, high: float | None = None, low_open: bool = False) -> dict:
    return {"flag": flag, "help": help, "low": low, "high": high, "low_open": low_open}


@dataclass(frozen=True)
class Sampling:
    """Every sampling parameter, declared once: default, flag, help and range live here.

    Each backend sends every field explicitly, so neither a server's defaults (`vllm serve` applies a model
    folder's generation_config.json to whatever a request leaves out) nor transformers' `generate()` (which
    reads the same file) fills a gap. The answer cache keys on all of them; the results record all of them.
    """

    temperature: float = field(default=0.6, metadata=_option("--temperature", "Sampling temperature (paper: 0.6).", 0))
    top_p: float = field(
        default=0.95, metadata=_option("--top-p", "Nucleus sampling (paper: 0.95).", 0, 1, low_open=True)
    )
    top_k: int = field(default=-1, metadata=_option("--sampling top_k", "Top-k sampling; -1: off (the paper's).", -1))
    min_p: float = field(
        default=0.0, metadata=_option("--sampling min_p", "Min-p sampling; 0: off (the paper's).", 0, 1)
    )
    repetition_penalty: float = field(
        default=1.0, metadata=_option("--sampling repetition_penalty", "1: off (the paper's).", 0, low_open=True)
    )
    max_new_tokens: int = field(default=32768, metadata=_option("--max-new-tokens", "Paper: 32768.", 1))

    def checked(self) -> Sampling:
        """This sampling, or a one-line error naming the first value out of its range."""
        for f in fields(self):
            meta, value = f.metadata, getattr(self, f.name)
            if f.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                raise BadInputError(f"{meta['flag']} must be a whole number, got {value!r}")
            if meta["high"] is None:
                at_least(meta["flag"], value, meta["low"])
                if meta["low_open"] and value == meta["low"]:
                    raise BadInputError(f"{meta['flag']} must be greater than {meta['low']:g}, got {value:g}")
            else:
                within(meta["flag"], value, meta["low"], meta["high"], low_open=meta["low_open"])
        return self

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


SAMPLING = Sampling()  # the paper's protocol; the CLI's defaults come from here


def sampling_fields() -> dict[str, Any]:
    """Field name -> dataclasses.Field, for `--sampling NAME=VALUE` and the CLI's help."""
    return {f.name: f for f in fields(Sampling)}


Dtype = Literal["auto", "bfloat16", "float16", "float32"]
DTYPES: tuple[str, ...] = get_args(Dtype)
Engine = Literal["auto", "eager", "compiled"]  # vLLM: eager skips torch.compile and CUDA graphs
ENGINE_MODES: tuple[str, ...] = get_args(Engine)
# transformers backend: one request at a time, padded batches, or continuous batching (the plan resolves auto)
Batching = Literal["auto", "one", "padded", "continuous"]
BATCHING_MODES: tuple[str, ...] = get_args(Batching)
# How the prompt reaches the model:
#   paper:    the chat template rendered as text, then tokenized *with* the tokenizer's special tokens, as the
#             paper's lighteval (ed08481, add_special_tokens=True) fed vLLM: R1-Distill's tokenizer adds a BOS
#             in front of the template's own, so its prompts start with two; a tokenizer that adds none
#             (Qwen3, SmolLM2) gives exactly the template's tokens;
#   template: the chat template's tokens only (one BOS), what a chat endpoint builds;
#   server:   the messages, templated by the server (endpoint backend).
PromptTokens = Literal["auto", "paper", "template", "server"]
PROMPT_TOKENS: tuple[str, ...] = get_args(PromptTokens)


def resolve_prompt_tokens(requested: str, kind: str) -> str:
    """`auto` is the paper's tokens where openrs tokenizes (vllm, transformers) and the server's for an endpoint.

    >>> resolve_prompt_tokens("auto", "vllm"), resolve_prompt_tokens("auto", "endpoint")
    ('paper', 'server')
    """
    if requested == "auto":
        return "server" if kind == "endpoint" else "paper"
    if requested == "server" and kind != "endpoint":
        raise BadInputError(
            f"--prompt-tokens server needs an endpoint (--base-url), not --backend {kind}", "use paper or template"
        )
    return requested


@dataclass
class BackendSettings:
    """How answers are generated: the backend and what it needs to start."""

    kind: BackendName  # vllm, endpoint or transformers (the plan resolves "auto")
    gpu_ids: list[int]  # physical indices; a vLLM server gets exactly these
    base_url: str | None = None
    served_model_name: str | None = None
    concurrency: int = 64  # requests in flight (endpoint); the vllm backend keeps its engines full instead
    port: int = 8011
    tensor_parallel: int = 1
    scoring_workers: int = 0  # 0: one per core
    request_timeout_s: float = 3600.0  # one answer's wait before it is retried
    retries: int = 4  # per request, with backoff from 1 s
    max_num_seqs: int = 256  # sequences each vLLM engine batches (vLLM's default)
    max_model_len: int | None = None  # vLLM's context; None: max_new_tokens + room for the prompt
    batch_size: int = 1  # transformers backend: requests generated together (fixed chunks)
    batching: Batching = "one"  # transformers backend: how a chunk is generated (the plan resolves "auto")
    cb_max_batch_tokens: int = 2048  # continuous batching: tokens per forward pass (part of the schedule)
    cb_memory: float = 0.9  # continuous batching: the share of free GPU memory a chunk's KV cache may take
    dtype: Dtype = "auto"  # weights and activations (vLLM --dtype, transformers dtype)
    engine: Engine = "compiled"  # vllm: eager or compiled (the plan resolves "auto")
    prompt_tokens: PromptTokens = "template"  # paper, template or server (the plan resolves "auto")
    cpu: bool = False  # vllm on vLLM's CPU build: its CPU settings

    @property
    def generates_on_cpu(self) -> bool:
        """The answers come from this machine's CPU (vLLM's CPU build, or transformers without a GPU)."""
        return (self.kind == "vllm" and self.cpu) or (self.kind == "transformers" and not self.gpu_ids)

    @property
    def replicas(self) -> int:
        """vLLM engines (data-parallel replicas): the GPUs over the tensor-parallel size, at least one."""
        return max(1, len(self.gpu_ids) // max(1, self.tensor_parallel))

    @property
    def in_flight(self) -> int:
        """Requests the client keeps in flight: for vLLM, every engine batching max_num_seqs sequences.

        >>> BackendSettings("vllm", list(range(8)), tensor_parallel=2, max_num_seqs=256).in_flight
        1024
        """
        if self.kind == "vllm":
            return self.replicas * self.max_num_seqs
        return self.concurrency if self.kind == "endpoint" else 1

    @property
    def server_env(self) -> dict[str, str]:
        from openrs_cli.hardware import visible_devices_env

        return visible_devices_env(self.gpu_ids)

    def engine_identity(self) -> dict[str, Any]:
        """What about the engine changes the answers (part of every answer's cache key and provenance)."""
        if self.kind == "vllm":
            return {"kind": "vllm", "dtype": self.dtype, "mode": self.engine, "device": "cpu" if self.cpu else "gpu"}
        if self.kind == "transformers":
            identity = {"kind": "transformers", "dtype": self.dtype, "batch_size": self.batch_size}
            if self.batching == "continuous":  # its schedule, and so its answers, depend on these
                identity.update(batching="continuous", max_batch_tokens=self.cb_max_batch_tokens)
            return identity
        return {"kind": "endpoint"}


@dataclass(frozen=True)
class GenRequest:
    key: str
    task: str
    index: int
    sample: int
    messages: tuple  # of {"role", "content"} dicts
    seed: int


@dataclass
class GenResult:
    text: str
    finish_reason: str  # "stop", "length", or "error"
    completion_tokens: int = 0
    error: str | None = None
    prompt_sha256: str | None = None  # of the prompt token ids the engine received (or of the messages sent)


OnResult = Callable[[GenRequest, GenResult], None]


class Backend(Protocol):
    name: str

    def generate(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None: ...

    def close(self) -> None: ...
