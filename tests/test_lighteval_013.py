"""lighteval 0.13's own output, read as it is: tests/fixtures/lighteval-0.13 is a real run (the tiny model, three
MATH-500 and three AIME 2024 problems, lighteval's accelerate backend; `bench/lighteval_run.py --save` made it).

lighteval 0.13 names details `details_<task>|<fewshot>_<stamp>.parquet` (no suite, unlike the paper's lighteval),
keeps the whole rendered query per row, and writes -1 for a task's unknown document count."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.cli_helpers import invoke

FIXTURE = Path(__file__).parent / "fixtures" / "lighteval-0.13"


def test_details_files_are_read_under_their_tasks():
    from openrs_cli.eval.details import details_files, file_task, newest_by_task

    files = details_files(FIXTURE)
    assert len(files) == 2 and all("|0_" in f.name for f in files)
    assert set(newest_by_task(files)) == {"math_500", "aime24"}
    assert sorted(file_task(f) for f in files) == ["aime24", "math_500"]


def test_compare_pairs_lighteval_013_answers_with_openrs_answers_on_the_same_problems(
    capsys, tiny_model, data_dir, tmp_path
):
    """lighteval keys an answer by its whole query (template included), openrs by the problem: they pair on the
    problem recovered from the query."""
    out = tmp_path / "openrs"
    args = ["eval", "--model", str(tiny_model), "--backend", "transformers", "--tasks", "math_500,aime24"]
    args += ["--limit", "3", "--samples", "1", "--max-new-tokens", "4", "--data-dir", str(data_dir / "bench")]
    code, _, err = invoke(capsys, *args, "--output-dir", str(out))
    assert code == 0, err
    code, text, err = invoke(capsys, "compare", str(FIXTURE), str(out), "--format", "json")
    assert code == 0, err
    rows = {r["task"]: r for r in json.loads(text)}
    for task in ("math_500", "aime24"):
        assert rows[task]["paired"] is True and rows[task]["n_problems"] == 3, rows[task]


def test_rescore_files_lighteval_013_results_under_their_tasks_with_their_gold_types(capsys, tmp_path):
    from openrs_cli.eval.rescore import rescore
    from openrs_cli.eval.tasks import TASKS

    folder = tmp_path / "le"
    shutil.copytree(FIXTURE, folder)
    changed = {c.task: c for c in rescore(folder)}
    assert set(changed) == {"math_500", "aime24"} and all(c.answers == 3 for c in changed.values())
    for task, c in changed.items():
        result = json.loads(Path(c.results_file).read_text())
        (key,) = [k for k in result["results"] if k != "all"]
        assert task in key
    assert TASKS["aime24"].gold_type == "expr" and TASKS["math_500"].gold_type == "latex"


def test_report_reads_lighteval_013_results_with_an_unknown_document_count(capsys, tmp_path):
    code, out, err = invoke(capsys, "report", str(FIXTURE), "--output-dir", str(tmp_path / "r"), "--json")
    assert code == 0, err
    assert (tmp_path / "r" / "benchmarks.png").stat().st_size > 5_000


def test_a_recorded_score_outside_0_to_1_is_skipped_with_a_warning_not_printed_as_measured(capsys, tmp_path):
    source = next((FIXTURE / "results").rglob("results_*.json"))
    data = json.loads(source.read_text())
    for bad in (5.0, -0.3):
        data["results"] = {"openrs_math_500|0": {"extractive_match": bad, "extractive_match_stderr": 0.1}}
        folder = tmp_path / f"r{bad}"
        folder.mkdir()
        (folder / source.name).write_text(json.dumps(data))
        code, out, err = invoke(capsys, "report", str(folder), "--output-dir", str(tmp_path / "out"), "--json")
        assert f"score {bad!r} is not a share between 0 and 1" in err
        measured = [row for row in json.loads(out)["rows"] if row.get("source") == "measured"] if code == 0 else []
        assert not measured
