"""``v2mom trackers …``: what v2mom-sync sets up inside the trackers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from v2mom.app.cli_common import ConfigOpt, TrackerOpt, cli_actor, err, exit_on_errors, open_store, out
from v2mom.app.schemas.trackers import writeback_summary
from v2mom.settings import load_settings
from v2mom.sync.provision import TrackerProvision, provision
from v2mom.sync.writeback import Progress, WriteBackBusy, WriteBackDisabled, writeback

trackers_app = typer.Typer(no_args_is_help=True, help="Set up the trackers: the choices people pick.")


def change_lines(result: TrackerProvision, *, apply: bool) -> list[str]:
    """One line per change of ``result`` (or "no change"), prefixed by its tracker, then one per
    warning the run went on past; then one per change left to an administrator, which is never
    made here (whether or not ``apply``)."""
    warned = [f"{result.tracker}: warning: {warning}" for warning in result.warnings]
    if not result.changes and not result.manual:
        return warned + ([] if result.error else [f"{result.tracker}: no change"])
    verb = "" if apply and result.applied else "would "
    lines = [f"{result.tracker}: {verb}{change.describe()}" for change in result.changes] + warned
    lines += [f"{result.tracker}: for an administrator: {step.describe()}" for step in result.manual]
    if result.manual:
        lines.append(
            f"{result.tracker}: {len(result.manual)} step(s) left to an administrator (its API cannot"
            " make them): run provision again once they are done"
        )
    return lines


@trackers_app.command("provision")
def trackers_provision(
    config: ConfigOpt = None,
    tracker: TrackerOpt = None,
    apply: Annotated[bool, typer.Option("--apply", help="Make the changes (default: print them).")] = False,
) -> None:
    """Offer the plan's values and methods as choices in each tracker: print the diff; --apply makes it.

    Jira: select fields "V2MOM Value" / "V2MOM Method"; Asana: enum fields of the same names on every
    configured project; Linear: label groups "Value" / "Method". Renames follow the plan; a removed
    value's option is disabled, never deleted. Jira Data Center has no REST API for select options:
    those changes are printed as steps for a Jira administrator, never made and never a failure.
    Exit 1 when a tracker refused (the others still ran).
    """
    with exit_on_errors():
        settings = load_settings(config)
        results = provision(settings, open_store(settings), apply=apply, tracker=tracker, actor=cli_actor())
    for result in results:
        for line in change_lines(result, apply=apply):
            out.print(line, markup=False)
        if result.error is not None:
            err.print(f"{result.tracker}: FAILED: {result.error}", markup=False)
    if not all(result.ok for result in results):
        raise typer.Exit(1)


def writeback_command(
    config: ConfigOpt = None,
    tracker: TrackerOpt = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Write (default: print what would be written).")
    ] = False,
) -> None:
    """Write inferred values, methods and explanation links into the trackers: preview; --apply writes.

    Only items whose value or method was inferred (inherited or from a rule); a person's choice in
    the tracker always wins. Exit 1 when a tracker or an item refused or another write-back of the
    same tracker is running (nothing is written then), 2 when write-back is not enabled
    (trackers.<tracker>.write_back.enabled).
    """
    with exit_on_errors():
        settings = load_settings(config)
        store = open_store(settings)
        try:
            with _bar(apply and sys.stderr.isatty()) as progress:
                results = writeback(
                    settings, store, apply=apply, tracker=tracker, progress=progress, actor=cli_actor()
                )
        except WriteBackDisabled as exc:
            err.print(str(exc), markup=False)
            raise typer.Exit(2) from None
        except WriteBackBusy as exc:
            err.print(str(exc), markup=False)
            raise typer.Exit(1) from None
    for result in results:
        for note in result.notes:
            out.print(f"{result.tracker}: {note}", markup=False)
        for refusal in result.refused:
            err.print(f"{result.tracker}: refused {refusal}", markup=False)
        if result.error is not None:
            err.print(f"{result.tracker}: FAILED: {result.error}", markup=False)
        out.print(writeback_summary(result), markup=False)
    refused = sum(len(r.refused) for r in results)
    verb = "wrote" if apply else "would write"
    count = sum(r.written if apply else len(r.fields) for r in results)
    out.print(
        f"writeback: {verb} {count} item(s) in {len(results)} tracker(s), {refused} refused", markup=False
    )
    if not all(result.ok for result in results):
        raise typer.Exit(1)


@contextmanager
def _bar(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.progress import Progress as Bar

    with Bar(transient=True, console=err) as bar:
        tasks: dict[str, Any] = {}

        def advance(tracker: str, done: int, total: int) -> None:
            if tracker not in tasks:
                tasks[tracker] = bar.add_task(f"{tracker}: writing", total=total)
            bar.update(tasks[tracker], completed=done)

        yield advance
