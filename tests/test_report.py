"""`openrs report` on the paper's own lighteval result files and on junk."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import assert_error, invoke

# DESIGN.md section 2: AIME24 / MATH-500 / AMC23 / Minerva / OlympiadBench, average
PAPER = {
    "Exp1_100": ([30.0, 83.8, 70.0, 29.0, 52.4], 53.0),
    "Exp2_50": ([30.0, 85.4, 80.0, 30.5, 52.4], 55.7),
    "Exp3_50": ([46.7, 84.4, 72.5, 26.8, 51.3], 56.3),
}
TASKS = ["aime24", "math_500", "amc23", "minerva", "olympiadbench"]


@pytest.fixture(scope="module")
def fixtures(data_dir):
    return data_dir / "lighteval-results"


def report_json(capsys, *args):
    code, out, err = invoke(capsys, "report", *args, "--format", "json", "--no-figures")
    assert code == 0, err
    return json.loads(out), err


def test_overall_results_reproduce_the_papers_open_rs_rows(capsys, fixtures, tmp_path):
    rows, err = report_json(
        capsys, "--results", str(fixtures / "overall"), "--no-quoted", "--output-dir", str(tmp_path)
    )
    measured = {r["name"]: r for r in rows if r["source"] == "measured"}
    assert set(measured) == set(PAPER)
    for name, (scores, average) in PAPER.items():
        assert [measured[name]["scores"][t] for t in TASKS] == scores
        assert measured[name]["average"] == average
        assert measured[name]["samples"] == {t: 1 for t in TASKS}


def test_report_alone_writes_the_quoted_table_and_figures(capsys, tmp_path):
    code, out, _ = invoke(capsys, "report", "--output-dir", str(tmp_path))
    assert code == 0
    assert "| Open-RS3 (50 steps) | 46.7 | 84.4 | 72.5 | 26.8 | 51.3 | 56.3 |" in out
    assert "averaged over 16 samples" in out  # the footnote on sample counts
    for name in [
        "table.md",
        "table.csv",
        "table.json",
        "table.tex",
        "average.png",
        "average.svg",
        "benchmarks.png",
        "benchmarks.svg",
    ]:
        assert (tmp_path / name).stat().st_size > 0, name
    rows = json.loads((tmp_path / "table.json").read_text())
    assert all(r["source"] == "quoted" for r in rows) and len(rows) == 18
    o1 = next(r for r in rows if r["name"] == "o1-preview")
    assert o1["average"] is None and set(o1["scores"]) == {"aime24", "math_500"}


def test_every_quoted_row_states_its_protocol_and_measured_rows_theirs(capsys, tmp_path, data_dir):
    """The Protocol column: what each source says of its sampling, so comparable rows can be told apart."""
    code, out, err = invoke(capsys, "report", "--no-figures", "--output-dir", str(tmp_path))
    assert code == 0, err
    rows = {r["name"]: r for r in json.loads((tmp_path / "table.json").read_text())}
    paper = "1 sample, T 0.6, top-p 0.95, 32768 tokens"
    assert rows["Open-RS3 (50 steps)"]["protocol"] == paper  # open-rs README's eval command
    assert rows["Qwen3-1.7B trained (400 steps)"]["protocol"] == paper  # the fork's eval scripts
    assert rows["DeepScaleR-1.5B-Preview"]["protocol"] == "16 samples"  # all the paper says of it
    tina = {n: r for n, r in rows.items() if r["group"] == "Tina (LoRA)"}
    assert len(tina) == 3 and all(r["protocol"] == paper and r["average"] is None for r in tina.values())
    assert tina["Tina-Open-RS2 (best: 51% of an epoch)"]["scores"]["aime24"] == 43.33
    assert "| Protocol |" in out.splitlines()[0] and "| Tina-Open-RS3 (best: 57% of an epoch) |" in out
    assert (tmp_path / "table.csv").read_text().splitlines()[0].endswith(",protocol")
    assert "Protocol" in (tmp_path / "table.tex").read_text()
    code, out, err = invoke(
        capsys,
        "report",
        "--results",
        str(data_dir / "lighteval-results" / "overall"),
        "--no-quoted",
        "--no-figures",
        "--output-dir",
        str(tmp_path / "m"),
    )
    assert code == 0, err
    assert "1 sample, sampling not recorded" in out  # lighteval's results files keep no sampling settings


def sweep(capsys, folder, tmp_path):
    code, _, err = invoke(capsys, "report", str(folder), "--output-dir", str(tmp_path))
    assert code == 0, err
    rows = json.loads((tmp_path / "table.json").read_text())
    series = {}
    for row in rows:
        if row["source"] == "measured":
            series.setdefault(row["series"], []).append(row["step"])
    return rows, series, err


def test_checkpoint_sweeps_give_curves_for_each_experiment(capsys, fixtures, tmp_path):
    rows, series, err = sweep(capsys, fixtures / "evals", tmp_path)
    assert series == {"Exp1": [100, 200], "Exp3": [50, 100]}
    assert all(r["average"] is None for r in rows if r["source"] == "measured")  # three of five tasks only
    assert (tmp_path / "checkpoints.png").stat().st_size > 10_000
    assert "Exp1_100 aime24: evaluated 2 times, using the newest (results_2025-03-15T13-49-09.435323.json)" in err
    exp1_100 = next(r for r in rows if r["name"] == "Exp1_100")
    assert exp1_100["scores"] == {"aime24": 30.0, "math_500": 83.8, "amc23": 70.0}


def test_the_papers_whole_checkpoint_sweeps(capsys, full_data, tmp_path):
    _, series, _ = sweep(capsys, full_data.path("fixtures/lighteval-results/evals"), tmp_path)
    assert sorted(series) == ["Exp1", "Exp2", "Exp3"]
    assert series["Exp1"] == [100, 200, 300, 400, 500]
    assert series["Exp3"] == [50, 100, 150, 200, 250, 300, 350, 400]


def test_rounding_is_half_up_not_truncation():
    from openrs_cli.report.rows import pct

    assert [pct(0.29044), pct(0.8375), pct(0.46666), pct(0.0005)] == [29.0, 83.8, 46.7, 0.1]


def test_training_curves_from_trainer_state(capsys, tmp_path):
    run = tmp_path / "run" / "checkpoint-4"
    run.mkdir(parents=True)
    history = [
        {"step": s, "reward": s / 10, "kl": s / 100, "loss": 0.1, "completions/mean_length": 40 + s}
        | {f"rewards/{name}/mean": s / 20 for name in ("accuracy", "format", "cosine")}
        for s in range(1, 5)
    ]
    (run / "trainer_state.json").write_text(json.dumps({"log_history": history}))
    code, _, err = invoke(capsys, "report", "--train-dir", str(tmp_path / "run"), "--output-dir", str(tmp_path / "o"))
    assert code == 0, err
    assert (tmp_path / "o" / "training.png").stat().st_size > 10_000
    from PIL import Image

    width, height = Image.open(tmp_path / "o" / "training.png").size
    assert width < 1.5 * height  # seven panels in a grid that reads at a glance, not one 4,600-pixel row


def test_formats_and_costs(capsys, fixtures, tmp_path):
    args = ["--results", str(fixtures / "overall"), "--no-figures", "--output-dir", str(tmp_path)]
    code, out, _ = invoke(
        capsys,
        "report",
        *args,
        "--format",
        "csv",
        "--costs",
        "--gpu-hours",
        "Exp3_50=96",
        "--price-per-gpu-hour",
        "0.44",
    )
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("Exp3_50,"))
    assert line.endswith(',56.3,42.24,"1 sample, sampling not recorded"')
    code, out, _ = invoke(capsys, "report", *args, "--format", "latex")
    assert "\\begin{tabular}" in out and "Exp3\\_50 *" in out


def test_junk_in_the_tree_is_skipped_with_warnings(capsys, fixtures, tmp_path):
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(fixtures / "overall" / "Exp3_50", tree / "Exp3_50")
    (tree / "broken.json").write_text('{"results": {')
    (tree / "half").mkdir()
    (tree / "half" / "results_2025-01-01T00-00-00.json").write_text("")
    (tree / "other.json").write_text('{"some": "other tool"}')
    (tree / "list.json").write_text("[1, 2]")
    (tree / "notes.txt").write_text("hello")
    rows, err = report_json(capsys, "--results", str(tree), "--no-quoted", "--output-dir", str(tmp_path / "o"))
    assert [r["name"] for r in rows] == ["OpenRS-GRPO"] or len(rows) == 1
    assert rows[0]["scores"]["aime24"] == 46.7
    assert "broken.json" in err and "not valid JSON" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("setup", "args", "needle"),
    [
        ("empty", [], "no lighteval result files"),
        ("missing", [], "does not exist"),
        ("none", ["--costs"], "--price-per-gpu-hour"),
        ("none", ["--costs", "--price-per-gpu-hour", "1", "--gpu-hours", "nobody=3"], "names no row"),
        ("none", ["--costs", "--price-per-gpu-hour", "1", "--gpu-hours", "x"], "NAME=HOURS"),
        ("none", ["--train-dir", "."], "no trainer_state.json"),
        ("none", ["--format", "yaml"], "yaml"),
    ],
)
def test_bad_report_input(capsys, tmp_path, setup, args, needle):
    extra = []
    if setup == "empty":
        (tmp_path / "empty").mkdir()
        extra = ["--results", str(tmp_path / "empty")]
    elif setup == "missing":
        extra = ["--results", str(tmp_path / "nowhere")]
    result = invoke(capsys, "report", *extra, *args, "--no-figures", "--output-dir", str(tmp_path / "o"))
    assert_error(result, 2, needle)


def test_costs_come_from_the_runs_own_step_times_and_gpus(capsys, tmp_path):
    run = tmp_path / "run"
    for step in (2, 4):
        (run / f"checkpoint-{step}").mkdir(parents=True)
    history = [{"step": s, "step_time": 30.0, "loss": 0.1} for s in (1, 2, 3, 4)]
    (run / "trainer_state.json").write_text(json.dumps({"log_history": history, "global_step": 4}))
    (run / "openrs_plan.json").write_text(json.dumps({"layout": "server", "gpus": 4, "nodes": 1}))
    args = ["report", "--train-dir", str(run), "--costs", "--no-figures", "--output-dir", str(tmp_path / "r")]
    code, _, err = invoke(capsys, *args, "--price-per-gpu-hour", "2")
    assert code == 0, err
    # 4 GPUs x 30 s a step: 2 steps = 240 GPU-seconds = 0.0667 GPU-hours, at 2 per GPU-hour 0.13
    assert "step 2: 0.067 GPU-hours, 0.13 at 2 per GPU-hour" in err and "step 4: 0.133 GPU-hours" in err
    code, _, err = invoke(capsys, *args)  # no price: GPU-hours alone
    assert code == 0 and "step 4: 0.133 GPU-hours" in err and "per GPU-hour" not in err
    (run / "openrs_plan.json").unlink()
    assert_error(invoke(capsys, *args), 2, "openrs_plan.json")


def test_costs_count_the_vllm_nodes_gpus(capsys, tmp_path):
    """The vllm-node layout holds one machine more than its training nodes: its GPUs are paid for too."""
    from openrs_cli.report.costs import run_gpus

    run = tmp_path / "run"
    args = ["train", "--exp", "3", "--gpus", "8", "--layout", "vllm-node", "--nodes", "2", "--output-dir", str(run)]
    code, _, err = invoke(capsys, *args, "--slurm", str(tmp_path / "job.sh"))  # writes the plan as a run does
    assert code == 0, err
    assert run_gpus(run) == 24  # 2 training nodes + the vLLM node, 8 GPUs each


def test_the_seed_spread_of_an_openrs_summary_is_noted_beside_the_table(capsys, tmp_path):
    """Sober Look's mean ± std of single seed runs, from an eval's summary, next to the interval of the mean."""
    ev = tmp_path / "ev"
    ev.mkdir()
    entry = {"complete": True, "avg_at_k": 0.3, "stderr": 0.05, "k": 4, "n_problems": 30}
    (ev / "summary.json").write_text(
        json.dumps({"name": "mine", "tasks": {"aime24": {**entry, "seed_mean": 0.3, "seed_std": 0.06}}})
    )
    args = ["report", str(ev), "--no-quoted", "--no-figures", "--output-dir", str(tmp_path / "r")]
    code, out, err = invoke(capsys, *args)
    assert code == 0, err
    assert "Seed spread" in out and "mine aime24 30.0 ± 6.0 (4 runs)" in out
    code, out, err = invoke(capsys, *args, "--json")
    (row,) = json.loads(out)
    assert row["seed_spread"] == {"aime24": {"mean": 30.0, "std": 6.0}}


@pytest.mark.parametrize("stderr", [True, -0.1, "0.05"])
def test_a_summary_whose_stderr_is_no_number_is_not_a_measurement(capsys, tmp_path, stderr):
    """A JSON `true` is an int to Python: read as a stderr of 1 it would draw an interval of the whole range."""
    ev = tmp_path / "ev"
    ev.mkdir()
    entry = {"complete": True, "avg_at_k": 0.3, "stderr": stderr, "k": 4, "n_problems": 30}
    (ev / "summary.json").write_text(json.dumps({"name": "mine", "tasks": {"aime24": entry}}))
    args = ["report", str(ev), "--no-quoted", "--no-figures", "--output-dir", str(tmp_path / "r"), "--json"]
    code, out, err = invoke(capsys, *args)
    assert f"stderr {stderr!r} is not a finite non-negative number" in err
    assert code != 0 or all("aime24" not in (row.get("scores") or {}) for row in json.loads(out))
