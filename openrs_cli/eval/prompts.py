"""The paper's evaluation prompt (Open-RS / open-r1 MATH_QUERY_TEMPLATE), sent as one user turn.

Byte for byte the reference's (src/open_r1/evaluate.py at knoveleng/open-rs@2889c47), including the
two spaces after "efficiently and clearly." that the reference has. A user's own template (a text file
holding `{question}` once, other braces taken literally) and system prompt can replace it.
"""

from __future__ import annotations

from pathlib import Path

from openrs_cli.errors import BadInputError

MATH_QUERY_TEMPLATE = (
    "Solve the following math problem efficiently and clearly.  The last line of your response should be "
    "of the following format: 'Therefore, the final answer is: $\\boxed{{ANSWER}}$. I hope it is correct' "
    "(without quotes) where ANSWER is just the final number or expression that solves the problem. "
    "Think step by step before answering.\n\n{question}"
)


PROMPT_VERSION = 2  # bump when MATH_QUERY_TEMPLATE changes, so cached answers are not reused (2: two spaces)


def prompt_id(template: str, system_prompt: str | None) -> str:
    """Names the prompt in cache keys and results: the paper's by version, any other by its text's hash.

    >>> prompt_id(MATH_QUERY_TEMPLATE, None)
    'paper-v2'
    >>> prompt_id("Q: {question}", None).startswith("sha256:")
    True
    """
    import hashlib

    if template == MATH_QUERY_TEMPLATE and not system_prompt:
        return f"paper-v{PROMPT_VERSION}"
    return "sha256:" + hashlib.sha256(f"{system_prompt}\n{template}".encode()).hexdigest()[:16]


def render(question: str, template: str = MATH_QUERY_TEMPLATE) -> str:
    """The user turn: the paper's template is a Python format string, a user's holds a plain `{question}`."""
    if template == MATH_QUERY_TEMPLATE:
        return template.format(question=question)
    return template.replace("{question}", question)


def question_from_query(query: str, template: str = MATH_QUERY_TEMPLATE) -> str:
    """The problem inside a rendered prompt (lighteval's details keep the whole query), so answers pair on it;
    a query in another shape is returned as it is.

    >>> question_from_query(render("What is 1+1?")), question_from_query("Just a question")
    ('What is 1+1?', 'Just a question')
    """
    prefix, _, suffix = render("\0", template).partition("\0")
    if query.startswith(prefix) and query.endswith(suffix) and len(query) >= len(prefix) + len(suffix):
        return query[len(prefix) : len(query) - len(suffix)]
    return query


def messages_for(
    question: str, template: str = MATH_QUERY_TEMPLATE, system_prompt: str | None = None
) -> list[dict[str, str]]:
    """The chat the model sees; its own chat template is applied by the backend.

    >>> messages_for("1+1?", "Q: {question} in \\\\boxed{}", "Be brief.")
    [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Q: 1+1? in \\\\boxed{}'}]
    """
    messages = [{"role": "user", "content": render(question, template)}]
    if system_prompt:
        messages.insert(0, {"role": "system", "content": system_prompt})
    return messages


def load_template(path: Path) -> str:
    """A user's prompt template: a UTF-8 text file holding `{question}` exactly once."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(
            f"cannot read --prompt-template {path} ({type(exc).__name__})", "give a UTF-8 text file"
        ) from exc
    if text.count("{question}") != 1:
        raise BadInputError(
            f"--prompt-template {path} must hold {{question}} exactly once", "put {question} where the problem goes"
        )
    return text


def prompt_token_ids(tokenizer, messages, mode: str) -> list[int]:
    """The token ids a model is given for a chat, under a `BackendSettings.prompt_tokens` mode.

    "paper" tokenizes the rendered chat template with the tokenizer's special tokens (lighteval at ed08481:
    a tokenizer that adds a BOS puts one before the template's own); "template" keeps the template's tokens.
    """
    text = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)
    return list(tokenizer(text, add_special_tokens=mode == "paper")["input_ids"])


def prompt_digest(prompt: list[int] | list[dict] | tuple) -> str:
    """sha256 of what the engine was given: its token ids, or the messages a server templated.

    >>> prompt_digest([1, 2, 3]) == prompt_digest([1, 2, 3]) != prompt_digest([1, 2])
    True
    """
    import hashlib
    import json

    return hashlib.sha256(json.dumps(list(prompt), ensure_ascii=False).encode()).hexdigest()
