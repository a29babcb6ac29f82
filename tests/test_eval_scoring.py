"""Scoring is lighteval 0.13's extractive-match metric configured as the paper's tasks."""

from __future__ import annotations

import json

import pytest

from openrs_cli.eval.scoring import install_offline_stub, make_scorer, score_answer

LAST = "Therefore, the final answer is: $\\boxed{{{}}}$. I hope it is correct"
# (prediction, gold, gold type, expected)
PAIRS = [
    (LAST.format("25"), "025", "expr", 1.0),  # AIME leading zeros
    (LAST.format("073"), "73", "expr", 1.0),
    (LAST.format("24"), "025", "expr", 0.0),
    ("The answer is 42.", "42", "expr", 1.0),  # unboxed
    (LAST.format("\\frac{1}{2}"), "The answer is $\\boxed{0.5}$.", "latex", 1.0),  # fractions
    (LAST.format("\\frac{2}{4}"), "$\\boxed{\\frac{1}{2}}$", "latex", 1.0),
    (LAST.format("\\frac{1}{3}"), "$\\boxed{\\frac{1}{2}}$", "latex", 0.0),
    (LAST.format("(-\\infty, 3]"), "$\\boxed{(-\\infty,3]}$", "latex", 1.0),  # intervals
    (LAST.format("[0, 3)"), "$\\boxed{(-\\infty,3]}$", "latex", 0.0),
    (LAST.format("50\\%"), "$\\boxed{50\\%}$", "latex", 1.0),  # percentages
    (LAST.format("3\\sqrt{2}"), "$\\boxed{\\sqrt{18}}$", "latex", 1.0),
    ("no answer at all", "$\\boxed{7}$", "latex", 0.0),
]


def lighteval_metric(gold_type: str):
    """The paper's metric built straight from lighteval's classes (DESIGN.md section 6)."""
    install_offline_stub()
    from lighteval.metrics.dynamic_metrics import MultilingualExtractiveMatchMetric
    from lighteval.metrics.utils.extractive_match_utils import ExprExtractionConfig, LatexExtractionConfig
    from lighteval.utils.language import Language

    return MultilingualExtractiveMatchMetric(
        language=Language.ENGLISH,
        fallback_mode="first_match",
        precision=5,
        gold_extraction_target=(ExprExtractionConfig(),) if gold_type == "expr" else (LatexExtractionConfig(),),
        pred_extraction_target=(ExprExtractionConfig(), LatexExtractionConfig(boxed_match_priority=0)),
        aggregation_function=max,
    )


@pytest.mark.parametrize(("prediction", "gold", "gold_type", "expected"), PAIRS)
def test_scores_equal_lightevals_metric(prediction, gold, gold_type, expected):
    from lighteval.models.model_output import ModelResponse
    from lighteval.tasks.requests import Doc

    reference = lighteval_metric(gold_type).compute(
        Doc(query="", choices=[gold], gold_index=0), ModelResponse(text=[prediction])
    )
    ours = score_answer(prediction, [gold], gold_type)
    assert ours.correct == reference == expected


def test_max_over_golds():
    assert score_answer(LAST.format("7"), ["$\\boxed{5}$", "$\\boxed{7}$"], "latex").correct == 1.0


def test_parallel_scoring_equals_serial(data_dir):
    rows = [json.loads(line) for line in (data_dir / "bench/olympiadbench.jsonl").open()][:12]
    items = [(LAST.format(r["answer"] if i % 3 else "0"), [r["answer"]], "latex") for i, r in enumerate(rows)]
    serial, parallel = make_scorer(1), make_scorer(2)
    for item in items:
        serial.submit(*item)
        parallel.submit(*item)
    a, b = serial.results(), parallel.results()
    parallel.close()
    assert [s.correct for s in a] == [s.correct for s in b]
    assert sum(s.correct for s in a) >= 6
