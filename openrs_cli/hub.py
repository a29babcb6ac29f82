"""The Hugging Face Hub as openrs meets it: is it reachable, and what to do when it is not.

A quick, bounded check (a few seconds at most) before work that needs the Hub, so that an offline
machine gets one line saying what to pass instead rather than minutes of retries and a traceback.
"""

from __future__ import annotations

import os

from openrs_cli.errors import BadInputError

DEFAULT_ENDPOINT = "https://huggingface.co"


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


def offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def hub_reachable(timeout: float = 3.0) -> bool:
    """True when the Hub answers over HTTP within `timeout` seconds (False in HF_HUB_OFFLINE mode)."""
    if offline_mode():
        return False
    import httpx

    try:
        httpx.head(f"{endpoint()}/api/whoami-v2", timeout=timeout, follow_redirects=False)
    except httpx.HTTPError:
        return False
    return True


def require_hub(what: str, instead: str, timeout: float = 3.0) -> None:
    """Raise one line (exit 2) when `what` needs the Hub and it cannot be reached."""
    if not hub_reachable(timeout):
        reason = "HF_HUB_OFFLINE is set" if offline_mode() else f"{endpoint()} is unreachable"
        raise BadInputError(f"{what} needs the Hugging Face Hub and {reason}", instead)
