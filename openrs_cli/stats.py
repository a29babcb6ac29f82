"""Error bars with problems as the unit: k samples of one problem are not k independent draws.

The one home of the 95% normal quantile every table, figure and card uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

Z95 = 1.959963984540054


@dataclass
class TaskStats:
    avg_at_k: float  # mean accuracy over every sample
    pass_at_k: float | None  # share of problems solved by at least one of their k samples (k > 1)
    stderr: float  # standard error of the mean over problems (lighteval's, for k = 1)
    ci95_low: float
    ci95_high: float
    n_problems: int
    n_samples: int
    k: int

    def to_dict(self) -> dict:
        return asdict(self)


def task_stats(per_problem: Sequence[Sequence[float]]) -> TaskStats:
    """`per_problem[i]` holds the 0/1 scores of problem i's samples.

    >>> s = task_stats([[1, 1], [0, 1], [0, 0]])
    >>> round(s.avg_at_k, 3), round(s.pass_at_k, 3), s.n_problems, s.n_samples
    (0.5, 0.667, 3, 6)
    """
    scored = [list(map(float, scores)) for scores in per_problem if scores]
    n = len(scored)
    if n == 0:
        return TaskStats(0.0, None, 0.0, 0.0, 0.0, 0, 0, 0)
    means = [sum(s) / len(s) for s in scored]
    mean = sum(means) / n
    var = sum((m - mean) ** 2 for m in means) / (n - 1) if n > 1 else 0.0
    stderr = math.sqrt(var / n)
    k = max(len(s) for s in scored)
    pass_k = sum(1.0 for s in scored if max(s) > 0) / n if k > 1 else None
    low, high = max(0.0, mean - Z95 * stderr), min(1.0, mean + Z95 * stderr)
    return TaskStats(mean, pass_k, stderr, low, high, n, sum(len(s) for s in scored), k)
