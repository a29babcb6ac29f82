"""TRL's GRPOTrainer with the two paper-era behaviours TRL 1.16 has no key for, and a stop step.

- `logprobs_temperature`: TRL 1.16 divides the logits by the *sampling* temperature before it
  computes the per-token log-probs of the policy and the reference model (the loss, the ratio and
  the KL). The TRL that trained Open-RS (69ad852, pinned in open-rs's setup.py) took log_softmax of
  the raw logits. TRL binds the temperature into its fused LM head when the trainer is built, so
  this subclass builds the head again with the temperature asked for (1.0 = the paper's maths);
  `None` leaves TRL 1.x's behaviour untouched. Generation keeps the sampling temperature. Because this
  relies on how TRL binds that head, the first log-prob computation is checked against `log_softmax` of
  the model's raw logits (one sequence, once per run): a TRL that changes the mechanism stops the run
  with an error naming its version instead of training on other maths.
- Continuous-batching generation (`use_transformers_continuous_batching`) needs nothing here: with no seed
  in its config, transformers draws its engine's seed from torch's global generator, which the Trainer seeds
  and restores on resume, so a resumed run retraces an uninterrupted one (tested on CPU); TRL hands the loss
  no log-probs from it, so the trainer's own per-token log-probs are computed as ever.
- Resuming a run of several CPU processes (`--nodes N` without GPUs): transformers 5.17 loads the optimizer
  state with `map_location=args.device`, which is `cpu:0` there and which torch.load cannot restore to; the
  subclass maps it to plain `cpu` for that load.
- `StopAtStep`: the Qwen3 run kept a 500-step schedule (warmup and cosine over 500 steps) and
  released checkpoint-400. The callback saves a checkpoint at `stop_at_step` and ends the run
  there, so the schedule is the full recipe's and the run stops where the release did.

Imported only by the training process (heavy: TRL, transformers, torch).
"""

from __future__ import annotations

import logging
import sys
import time

from accelerate.utils import is_peft_model
from transformers import TrainerCallback
from trl import GRPOTrainer
from trl.trainer.utils import add_fused_lm_head

from openrs_cli.progress import duration

logger = logging.getLogger("openrs.train")


class OpenrsGRPOTrainer(GRPOTrainer):
    """GRPOTrainer whose log-probs use `logprobs_temperature` instead of the sampling temperature."""

    def __init__(self, *args, logprobs_temperature: float | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.logprobs_temperature = logprobs_temperature
        if logprobs_temperature is None or logprobs_temperature == self.temperature:
            return
        cast = self.args.cast_lm_head_to_fp32
        policy = self.model.get_base_model() if is_peft_model(self.model) else self.model
        # The new head wraps TRL's: with fused_lm_head=False it defers to the original forward (generation).
        outputs = ("log_probs", "entropy")
        add_fused_lm_head(policy, temperature=logprobs_temperature, cast_lm_head_to_fp32=cast, outputs=outputs)
        if self.ref_model is not None:
            reference = self.accelerator.unwrap_model(self.ref_model)
            add_fused_lm_head(reference, temperature=logprobs_temperature, cast_lm_head_to_fp32=cast)
        logger.info(
            "per-token log-probs use temperature %s (sampling temperature %s)", logprobs_temperature, self.temperature
        )
        self._logprobs_checked: set[int] = set()  # ids of the models (policy, reference) checked so far

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep, *args, **kwargs):
        out = super()._get_per_token_logps_and_entropies(
            model, input_ids, attention_mask, logits_to_keep, *args, **kwargs
        )
        checked = getattr(self, "_logprobs_checked", None)
        if checked is not None and id(model) not in checked:
            checked.add(id(model))
            check_logprobs(
                model, input_ids[:1], attention_mask[:1], logits_to_keep, out[0][:1], self.logprobs_temperature
            )
        return out

    def _load_optimizer_and_scheduler(self, checkpoint):
        import torch

        device = self.args.device
        if checkpoint is None or device.type != "cpu" or device.index is None:
            return super()._load_optimizer_and_scheduler(checkpoint)
        from unittest import mock

        load = torch.load

        def load_on_cpu(*args, **kwargs):
            if kwargs.get("map_location") == device:
                kwargs["map_location"] = "cpu"
            return load(*args, **kwargs)

        with mock.patch.object(torch, "load", load_on_cpu):
            return super()._load_optimizer_and_scheduler(checkpoint)

    def _generate_and_score_completions(self, inputs):
        """TRL's generation, timed: `openrs/generation_seconds` (and peak GPU memory) in the logs."""
        import torch

        start = time.perf_counter()
        out = super()._generate_and_score_completions(inputs)
        mode = "train" if self.model.training else "eval"
        self._metrics[mode]["openrs/generation_seconds"].append(time.perf_counter() - start)
        if torch.cuda.is_available():
            self._metrics[mode]["openrs/peak_memory_gib"].append(torch.cuda.max_memory_allocated() / 2**30)
        return out


def check_logprobs(model, input_ids, attention_mask, logits_to_keep, logps, temperature: float) -> None:
    """Stop unless `logps` (TRL's, for these sequences) equal log_softmax(raw logits / temperature)."""
    import torch
    import trl

    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=logits_to_keep + 1).logits
    expected = torch.log_softmax(logits[:, :-1].float() / temperature, dim=-1)
    expected = expected.gather(-1, input_ids[:, -logits_to_keep:].unsqueeze(-1)).squeeze(-1)
    mask = attention_mask[:, -logits_to_keep:].bool()
    # bf16 matmuls round differently in TRL's tiled head than in the model's own: allow for that, not for a
    # temperature (which shifts every log-prob by a share of its size)
    tolerance = 1e-3 if logits.dtype == torch.float32 else 5e-2
    error = (logps.detach().float() - expected)[mask].abs().max().item() if mask.any() else 0.0
    if error > tolerance:
        raise RuntimeError(
            f"TRL {trl.__version__} computed per-token log-probs that are not log_softmax(logits / {temperature}) "
            f"(largest difference {error:.4g}): openrs's logprobs_temperature no longer takes effect on this TRL; "
            "install trl==1.16.0 or set logprobs_temperature=null"
        )
    logger.info("per-token log-probs checked against the raw logits (largest difference %.2g)", error)


class ProgressLine(TrainerCallback):
    """A plain line per logged step with elapsed time and an ETA, for logs where no progress bar shows."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.first_step: int | None = None

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not state.max_steps:
            return
        if self.first_step is None:
            self.first_step = state.global_step - 1
        elapsed = time.monotonic() - self.start
        done = max(1, state.global_step - self.first_step)
        left = (state.max_steps - state.global_step) * elapsed / done
        reward = f", reward {logs['reward']:.3f}" if logs and "reward" in logs else ""
        print(
            f"openrs: step {state.global_step}/{state.max_steps}{reward}, elapsed {duration(elapsed)}, "
            f"about {duration(left)} left",
            file=sys.stderr,
            flush=True,
        )


class StopAtStep(TrainerCallback):
    """Save a checkpoint and end training once `global_step` reaches `stop_at_step`."""

    def __init__(self, stop_at_step: int) -> None:
        self.stop_at_step = stop_at_step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.stop_at_step:
            control.should_save = True
            control.should_training_stop = True
            logger.info("stop_at_step %d reached: saving a checkpoint and ending", self.stop_at_step)
        return control
