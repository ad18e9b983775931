"""``v2mom review``: close review periods, list them, show one."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from v2mom.app.cli_common import ConfigOpt, cli_actor, err, exit_on_errors, open_store, out
from v2mom.app.schemas.reviews import ReviewSnapshot
from v2mom.clock import iso_seconds, today
from v2mom.errors import ConfigError
from v2mom.mapping.plan import Plan
from v2mom.reports.periods import PeriodError
from v2mom.reports.reviews import close_ended_periods, close_reference
from v2mom.settings import load_settings
from v2mom.store.reviews import CloseResult, ReviewSummary

review_app = typer.Typer(no_args_is_help=True, help="Review periods: close them, list and show the reviews.")


def review_line(summary: ReviewSummary) -> str:
    """One review, one line: reference, dates, plan version, closed when and by whom."""
    return (
        f"{summary.cycle_id}/{summary.period_id}\t{summary.period_start.isoformat()}..."
        f"{summary.period_end.isoformat()}\tplan v{summary.plan_version}\t"
        f"closed {iso_seconds(summary.closed_at)} by {summary.closed_by}"
    )


def close_line(result: CloseResult) -> str:
    """What closing one period did: closed now, or closed before (and left as it was)."""
    summary = result.review
    reference = f"{summary.cycle_id}/{summary.period_id}"
    if result.closed:
        return f"closed {reference} ({summary.period_start.isoformat()}..{summary.period_end.isoformat()})"
    return f"already closed {reference} on {iso_seconds(summary.closed_at)} by {summary.closed_by}: unchanged"


@review_app.command("close")
def review_close(
    period: Annotated[
        str | None, typer.Option("--period", help="CYCLE/PERIOD, e.g. fy27/q1 (default: every ended period).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Store the review of PERIOD, or of every ended period of the plan's cycle without one.

    A period closed before is left as it was, and said so. A bad or unended period exits 2.
    """
    with exit_on_errors():
        settings = load_settings(config)
        store = open_store(settings)
        plan = store.plans.current() or Plan()
        calendar = settings.calendar()
        try:
            if period is not None:
                results = [close_reference(store, plan, period, cli_actor(), today(), calendar=calendar)]
            elif plan.cycle is None:
                raise PeriodError("the stored plan has no cycle, so it has no periods to close")
            else:
                results = close_ended_periods(store, plan, cli_actor(), today(), calendar=calendar)
        except PeriodError as exc:
            raise ConfigError(f"--period: {exc}" if period is not None else str(exc)) from None
    if not results:
        out.print("no period of the plan's cycle has ended yet: nothing to close", markup=False)
    for result in results:
        out.print(close_line(result), markup=False)


@review_app.command("list")
def review_list(config: ConfigOpt = None) -> None:
    """Every closed period, one line each."""
    with exit_on_errors():
        reviews = open_store(load_settings(config)).reviews.list()
    for summary in reviews:
        sys.stdout.write(review_line(summary) + "\n")


@review_app.command("show")
def review_show(
    reference: Annotated[str, typer.Argument(help="CYCLE/PERIOD, e.g. fy27/q1")],
    config: ConfigOpt = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The whole snapshot, as the HTTP API sends it.")
    ] = False,
) -> None:
    """One review: the company's and each team's effort by value in points, and the measures met."""
    with exit_on_errors():
        cycle_id, slash, period_id = reference.partition("/")
        if not slash or not cycle_id or not period_id:
            raise ConfigError(f"'{reference}': expected CYCLE/PERIOD, e.g. fy27/q1")
        review = open_store(load_settings(config)).reviews.get(cycle_id, period_id)
    if review is None:
        err.print(f"no review of {reference}: that period has not been closed", markup=False)
        raise typer.Exit(1)
    snapshot = ReviewSnapshot.model_validate(review.document)
    if as_json:
        sys.stdout.write(snapshot.model_dump_json(by_alias=True) + "\n")
        return
    for line in review_text(snapshot):
        sys.stdout.write(line + "\n")


def review_text(snapshot: ReviewSnapshot) -> list[str]:
    """A review as lines: the period, then per part (company, teams) each value's share and the measures."""
    period = snapshot.period
    cut = ", cut at the cycle switch" if period.cut else ""
    lines = [
        f"{snapshot.cycle.id}/{period.id} ({period.start}..{period.end}{cut}) plan v{snapshot.plan_version},"
        f" closed {snapshot.closed_at} by {snapshot.closed_by}"
    ]
    parts = [("company", snapshot.company), *((f"team {k}", v) for k, v in snapshot.teams.items())]
    for name, part in parts:
        report = part.reports["points"]
        lines.append(f"{name}: {report.total.effort:g} points done")
        for value in report.values:
            lines.append(f"  {value.id}\t{value.effort:g}\t{value.share:.1%}")
        lines.append(f"  untagged\t{report.untagged.effort:g}\t{report.untagged.share:.1%}")
        for measure in part.measures["points"]:
            verdict = "met" if measure.met else "not met"
            lines.append(
                f"  measure {measure.id}: {measure.actual:.1%} of target {measure.target:.0%}: {verdict}"
            )
    return lines
