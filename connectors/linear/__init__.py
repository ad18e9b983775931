"""Linear: the gql client, GraphQL queries (validated against the vendor schema in tests), pure
parsing, webhooks, and what is written into a workspace."""
