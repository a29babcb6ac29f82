"""Time `openrs --help` against `lighteval --help` and `trl --help`, in one run, and print the ratios.

    python bench/cli_startup.py [--runs 7]

Each command runs `--runs` times after one warm-up; the median wall time is reported.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def median_seconds(argv: list[str], runs: int) -> float:
    subprocess.run(argv, capture_output=True, check=False)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    commands = {
        "openrs": ["openrs", "--help"],
        "lighteval": ["lighteval", "--help"],
        "trl": ["trl", "--help"],
    }
    results = {}
    for name, argv in commands.items():
        if shutil.which(argv[0]) is None:
            print(f"{name:10s} not installed, skipped")
            continue
        results[name] = median_seconds(argv, args.runs)
        print(f"{name:10s} --help  median {results[name]:.3f} s over {args.runs} runs")
    if "openrs" not in results:
        sys.exit("openrs is not installed: pip install -e .")
    for name in ("lighteval", "trl"):
        if name in results:
            print(f"ratio {name}/openrs: {results[name] / results['openrs']:.1f}x")


if __name__ == "__main__":
    main()
