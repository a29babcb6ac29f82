"""Keep a recipe's completions per optimizer step on any number of training processes.

The paper trained on 3 ranks x 6 completions per device x 4 accumulation steps = 72 completions
(12 prompts x 6 generations) per step. On another GPU count the same step needs another split:
`split_batch` picks the accumulation (and, only when it must, a smaller per-device batch) so that
ranks x per-device x accumulation equals the target, and the generation batch stays a multiple
of `num_generations` as TRL requires. Pure: no imports beyond the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchSplit:
    ranks: int
    per_device: int
    accumulation: int
    target: int | None

    @property
    def completions(self) -> int:
        return self.ranks * self.per_device * self.accumulation

    @property
    def exact(self) -> bool:
        return self.target is None or self.completions == self.target


def _generation_ok(ranks: int, per_device: int, accumulation: int, generations: int, steps_per_generation) -> int:
    """TRL generates ranks x per-device x steps_per_generation completions at once: whole groups only."""
    steps = steps_per_generation or accumulation
    return (ranks * per_device * steps) % generations == 0


def split_batch(
    ranks: int, target: int, per_device: int, generations: int, steps_per_generation: int | None = None
) -> BatchSplit:
    """The split of `target` completions over `ranks` processes, nearest when none is exact.

    The per-device batch is kept when it can be (it sets the memory a micro-batch needs and, with
    one generation per micro-batch, which completions share a loss average).

    >>> split_batch(3, 72, 6, 6, 1)        # the paper: 3 ranks x 6 x 4
    BatchSplit(ranks=3, per_device=6, accumulation=4, target=72)
    >>> split_batch(1, 72, 6, 6, 1).accumulation, split_batch(6, 72, 6, 6, 1).accumulation
    (12, 2)
    >>> split_batch(8, 72, 6, 6, 1)        # 8 ranks: a smaller micro-batch keeps 72
    BatchSplit(ranks=8, per_device=3, accumulation=3, target=72)
    >>> s = split_batch(5, 72, 6, 6, 1); (s.completions, s.exact)   # no exact split on 5 ranks
    (60, False)
    """
    for per in range(per_device, 0, -1):
        if target % (ranks * per) == 0:
            accumulation = target // (ranks * per)
            if _generation_ok(ranks, per, accumulation, generations, steps_per_generation):
                return BatchSplit(ranks, per, accumulation, target)
    best: BatchSplit | None = None
    for per in range(per_device, 0, -1):
        for accumulation in range(1, max(2, 2 * target // max(1, ranks * per) + 2)):
            if not _generation_ok(ranks, per, accumulation, generations, steps_per_generation):
                continue
            candidate = BatchSplit(ranks, per, accumulation, target)
            if best is None or abs(candidate.completions - target) < abs(best.completions - target):
                best = candidate
    if best is None:  # nothing keeps whole groups: fall back to the recipe's micro-batch
        best = BatchSplit(ranks, per_device, 1, target)
    return best


def training_ranks_for_server(
    gpus: int, target: int, per_device: int, generations: int, steps_per_generation: int | None = None
) -> int:
    """How many of `gpus` train when the rest serve vLLM: the most ranks with an exact split.

    Exact splits with the recipe's per-device batch come first, then any exact split, then
    all GPUs but one.

    >>> [training_ranks_for_server(n, 72, 6, 6, 1) for n in range(2, 9)]
    [1, 2, 3, 4, 4, 6, 6]
    """
    for keep_per_device in (True, False):
        for ranks in range(gpus - 1, 0, -1):
            split = split_batch(ranks, target, per_device, generations, steps_per_generation)
            if split.exact and (split.per_device == per_device or not keep_per_device):
                return ranks
    return gpus - 1


def describe(split: BatchSplit, generations: int) -> str:
    """One line for the plan: the batch of one optimizer step.

    >>> describe(BatchSplit(3, 6, 4, 72), 6)
    '72 completions (12 prompts x 6) per step = 3 ranks x 6 per device x 4 accumulation'
    """
    prompts = split.completions // generations
    return (
        f"{split.completions} completions ({prompts} prompts x {generations}) per step = "
        f"{split.ranks} ranks x {split.per_device} per device x {split.accumulation} accumulation"
    )
