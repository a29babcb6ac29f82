"""Assemble the report: quoted rows, measured rows, costs; write tables and figures."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from openrs_cli.atomic import clean_temporaries, ensure_writable, write_text
from openrs_cli.errors import BadInputError
from openrs_cli.report import table
from openrs_cli.report.collect import group_runs, scan
from openrs_cli.report.rows import TableRow, quoted_rows


def parse_gpu_hours(items: list[str]) -> dict[str, float]:
    hours = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        try:
            hours[name] = float(value)
            if not math.isfinite(hours[name]) or hours[name] < 0:
                raise ValueError
        except ValueError:
            name = ""
        if not sep or not name:
            raise BadInputError(
                f"--gpu-hours expects NAME=HOURS (hours a non-negative number), got '{item}'",
                "e.g. --gpu-hours Exp3_50=96",
            )
    return hours


def parse_names(items: list[str]) -> dict[Path, str]:
    """`--name PATH=LABEL` items: measured rows read from under PATH are labelled LABEL."""
    names = {}
    for item in items:
        path, sep, label = item.rpartition("=")
        if not sep or not path or not label.strip():
            raise BadInputError(f"--name expects PATH=LABEL, got '{item}'", "e.g. --name outputs/eval/exp3=Open-RS3")
        names[Path(path).expanduser().resolve()] = label.strip()
    return names


def apply_names(rows: list[TableRow], names: dict[Path, str]) -> None:
    for row in rows:
        files = [Path(f).resolve() for f in row.files.values()]
        for path, label in names.items():
            if files and all(f == path or path in f.parents for f in files):
                row.name = label


def collect_rows(results: list[Path], include_quoted: bool, warn: Callable[[str], None]) -> tuple[list[TableRow], str]:
    quoted, footnote = quoted_rows()
    rows = list(quoted) if include_quoted else []
    if results:
        measurements = scan(results, warn)
        if not measurements:
            where = ", ".join(str(r) for r in results)
            raise BadInputError(
                f"no lighteval result files or openrs summaries under {where}",
                "point --results at folders holding results_*.json or summary.json",
            )
        rows += group_runs(measurements, warn)
    return rows, footnote


def apply_costs(rows: list[TableRow], hours: dict[str, float], price: float | None) -> None:
    if price is None or not math.isfinite(price) or price < 0:
        raise BadInputError(
            "--costs needs --price-per-gpu-hour (a non-negative number)", "e.g. --price-per-gpu-hour 2.5"
        )
    unknown = set(hours) - {r.name for r in rows}
    if unknown:
        raise BadInputError(f"--gpu-hours names no row: {', '.join(sorted(unknown))}", "use a name from the table")
    for row in rows:
        if row.name in hours:
            row.cost = hours[row.name] * price


def write_outputs(
    rows: list[TableRow], footnote: str, out_dir: Path, costs: bool, figures: bool, train_dir: Path | None
) -> list[Path]:
    """Every table and figure; all inputs are read and checked, and the folder found writable, first."""
    from openrs_cli.report import figures as fig

    history = fig.training_history(train_dir) if train_dir is not None else None
    ensure_writable(out_dir, "--output-dir")
    clean_temporaries(out_dir)
    written = [
        write_text(out_dir / name, table.render(fmt, rows, footnote, costs)) for fmt, name in table.FORMATS.items()
    ]
    if figures:
        written += fig.average_bars(rows, out_dir)
        written += fig.benchmark_bars(rows, out_dir)
        written += fig.checkpoint_curves(rows, out_dir)
    if history is not None:
        written += fig.training_curves(history, train_dir.name, out_dir)
    return written
