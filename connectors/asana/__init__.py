"""The Asana connector (asana SDK v5)."""
