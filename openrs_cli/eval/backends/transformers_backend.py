"""In-process generation with transformers (CPU or one GPU), for small models and tests.

Three ways (`batching`): `one`, a request at a time, each sample with its own seed; `padded`, batches of
`batch_size` requests left-padded into one `generate()`; `continuous`, transformers' continuous batching
(`generate_batch`: paged attention, finished answers make room for waiting ones) over chunks of `batch_size`.
The last two seed each chunk with its first request's seed and the caller sends whole, fixed chunks, so a
resumed run regenerates whole chunks and gets the same answers as an uninterrupted one. Continuous batching
is made deterministic too: its KV cache holds the whole chunk at full length (no request ever waits for
memory or is evicted), all of a chunk is admitted at once, and asynchronous double-buffering is off, so
its schedule depends on the chunk and `max_batch_tokens` alone, never on free memory or timing.
Every sampling field is passed explicitly (top-k 0 is transformers' "off"), so the model's
generation_config.json cannot change the sampling.
"""

from __future__ import annotations

from openrs_cli.errors import BadInputError
from openrs_cli.eval.backends.base import GenRequest, GenResult, OnResult, Sampling
from openrs_cli.eval.prompts import prompt_digest, prompt_token_ids


class TransformersBackend:
    name = "transformers"

    def __init__(
        self,
        model: str,
        revision: str | None = None,
        dtype: str = "auto",
        batch_size: int = 1,
        prompt_tokens: str = "template",
        batching: str = "one",
        max_batch_tokens: int = 2048,
        memory_fraction: float = 0.9,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" on every eval and checkpoint
        transformers_logging.set_verbosity_error()

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.prompt_tokens = prompt_tokens
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model, revision=revision)
            self.model = AutoModelForCausalLM.from_pretrained(model, revision=revision, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise BadInputError(f"cannot load model {model}: {str(exc).splitlines()[0]}", "check --model") from exc
        self.model.to(self.device).eval()
        self.context = getattr(self.model.config, "max_position_embeddings", None)
        self.batch_size = max(1, batch_size)
        padded_by_one = batching == "padded" and self.batch_size == 1  # a padded chunk of one is one at a time
        self.batching = "one" if padded_by_one else batching
        self.max_batch_tokens, self.memory_fraction = max_batch_tokens, memory_fraction
        self.tokenizer.padding_side = "left"  # decoder-only: new tokens follow the prompt directly
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.notes: list[str] = []  # said once by the caller (e.g. the context cap)

    def generate(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:
        if self.batching == "one":
            self._one_by_one(requests, sampling, on_result)
            return
        step = self._continuous if self.batching == "continuous" else self._batch
        for start in range(0, len(requests), self.batch_size):
            step(requests[start : start + self.batch_size], sampling, on_result)

    def _continuous(self, chunk: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:
        """One fixed chunk through `generate_batch`, its cache sized so that the schedule is deterministic."""
        import math

        import torch
        from transformers import GenerationConfig
        from transformers.generation.configuration_utils import ContinuousBatchingConfig

        prompts = [prompt_token_ids(self.tokenizer, r.messages, self.prompt_tokens) for r in chunk]
        budget = min(self._budget(len(p), sampling.max_new_tokens) for p in prompts)
        block = 256
        blocks = sum(math.ceil((len(p) + budget + 1) / block) for p in prompts)
        self._check_memory(blocks * block)
        eos_ids = self._eos_ids()
        sample = sampling.temperature > 0
        config = GenerationConfig(
            max_new_tokens=budget,
            do_sample=sample,
            temperature=sampling.temperature if sample else 1.0,
            top_p=sampling.top_p if sample else 1.0,
            top_k=max(0, sampling.top_k) if sample else 0,
            min_p=sampling.min_p or None,
            repetition_penalty=sampling.repetition_penalty,
            eos_token_id=sorted(eos_ids),
            pad_token_id=self.tokenizer.pad_token_id,
        )
        cb = ContinuousBatchingConfig(
            block_size=block,
            num_blocks=blocks,
            max_batch_tokens=self.max_batch_tokens,
            max_requests_per_batch=len(chunk),
            allow_block_sharing=False,
            use_async_batching=False,
            seed=chunk[0].seed % 2**63,  # one seed per fixed chunk: reruns match
        )
        with torch.no_grad():
            outputs = self.model.generate_batch(
                inputs=prompts, generation_config=config, continuous_batching_config=cb, progress_bar=False
            )
        for i, (request, prompt) in enumerate(zip(chunk, prompts, strict=True)):
            output = outputs[f"req_{i}"]
            if output.error or list(output.prompt_ids) != list(prompt):
                raise RuntimeError(f"continuous batching lost request {i}: {output.error or 'prompt mismatch'}")
            new = list(output.generated_tokens)[:budget]
            on_result(request, self._result(new, eos_ids, budget, prompt))

    def _check_memory(self, tokens: int) -> None:
        """A chunk's KV cache must fit in `memory_fraction` of the free GPU memory (on CPU, the OS decides)."""
        import torch

        if self.device != "cuda":
            return
        cfg = self.model.config
        layers = getattr(cfg, "num_hidden_layers", 0)
        heads = getattr(cfg, "num_key_value_heads", None) or getattr(cfg, "num_attention_heads", 0)
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // max(1, cfg.num_attention_heads)
        need = tokens * layers * 2 * heads * head_dim * self.model.dtype.itemsize
        free, _ = torch.cuda.mem_get_info()
        if need > self.memory_fraction * free:
            raise BadInputError(
                f"continuous batching needs {need / 2**30:.1f} GiB of KV cache for a chunk of {self.batch_size} "
                f"answers at full length, more than {self.memory_fraction:.0%} of the {free / 2**30:.1f} GiB free",
                "pass a smaller --batch-size (or --max-new-tokens), or --cb-memory to allow more",
            )

    def _batch(self, chunk: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:
        prompts = [prompt_token_ids(self.tokenizer, r.messages, self.prompt_tokens) for r in chunk]
        inputs = self.tokenizer.pad({"input_ids": prompts}, return_tensors="pt").to(self.device)
        budget = self._budget(inputs["input_ids"].shape[1], sampling.max_new_tokens)
        output = self._sample(inputs, chunk[0].seed, sampling, budget)  # one seed per fixed chunk: reruns match
        eos_ids = self._eos_ids()
        rows = output[:, inputs["input_ids"].shape[1] :].tolist()
        for request, prompt, row in zip(chunk, prompts, rows, strict=True):
            new = []
            for token in row:
                new.append(token)
                if token in eos_ids:
                    break
            on_result(request, self._result(new, eos_ids, budget, prompt))

    def _result(self, new: list[int], eos_ids: set[int], budget: int, prompt: list[int]) -> GenResult:
        stopped = bool(new) and new[-1] in eos_ids
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        finish = "stop" if stopped or len(new) < budget else "length"
        return GenResult(text, finish, len(new), prompt_sha256=prompt_digest(prompt))

    def _sample(self, inputs, seed: int, sampling: Sampling, budget: int):
        import torch

        torch.manual_seed(seed)
        sample = sampling.temperature > 0
        with torch.no_grad():
            return self.model.generate(
                **inputs,
                do_sample=sample,
                temperature=sampling.temperature if sample else 1.0,
                top_p=sampling.top_p if sample else 1.0,
                top_k=max(0, sampling.top_k) if sample else 0,  # 0: off in transformers, -1 in vLLM
                min_p=sampling.min_p,
                repetition_penalty=sampling.repetition_penalty,
                max_new_tokens=budget,
                pad_token_id=self.tokenizer.pad_token_id,
            )

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        return set(eos if isinstance(eos, list) else [eos]) | {self.tokenizer.eos_token_id}

    def _one_by_one(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:
        import torch

        eos_ids = self._eos_ids()
        for request in requests:
            prompt = prompt_token_ids(self.tokenizer, request.messages, self.prompt_tokens)
            ids = torch.tensor([prompt], device=self.device)
            inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
            budget = self._budget(ids.shape[1], sampling.max_new_tokens)
            output = self._sample(inputs, request.seed, sampling, budget)  # one seed per sample
            on_result(request, self._result(output[0][ids.shape[1] :].tolist(), eos_ids, budget, prompt))

    def _budget(self, prompt_tokens: int, wanted: int) -> int:
        """New tokens this prompt can have: the model's context minus the prompt, at most `wanted`."""
        if not self.context or prompt_tokens + wanted <= self.context:
            return wanted
        budget = max(1, self.context - prompt_tokens)
        if not self.notes:
            self.notes.append(
                f"max new tokens capped at the model's context ({self.context} tokens) minus the prompt "
                f"({wanted} asked); answers cut there are scored as truncated"
            )
        return budget

    def close(self) -> None:
        self.model = None
