"""In-process generation with transformers (CPU or one GPU): slow, for small models and tests."""

from __future__ import annotations

from openrs_cli.errors import BadInputError
from openrs_cli.eval.backends.base import GenRequest, GenResult, OnResult, Sampling


class TransformersBackend:
    name = "transformers"

    def __init__(self, model: str, revision: str | None = None, dtype: str = "auto") -> None:
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
        self.notes: list[str] = []  # said once by the caller (e.g. the context cap)

    def generate(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:
        import torch

        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) | {self.tokenizer.eos_token_id}
        for request in requests:
            inputs = self.tokenizer.apply_chat_template(
                list(request.messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
            ).to(self.device)
            torch.manual_seed(request.seed)  # one seed per sample: results do not depend on batching
            sample = sampling.temperature > 0
            budget = self._budget(inputs["input_ids"].shape[1], sampling.max_new_tokens)
            with torch.no_grad():
                output = self.model.generate(
                    **inputs,
                    do_sample=sample,
                    temperature=sampling.temperature if sample else None,
                    top_p=sampling.top_p if sample else None,
                    max_new_tokens=budget,
                    pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
                )
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
