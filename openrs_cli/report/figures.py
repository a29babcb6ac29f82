"""The report's figures (matplotlib, Agg, PNG and SVG): averages, per-benchmark bars, checkpoint
curves with 95% intervals, and training curves from a trainer_state.json."""

from __future__ import annotations

import json
from pathlib import Path

from openrs_cli.atomic import write_bytes_via
from openrs_cli.checkpoints import list_checkpoints
from openrs_cli.checks import is_number, is_whole
from openrs_cli.errors import BadInputError
from openrs_cli.report.rows import PAPER_TASKS, TASK_LABELS, TableRow
from openrs_cli.stats import Z95, wilson

QUOTED, MEASURED, HIGHLIGHT = "#8da0cb", "#fc8d62", "#1b9e77"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _save(fig, out_dir: Path, stem: str) -> list[Path]:
    paths = []
    for ext in ("png", "svg"):
        target = out_dir / f"{stem}.{ext}"
        paths.append(
            write_bytes_via(target, lambda tmp, e=ext: fig.savefig(tmp, format=e, dpi=150, bbox_inches="tight"))
        )
    return paths


def average_bars(rows: list[TableRow], out_dir: Path) -> list[Path]:
    plt = _plt()
    shown = [r for r in rows if r.average() is not None]
    if not shown:
        return []
    fig, ax = plt.subplots(figsize=(8, 0.38 * len(shown) + 1.2))
    names = [r.name + (" (measured)" if r.source == "measured" else "") for r in shown]
    values = [r.average() for r in shown]
    colors = [MEASURED if r.source == "measured" else (HIGHLIGHT if r.group == "Open-RS" else QUOTED) for r in shown]
    bars = ax.barh(range(len(shown)), values, color=colors, edgecolor="black", linewidth=0.4)
    for bar, row in zip(bars, shown, strict=True):
        if row.source == "measured":
            bar.set_hatch("//")
    ax.bar_label(bars, fmt="%.1f", padding=3, fontsize=8)
    ax.set_yticks(range(len(shown)), names)
    ax.invert_yaxis()
    ax.set_xlabel("average over AIME24, MATH-500, AMC23, Minerva, OlympiadBench (%)")
    ax.set_xlim(0, max(values) * 1.12)
    ax.set_title("Average score per model")
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=c, ec="black", lw=0.4, hatch=h)
        for c, h in [(QUOTED, ""), (HIGHLIGHT, ""), (MEASURED, "//")]
    ]
    ax.legend(  # beside the axes, as the per-benchmark figure's: never on the axis label
        handles,
        ["quoted", "Open-RS (quoted)", "measured"],
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        fontsize=8,
        frameon=False,
    )
    paths = _save(fig, out_dir, "average")
    plt.close(fig)
    return paths


def benchmark_bars(rows: list[TableRow], out_dir: Path) -> list[Path]:
    plt = _plt()
    quoted = [r for r in rows if r.source == "quoted" and r.group in ("1.5-1.7B", "Open-RS", "Reproduction")]
    sweeps = {r.series for r in rows if r.series} if sum(1 for r in rows if r.series) > 1 else set()
    # checkpoint sweeps have their own figure: here only complete measured rows, or ones outside a sweep
    measured = [r for r in rows if r.source == "measured" and (r.average() is not None or r.series not in sweeps)]
    extra = sorted({t for r in measured for t in r.scores} - set(PAPER_TASKS))
    measured_paper = [t for t in PAPER_TASKS if any(t in r.scores for r in measured)]
    if extra and not measured_paper:
        quoted, tasks = [], extra  # measured on other tasks only (e.g. the demo): no empty paper columns
    else:
        tasks = (measured_paper or list(PAPER_TASKS)) + extra
    shown = [r for r in quoted + measured[:6] if any(r.percent(t) is not None for t in tasks)]
    if not shown:
        return []
    fig, ax = plt.subplots(figsize=(max(6, 2.2 * len(tasks)) if not quoted else 11, 4.8))
    width = 0.8 / max(1, len(shown))
    cmap = plt.get_cmap("tab20")
    for i, row in enumerate(shown):
        xs = [j + (i - (len(shown) - 1) / 2) * width for j in range(len(tasks))]
        ys = [row.percent(t) or 0 for t in tasks]
        bars = ax.bar(
            xs,
            ys,
            width,
            color=cmap(i % 20),
            edgecolor="black",
            linewidth=0.3,
            label=row.name + (" (measured)" if row.source == "measured" else ""),
        )
        if not quoted and row.source != "measured":
            ax.bar_label(
                bars,
                labels=[f"{row.percent(t):.1f}" if row.percent(t) is not None else "" for t in tasks],
                padding=2,
                fontsize=8,
            )
        for bar, task in zip(bars, tasks, strict=True):
            if row.percent(task) is None:
                bar.set_alpha(0)
            if row.source == "measured":
                bar.set_hatch("//")
        if row.source == "measured":  # 95% intervals: Wilson for one sample per problem, else from the stderr
            low, high = zip(*[interval(row, t) for t in tasks], strict=True)
            below = [y - lo for y, lo in zip(ys, low, strict=True)]
            above = [hi - y for y, hi in zip(ys, high, strict=True)]
            ax.errorbar(xs, ys, yerr=[below, above], fmt="none", ecolor="black", elinewidth=0.8, capsize=3)
            if not quoted:  # the value above its error bar, never on it
                for x, top, task in zip(xs, high, tasks, strict=True):
                    if row.percent(task) is not None:
                        ax.text(
                            x, min(top, 100) + 1.5, f"{row.percent(task):.1f}", ha="center", va="bottom", fontsize=8
                        )
            zero = [x for x, y, t in zip(xs, ys, tasks, strict=True) if y == 0 and row.percent(t) is not None]
            ax.plot(zero, [0.6] * len(zero), marker="_", markersize=14, color=cmap(i % 20), linestyle="none")
    ax.set_xticks(range(len(tasks)), [TASK_LABELS.get(t, t) for t in tasks])
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 105)  # room for a label above a bar's interval
    ax.set_title("Per-benchmark comparison (small models)" if quoted else "Per-task comparison (measured)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    paths = _save(fig, out_dir, "benchmarks")
    plt.close(fig)
    return paths


def interval(row: TableRow, task: str) -> tuple[float, float]:
    """A measured row's 95% interval for one task, in percent (0-100)."""
    value = row.percent(task)
    if value is None:
        return 0.0, 0.0
    problems = row.problems.get(task)
    if row.samples.get(task, 1) == 1 and problems:
        low, high = wilson(round(row.scores[task] * problems), problems)
        return 100 * low, 100 * high
    err = Z95 * row.stderr.get(task, 0.0) * 100
    return max(0.0, value - err), min(100.0, value + err)


def checkpoint_curves(rows: list[TableRow], out_dir: Path) -> list[Path]:
    plt = _plt()
    series: dict[str, list[TableRow]] = {}
    for row in rows:
        if row.source == "measured" and row.series and row.step is not None:
            series.setdefault(row.series, []).append(row)
    series = {k: sorted(v, key=lambda r: r.step) for k, v in series.items() if len(v) > 1}
    if not series:
        return []
    tasks = [t for t in PAPER_TASKS if any(t in r.scores for rs in series.values() for r in rs)]
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
    cmap = plt.get_cmap("Dark2")
    for ax, task in zip(axes[0], tasks, strict=True):
        span = max(r.step for rs in series.values() for r in rs) or 1
        for i, (name, runs) in enumerate(sorted(series.items())):
            pts = [r for r in runs if task in r.scores]
            dodge = (i - (len(series) - 1) / 2) * span * 0.012  # keep overlapping error bars apart
            xs = [r.step + dodge for r in pts]
            ys = [r.scores[task] * 100 for r in pts]
            err = [Z95 * r.stderr[task] * 100 if task in r.stderr else 0 for r in pts]
            ax.errorbar(xs, ys, yerr=err, marker="o", ms=4, capsize=3, lw=1.4, color=cmap(i), label=name)
        ax.set_title(TASK_LABELS[task])
        ax.set_xlabel("training step")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Accuracy against training step (error bars: 95% interval)", y=1.02)
    paths = _save(fig, out_dir, "checkpoints")
    plt.close(fig)
    return paths


TRAIN_KEYS = [
    ("reward", "reward"),
    ("completions/mean_length", "completion length (tokens)"),
    ("kl", "KL to reference"),
    ("loss", "loss"),
]


def training_history(train_dir: Path) -> list[dict]:
    """The TRL log history of a training output (its final state, else its last checkpoint's)."""
    if not train_dir.is_dir():
        raise BadInputError(f"--train-dir {train_dir} is not a folder", "point it at a training output folder")
    states = [folder / "trainer_state.json" for _, folder in list_checkpoints(train_dir, complete=True)]
    path = train_dir / "trainer_state.json"
    if not path.is_file():
        if not states:
            raise BadInputError(
                f"no trainer_state.json in {train_dir}", "point --train-dir at a training output folder"
            )
        path = states[-1]
    try:
        history = json.loads(path.read_text())["log_history"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInputError(f"cannot read {path}: {type(exc).__name__}", "is it a TRL trainer_state.json?") from exc
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise BadInputError(f"{path} has no list of log entries", "is it a TRL trainer_state.json?")
    for number, entry in enumerate(history, 1):
        wrong = [k for k, v in entry.items() if _read(k) and not is_number(v, finite=False)]  # a NaN loss is drawn
        if wrong or ("step" in entry and not is_whole(entry["step"])):
            key = wrong[0] if wrong else "step"
            raise BadInputError(
                f"{path} log entry {number}: '{key}' is {entry[key]!r}, not a number", "is it a TRL trainer_state.json?"
            )
    return history


def _read(key: str) -> bool:
    """Whether openrs reads this log key (the curves, the cost's step time): it must hold a number."""
    drawn = {k for k, _ in TRAIN_KEYS} | {"step", "step_time"}
    return key in drawn or (key.startswith("rewards/") and key.endswith("/mean"))


def reward_keys(history: list[dict]) -> list[tuple[str, str]]:
    """Each reward function's mean per step, as TRL logs it (`rewards/<name>/mean`)."""
    names = sorted({k for h in history for k in h if k.startswith("rewards/") and k.endswith("/mean")})
    return [(k, f"reward: {k.split('/')[1]}") for k in names]


def training_curves(history: list[dict], name: str, out_dir: Path) -> list[Path]:
    plt = _plt()
    keys = TRAIN_KEYS[:1] + reward_keys(history) + TRAIN_KEYS[1:]
    from matplotlib.ticker import MaxNLocator

    cols = min(3, len(keys))  # a grid that reads at a glance, not one row of 7 panels
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.3 * rows), squeeze=False)
    for ax in axes.flat[len(keys) :]:
        ax.set_visible(False)
    for ax, (key, label) in zip(axes.flat, keys, strict=False):
        pts = [(h["step"], h[key]) for h in history if key in h and "step" in h]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="." if len(pts) < 30 else None, color=HIGHLIGHT)
        else:
            ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(label)
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.suptitle(f"Training curves: {name}", y=1.03)
    fig.tight_layout()
    paths = _save(fig, out_dir, "training")
    plt.close(fig)
    return paths
