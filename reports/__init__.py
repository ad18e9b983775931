"""Effort-by-value and flag reports over the store; CSV; (later) the dashboard."""
