"""The effort-by-value report as CSV: one row per value and per method, then untagged and orphaned."""

from __future__ import annotations

import csv
import io
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


def report_csv(report: dict[str, Any]) -> str:
    """Render a report document (``build_report``) as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for value in report["values"]:
        writer.writerow(
            (
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
        )
        for method in value["methods"]:
            writer.writerow(
                (
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
            )
    for row in ("untagged", "orphaned"):
        part = report[row]
        writer.writerow((row, "", "", "", "", part["effort"], part["share"], part["items"], ""))
    total = report["total"]
    writer.writerow(
        ("total", "", "", "", "", total["effort"], 1.0 if total["effort"] else 0.0, total["items"], "")
    )
    return out.getvalue()
