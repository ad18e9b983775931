"""How the CLI shows the API's documents: the same response models as HTTP, rendered for a terminal.

``report --format json`` is the HTTP body byte for byte: the model is serialised the way FastAPI
serialises a response model (pydantic's JSON, by alias), not re-encoded with :mod:`json`.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Console
from rich.table import Table

from v2mom.app.schemas.access import TokenDocument
from v2mom.app.schemas.audit import entry_document
from v2mom.app.schemas.plan import PlanChangeSummary, PlanHistory
from v2mom.app.schemas.reports import EffortReport, ItemDocument, ItemPeopleTime
from v2mom.store.audit import AuditEvent


def report_json(report: EffortReport) -> str:
    """The report exactly as ``GET /api/reports/effort-by-value`` sends it."""
    return report.model_dump_json(by_alias=True)


def effort_text(measure: str, effort: float) -> str:
    """An effort as ``measure`` reads: ``3.20 FTE``, ``12.5 person-days``, else ``12.5``."""
    if measure == "fte":
        return f"{effort:.2f} FTE"
    if measure == "person_days":
        return f"{effort:.1f} person-days"
    return f"{effort:.1f}"


def report_table(report: EffortReport) -> Table:
    """Effort, share, target and items per value (with its methods), then untagged, unaligned (a plan
    with teams), orphaned, total. In people's time the caption says over which working days, how many
    people, which items nobody held, and any team folded into its parent."""
    table = Table(title=f"Effort by value ({report.measure}, state {report.state})")
    for column in ("value", "effort", "share", "target", "items"):
        table.add_column(column, justify="left" if column == "value" else "right")
    for value in report.values:
        target = value.target_share
        table.add_row(
            value.name,
            effort_text(report.measure, value.effort),
            f"{value.share:.1%}",
            "" if target is None else f"{target:.0%}",
            str(value.items),
        )
        for method in value.methods:
            table.add_row(
                f"  · {method.name}", effort_text(report.measure, method.effort), "", "", str(method.items)
            )
    parts = (("untagged", report.untagged), ("unaligned", report.unaligned), ("orphaned", report.orphaned))
    for name, part in parts:
        if part is not None:  # unaligned: only a plan with teams has it
            table.add_row(
                name, effort_text(report.measure, part.effort), f"{part.share:.1%}", "", str(part.items)
            )
    table.add_row("total", effort_text(report.measure, report.total.effort), "", "", str(report.total.items))
    if report.working_days is not None:
        lines = [
            f"{report.people} people over {report.working_days} working days, "
            f"{report.date_from} to {report.date_to}; "
            f"{report.unattributed.items if report.unattributed else 0} in-progress items held by nobody"
        ]
        if report.folded is not None:
            lines.append(report.folded.note)
        table.caption = "\n".join(lines)
    return table


def history_table(history: PlanHistory) -> Table:
    """The plan's versions, newest first: version, when (UTC), who, why and what changed."""
    table = Table(title="Plan history (newest first)")
    for column in ("version", "when", "who", "why", "what changed"):
        table.add_column(column, justify="right" if column == "version" else "left")
    for version in history.versions:
        when = datetime.fromisoformat(version.created_at)
        table.add_row(
            str(version.version),
            f"{when:%Y-%m-%d %H:%M}",
            version.created_by,
            version.reason or "",
            change_text(version.changes),
        )
    return table


def change_text(changes: PlanChangeSummary | None) -> str:
    """What a version changed, in one line: its change lines, then the effort it moved."""
    if changes is None:
        return "(not recorded)"
    text = "; ".join(changes.lines)
    moved = changes.effort_moved
    if moved is not None and moved.moved:
        unit = "items" if moved.measure == "count" else moved.measure
        text += f"; moved {moved.moved:g} {unit} ({moved.share:.0%})"
    return text


def explanation_lines(document: ItemDocument) -> list[str]:
    """Why an item has its values: title, values with weights, methods, the reasons, its flags, and
    its person-days in the window."""
    resolution = document.resolution
    lines = [f"{document.tracker}:{document.key} — {document.item.title}"]
    if document.deleted:
        lines.append("deleted in the tracker: counts nothing")
    values = resolution.values if resolution else {}
    lines.append("values: " + (", ".join(f"{v} ({w:.0%})" for v, w in values.items()) if values else "none"))
    lines.append("methods: " + (", ".join(resolution.methods if resolution else []) or "none"))
    lines += [f"  because {line}" for line in document.explanation]
    lines.append("flags: " + (", ".join(resolution.flags if resolution else []) or "none"))
    lines += [f"  {reason}" for reason in (resolution.reasons if resolution else [])]
    lines.append(f"people's time: {people_time_text(document.people_time)}")
    return lines


def people_time_text(time: ItemPeopleTime) -> str:
    """An item's person-days in words, by day count only: ``4.5 person-days over 6 working days,
    2026-08-12 to 2026-11-09``."""
    days = "working day" if time.days_worked == 1 else "working days"
    return (
        f"{time.person_days:.1f} person-days over {time.days_worked} {days}, "
        f"{time.date_from} to {time.date_to}"
    )


def token_line(token: TokenDocument) -> str:
    """One tab-separated line of ``v2mom token list``: id, role, name, state, last use."""
    revoked = datetime.fromisoformat(token.revoked_at) if token.revoked_at else None
    last_used = datetime.fromisoformat(token.last_used_at) if token.last_used_at else None
    state = f"revoked {revoked:%Y-%m-%d}" if revoked else "active"
    used = f"{last_used:%Y-%m-%d %H:%M}" if last_used else "never"
    return f"{token.id}\t{token.role}\t{token.name}\t{state}\tlast used {used}"


def audit_line(event: AuditEvent) -> str:
    """One tab-separated line of ``v2mom audit``: time (as the API sends it), actor, kind, summary."""
    entry = entry_document(event)
    return f"{entry['at']}\t{entry['actor']}\t{entry['kind']}\t{entry['summary']}"


def print_lines(console: Console, lines: list[str]) -> None:
    """Print plain lines (no rich markup: item titles may contain brackets)."""
    for line in lines:
        console.print(line, markup=False)
