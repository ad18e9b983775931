"""HTTP routes that orchestrate several layers (plan changes re-resolve the store)."""
