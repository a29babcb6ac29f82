"""The paper's eval protocol, exactly: prompt tokens (BOS), explicit sampling, the cache keyed on what changes
an answer (model content, every sampling field), provenance recorded and compared."""

from __future__ import annotations

import json
from dataclasses import fields, replace

import pytest

from openrs_cli.eval.backends.base import Sampling
from tests.cli_helpers import invoke

BOS = "<|endoftext|>"  # stands in for R1-Distill's <｜begin▁of▁sentence｜> (a token the tiny model has)
MESSAGES = [{"role": "user", "content": "What is 3 + 4?"}]


def r1_distill_style(tokenizer):
    """The tiny tokenizer made to behave as R1-Distill's (LlamaTokenizerFast, add_bos_token: true): a BOS its
    post-processor adds to every encoding, and a chat template that writes `{{ bos_token }}` itself."""
    from tokenizers import processors

    tokenizer.bos_token = BOS
    bos_id = tokenizer.convert_tokens_to_ids(BOS)
    tokenizer._tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)]
    )
    tokenizer.chat_template = "{{ bos_token }}" + tokenizer.chat_template
    return tokenizer, bos_id


def test_paper_prompt_tokens_add_the_tokenizers_bos_only_where_it_adds_one():
    from openrs_cli.eval.prompts import prompt_token_ids
    from openrs_cli.localmodels import build_tiny_tokenizer

    qwen3_style = build_tiny_tokenizer()  # ChatML, no BOS: both modes give the template's tokens
    assert prompt_token_ids(qwen3_style, MESSAGES, "paper") == prompt_token_ids(qwen3_style, MESSAGES, "template")
    r1, bos_id = r1_distill_style(build_tiny_tokenizer())
    template = prompt_token_ids(r1, MESSAGES, "template")
    paper = prompt_token_ids(r1, MESSAGES, "paper")
    assert template[0] == bos_id and template[1] != bos_id  # the template's own BOS, once
    assert paper == [bos_id, *template]  # the first and only the first token changes: two BOS, as lighteval fed


@pytest.fixture(scope="module")
def r1_model(tmp_path_factory):
    from transformers import AutoTokenizer

    from openrs_cli.localmodels import build_tiny_model

    folder = build_tiny_model(tmp_path_factory.mktemp("models") / "r1-style")
    tokenizer, _ = r1_distill_style(AutoTokenizer.from_pretrained(folder))
    tokenizer.save_pretrained(folder)
    return folder


def _eval(capsys, model, out, data_dir, *extra):
    code, stdout, err = invoke(
        capsys, "eval", "--model", str(model), "--backend", "transformers", "--tasks", "aime24", "--limit", "1",
        "--max-new-tokens", "4", "--data-dir", str(data_dir / "bench"), "--output-dir", str(out), "--json", *extra,
    )  # fmt: skip
    assert code == 0, err
    return json.loads(stdout)


def _details(out):
    (path,) = out.glob("details/*/*/details_aime24_*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_eval_records_the_prompt_token_mode_and_the_exact_prompt(capsys, r1_model, tiny_model, data_dir, tmp_path):
    """On the R1-style model the two modes send different prompts (recorded per answer); on a model whose
    tokenizer adds no BOS they send the same one."""
    digests = {}
    for model in (r1_model, tiny_model):
        for mode in ("paper", "template"):
            out = tmp_path / f"{model.name}-{mode}"
            summary = _eval(capsys, model, out, data_dir, "--prompt-tokens", mode)
            assert summary["provenance"]["prompt_tokens"] == mode
            digests[model.name, mode] = _details(out)[0]["prompt_sha256"]
    assert digests["r1-style", "paper"] != digests["r1-style", "template"]
    assert digests[tiny_model.name, "paper"] == digests[tiny_model.name, "template"]


def test_a_models_generation_config_never_changes_the_sampling(capsys, tmp_path, data_dir):
    """generation_config.json asks for top_k 1 (greedy in effect); openrs sends top-k off, so samples differ."""
    from openrs_cli.localmodels import build_tiny_model

    model = build_tiny_model(tmp_path / "topk1")
    config = json.loads((model / "generation_config.json").read_text())
    (model / "generation_config.json").write_text(json.dumps({**config, "top_k": 1, "do_sample": True}))
    out = tmp_path / "ev"
    _eval(capsys, model, out, data_dir, "--samples", "4", "--temperature", "1.0", "--max-new-tokens", "8")
    answers = [d["answer"] for d in _details(out)]
    assert len(answers) == 4 and len(set(answers)) > 1


def test_every_sampling_field_changes_the_answer_key():
    from openrs_cli.eval.cache import answer_key

    def key(sampling):
        return answer_key({"kind": "local", "sha256": "x"}, {"kind": "vllm"}, sampling, "paper-v2", "t", "p", 0, 0, 42)

    base = Sampling()
    for f in fields(Sampling):
        value = getattr(base, f.name)
        other = replace(base, **{f.name: value + 1 if f.name != "top_p" else 0.5})
        assert key(other) != key(base), f"{f.name} does not change the cache key"


def test_every_sampling_field_is_sent_by_every_backend(tiny_model):
    """The endpoint's request body and transformers' generate() call carry every Sampling field."""
    from openrs_cli.eval.backends.base import GenRequest
    from openrs_cli.eval.backends.endpoint import EndpointBackend

    sent_names = {"temperature", "top_p", "top_k", "min_p", "repetition_penalty", "max_tokens"}
    backend = EndpointBackend.__new__(EndpointBackend)
    backend.model, backend.extensions, backend.prompt_tokens = "m", True, "server"
    _, body, _ = backend._body(GenRequest("k", "t", 0, 0, tuple(MESSAGES), 1), Sampling())
    named = {"max_new_tokens": "max_tokens"}
    assert {named.get(f.name, f.name) for f in fields(Sampling)} <= set(body) and sent_names <= set(body)

    from openrs_cli.eval.backends.transformers_backend import TransformersBackend

    hf = TransformersBackend(str(tiny_model))
    seen = {}
    real = hf.model.generate

    def spy(**kwargs):
        seen.update(kwargs)
        return real(**kwargs)

    hf.model.generate = spy
    request = GenRequest("k", "t", 0, 0, tuple(MESSAGES), 1)
    hf.generate([request], Sampling(max_new_tokens=2), lambda r, res: None)
    assert {"temperature", "top_p", "top_k", "min_p", "repetition_penalty", "max_new_tokens"} <= set(seen)


def test_a_model_rebuilt_in_the_same_folder_is_not_scored_with_the_old_answers(capsys, tmp_path, data_dir):
    from openrs_cli.localmodels import build_tiny_model

    model = build_tiny_model(tmp_path / "m", seed=0)
    out = tmp_path / "ev"
    _eval(capsys, model, out, data_dir)
    build_tiny_model(model, seed=1)  # other weights, same path
    code, stdout, err = invoke(
        capsys, "eval", "--model", str(model), "--backend", "transformers", "--tasks", "aime24", "--limit", "1",
        "--max-new-tokens", "4", "--data-dir", str(data_dir / "bench"), "--output-dir", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert "1 answers needed, 0 cached, 1 to generate" in stdout + err


def test_endpoint_answers_are_keyed_by_url_and_served_name():
    from openrs_cli.provenance import endpoint_identity

    a = endpoint_identity("http://127.0.0.1:8000/v1", "model-a")
    assert a != endpoint_identity("http://127.0.0.1:8000/v1", "totally-different-model")
    assert a != endpoint_identity("http://127.0.0.1:9000/v1", "model-a")


def test_compare_names_every_provenance_field_that_differs(capsys, tmp_path, tiny_model, data_dir):
    a, b = tmp_path / "a", tmp_path / "b"
    _eval(capsys, tiny_model, a, data_dir, "--dtype", "float32")
    _eval(capsys, tiny_model, b, data_dir, "--dtype", "bfloat16", "--temperature", "0.7")
    summary = json.loads((b / "summary.json").read_text())
    assert summary["provenance"]["software"]["transformers"] and summary["provenance"]["devices"]["kind"] == "cpu"
    assert summary["provenance"]["model"]["kind"] == "local" and len(summary["provenance"]["model"]["sha256"]) == 64
    results = json.loads(next((b / "results").rglob("results_aime24_*.json")).read_text())
    assert results["openrs"]["provenance"]["dtype"] == "bfloat16"
    code, out, err = invoke(capsys, "compare", str(a), str(b), "--resamples", "200")
    assert code == 0, err
    assert "dtype float32 vs bfloat16" in out
    assert "temperature 0.6 vs 0.7" in out
    assert "model " not in out  # the same model on both sides: no line for it


def test_report_json_carries_provenance(capsys, tmp_path, tiny_model, data_dir):
    out = tmp_path / "ev"
    _eval(capsys, tiny_model, out, data_dir)
    code, stdout, err = invoke(capsys, "report", "--results", str(out), "--json", "--no-figures",
                               "--output-dir", str(tmp_path / "r"))  # fmt: skip
    assert code == 0, err
    (row,) = [r for r in json.loads(stdout) if r["source"] == "measured"]
    assert row["provenance"]["aime24"]["prompt_tokens"] == "paper"


def test_hmmt25_reads_latex_answers_and_recent_is_aime25_with_hmmt25(capsys, data_dir, tmp_path):
    """HMMT February 2025's golds are LaTeX (fractions, roots): a boxed equal expression scores, another fails;
    `--tasks recent` plans aime25 and hmmt25."""
    from openrs_cli.eval.scoring import score_answer
    from openrs_cli.eval.tasks import TASKS, load_problems

    problems = load_problems(TASKS["hmmt25"], data_dir / "bench")
    golds = {p.question[:20]: p.golds for p in problems}
    assert len(problems) == 4 and TASKS["hmmt25"].gold_type == "latex"
    fraction = next(g for q, g in golds.items() if q.startswith("Compute the value"))
    assert score_answer("So the sum is $\\boxed{\\dfrac{3}{4}}$.", list(fraction), "latex").correct == 1.0
    assert score_answer("So the sum is $\\boxed{0.75}$.", list(fraction), "latex").correct == 1.0
    assert score_answer("So the sum is $\\boxed{\\frac{2}{3}}$.", list(fraction), "latex").correct == 0.0
    root = next(g for q, g in golds.items() if q.startswith("A square"))
    assert score_answer("The side is $\\boxed{2\\sqrt{2}}$.", list(root), "latex").correct == 1.0
    code, out, err = invoke(capsys, "eval", "--model", "org/m", "--tasks", "recent", "--dry-run", "--json")
    assert code == 0, err
    assert [t["name"] for t in json.loads(out)["tasks"]] == ["aime25", "hmmt25"]


def test_an_eval_summary_carries_the_seed_runs_spread(capsys, data_dir, tmp_path):
    """k samples per problem are k seed runs: the summary gives their mean (= avg@k here, every problem having
    all k) and their standard deviation (0 when every run scores the same)."""
    from tests.fake_openai import FakeOpenAI

    with FakeOpenAI(answer="\\boxed{7}") as server:
        code, out, err = invoke(
            capsys, "eval", "--model", "fake/m", "--base-url", server.url, "--tasks", "aime24", "--limit", "3",
            "--samples", "2", "--data-dir", str(data_dir / "bench"), "--output-dir", str(tmp_path / "e"), "--json",
        )  # fmt: skip
    assert code == 0, err
    entry = json.loads(out)["tasks"]["aime24"]
    assert entry["k"] == 2 and entry["seed_mean"] == entry["avg_at_k"] and entry["seed_std"] == 0.0
