"""`openrs push`: upload a trained model (or its checkpoints) to the Hub with a model card."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from openrs_cli.cli import output
from openrs_cli.cli.options import DryRunOpt, JsonOpt

# the Hub's own rule: letters, digits, '-', '_', '.'; no '--' or '..'; no leading/trailing '-' or '.'; <= 96 chars
_NAME = r"[A-Za-z0-9](?:[\w.-]{0,94}[A-Za-z0-9])?"
_REPO = re.compile(rf"^(?!.*(?:--|\.\.)){_NAME}/{_NAME}\Z")


def push(
    model_dir: Annotated[
        Path, typer.Option("--model", "--model-dir", help="A training output folder (or any model folder).")
    ],
    repo_id: Annotated[str, typer.Option("--repo-id", help="user/name on the Hub.")],
    checkpoints: Annotated[
        str | None, typer.Option("--checkpoints", help="all or 50,100: each checkpoint to its own branch.")
    ] = None,
    results: Annotated[
        list[Path] | None,
        typer.Option("--results", help="Eval outputs for the card (default: found in the folder).", metavar="DIR"),
    ] = None,
    private: Annotated[bool, typer.Option("--private", help="Create the repo as private.")] = False,
    revision: Annotated[str, typer.Option("--branch", "--revision", help="Branch for the final model.")] = "main",
    merged: Annotated[
        bool,
        typer.Option("--merged", help="A LoRA run: also upload the adapter merged into its base (branch 'merged')."),
    ] = False,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Upload a model or chosen checkpoints to the Hugging Face Hub, with a model card holding its results."""
    from openrs_cli.errors import BadInputError
    from openrs_cli.push.upload import plan_uploads, token_or_fail
    from openrs_cli.push.upload import push as do_push

    if not _REPO.match(repo_id):
        raise BadInputError(f"--repo-id '{repo_id}' is not of the form user/name")
    uploads = plan_uploads(model_dir, repo_id, checkpoints, revision, list(results or []), output.warn, merged)
    plan = {"repo_id": repo_id, "private": private, "dry_run": dry_run, "uploads": [u.to_dict() for u in uploads]}
    if dry_run:
        if json_out:
            output.emit({**plan, "cards": {u.revision: u.card for u in uploads}}, json_out)
            return
        for upload in uploads:
            if upload.merge_from is not None:
                typer.echo(f"# {repo_id} @ {upload.revision}: the adapter merged into its base, written at upload")
            else:
                typer.echo(f"# {repo_id} @ {upload.revision}: {len(upload.files) + 1} files")
            for name in [*upload.files, "README.md"]:
                typer.echo(f"  {name}")
            typer.echo("\n" + upload.card)
        return
    url = do_push(repo_id, uploads, private, token_or_fail(), output.say)
    output.emit({**plan, "url": url}, json_out, f"uploaded {sum(len(u.files) + 1 for u in uploads)} files to {url}")
