"""A fake Linear GraphQL API: the vendor schema's subset executed by graphql-core over generated data."""
