"""Reward functions: reference vs fixed behaviour, parallel scoring equal to serial, bounded time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from openrs_cli.errors import BadInputError
from openrs_cli.rewards import pool
from openrs_cli.rewards.registry import REWARDS, build_reward, build_rewards


def wrap(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


@pytest.fixture(scope="module")
def batch(data_dir):
    """72 completions (one step of the paper) from MATH solutions in think/answer tags, half wrong."""
    rows = [json.loads(line) for line in (data_dir / "bench/math500.jsonl").open()][:72]
    completions, golds = [], []
    for i, row in enumerate(rows):
        answer = row["answer"] if i % 2 == 0 else f"{row['answer']}+1"
        completions.append(wrap(f"<think>\n{row['solution']}\n</think>\n<answer>\n\\boxed{{{answer}}}\n</answer>"))
        golds.append(row["solution"])
    return completions, golds


def test_parallel_scoring_equals_serial(batch):
    completions, golds = batch
    options = {"cosine_max_len": 3584}
    for name in ("accuracy", "accuracy_fixed", "cosine", "cosine_fixed", "length"):
        serial = build_reward(name, {**options, "reward_workers": 1})(completions, solution=golds)
        parallel = build_reward(name, {**options, "reward_workers": 2})(completions, solution=golds)
        assert parallel == serial, name
    accuracy = build_reward("accuracy", {})(completions, solution=golds)
    assert sum(accuracy[0::2]) >= 30 and sum(accuracy[1::2]) <= 6  # right ones right, altered ones wrong


def test_reference_and_fixed_variants_differ_only_where_documented():
    unparseable_gold = ["the answer is whatever"]
    assert build_reward("accuracy", {})([wrap("\\boxed{1}")], solution=unparseable_gold) == [1.0]
    assert build_reward("accuracy_fixed", {})([wrap("\\boxed{1}")], solution=unparseable_gold) == [None]
    sloppy = wrap("blah\n</think>\nno answer tags")
    assert build_reward("format", {})([sloppy]) == [1.0]
    assert build_reward("format_fixed", {})([sloppy]) == [0.0]
    long_right = wrap("\\boxed{5}" + " pad" * 2000)  # 8009 characters, past max_len
    ref = build_reward("cosine", {"cosine_max_len": 3584})([long_right], solution=["$5$"])[0]
    fixed = build_reward("cosine_fixed", {"cosine_max_len": 3584})(
        [long_right], solution=["$5$"], completion_ids=[[0] * 5000]
    )[0]
    assert fixed == pytest.approx(0.5)  # clamped: the longest right answer earns the minimum
    assert ref != pytest.approx(0.5)  # the reference's unclamped cosine has wrapped around


def test_every_registered_reward_builds_and_scores_a_batch():
    completions = [
        wrap("<think>\nStep 1: 2\n</think>\n<answer>\\boxed{2}</answer>"),
        wrap("oops oops oops oops"),
    ]
    for name in REWARDS:
        scores = build_reward(name, {})(completions, solution=["$2$", "$3$"], completion_ids=[[1] * 9, [1] * 4])
        assert len(scores) == 2 and all(s is None or isinstance(s, float) for s in scores), name


def test_adversarial_answers_do_not_hang():
    nasty = [
        wrap("\\boxed{" + "9^{" * 60 + "9" + "}" * 60 + "}"),
        wrap("\\boxed{" + "(" * 3000 + "1" + ")" * 3000 + "}"),
        wrap("\\boxed{10^{10^{10^{10^{10}}}}!}"),
    ]
    start = time.monotonic()
    scores = build_reward("accuracy", {"reward_workers": 2})(nasty, solution=["$2$"] * 3)
    assert time.monotonic() - start < 60
    assert scores == [0.0, 0.0, 0.0]


def test_a_stuck_worker_is_abandoned_and_scores_wrong(monkeypatch):
    monkeypatch.setattr(pool, "_check_chunk", _sleepy_chunk)
    start = time.monotonic()
    assert pool.check_many(["a", "b"], ["$1$", "$1$"], workers=2, hard_timeout_s=1) == [False, False]
    assert time.monotonic() - start < 20


def _sleepy_chunk(pairs, rule):
    time.sleep(30)
    return [True] * len(pairs)


def test_dotted_path_and_unknown_names():
    (fn,) = build_rewards(["tests.rewards_for_tests.vowel_share"], {})
    assert fn(["aaaa", "bbbb"]) == [1.0, 0.0]
    with pytest.raises(BadInputError):
        build_reward("nosuchreward", {})
    with pytest.raises(BadInputError):
        build_reward("tests.rewards_for_tests.missing", {})


def test_every_reward_gives_the_same_value_off_the_main_thread():
    """math-verify cannot install its alarm off the main thread; a reward must not flip sign there."""
    import threading

    completions = [
        wrap("<think>\nhalf\n</think>\n<answer>\\boxed{\\frac{1}{2}}</answer>"),
        wrap("<think>\nguess\n</think>\n<answer>\\boxed{3}</answer>"),
    ]
    solution = ["$\\frac{1}{2}$", "$\\frac{1}{2}$"]
    for name in REWARDS:
        reward = build_reward(name, {"cosine_max_len": 100})
        on_main = reward(completions, solution=solution, completion_ids=[[0] * 10, [0] * 10])
        seen: dict = {}

        def call(r=reward, into=seen) -> None:
            into["v"] = r(completions, solution=solution, completion_ids=[[0] * 10, [0] * 10])

        thread = threading.Thread(target=call)
        thread.start()
        thread.join()
        assert seen["v"] == on_main, name
    assert build_reward("accuracy", {})(completions, solution=solution) == [1.0, 0.0]


REFERENCE_PROBES = Path(__file__).parent / "fixtures" / "reference" / "reward-probes.json"


def test_reference_named_rewards_equal_the_reference_code_on_every_probe():
    """accuracy, cosine and length give what open-rs's rewards.py gives (its values are stored with the probes).

    The reference length and cosine rewards pass boxed=True to latex2sympy2_extended 1.0.6, which extracts no
    boxed content; accuracy passes "all". Among the probes: `$\\boxed{2} + \\boxed{3}$` is right for gold 5 under
    the reference cosine, and `$$\\text{Answer: } \\boxed{\\frac{1}{2}}$$` is wrong there.
    """
    probes = json.loads(REFERENCE_PROBES.read_text())
    assert len(probes) >= 120
    completions = [[{"content": p["completion"]}] for p in probes]
    solution = [p["solution"] for p in probes]
    got = {
        "accuracy": build_reward("accuracy", {})(completions, solution=solution),
        "cosine_3584": build_reward("cosine", {"cosine_max_len": 3584})(completions, solution=solution),
        "length": build_reward("length", {})(completions, solution=solution),
    }
    for name, values in got.items():
        differ = [p["completion"] for p, v in zip(probes, values, strict=True) if v != pytest.approx(p[name], abs=1e-9)]
        assert not differ, f"{name} differs from the reference on {differ[:3]}"
    named = {p["completion"]: p for p in probes}
    assert named[r"$\boxed{2} + \boxed{3}$"]["cosine_3584"] > 0.9  # right for the reference (gold 5)
    assert named[r"$$\text{Answer: } \boxed{\frac{1}{2}}$$"]["cosine_3584"] < 0  # wrong for the reference


def test_fixed_rewards_extract_boxed_answers_where_the_reference_does_not():
    fixed = build_reward("cosine_fixed", {"cosine_max_len": 3584})
    text = r"$$\text{Answer: } \boxed{\frac{1}{2}}$$"
    assert fixed([text], solution=[r"$\frac{1}{2}$"], completion_ids=[[0] * 10])[0] > 0.9
    assert build_reward("length_fixed", {})([text, text + " more"], solution=[r"$\frac{1}{2}$"] * 2) == [0.5, -0.5]


def test_reference_rules_use_math_verify_default_timeouts():
    import inspect

    from math_verify import parse, verify

    from openrs_cli.rewards.verify import REFERENCE_ACCURACY, REFERENCE_LENGTH

    assert REFERENCE_ACCURACY.timeout_s == inspect.signature(parse).parameters["parsing_timeout"].default
    assert REFERENCE_LENGTH.timeout_s == inspect.signature(verify).parameters["timeout_seconds"].default


TINA_PROBES = Path(__file__).parent / "fixtures" / "reference" / "tina-reward-probes.json"


def test_tina_rewards_equal_tinas_own_code_on_every_probe():
    """accuracy_tina, format and cosine give what Tina's rewards.py gives (its values are stored with the probes).

    Tina's accuracy parses the gold as LaTeX or a plain expression: a bare "12" is a gold there (the open-rs
    reference scores it 1.0 whatever the answer), and an unparseable gold is skipped (None).
    """
    probes = json.loads(TINA_PROBES.read_text())
    assert len(probes) >= 130
    completions = [[{"content": p["completion"]}] for p in probes]
    solution = [p["solution"] for p in probes]
    got = {
        "accuracy": build_reward("accuracy_tina", {})(completions, solution=solution),
        "format": build_reward("format", {})(completions),
        "cosine_3584": build_reward("cosine", {"cosine_max_len": 3584})(completions, solution=solution),
    }
    for name, values in got.items():
        differ = [
            (p["completion"], p["solution"])
            for p, v in zip(probes, values, strict=True)
            if (v is None) != (p[name] is None) or (v is not None and v != pytest.approx(p[name], abs=1e-9))
        ]
        assert not differ, f"{name} differs from Tina's on {differ[:3]}"
    bare = [p for p in probes if p["solution"] == "12" and p["completion"] == r"$\boxed{5}$"]
    assert bare and bare[0]["accuracy"] == 0.0  # a bare-number gold is checked, not waved through
    assert build_reward("accuracy", {})([r"$\boxed{5}$"], solution=["12"]) == [1.0]  # open-rs's reference
    assert None in got["accuracy"]
