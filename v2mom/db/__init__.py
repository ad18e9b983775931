"""Storage: the SQL schema, engine set-up and migrations (SQLite embedded, PostgreSQL in production)."""
