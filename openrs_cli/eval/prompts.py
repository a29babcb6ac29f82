"""The paper's evaluation prompt (Open-RS / open-r1 MATH_QUERY_TEMPLATE), sent as one user turn.

Byte for byte the reference's (src/open_r1/evaluate.py at knoveleng/open-rs@2889c47), including the
two spaces after "efficiently and clearly." that the reference has.
"""

from __future__ import annotations

MATH_QUERY_TEMPLATE = (
    "Solve the following math problem efficiently and clearly.  The last line of your response should be "
    "of the following format: 'Therefore, the final answer is: $\\boxed{{ANSWER}}$. I hope it is correct' "
    "(without quotes) where ANSWER is just the final number or expression that solves the problem. "
    "Think step by step before answering.\n\n{question}"
)


def messages_for(question: str) -> list[dict[str, str]]:
    """The chat the model sees; its own chat template is applied by the backend."""
    return [{"role": "user", "content": MATH_QUERY_TEMPLATE.format(question=question)}]
