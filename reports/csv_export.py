"""The effort-by-value report as CSV: one row per value and per method, then untagged and orphaned.

Value and method names are anyone's text (the plan, the admin API), and a spreadsheet runs a cell
starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a formula:
such a text cell gets a leading ``'`` (OWASP's advice on CSV injection). Numbers are written as
numbers, a negative one too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

HEADER = (
    "row",
    "value_id",
    "value_name",
    "method_id",
    "method_name",
    "effort",
    "share",
    "items",
    "target_share",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(cell: object) -> object:
    """``cell`` as a spreadsheet shows it without running it: text that could start a formula
    prefixed with ``'``; numbers (negative ones too) and other text unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell


def safe_row(row: Iterable[object]) -> list[object]:
    """Every cell of ``row`` through :func:`safe_cell`."""
    return [safe_cell(cell) for cell in row]


def report_csv(report: dict[str, Any]) -> str:
    """Render a report document (``build_report``) as CSV text, every cell through :func:`safe_cell`."""
    return "".join(csv_line(safe_row(row)) for row in report_rows(report))


def csv_line(row: Iterable[object]) -> str:
    """One CSV record ending in ``\n``; a cell holding ``\r`` or ``\n`` is quoted.

    Python's writer quotes only the characters of its line terminator, so a carriage return in a
    name would be written bare (and split the record in every reader) with ``\n`` alone: the
    record is written with ``\r\n`` and ends with ``\n``, as the CSV always has.
    """
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(row)
    return out.getvalue().removesuffix("\r\n") + "\n"


def report_rows(report: dict[str, Any]) -> Iterator[tuple[object, ...]]:
    """The header, then a row per value and per method, untagged, unaligned (a plan with teams),
    orphaned and the total; in people's time, then unattributed items, people and working days."""
    yield HEADER
    for value in report["values"]:
        yield (
            "value",
            value["id"],
            value["name"],
            "",
            "",
            value["effort"],
            value["share"],
            value["items"],
            "" if value["target_share"] is None else value["target_share"],
        )
        for method in value["methods"]:
            yield (
                "method",
                value["id"],
                value["name"],
                method["id"] or "",
                method["name"],
                method["effort"],
                "",
                method["items"],
                "",
            )
    for row in ("untagged", "unaligned", "orphaned"):
        if row not in report:  # unaligned: only a plan with teams has it
            continue
        part = report[row]
        yield (row, "", "", "", "", part["effort"], part["share"], part["items"], "")
    total = report["total"]
    yield ("total", "", "", "", "", total["effort"], 1.0 if total["effort"] else 0.0, total["items"], "")
    if "working_days" in report:  # people's time: its counts, in the items column
        yield ("unattributed", "", "", "", "", "", "", report["unattributed"]["items"], "")
        yield ("people", "", "", "", "", "", "", report["people"], "")
        yield ("working_days", "", "", "", "", "", "", report["working_days"], "")
