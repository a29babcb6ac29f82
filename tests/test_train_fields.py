"""openrs's lists of TRL choices match the TRL it pins."""

from __future__ import annotations

import inspect
import re


def test_loss_types_are_the_ones_trl_grpo_config_documents():
    from trl import GRPOConfig

    from openrs_cli.train.fields import LOSS_TYPES

    doc = inspect.getdoc(GRPOConfig) or ""
    section = doc[doc.index("loss_type (`str`") :]
    section = section[: re.search(r"\n    \w+ \(`", section).start()]  # up to the next documented field
    assert set(re.findall(r'^\s+- `"(\w+)"`', section, flags=re.M)) == set(LOSS_TYPES)
