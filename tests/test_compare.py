"""`openrs compare`: paired tests on openrs's own outputs, unpaired on the seeds' lighteval results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import assert_error, invoke
from tests.fake_openai import FakeOpenAI


def write_details(folder, task, per_problem):
    """An openrs eval folder with per-sample details: per_problem[i] = the 0/1 scores of problem i's samples."""
    rows = [
        {"index": i, "sample": j, "question": f"problem {i} of {task}", "correct": float(score)}
        for i, scores in enumerate(per_problem)
        for j, score in enumerate(scores)
    ]
    path = folder / "details" / "m" / "2026-01-01T00-00-00.000000" / f"details_{task}_2026-01-01T00-00-00.000000.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "summary.json").write_text(json.dumps({"name": folder.name, "tasks": {}}))
    return folder


def rows_of(capsys, *args):
    code, out, err = invoke(capsys, "compare", *args, "--format", "json")
    assert code == 0, err
    return {r["task"]: r for r in json.loads(out)}


def test_a_against_itself_is_zero_with_p_one(capsys, data_dir, tmp_path):
    with FakeOpenAI() as server:
        args = ["eval", "--model", "fake/model", "--base-url", server.url, "--tasks", "aime24,amc23", "--samples", "4"]
        code, _, err = invoke(capsys, *args, "--data-dir", str(data_dir / "bench"), "--output-dir", str(tmp_path / "a"))
        assert code == 0, err
    rows = rows_of(capsys, str(tmp_path / "a"), str(tmp_path / "a"))
    assert set(rows) == {"aime24", "amc23", "average"}
    for row in rows.values():
        assert row["difference"] == 0 and row["p_value"] == 1.0 and row["paired"] is True
        assert {"task", "a", "b", "difference", "ci95_low", "ci95_high", "p_value", "paired", "n_problems"} <= set(row)
    assert rows["aime24"]["n_problems"] == 8 and rows["aime24"]["flips_up"] == 0


def test_a_planted_difference_is_found_paired_and_flips_are_counted(capsys, tmp_path):
    a = write_details(tmp_path / "a", "aime24", [[0, 0, 0, 0]] * 60)
    b = write_details(tmp_path / "b", "aime24", [[1, 1, 1, 0]] * 30 + [[0, 0, 0, 0]] * 30)
    row = rows_of(capsys, str(a), str(b))["aime24"]
    assert row["difference"] == pytest.approx(37.5) and row["paired"]
    assert row["p_value"] < 0.001 and row["ci95_low"] > 20 and row["flips_up"] == 30 and row["flips_down"] == 0
    # the same small difference on few problems is not distinguishable from noise
    a = write_details(tmp_path / "a2", "aime24", [[0]] * 30)
    b = write_details(tmp_path / "b2", "aime24", [[1]] * 2 + [[0]] * 28)
    row = rows_of(capsys, str(a), str(b))["aime24"]
    assert row["p_value"] > 0.05 and row["ci95_low"] <= 0


def test_problems_on_one_side_only_are_left_out_and_reported(capsys, tmp_path):
    a = write_details(tmp_path / "a", "aime24", [[1]] * 10)
    b = write_details(tmp_path / "b", "aime24", [[1]] * 8)
    code, out, _ = invoke(capsys, "compare", str(a), str(b))
    assert code == 0 and "2 problem(s) answered on one side only were left out" in out
    assert rows_of(capsys, str(a), str(b))["aime24"]["n_problems"] == 8


def test_the_seeds_results_files_are_compared_unpaired(capsys, data_dir):
    overall = data_dir / "lighteval-results" / "overall"
    rows = rows_of(capsys, str(overall / "Exp2_50"), str(overall / "Exp3_50"))
    assert rows["aime24"]["paired"] is False and rows["aime24"]["difference"] == pytest.approx(16.67, abs=0.01)
    assert rows["aime24"]["ci95_low"] < 0 < rows["aime24"]["ci95_high"]  # one sample of 30: noise
    code, out, _ = invoke(capsys, "compare", str(overall / "Exp2_50"), str(overall / "Exp3_50"))
    assert "Unpaired" in out


def test_against_a_quoted_row(capsys, data_dir):
    rows = rows_of(capsys, str(data_dir / "lighteval-results" / "overall" / "Exp3_50"), "--against", "open-rs3")
    assert set(rows) == {"aime24", "math_500", "amc23", "minerva", "olympiadbench"}
    assert all(r["inside_a_interval"] for r in rows.values())  # the paper's own numbers


@pytest.mark.parametrize(
    ("content", "needle"),
    [("{not json", "line 1 is not valid JSON"), ('{"x": 1}\n', "neither an openrs nor a lighteval detail")],
)
def test_a_malformed_details_file_is_one_line(capsys, tmp_path, content, needle):
    bad = tmp_path / "bad" / "details" / "m" / "s"
    bad.mkdir(parents=True)
    (bad / "details_aime24_s.jsonl").write_text(content)
    good = write_details(tmp_path / "good", "aime24", [[1]] * 3)
    assert_error(invoke(capsys, "compare", str(good), str(tmp_path / "bad")), 2, needle)


def test_the_tiny_models_own_eval_against_itself(capsys, tiny_model, data_dir, tmp_path):
    out = tmp_path / "tiny"
    args = ["eval", "--model", str(tiny_model), "--backend", "transformers", "--tasks", "aime24", "--limit", "2"]
    args += ["--samples", "2", "--max-new-tokens", "8", "--data-dir", str(data_dir / "bench"), "--output-dir", str(out)]
    code, _, err = invoke(capsys, *args)
    assert code == 0, err
    row = rows_of(capsys, str(out), str(out))["aime24"]
    assert (row["difference"], row["p_value"], row["paired"], row["n_problems"]) == (0, 1.0, True, 2)


def test_an_unreadable_summary_falls_back_to_the_folder_name(capsys, tmp_path):
    a = write_details(tmp_path / "first", "aime24", [[1]] * 5)
    b = write_details(tmp_path / "second", "aime24", [[0]] * 5)
    (a / "summary.json").write_text("{cut in the mid")
    row = rows_of(capsys, str(a), str(b))["aime24"]
    assert (row["a_name"], row["b_name"], row["difference"]) == ("first", "second", -100.0)


def _two_models_in_one_folder(tmp_path):
    """lighteval's layout holds every model under one output folder: details/<model>/<stamp>/..."""
    folder = tmp_path / "shared-out"
    for model, scores in (("org/good", [[1]] * 6), ("org/bad", [[0]] * 6)):
        rows = [
            {"index": i, "sample": 0, "question": f"problem {i}", "answer": f"\\boxed{{{2 - s[0]}}}", "gold": "1",
             "correct": s[0]}
            for i, s in enumerate(scores)
        ]  # fmt: skip
        path = folder / "details" / model / "2026-01-01T00-00-00" / "details_amc23_2026-01-01T00-00-00.jsonl"
        path.parent.mkdir(parents=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_compare_refuses_a_folder_holding_two_models_answers_instead_of_crediting_one_with_the_others(capsys, tmp_path):
    folder = _two_models_in_one_folder(tmp_path)
    result = invoke(capsys, "compare", str(folder), str(folder))
    assert_error(result, 2, "2 models", "org/bad", "org/good")
    rows = rows_of(capsys, str(folder / "details" / "org" / "good"), str(folder / "details" / "org" / "bad"))
    assert rows["amc23"]["difference"] == -100 and rows["amc23"]["paired"]


def test_rescore_writes_each_models_answers_under_that_model(tmp_path):
    from openrs_cli.eval.rescore import rescore

    folder = _two_models_in_one_folder(tmp_path)
    changed = rescore(folder)
    assert len(changed) == 2
    by_model = {}
    for c in changed:
        data = json.loads(Path(c.results_file).read_text())
        (key,) = [k for k in data["results"] if k != "all" and "amc23" in k]
        by_model[data["config_general"]["model_name"]] = data["results"][key]
    assert set(by_model) == {"org/good", "org/bad"}
    assert {m: r[next(iter(r))] for m, r in by_model.items()} == {"org/good": 1.0, "org/bad": 0.0}
    for model in ("org/good", "org/bad"):
        assert list((folder / "results" / model).glob("results_amc23_*.json"))


def test_paired_sides_with_several_samples_show_the_spread_of_single_seed_runs(capsys, tmp_path):
    """Sample j of every problem is seed run j: A's two runs score 100% and 0% (std 70.7 points), B's both 67%."""

    def side(name, correct):  # correct[i][j]: problem i, sample j
        folder = tmp_path / name / "details" / name / "2026-01-01T00-00-00"
        folder.mkdir(parents=True)
        rows = [
            {"index": i, "question": f"q{i}", "gold": "1", "answer": "x", "correct": c, "sample": j}
            for i, samples in enumerate(correct)
            for j, c in (reversed if i % 2 else list)(list(enumerate(samples)))  # file order is not sample order
        ]
        (folder / "details_aime24_2026-01-01T00-00-00.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        return str(tmp_path / name)

    a = side("a", [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    b = side("b", [[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    code, out, err = invoke(capsys, "compare", a, b, "--format", "json")
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["a_seed_std"] == 70.71 and row["b_seed_std"] == 0.0
    code, out, _ = invoke(capsys, "compare", a, b)
    assert "Seed spread (std of single seed runs, points): aime24 A 70.7, B 0.0." in out
