"""``v2mom trackers …``: what v2mom-sync sets up inside the trackers (CONTRACT.md "In the tracker")."""

from __future__ import annotations

from typing import Annotated

import typer

from v2mom.app.cli_common import ConfigOpt, err, exit_on_errors, open_store, out
from v2mom.settings import load_settings
from v2mom.sync.provision import TrackerProvision, provision

trackers_app = typer.Typer(no_args_is_help=True, help="Set up the trackers: the choices people pick.")


def change_lines(result: TrackerProvision, *, apply: bool) -> list[str]:
    """One line per change of ``result`` (or "no change"), prefixed by its tracker."""
    if not result.changes:
        return [] if result.error else [f"{result.tracker}: no change"]
    verb = "" if apply and result.applied else "would "
    return [f"{result.tracker}: {verb}{change.describe()}" for change in result.changes]


@trackers_app.command("provision")
def trackers_provision(
    config: ConfigOpt = None,
    tracker: Annotated[str | None, typer.Option(help="Only this tracker (jira, asana, linear).")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Make the changes (default: print them).")] = False,
) -> None:
    """Offer the plan's values and methods as choices in each tracker: print the diff; --apply makes it.

    Jira: select fields "V2MOM Value" / "V2MOM Method"; Asana: enum fields of the same names on every
    configured project; Linear: label groups "Value" / "Method". Renames follow the plan; a removed
    value's option is disabled, never deleted. Exit 1 when a tracker refused (the others still ran).
    """
    with exit_on_errors():
        settings = load_settings(config)
        results = provision(settings, open_store(settings), apply=apply, tracker=tracker)
    for result in results:
        for line in change_lines(result, apply=apply):
            out.print(line, markup=False)
        if result.error is not None:
            err.print(f"{result.tracker}: FAILED: {result.error}", markup=False)
    if not all(result.ok for result in results):
        raise typer.Exit(1)
