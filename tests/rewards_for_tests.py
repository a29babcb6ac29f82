"""A user-supplied reward (loaded by dotted path) that varies even on a random model's output."""


def vowel_share(completions, **kwargs):
    texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
    return [sum(ch in "aeiou" for ch in t) / max(1, len(t)) for t in texts]
