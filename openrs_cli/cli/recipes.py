"""`openrs recipes`: list the shipped training recipes, show one, copy one to edit (as torchtune's `tune ls`/`cp`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from openrs_cli.cli import output
from openrs_cli.cli.options import GpusOpt, JsonOpt, SetOpt

app = typer.Typer(
    help="The shipped training recipes: list them, show one, copy one to edit.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

NameArg = Annotated[str, typer.Argument(help="A shipped recipe, e.g. exp3 or smoke (see 'openrs recipes list').")]


@app.command("list")
def list_command(json_out: JsonOpt = False) -> None:
    """Each shipped recipe with its one-line description."""
    from openrs_cli.train import recipes

    rows = recipes.recipe_summaries()
    listed = [{"name": n, "description": d} for n, d in rows]
    output.emit(listed, json_out, lambda: "\n".join(f"{name:8s} {description}" for name, description in rows))


@app.command("show")
def show_command(
    name: NameArg,
    sources: Annotated[
        bool, typer.Option("--sources", help="Every effective key and where its value comes from.")
    ] = False,
    sets: SetOpt = None,  # with --sources
    gpus: GpusOpt = "auto",
    json_out: JsonOpt = False,
) -> None:
    """A recipe's YAML as shipped; with --sources, the effective config and where each value comes from."""
    from openrs_cli.train import recipes

    if not sources:
        if sets or json_out:
            raise typer.BadParameter("--set and --json go with --sources", param_hint="--sources")
        typer.echo(recipes.recipe_text(name), nl=False)
        return
    from openrs_cli.train.plan import TrainOptions

    print_sources(TrainOptions(recipe=name, sets=sets or [], gpus=gpus, planning_only=True), json_out)


@app.command("copy")
def copy_command(
    name: NameArg,
    file: Annotated[Path, typer.Argument(help="Where to write it (a new .yaml file), then: train --config FILE.")],
) -> None:
    """Copy a recipe's YAML to a file of your own to edit; an existing file is never overwritten."""
    from openrs_cli.atomic import write_text
    from openrs_cli.errors import BadInputError
    from openrs_cli.train import recipes

    text = recipes.recipe_text(name)
    if file.exists() or file.is_symlink():
        raise BadInputError(f"{file} already exists", "choose a new file name, or remove it first")
    if file.suffix not in (".yaml", ".yml"):
        raise BadInputError(f"{file} is not a .yaml file", f"give a name such as {file.with_suffix('.yaml').name}")
    write_text(file, text)
    typer.echo(f"wrote {file}: edit it, then run openrs train --config {file}")


def print_sources(opts, json_out: bool) -> None:
    """The effective config a `TrainOptions` plans, each key with where its value comes from."""
    from openrs_cli.train import recipes
    from openrs_cli.train.plan import plan_training
    from openrs_cli.train.provenance import format_sources, key_sources

    plan = plan_training(opts)
    rows = key_sources(plan.config, plan.origins, str(plan.config.get("recipe")), recipes.recipe_text(opts.recipe))
    output.emit(rows, json_out, lambda: format_sources(rows))
