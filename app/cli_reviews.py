"""``v2mom review``: close review periods, list them, show one."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from v2mom.app.cli_common import ConfigOpt, cli_actor, err, exit_on_errors, open_store, out
from v2mom.app.cli_render import effort_text
from v2mom.app.schemas.reports import ReportBody, ReportMeasureName
from v2mom.app.schemas.reviews import MeasureResult, ReviewSnapshot
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
    measure: Annotated[
        ReportMeasureName,
        typer.Option(
            "--measure",
            help="points, hours or count (done work), or person_days or fte (the time worked in the period).",
        ),
    ] = "points",
    as_json: Annotated[
        bool, typer.Option("--json", help="The whole snapshot, as the HTTP API sends it.")
    ] = False,
) -> None:
    """One review: the company's and each team's effort by value in MEASURE, and the measures met."""
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
    for line in review_text(snapshot, measure):
        sys.stdout.write(line + "\n")


BEFORE_PEOPLE_TIME = "this review was closed before people's time was recorded"


def review_text(snapshot: ReviewSnapshot, measure: ReportMeasureName = "points") -> list[str]:
    """A review as lines: the period, then per part (company, teams) each value's share in ``measure``
    and the measures met. In people's time a part says over how many working days and how many
    people; a team too small to show says where its time is, and a review closed before people's
    time was recorded says so, once."""
    period = snapshot.period
    cut = ", cut at the cycle switch" if period.cut else ""
    lines = [
        f"{snapshot.cycle.id}/{period.id} ({period.start}..{period.end}{cut}) plan v{snapshot.plan_version},"
        f" closed {snapshot.closed_at} by {snapshot.closed_by}"
    ]
    if measure not in snapshot.company.reports:
        return [*lines, f"{BEFORE_PEOPLE_TIME}: it has no {measure} figures"]
    parts = [("company", snapshot.company), *((f"team {k}", v) for k, v in snapshot.teams.items())]
    for name, part in parts:
        folded = {str(key): note for key, note in (part.folded or {}).items()}.get(measure)
        if folded is not None:
            lines.append(f"{name}: {folded.note}")
        elif measure in part.reports:
            lines += _part_lines(name, part.reports[measure], part.measures.get(measure, []))
        else:  # a stored team has either; say so rather than fail on a document edited by hand
            lines.append(f"{name}: no {measure} figures")
    return lines


def _part_lines(name: str, report: ReportBody, measures: list[MeasureResult]) -> list[str]:
    """One part's lines: its total, each value's effort and share, untagged, the measures met."""
    if report.working_days is not None:  # people's time
        lines = [
            f"{name}: {effort_text(report.measure, report.total.effort)} worked",
            f"  {report.people} people over {report.working_days} working days,"
            f" {report.date_from} to {report.date_to}; work in every state",
        ]
        for value in report.values:
            lines.append(f"  {value.id}\t{effort_text(report.measure, value.effort)}\t{value.share:.1%}")
        untagged = effort_text(report.measure, report.untagged.effort)
        lines.append(f"  untagged\t{untagged}\t{report.untagged.share:.1%}")
    else:
        unit = {"count": "items"}.get(report.measure, report.measure)
        lines = [f"{name}: {report.total.effort:g} {unit} done"]
        for value in report.values:
            lines.append(f"  {value.id}\t{value.effort:g}\t{value.share:.1%}")
        lines.append(f"  untagged\t{report.untagged.effort:g}\t{report.untagged.share:.1%}")
    for measure in measures:
        verdict = "met" if measure.met else "not met"
        lines.append(
            f"  measure {measure.id}: {measure.actual:.1%} of target {measure.target:.0%}: {verdict}"
        )
    return lines
