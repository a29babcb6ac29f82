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
    # "seed runs" (Sober Look, arXiv 2504.07086): sample j of every problem is run j (they share its seed); the
    # mean and the standard deviation of the k runs' accuracies. None with one sample per problem.
    seed_mean: float | None = None
    seed_std: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def task_stats(per_problem: Sequence[Sequence[float]]) -> TaskStats:
    """`per_problem[i]` holds the 0/1 scores of problem i's samples.

    >>> s = task_stats([[1, 1], [0, 1], [0, 0]])
    >>> round(s.avg_at_k, 3), round(s.pass_at_k, 3), s.n_problems, s.n_samples
    (0.5, 0.667, 3, 6)
    >>> round(s.seed_mean, 3), round(s.seed_std, 3)  # runs 1/3 and 2/3
    (0.5, 0.236)
    >>> [round(x, 3) for x in (task_stats([[0]] * 12).ci95_low, task_stats([[0]] * 12).ci95_high)]
    [0.0, 0.242]
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
    if k == 1 and all(s[0] in (0.0, 1.0) for s in scored):  # one 0/1 sample each: Wilson, honest at 0 and n
        low, high = wilson(round(mean * n), n)
    else:  # avg@k over problems: a normal interval on the problem means
        low, high = max(0.0, mean - Z95 * stderr), min(1.0, mean + Z95 * stderr)
    spread = seed_spread(scored) or (None, None)
    return TaskStats(mean, pass_k, stderr, low, high, n, sum(len(s) for s in scored), k, *spread)


def seed_runs(per_problem: Sequence[Sequence[float]]) -> list[float]:
    """Accuracy of each seed run: run j scores sample j of every problem that has one (samples in seed order).

    >>> seed_runs([[1, 1], [0, 1], [0, 0]])
    [0.3333333333333333, 0.6666666666666666]
    """
    k = max((len(s) for s in per_problem), default=0)
    runs = []
    for j in range(k):
        column = [s[j] for s in per_problem if len(s) > j]
        runs.append(sum(column) / len(column))
    return runs


def seed_spread(per_problem: Sequence[Sequence[float]]) -> tuple[float, float] | None:
    """(mean, sample standard deviation) of the seed runs' accuracies; None with fewer than two runs.

    >>> [round(x, 3) for x in seed_spread([[1, 0], [1, 0]])]
    [0.5, 0.707]
    """
    runs = seed_runs(per_problem)
    if len(runs) < 2:
        return None
    mean = sum(runs) / len(runs)
    return mean, math.sqrt(sum((r - mean) ** 2 for r in runs) / (len(runs) - 1))


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion: honest at 0 and n (never 0.0-0.0 from 0 of 12).

    >>> [round(x, 3) for x in wilson(0, 12)]
    [0.0, 0.242]
    >>> [round(x, 3) for x in wilson(12, 12)]
    [0.758, 1.0]
    """
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, round(centre - half, 12)), min(1.0, round(centre + half, 12))


def percentile_interval(draws: Sequence[float]) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of bootstrap draws.

    >>> percentile_interval([float(x) for x in range(1000)])
    (25.0, 975.0)
    """
    ordered = sorted(draws)
    n = len(ordered)
    return ordered[int(0.025 * n)], ordered[min(n - 1, int(0.975 * n))]


def bootstrap_p(draws: Sequence[float]) -> float:
    """Two-sided p that the drawn difference is zero: twice the smaller tail at 0.

    >>> bootstrap_p([1.0, 2.0, 3.0, -1.0])
    0.5
    """
    below, above = sum(1 for x in draws if x <= 0), sum(1 for x in draws if x >= 0)
    return min(1.0, 2 * min(below, above) / len(draws))


def paired_bootstrap(
    a: Sequence[Sequence[float]], b: Sequence[Sequence[float]], resamples: int = 10_000, seed: int = 0
) -> tuple[list[float], float, float]:
    """Bootstrap over problems of mean(b) - mean(a), resampling each problem's samples too when k > 1.

    `a[i]` and `b[i]` are the 0/1 scores of problem i's samples on each side. When both sides have the same
    number of samples, sample j of a is paired with sample j of b (same seed: common random numbers) and the
    pairs are resampled together; otherwise each side's samples are resampled on their own.
    Returns (bootstrap differences, observed difference, two-sided p).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    n = len(a)
    ka = np.array([len(s) for s in a])
    kb = np.array([len(s) for s in b])
    ma = np.array([sum(s) / len(s) for s in a])
    mb = np.array([sum(s) / len(s) for s in b])
    observed = float(mb.mean() - ma.mean())
    same_k = bool((ka == kb).all())
    if same_k:  # pairs: only the discordant ones move the difference
        up = np.array([sum(1 for x, y in zip(sa, sb, strict=True) if y > x) for sa, sb in zip(a, b, strict=True)])
        down = np.array([sum(1 for x, y in zip(sa, sb, strict=True) if x > y) for sa, sb in zip(a, b, strict=True)])
    out = []
    chunk = max(1, 2_000_000 // max(1, n))
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        idx = rng.integers(0, n, size=(size, n))
        if same_k and ka.max() > 1:
            k = ka[idx]
            p_up, p_down = up[idx] / k, down[idx] / k
            ups = rng.binomial(k, p_up)
            downs = rng.binomial(k - ups, np.where(p_up < 1, p_down / np.maximum(1e-12, 1 - p_up), 0.0))
            diffs = ((ups - downs) / k).mean(axis=1)
        elif same_k:
            diffs = (mb - ma)[idx].mean(axis=1)
        else:
            diffs = (rng.binomial(kb[idx], mb[idx]) / kb[idx] - rng.binomial(ka[idx], ma[idx]) / ka[idx]).mean(axis=1)
        out.extend(diffs.tolist())
    return out, observed, bootstrap_p(out)


def unpaired_normal(a: float, se_a: float, b: float, se_b: float) -> tuple[float, float, float]:
    """b - a with a normal 95% interval from the two standard errors, and its two-sided p.

    >>> [round(x, 3) for x in unpaired_normal(0.5, 0.05, 0.5, 0.05)]
    [-0.139, 0.139, 1.0]
    """
    se = math.sqrt(se_a**2 + se_b**2)
    diff = b - a
    if se == 0:
        return diff, diff, 1.0 if diff == 0 else 0.0
    p = math.erfc(abs(diff) / se / math.sqrt(2))
    return diff - Z95 * se, diff + Z95 * se, p


def bootstrap_interval(
    scores: Sequence[Sequence[float]], resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """95% interval of a mean accuracy: problems resampled, and each problem's samples (binomially) when k > 1."""
    import numpy as np

    rng = np.random.default_rng(seed)
    k = np.array([len(s) for s in scores])
    means = np.array([sum(s) / len(s) for s in scores])
    idx = rng.integers(0, len(means), size=(resamples, len(means)))
    draws = rng.binomial(k[idx], means[idx]) / k[idx] if k.max() > 1 else means[idx]
    low, high = percentile_interval(draws.mean(axis=1).tolist())
    return float(low), float(high)
