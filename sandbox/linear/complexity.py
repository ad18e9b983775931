"""Linear's query complexity, estimated before a query runs, and its ceiling for one query.

Linear prices each query before running it: a property costs 0.1 point, an object 1 point, and a
connection multiplies the points of what it selects by its page argument (``first`` or ``last``,
50 when neither is given), since that many nodes may come back. A query priced over
:data:`MAX_COMPLEXITY` is refused whole, as ``Query too complex`` on HTTP 400, whatever it would
have returned (an empty workspace too). The sandbox refuses the same queries, so a document whose
nested pages multiply past the ceiling fails here as it would against Linear.

The estimate reads the served schema for each field's type; the connection itself counts as an
object, and its ``pageInfo`` is multiplied with its ``nodes`` (Linear multiplies "its children"):
at the ceiling, this errs on the side of refusing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)

__all__ = ["DEFAULT_PAGE", "MAX_COMPLEXITY", "query_complexity"]

MAX_COMPLEXITY = 10_000  # points of one query
DEFAULT_PAGE = 50  # a connection asked without first/last
PROPERTY, OBJECT = 0.1, 1.0


class _Pricing:
    """Walks one operation of a validated document over ``schema``."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self._schema = schema
        self._variables = variables
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def selection(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType) -> float:
        """The points of ``selection_set`` read on ``parent``."""
        if selection_set is None:
            return 0.0
        points = 0.0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                points += self._field(node, parent)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self._fragments[node.name.value]
                points += self.selection(
                    fragment.selection_set, self._type(fragment.type_condition.name.value)
                )
            elif isinstance(node, InlineFragmentNode):
                on = self._type(node.type_condition.name.value) if node.type_condition else parent
                points += self.selection(node.selection_set, on)
        return points

    def _type(self, name: str) -> GraphQLNamedType:
        found = self._schema.get_type(name)
        if found is None:  # validation has refused such a document already
            raise KeyError(name)
        return found

    def _field(self, node: FieldNode, parent: GraphQLNamedType) -> float:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType):
            return PROPERTY if node.selection_set is None else OBJECT
        named = get_named_type(parent.fields[name].type)
        if is_leaf_type(named):
            return PROPERTY
        inner = self.selection(node.selection_set, named)
        if named.name.endswith("Connection"):
            return OBJECT + self._page(node) * inner
        return OBJECT + inner

    def _page(self, node: FieldNode) -> int:
        """The page a connection field asks for: its ``first`` or ``last`` argument, else the default."""
        for argument in node.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = self._variables.get(value.name.value)
                if isinstance(given, int) and not isinstance(given, bool):
                    return given
        return DEFAULT_PAGE


def query_complexity(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> float:
    """The points Linear would price operation ``operation_name`` of ``document`` at (the first
    operation when None), with ``variables``; ``document`` must be valid against ``schema``."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next(
        (o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)),
        None,
    )
    if chosen is None:
        return 0.0
    root = schema.mutation_type if chosen.operation is OperationType.MUTATION else schema.query_type
    if root is None:
        return 0.0
    return _Pricing(schema, document, variables or {}).selection(chosen.selection_set, root)
