"""What a suggestion reads of an item: its words, not its tags.

The title comes first, on a line of its own (the model reads its characters as well as its words:
it is what people write most carefully), then the description (cut to
:data:`DESCRIPTION_WORDS` characters: the start of a description says what the work is; the rest
would only slow training), the labels and components that are not tags themselves (``value:`` /
``method:`` labels and Linear's ``Value/`` / ``Method/`` group labels are what is being
predicted), the custom fields' options other than the V2MOM fields', and the parent's title (an
epic's or a project's name says much of its children).
"""

from __future__ import annotations

from v2mom.models import WorkItem
from v2mom.vocabulary import field_kind, group_label_kind

__all__ = ["DESCRIPTION_WORDS", "learning_text"]

DESCRIPTION_WORDS = 2_000  # characters of a description read


def _not_a_tag(label: str) -> bool:
    """Whether ``label`` is a plain label, not ``value:<id>``, ``method:<id>`` nor a Linear group's."""
    prefix, sep, _ = label.partition(":")
    return not (sep and prefix.strip().casefold() in ("value", "method")) and group_label_kind(label) is None


def learning_text(item: WorkItem, parent_title: str | None = None) -> str:
    """The text a suggestion learns from and scores for ``item`` (see the module docstring)."""
    parts = [" ".join(item.title.split()), item.description[:DESCRIPTION_WORDS]]
    parts.extend(label for label in item.labels if _not_a_tag(label))
    parts.extend(item.components)
    for name, options in item.custom_fields.items():
        if field_kind(name) is None:
            parts.extend(options)
    if parent_title:
        parts.append(parent_title)
    return "\n".join(part for part in parts if part)
