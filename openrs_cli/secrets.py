"""Secrets never leave openrs: configs, model cards and plans are redacted at every depth before they
are printed or written.

A key is secret when its name says so (token, secret, password, api_key, ...); a value is secret when it
looks like a credential (a Hugging Face, OpenAI or W&B key, a bearer header), whatever its key.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<redacted>"
SECRET_KEY_WORDS = ("token", "secret", "password", "passwd", "api_key", "apikey", "credential", "authorization")
# credential shapes (a bare 40-hex string is not one: that is also a git revision)
SECRET_VALUE = re.compile(r"\bhf_[A-Za-z0-9]{20,}|\bsk-[A-Za-z0-9_-]{20,}|\bBearer\s+\S{16,}|\bghp_[A-Za-z0-9]{30,}")


def is_secret_key(key: object) -> bool:
    """>>> [is_secret_key(k) for k in ("hub_token", "wandb_api_key", "learning_rate", "max_new_tokens")]
    [True, True, False, False]
    """
    name = str(key).lower()
    if name.endswith(("_tokens", "tokens")) or name in ("token_type_ids",):  # counts of tokens, not credentials
        return False
    return any(word in name for word in SECRET_KEY_WORDS)


def redact(value: Any, drop: bool = False) -> Any:
    """A copy of `value` with secret keys and credential-looking strings replaced, at every depth;
    `drop=True` leaves secret keys out instead (a config a program reads: better absent than bogus).

    >>> redact({"lr": 1e-6, "model_init_kwargs": {"token": "hf_abcdefghijklmnopqrstuvwx"}, "note": "x"})
    {'lr': 1e-06, 'model_init_kwargs': {'token': '<redacted>'}, 'note': 'x'}
    >>> redact({"hub_token": "hf_abcdefghijklmnopqrstuvwx", "seed": 42}, drop=True)
    {'seed': 42}
    >>> redact(["Bearer abcdefghijklmnopqrstu", "plain"])
    ['<redacted>', 'plain']
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if is_secret_key(key) and item not in (None, "", False):
                if not drop:
                    out[key] = REDACTED
            else:
                out[key] = redact(item, drop)
        return out
    if isinstance(value, list | tuple):
        return type(value)(redact(v, drop) for v in value)
    if isinstance(value, str) and SECRET_VALUE.search(value):
        return SECRET_VALUE.sub(REDACTED, value)
    return value


_SECRET_QUERY_WORDS = (*SECRET_KEY_WORDS, "key", "sig", "auth")


def redact_url(url: str) -> str:
    """`url` with a password in its userinfo and credential-looking query values replaced.

    >>> redact_url("http://alice:pw@host:8000/v1?api_key=sk-abc&x=1")
    'http://alice:<redacted>@host:8000/v1?api_key=<redacted>&x=1'
    >>> redact_url("http://localhost:8000/v1")
    'http://localhost:8000/v1'
    """
    from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if parts.password is not None:
        host = netloc.rsplit("@", 1)[1]
        netloc = f"{parts.username}:{REDACTED}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        hidden = [
            (k, REDACTED if any(w in k.lower() for w in _SECRET_QUERY_WORDS) or SECRET_VALUE.search(v) else v)
            for k, v in pairs
        ]
        query = urlencode(hidden, safe="<>")
    return SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment).geturl()
