"""Tests of connectors/: retries and each tracker connector."""
