"""What a Jira Data Center administrator does by hand when provisioning leaves steps to one: adds
the options Data Center's REST API cannot add (*Custom fields > Edit options*) and puts a field
created through REST on the edit screens. Done to a sandbox site, for the demo and the tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from v2mom.sandbox.jira.state import JiraState
from v2mom.vocabulary import FIELD_NAMES, ManualStep

__all__ = ["ByHand", "do_by_hand"]


@dataclass(frozen=True)
class ByHand:
    """What was done: options added, fields put on the edit screens."""

    options: int
    screens: int

    def describe(self) -> str:
        """One line for the demo's output."""
        return f"{self.options} option(s) added, {self.screens} field(s) put on the edit screens"


def do_by_hand(state: JiraState, steps: Sequence[ManualStep]) -> ByHand:
    """Do ``steps`` as the site's administrator would: an option to add is added to its field, a
    field to put on the screens is put there. Renames, disabling and enabling are left undone (a
    fresh site asks for none). KeyError for a step naming a field the site does not have."""
    field_of = {f["name"]: f["id"] for f in state.fields if f.get("custom")}
    options = screens = 0
    for step in steps:
        field_id = field_of[FIELD_NAMES[step.change.kind]]
        if step.follows:
            state.put_on_screens(field_id)
            screens += 1
        elif step.change.action == "create":
            state.add_field_option(field_id, step.change.name)
            options += 1
    return ByHand(options, screens)
