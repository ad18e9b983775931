"""Linear: GraphQL queries (validated against the vendor schema in tests) and pure parsing.

The gql client and the connector arrive next (issue 3); nothing registers Linear yet.
"""
