"""`openrs doctor`: check the machine before spending GPU money."""

from __future__ import annotations

from typing import Annotated

import typer

from openrs_cli.cli import output
from openrs_cli.cli.options import JsonOpt


def doctor(
    json_out: JsonOpt = False,
    offline: Annotated[bool, typer.Option("--offline", help="Skip the check that the Hub answers.")] = False,
) -> None:
    """Show GPUs, CPU and memory, the stack's versions, optional GPU packages, Hub access, runnable layouts."""
    from openrs_cli.doctor import collect

    facts = collect(offline=offline)
    if json_out:
        output.emit(facts, json_out)
        return
    _print_table(facts)


def _print_table(facts: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"openrs {facts['openrs']} doctor", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("python", f"{facts['python']} on {facts['platform']}")
    table.add_row("cpu / memory", f"{facts['cpu_count']} cores, {facts['memory_gib']} GiB")
    if facts["gpus"]:
        for gpu in facts["gpus"]:
            table.add_row(f"gpu {gpu['index']}", f"{gpu['name']}, {gpu['memory_mib'] / 1024:.0f} GiB")
    else:
        table.add_row("gpus", "[yellow]none found[/] (CPU only: smoke runs and small evals)")
    table.add_row("gpu source", str(facts["gpu_source"]))
    for name, version in facts["packages"].items():
        if name in facts["importable"]:
            ok = facts["importable"][name]
            table.add_row(name, f"{version} ([green]importable[/])" if ok else "[yellow]not installed[/]")
        else:
            table.add_row(name, version or "[red]missing[/]")
    hub = facts["hub"]
    token = f"configured ({hub['token_source']})" if hub["token_configured"] else "[yellow]not configured[/]"
    table.add_row("HF token", token)
    table.add_row("HF cache", f"{hub['cache_dir']} ({hub['cache_free_gib']} GiB free)")
    table.add_row("offline", f"hub={hub['offline']} datasets={hub['datasets_offline']}")
    reach = {None: "not checked (--offline)", True: "[green]reachable[/]", False: "[yellow]unreachable[/]"}
    table.add_row("Hub", f"{hub['endpoint']}: {reach[hub['reachable']]}")
    for layout, verdict in facts["layouts"].items():
        table.add_row(f"layout {layout}", verdict)
    for command, engine in facts["engines"].items():
        table.add_row(f"{command} generates with", engine)
    Console().print(table)
