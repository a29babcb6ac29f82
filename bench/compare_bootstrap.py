"""The paired bootstrap of `openrs compare` on OlympiadBench's shape (675 problems x 16 samples, 10,000
resamples) against a plain reference: a Python loop over resamples with numpy inside.

    python bench/compare_bootstrap.py [--problems 675] [--samples 16] [--resamples 10000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from openrs_cli.stats import paired_bootstrap


def reference(a: np.ndarray, b: np.ndarray, resamples: int, seed: int) -> list[float]:
    """Resample problems, then each chosen problem's sample pairs, one resample at a time."""
    rng = np.random.default_rng(seed)
    n, k = a.shape
    out = []
    for _ in range(resamples):
        problems = rng.integers(0, n, size=n)
        samples = rng.integers(0, k, size=(n, k))
        out.append(float((b[problems[:, None], samples] - a[problems[:, None], samples]).mean()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=675)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--resamples", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2, size=(args.problems, args.samples))
    b = np.clip(a + (rng.random(a.shape) < 0.05), 0, 1)  # B a little better, paired with A
    start = time.perf_counter()
    ours, observed, p = paired_bootstrap(a.tolist(), b.tolist(), args.resamples, 0)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    ref = reference(a, b, args.resamples, 0)
    ref_s = time.perf_counter() - start
    q = lambda xs: np.percentile(xs, [2.5, 97.5]) * 100  # noqa: E731
    print(f"{args.problems} problems x {args.samples} samples, {args.resamples} resamples")
    print(f"openrs paired_bootstrap: {ours_s:.2f} s; 95% CI {q(ours)[0]:+.2f} to {q(ours)[1]:+.2f} pts, p={p:.3g}")
    print(f"reference loop:          {ref_s:.2f} s; 95% CI {q(ref)[0]:+.2f} to {q(ref)[1]:+.2f} pts")
    print(f"ratio reference/openrs: {ref_s / ours_s:.1f}x faster; observed difference {observed * 100:+.2f} pts")


if __name__ == "__main__":
    main()
