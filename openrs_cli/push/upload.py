"""Decide what to upload and upload it in one commit per revision through huggingface_hub."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from openrs_cli.checkpoints import CHECKPOINT
from openrs_cli.errors import BadInputError, RuntimeFailure

# training state that is large and useless to someone loading the model
SKIP = ["optimizer.pt", "scheduler.pt", "rng_state*.pth", "*.tmp", ".*", "cache.jsonl", "*.log", "slurm-*.out"]
SKIP.append("openrs_merged_from.json")  # a merge's stamp: it holds a local path


@dataclass
class Upload:
    revision: str
    folder: Path
    files: list[str] = field(default_factory=list)  # paths relative to folder
    card: str = ""
    merge_from: Path | None = None  # a LoRA adapter merged into its base at upload time; `files` are then the merge's

    def to_dict(self) -> dict:
        out = {"revision": self.revision, "folder": str(self.folder), "files": self.files + ["README.md"]}
        if self.merge_from is not None:
            out["merged_from"] = str(self.merge_from)
        return out


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


def push(repo_id: str, uploads: list[Upload], private: bool, token: str, say=lambda message: None) -> str:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        for upload in uploads:
            if upload.revision != "main":
                api.create_branch(repo_id, branch=upload.revision, exist_ok=True)
            if upload.merge_from is None:
                _commit(api, repo_id, upload)
                continue
            import tempfile

            from openrs_cli.lora import merge_adapter

            with tempfile.TemporaryDirectory(prefix="openrs-merge-") as tmp:
                merged = merge_adapter(upload.merge_from, Path(tmp) / "merged", say)
                upload.folder, upload.files = merged, files_to_upload(merged)
                _commit(api, repo_id, upload)
    except HfHubHTTPError as exc:
        # the message names the repo and the HTTP status, never the token
        raise RuntimeFailure(
            f"upload to {repo_id} failed: {str(exc).splitlines()[0]}", "check the repo id and token rights"
        ) from exc
    return str(url)


def _commit(api, repo_id: str, upload: Upload) -> None:
    from huggingface_hub import CommitOperationAdd

    operations = [CommitOperationAdd(path_in_repo=f, path_or_fileobj=content(upload.folder, f)) for f in upload.files]
    operations.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=upload.card.encode()))
    api.create_commit(
        repo_id, operations, commit_message=f"Upload {upload.revision} with openrs", revision=upload.revision
    )


def merged_branch(revision: str) -> str:
    """The branch a LoRA run's merged model goes to, beside the adapter's `revision`."""
    return "merged" if revision == "main" else f"{revision}-merged"


def plan_uploads(
    model_dir: Path,
    repo_id: str,
    checkpoints: str | None,
    revision: str,
    results: list[Path],
    warn,
    merged: bool = False,
) -> list[Upload]:
    """One upload per chosen checkpoint (its own branch), or the final model on `revision`, each with a card
    holding the eval rows of that step (found in `results`, else in the folder). A LoRA run's final folder is
    its adapter; `merged` adds the adapter merged into its base, on its own branch."""
    from openrs_cli.checkpoints import pick_checkpoints
    from openrs_cli.lora import is_adapter
    from openrs_cli.push.model_card import build_card, load_training_config
    from openrs_cli.report.collect import group_runs, scan

    if not model_dir.is_dir():
        raise BadInputError(f"model folder {model_dir} does not exist", "give a training output folder")
    if merged and checkpoints:
        raise BadInputError("--merged uploads the final adapter's merge", "drop --checkpoints or --merged")
    if merged and not is_adapter(model_dir):
        raise BadInputError(f"--merged needs a LoRA adapter folder and {model_dir} is not one", "drop --merged")
    roots = results or [p.parent for p in model_dir.rglob("summary.json")]
    rows = group_runs(scan(roots, warn), warn) if roots else []
    config = load_training_config(model_dir)
    if checkpoints:
        picked = pick_checkpoints(model_dir, checkpoints, "drop --checkpoints to push the final model", warn)
        return [
            Upload(
                f"checkpoint-{step}",
                folder,
                files_to_upload(folder),
                build_card(
                    repo_id,
                    folder,
                    config,
                    [r for r in rows if r.step == step],
                    "adapter" if is_adapter(folder) else "full",
                ),
            )
            for step, folder in picked
        ]
    if not (model_dir / "config.json").is_file() and not is_adapter(model_dir):
        raise BadInputError(
            f"{model_dir} has no config.json (nor a LoRA adapter_config.json)",
            "use --checkpoints to push its checkpoints",
        )
    final = [r for r in rows if r.step is None] or rows
    if not is_adapter(model_dir):
        return [Upload(revision, model_dir, files_to_upload(model_dir), build_card(repo_id, model_dir, config, final))]
    branch = merged_branch(revision) if merged else None
    adapter = Upload(
        revision,
        model_dir,
        files_to_upload(model_dir),
        build_card(repo_id, model_dir, config, final, "adapter", branch),
    )
    if not merged:
        return [adapter]
    card = build_card(repo_id, model_dir, config, final, "merged", branch)
    return [adapter, Upload(branch or revision, model_dir, [], card, merge_from=model_dir)]


def push_dataset(folder: Path, repo_id: str, token: str) -> None:
    """Upload a prepared dataset folder to a dataset repo (created when missing)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
        api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(folder))
    except HfHubHTTPError as exc:  # the message names the repo and the HTTP status, never the token
        raise RuntimeFailure(
            f"upload to {repo_id} failed: {str(exc).splitlines()[0]}", "check the repo id and token rights"
        ) from exc
