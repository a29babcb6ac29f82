"""`openrs data prepare` and `openrs data filter` on the training fixtures, decontaminated against the benchmarks
(and, marked full_data, on the full training and benchmark files)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from tests.cli_helpers import assert_error, invoke, run_openrs, smoke_train_args


@pytest.fixture(scope="module")
def train_files(data_dir):
    return data_dir / "train"


def prepare(capsys, out, *args):
    code, stdout, err = invoke(capsys, "data", "prepare", "--output", str(out), "--json", *args)
    assert code == 0, err
    return json.loads(stdout), err


def open_rs_args(train_files, data_dir, seed="42"):
    return [
        "--recipe",
        "open-rs",
        "--source",
        f"s1={train_files / 'aime_1983_2023.jsonl'}",
        "--source",
        f"deepscaler={train_files / 'math_train.jsonl'}",
        "--level",
        "s1=hard",
        "--scale",
        "0.01",
        "--bench-dir",
        str(data_dir / "bench"),
        "--seed",
        seed,
    ]


@pytest.fixture(scope="module")
def open_rs(train_files, data_dir, tmp_path_factory):
    from openrs_cli.cli.app import main

    out = tmp_path_factory.mktemp("data") / "open-rs-mini"
    with pytest.raises(SystemExit) as info:
        main(["data", "prepare", "--output", str(out), *open_rs_args(train_files, data_dir)])
    assert info.value.code == 0
    return out


def test_open_rs_mix_has_the_recipes_shape_scaled_down(open_rs, data_dir):
    rows = pq.read_table(open_rs / "train.parquet").to_pylist()
    assert set(rows[0]) >= {"problem", "solution", "answer", "source", "level"}
    counts = {}
    for row in rows:
        counts[(row["source"], row["level"])] = counts.get((row["source"], row["level"]), 0) + 1
    assert counts == {("s1", "Hard"): 30, ("deepscaler", "Easy"): 10, ("deepscaler", "Hard"): 30}
    assert all(row["answer"] for row in rows)
    card = (open_rs / "README.md").read_text()
    s1_rows = len((data_dir / "train" / "aime_1983_2023.jsonl").read_text().splitlines())
    assert f"| s1 | {s1_rows} |" in card and "decontamination" in card
    assert "recipe: open-rs" in (open_rs / "openrs_data.yaml").read_text()


def test_mix_is_reproducible_with_its_seed(capsys, open_rs, train_files, data_dir, tmp_path):
    prepare(capsys, tmp_path / "again", *open_rs_args(train_files, data_dir))
    prepare(capsys, tmp_path / "other", *open_rs_args(train_files, data_dir, seed="7"))
    same = pq.read_table(tmp_path / "again" / "train.parquet").to_pylist()
    assert same == pq.read_table(open_rs / "train.parquet").to_pylist()
    assert pq.read_table(tmp_path / "other" / "train.parquet").to_pylist() != same


def test_decontamination_removes_and_names_benchmark_problems(capsys, train_files, data_dir, tmp_path):
    report, err = prepare(
        capsys,
        tmp_path / "o",
        "--source",
        f"aime={train_files / 'aime_1983_2023.jsonl'}",
        "--bench-dir",
        str(data_dir / "bench"),
    )
    matched = report["contaminated"]
    # the fixture keeps the eight AIME 1983-2023 rows that repeat MATH-500 problems, and their partners
    assert sum("math_500" in m["benchmarks"] for m in matched) == 8
    assert all(m["source"] == "aime" for m in matched)
    bench = {json.loads(x)["problem"] for x in (data_dir / "bench/math500.jsonl").open()}
    train = {json.loads(x)["problem"] for x in (train_files / "aime_1983_2023.jsonl").open()}
    kept = {r["problem"] for r in pq.read_table(tmp_path / "o" / "train.parquet").to_pylist()}
    assert not (kept & bench)  # nothing verbatim from MATH-500 survives
    assert len(kept) == len(train) - sum(sum(c.values()) for c in report["removed"].values())
    assert "matching math_500" in err
    assert report["removed"]["multi-part"]["aime"] >= 1


def test_decontamination_against_all_1517_benchmark_problems(capsys, full_data, tmp_path):
    """The full files: the data README's six AIME/MATH-500 repeats are found (eight matches in all)."""
    report, _ = prepare(
        capsys,
        tmp_path / "o",
        "--source",
        f"aime={full_data.path('data/train/aime_1983_2023.jsonl')}",
        "--bench-dir",
        str(full_data.path("data/bench")),
    )
    matched = report["contaminated"]
    assert sum("math_500" in m["benchmarks"] for m in matched) == 8
    assert report["rows_in"]["aime"] == 975


def test_full_size_open_rs_prepare(capsys, full_data, tmp_path):
    train = full_data.path("data/train")
    report, _ = prepare(
        capsys,
        tmp_path / "o",
        "--recipe",
        "open-rs",
        "--source",
        f"s1={train / 'aime_1983_2023.jsonl'}",
        "--source",
        f"deepscaler={train / 'math_train.jsonl'}",
        "--level",
        "s1=hard",
        "--scale",
        "0.1",
        "--bench-dir",
        str(full_data.path("data/bench")),
    )
    assert report["rows_out"] == {"deepscaler/Easy": 100, "deepscaler/Hard": 300, "s1/Hard": 300}
    assert sum(report["removed"]["contaminated"].values()) >= 8 + 40  # AIME and MATH-train repeats of MATH-500


def test_custom_mix_of_the_three_shared_sources(capsys, train_files, tmp_path):
    report, _ = prepare(
        capsys,
        tmp_path / "o",
        "--no-decontaminate",
        "--test-size",
        "5",
        "--seed",
        "3",
        "--source",
        f"dsr={train_files / 'deepscaler_sub1209.jsonl'}",
        "--source",
        f"aime={train_files / 'aime_1983_2023.jsonl'}",
        "--source",
        f"math={train_files / 'math_train.jsonl'}",
        "--level",
        "dsr=easy",
        "--mix",
        "dsr:easy=20",
        "--mix",
        "aime:hard=15",
        "--mix",
        "math:hard=10",
    )
    assert set(report["rows_out"]) <= {"dsr/Easy", "aime/Hard", "math/Hard"}
    assert sum(report["rows_out"].values()) + report["test_rows"] == 45 and report["test_rows"] == 5
    assert pq.read_table(tmp_path / "o" / "test.parquet").num_rows == 5
    removed = report["removed"]
    assert removed["exact duplicate"].get("math", 0) + removed["near duplicate"].get("math", 0) > 0


def test_training_runs_on_a_prepared_dataset(open_rs, tiny_model, tmp_path):
    result = run_openrs(
        *smoke_train_args(tiny_model, tmp_path / "run", "max_steps=2", "max_completion_length=16", dataset=open_rs)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "run" / "checkpoint-2" / "trainer_state.json").is_file()


def test_difficulty_filter_writes_pass_rates(capsys, open_rs, tiny_model, tmp_path):
    out = tmp_path / "filtered"
    code, stdout, err = invoke(
        capsys,
        "data",
        "filter",
        "--dataset",
        str(open_rs),
        "--model",
        str(tiny_model),
        "--samples",
        "2",
        "--max-new-tokens",
        "8",
        "--limit",
        "4",
        "--output",
        str(out),
        "--json",
    )
    assert code == 0, err
    result = json.loads(stdout)
    table = pq.read_table(out / "train.parquet").to_pylist()
    total = pq.read_table(open_rs / "train.parquet").num_rows
    # --limit scores the first 4 and keeps every other row, unscored: it never drops data
    assert result["problems"] == 4 and len(table) == total > 4 and result["not_scored"] == total - 4
    assert all(r["pass_rate"] is not None and 0 <= r["pass_rate"] <= 1 for r in table[:4])
    assert all(r["pass_rate"] is None for r in table[4:])
    assert len((out / "filter_cache.jsonl").read_text().splitlines()) == 8
    # a random model solves nothing: --keep-range 0.5-1 keeps nothing, --drop-solved keeps everything
    code, stdout, _ = invoke(
        capsys,
        "data",
        "filter",
        "--dataset",
        str(open_rs),
        "--model",
        str(tiny_model),
        "--samples",
        "2",
        "--max-new-tokens",
        "8",
        "--limit",
        "4",
        "--output",
        str(out),
        "--keep-range",
        "0.5-1",
        "--json",
    )
    assert json.loads(stdout)["kept"] == 0  # answers came from the cache: nothing regenerated
    assert len((out / "filter_cache.jsonl").read_text().splitlines()) == 8


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--source", "s1=/nonexistent/file.jsonl"], "does not exist"),
        (["--source", "bad"], "NAME=PATH_OR_HUB_ID"),
        (["--recipe", "open-everything", "--source", "a=x"], "unknown data recipe"),
        (["--source", "q=QFILE"], "no problem field"),
        (
            [
                "--recipe",
                "open-rs",
                "--source",
                "s1=AIME",
                "--source",
                "deepscaler=DSR",
                "--level",
                "s1=hard",
                "--no-decontaminate",
            ],
            "the mix asks for 3000 Hard rows of s1",
        ),
        (
            [
                "--recipe",
                "open-rs",
                "--source",
                "s1=AIME",
                "--no-decontaminate",
                "--level",
                "s1=hard",
                "--scale",
                "0.001",
            ],
            "needs a source named 'deepscaler'",
        ),
        (["--source", "a=AIME", "--level", "a=tricky"], "SOURCE=easy|hard"),
        ([], "no sources given"),
    ],
)
def test_bad_data_input(capsys, train_files, tmp_path, args, needle):
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"text": "1+1?", "answer": "2"}\n')
    args = [
        a.replace("QFILE", str(qfile))
        .replace("AIME", str(train_files / "aime_1983_2023.jsonl"))
        .replace("DSR", str(train_files / "deepscaler_sub1209.jsonl"))
        for a in args
    ]
    assert_error(invoke(capsys, "data", "prepare", "--output", str(tmp_path / "o"), *args), 2, needle)
    assert not (tmp_path / "o" / "train.parquet").exists()


def test_push_to_hub_uploads_the_prepared_folder(capsys, train_files, tmp_path, monkeypatch):
    from huggingface_hub import HfApi

    calls = []
    monkeypatch.setenv("HF_TOKEN", "hf_" + "q" * 30)
    monkeypatch.setattr(HfApi, "create_repo", lambda self, repo_id, **kw: calls.append(("repo", repo_id, kw)))
    monkeypatch.setattr(HfApi, "upload_folder", lambda self, **kw: calls.append(("upload", kw["repo_id"], kw)))
    out = tmp_path / "o"
    report, _ = prepare(
        capsys,
        out,
        "--source",
        f"aime={train_files / 'aime_1983_2023.jsonl'}",
        "--no-decontaminate",
        "--push-to-hub",
        "me/aime-clean",
    )
    assert [c[0] for c in calls] == ["repo", "upload"]
    assert calls[0][2]["repo_type"] == "dataset" and calls[1][2]["folder_path"] == str(out)
    assert (out / "train.parquet").is_file() and report["output"] == str(out)


def test_a_field_of_the_wrong_type_is_a_counted_drop_not_a_training_row(capsys, tmp_path):
    """A problem that is a list, an answer that is an object: dropped and counted (they became rows such as
    "['a', 'b']"); a numeric answer is kept as text."""
    import pyarrow.parquet as pq

    source = tmp_path / "mixed.jsonl"
    rows = [
        {"problem": ["a", "b"], "answer": "2"},
        {"problem": "What is 1+1?", "answer": 2},
        {"problem": "What is 2+2?", "answer": {"x": 1}},
        {"problem": "What is 3+3?", "answer": "6", "solution": ["not", "text"]},
        {"problem": "What is 4+4?", "answer": "8"},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    code, text, err = invoke(capsys, "data", "prepare", "--output", str(out), "--source", f"s={source}",
                             "--no-decontaminate", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(text)["removed"]["field of the wrong type"] == {"s": 3}
    kept = pq.read_table(out / "train.parquet").to_pylist()
    assert sorted((r["problem"], r["answer"]) for r in kept) == [("What is 1+1?", "2"), ("What is 4+4?", "8")]
