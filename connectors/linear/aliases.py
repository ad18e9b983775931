"""Several copies of one mutation in one GraphQL document, so that n small writes cost one request.

``aliased_text(text, n)`` turns a document of ``queries/`` with one operation, say::

    mutation LinkCreate($input: AttachmentCreateInput!) { attachmentCreate(input: $input) { success } }

into ``mutation LinkCreateBatch($input_0: ..., $input_1: ...) { attachmentCreate_0: attachmentCreate(
input: $input_0) { success } attachmentCreate_1: ... }``: every variable and every top-level field gets
the copy's index as a suffix, fragments are kept once. The copies keep the template's types and
arguments, so a document valid against Linear's schema stays valid (a test checks both). A mutation's
top-level fields run one after the other (GraphQL executes them serially), which is what
:meth:`~connectors.linear.client.LinearClient.execute_aliased` relies on to tell which copies ran.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

__all__ = ["alias_index", "aliased_text", "split_data"]

_ALIAS = re.compile(r"^(?P<field>\w+?)_(?P<index>\d+)$")


class _Suffix(Visitor):
    """Renames every variable ``$x`` to ``$x_<index>``."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def enter_variable(self, node: VariableNode, *_: Any) -> VariableNode:
        return VariableNode(name=NameNode(value=f"{node.name.value}_{self.index}"))


def aliased_text(text: str, count: int) -> str:
    """``count`` copies of the single operation in ``text`` (see the module docstring)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    document = parse(text)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].name is None:
        raise ValueError("the template must hold exactly one named operation")
    template = operations[0]
    template_name = template.name.value if template.name is not None else ""
    variables: list[Any] = []
    fields: list[FieldNode] = []
    for index in range(count):
        renamed = visit(copy.deepcopy(template), _Suffix(index))
        variables.extend(renamed.variable_definitions or ())
        for field in renamed.selection_set.selections:
            if not isinstance(field, FieldNode):
                raise ValueError("the template's top level must hold fields only")
            name = (field.alias or field.name).value
            fields.append(
                FieldNode(
                    alias=NameNode(value=f"{name}_{index}"),
                    name=field.name,
                    arguments=field.arguments,
                    directives=field.directives,
                    selection_set=field.selection_set,
                )
            )
    operation = OperationDefinitionNode(
        operation=template.operation,
        name=NameNode(value=f"{template_name}Batch"),
        variable_definitions=tuple(variables),
        directives=(),
        selection_set=SelectionSetNode(selections=tuple(fields)),
    )
    others = tuple(d for d in document.definitions if d is not template)
    return print_ast(DocumentNode(definitions=(operation, *others)))


def alias_index(alias: object) -> int | None:
    """The copy index of a top-level alias such as ``attachmentCreate_3`` (None when it is not one)."""
    found = _ALIAS.match(alias) if isinstance(alias, str) else None
    return int(found["index"]) if found else None


def split_data(data: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """Each copy's part of ``data``, keyed by the template's own field names."""
    parts: list[dict[str, Any]] = [{} for _ in range(count)]
    for alias, value in data.items():
        found = _ALIAS.match(alias)
        if found and int(found["index"]) < count:
            parts[int(found["index"])][found["field"]] = value
    return parts
