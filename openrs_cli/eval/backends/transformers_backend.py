"""In-process generation with transformers (CPU or one GPU), for small models and tests.

One request at a time by default (each sample with its own seed). With
`batch_size` > 1 (on a GPU), requests are generated in batches of that many, left-padded, seeded by each
batch's first request: the caller sends whole, fixed chunks, so a resumed run regenerates whole chunks and
gets the same answers as an uninterrupted one.
"""

from __future__ import annotations

from openrs_cli.errors import BadInputError
from openrs_cli.eval.backends.base import GenRequest, GenResult, OnResult, Sampling


class TransformersBackend:
    name = "transformers"

    def __init__(self, model: str, revision: str | None = None, dtype: str = "auto", batch_size: int = 1) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" on every eval and checkpoint
        transformers_logging.set_verbosity_error()

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model, revision=revision)
            self.model = AutoModelForCausalLM.from_pretrained(model, revision=revision, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise BadInputError(f"cannot load model {model}: {str(exc).splitlines()[0]}", "check --model") from exc
        self.model.to(self.device).eval()
        self.context = getattr(self.model.config, "max_position_embeddings", None)
        self.batch_size = max(1, batch_size)
        self.tokenizer.padding_side = "left"  # decoder-only: new tokens follow the prompt directly
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.notes: list[str] = []  # said once by the caller (e.g. the context cap)

    def generate(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:
        if self.batch_size > 1:
            for start in range(0, len(requests), self.batch_size):
                self._batch(requests[start : start + self.batch_size], sampling, on_result)
            return
        self._one_by_one(requests, sampling, on_result)

    def _batch(self, chunk: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:

        texts = [
            self.tokenizer.apply_chat_template(list(r.messages), add_generation_prompt=True, tokenize=False)
            for r in chunk
        ]
        inputs = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        budget = self._budget(inputs["input_ids"].shape[1], sampling.max_new_tokens)
        output = self._sample(inputs, chunk[0].seed, sampling, budget)  # one seed per fixed chunk: reruns match
        eos_ids = self._eos_ids()
        for request, row in zip(chunk, output[:, inputs["input_ids"].shape[1] :].tolist(), strict=True):
            new = []
            for token in row:
                new.append(token)
                if token in eos_ids:
                    break
            stopped = bool(new) and new[-1] in eos_ids
            text = self.tokenizer.decode(new, skip_special_tokens=True)
            on_result(request, GenResult(text, "stop" if stopped or len(new) < budget else "length", len(new)))

    def _sample(self, inputs, seed: int, sampling: Sampling, budget: int):
        import torch

        torch.manual_seed(seed)
        sample = sampling.temperature > 0
        with torch.no_grad():
            return self.model.generate(
                **inputs,
                do_sample=sample,
                temperature=sampling.temperature if sample else None,
                top_p=sampling.top_p if sample else None,
                max_new_tokens=budget,
                pad_token_id=self.tokenizer.pad_token_id,
            )

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        return set(eos if isinstance(eos, list) else [eos]) | {self.tokenizer.eos_token_id}

    def _one_by_one(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:

        eos_ids = self._eos_ids()
        for request in requests:
            inputs = self.tokenizer.apply_chat_template(
                list(request.messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
            ).to(self.device)
            budget = self._budget(inputs["input_ids"].shape[1], sampling.max_new_tokens)
            output = self._sample(inputs, request.seed, sampling, budget)  # one seed per sample
            new = output[0][inputs["input_ids"].shape[1] :].tolist()
            stopped = bool(new) and new[-1] in eos_ids
            text = self.tokenizer.decode(new, skip_special_tokens=True)
            on_result(
                request,
                GenResult(text, "stop" if stopped or len(new) < budget else "length", len(new)),
            )

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
