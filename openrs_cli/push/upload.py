"""Decide what to upload and upload it in one commit per revision through huggingface_hub."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from openrs_cli.checkpoints import CHECKPOINT
from openrs_cli.errors import BadInputError, RuntimeFailure

# training state that is large and useless to someone loading the model
SKIP = ["optimizer.pt", "scheduler.pt", "rng_state*.pth", "*.tmp", ".*", "cache.jsonl", "*.log", "slurm-*.out"]


@dataclass
class Upload:
    revision: str
    folder: Path
    files: list[str] = field(default_factory=list)  # paths relative to folder
    card: str = ""

    def to_json(self) -> dict:
        return {"revision": self.revision, "folder": str(self.folder), "files": self.files + ["README.md"]}


def files_to_upload(folder: Path) -> list[str]:
    """Model files of `folder`: no checkpoints, no training state, no eval outputs (folders with summary.json)."""
    eval_dirs = {p.parent for p in folder.rglob("summary.json")}
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or any(CHECKPOINT.match(p) for p in rel.parts[:-1]):
            continue
        if any(d in path.parents for d in eval_dirs):
            continue
        if rel.parts[0] in ("results", "details", "runs") or rel.name == "README.md":
            continue
        if any(fnmatch.fnmatch(rel.name, pattern) for pattern in SKIP):
            continue
        out.append(rel.as_posix())
    return out


def token_or_fail() -> str:
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise BadInputError(
            "no Hugging Face token found",
            "run 'hf auth login' or set HF_TOKEN (needed to upload; --dry-run works without)",
        )
    return token


CONFIG_FILES = ("openrs_config.yaml",)  # configs openrs wrote: uploaded with any secret in them redacted


def content(folder: Path, name: str) -> str | bytes:
    """What is uploaded for `name`: the file itself, or for a config the redacted text (older openrs
    versions, or a hand-edited file, may hold a token)."""
    if Path(name).name not in CONFIG_FILES:
        return str(folder / name)
    import yaml

    from openrs_cli.secrets import redact

    data = yaml.safe_load((folder / name).read_text()) or {}
    return yaml.safe_dump(redact(data), sort_keys=False, allow_unicode=True).encode()


def push(repo_id: str, uploads: list[Upload], private: bool, token: str) -> str:
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        for upload in uploads:
            if upload.revision != "main":
                api.create_branch(repo_id, branch=upload.revision, exist_ok=True)
            operations = [
                CommitOperationAdd(path_in_repo=f, path_or_fileobj=content(upload.folder, f)) for f in upload.files
            ]
            operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=upload.card.encode()))
            api.create_commit(
                repo_id, operations, commit_message=f"Upload {upload.revision} with openrs", revision=upload.revision
            )
    except HfHubHTTPError as exc:
        # the message names the repo and the HTTP status, never the token
        raise RuntimeFailure(
            f"upload to {repo_id} failed: {str(exc).splitlines()[0]}", "check the repo id and token rights"
        ) from exc
    return str(url)
