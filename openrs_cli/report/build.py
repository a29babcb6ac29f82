"""Assemble the report: quoted rows, measured rows, costs; write tables and figures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openrs_cli.atomic import write_text
from openrs_cli.errors import BadInputError
from openrs_cli.report import table
from openrs_cli.report.collect import group_runs, scan
from openrs_cli.report.rows import Row, quoted_rows

TABLE_FILES = {"markdown": "table.md", "csv": "table.csv", "json": "table.json", "latex": "table.tex"}


def parse_gpu_hours(items: list[str]) -> dict[str, float]:
    hours = {}
    for item in items:
        name, sep, value = item.rpartition("=")
        try:
            hours[name] = float(value)
        except ValueError:
            name = ""
        if not sep or not name:
            raise BadInputError(f"--gpu-hours expects NAME=HOURS, got '{item}'", "e.g. --gpu-hours Exp3_50=96")
    return hours


def collect_rows(results: list[Path], include_quoted: bool, warn: Callable[[str], None]) -> tuple[list[Row], str]:
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


def apply_costs(rows: list[Row], hours: dict[str, float], price: float | None) -> None:
    if price is None or price < 0:
        raise BadInputError("--costs needs --price-per-gpu-hour (a non-negative number)")
    unknown = set(hours) - {r.name for r in rows}
    if unknown:
        raise BadInputError(f"--gpu-hours names no row: {', '.join(sorted(unknown))}", "use a name from the table")
    for row in rows:
        if row.name in hours:
            row.cost = hours[row.name] * price


def write_outputs(
    rows: list[Row], footnote: str, out_dir: Path, costs: bool, figures: bool, train_dir: Path | None
) -> list[Path]:
    written = [
        write_text(out_dir / name, table.render(fmt, rows, footnote, costs)) for fmt, name in TABLE_FILES.items()
    ]
    if figures:
        from openrs_cli.report import figures as fig

        written += fig.average_bars(rows, out_dir)
        written += fig.benchmark_bars(rows, out_dir)
        written += fig.checkpoint_curves(rows, out_dir)
    if train_dir is not None:
        from openrs_cli.report import figures as fig

        written += fig.training_curves(train_dir, out_dir)
    return written
