"""Provenance: the model's exact identity, Hub revisions pinned to commits, differences named."""

from __future__ import annotations

import json

from openrs_cli import provenance


def fake_hub_cache(root, repo_id: str, commit: str) -> None:
    """The layout huggingface_hub's cache keeps: refs/main names the commit, snapshots/<commit>/ holds files."""
    repo = root / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "config.json").write_text("{}")


def test_a_cached_hub_model_resolves_to_its_commit_without_network(monkeypatch, tmp_path):
    import huggingface_hub.constants as constants

    commit = "a" * 40
    fake_hub_cache(tmp_path, "org/model", commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    assert provenance.hub_commit("org/model", None) == commit
    identity = provenance.model_identity("org/model", "main")
    assert identity == {"kind": "hub", "repo_id": "org/model", "revision": "main", "commit": commit}


def test_training_pins_the_revision_every_process_loads(monkeypatch):
    """The Hub's answer is mocked (no network here): the config then names the commit, not the branch."""
    from openrs_cli.train.plan import pin_revision

    monkeypatch.setattr(provenance, "hub_commit", lambda repo, revision: "b" * 40)
    config = {"model_name_or_path": "org/model", "model_revision": "main"}
    notes = pin_revision(config)
    assert config["model_revision"] == "b" * 40 and "is commit bbbbbbbbbbbb" in notes[0]
    monkeypatch.setattr(provenance, "hub_commit", lambda repo, revision: None)
    config = {"model_name_or_path": "org/model", "model_revision": "v1"}
    assert "could not be resolved" in pin_revision(config)[0] and config["model_revision"] == "v1"
    assert pin_revision({"model_name_or_path": "/a/local/folder"}) == []


def test_a_local_models_identity_follows_its_content(tiny_model, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model, copy)
    same = provenance.model_identity(str(copy))["sha256"] == provenance.model_identity(str(tiny_model))["sha256"]
    (copy / "generation_config.json").write_text(json.dumps({"top_k": 1}))
    assert same and provenance.folder_digest(copy) != provenance.folder_digest(tiny_model)


def test_differences_name_devices_versions_and_the_model():
    a = {"software": {"vllm": "0.31.0"}, "devices": {"count": 1, "names": ["H100"]}, "model": {"kind": "hub",
         "repo_id": "org/m", "commit": "c" * 40}}  # fmt: skip
    b = {"software": {"vllm": "0.7.2"}, "devices": {"count": 4, "names": ["A40"]}, "model": {"kind": "hub",
         "repo_id": "org/m", "commit": "d" * 40}}  # fmt: skip
    lines = provenance.differences(a, b)
    assert "vllm 0.31.0 vs 0.7.2" in lines and "devices 1 x H100 vs 4 x A40" in lines
    assert any(line.startswith("model org/m@cccccccccccc vs org/m@dddddddddddd") for line in lines)
    assert provenance.differences(a, a) == []
    eager, compiled = ({"engine": {"kind": "vllm", "mode": m}} for m in ("eager", "compiled"))
    assert provenance.differences(eager, compiled) == ["engine.mode eager vs compiled"]
