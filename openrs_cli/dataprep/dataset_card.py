"""The dataset card (README.md) and the summary table: rows in, removed per filter, rows out."""

from __future__ import annotations

from openrs_cli.dataprep.mix import RECIPES


def count_rows(opts, report) -> list[list[str]]:
    rows = []
    for source in opts.sources:
        removed = [str(report.removed[f][source]) for f in report.removed]
        out = sum(n for (s, _), n in report.rows_out.items() if s == source)
        rows.append([source, str(report.rows_in[source]), *removed, str(out)])
    return rows


def dataset_card(opts, report) -> str:
    head = ["source", "rows in", *report.removed.keys(), "rows out (train)"]
    lines = [
        "---",
        "task_categories:",
        "- text-generation",
        "tags:",
        "- math",
        "- openrs",
        "- grpo",
        "---",
        "",
        f"# {opts.output.name}",
        "",
        f"Built by `openrs data prepare --recipe {opts.recipe}`: {RECIPES[opts.recipe][0]}.",
        "",
        "## Sources",
        "",
    ]
    lines += [f"- `{name}`: {where}" for name, where in opts.sources.items()]
    lines += ["", "## Counts", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in count_rows(opts, report)]
    lines += ["", "| source | level | train rows |", "|---|---|---|"]
    lines += [f"| {s} | {lvl} | {n} |" for (s, lvl), n in sorted(report.rows_out.items())]
    lines += [
        "",
        f"Test split: {report.test_rows} rows. Seed {opts.seed}, scale {opts.scale}.",
        "",
        "## Filters",
        "",
        f"- problems empty or over {opts.max_chars} characters"
        + (f" or {opts.max_tokens} tokens ({opts.tokenizer})" if opts.tokenizer else ""),
        "- gold answer that math-verify cannot parse",
        "- multi-part questions",
        "- exact and near duplicates (normalised text)",
    ]
    if opts.decontaminate:
        bench = opts.bench_dir or "the Hub"
        lines.append(
            f"- decontamination: {opts.ngram}-gram overlap (at least {opts.min_overlap:.0%} of a problem's "
            f"{opts.ngram}-grams) with AIME24, MATH-500, AMC23, Minerva and OlympiadBench (from {bench}); "
            f"{len(report.matches)} problems removed"
        )
        hits = {}
        for _, _, names in report.matches:
            for name in names:
                hits[name] = hits.get(name, 0) + 1
        lines += [f"  - {name}: {n}" for name, n in sorted(hits.items())]
    return "\n".join(lines) + "\n"
