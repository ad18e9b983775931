"""The HTTP API's response documents, as pydantic models (the delivery side's schemas).

The use cases (``v2mom.reports``, ``v2mom.store``) keep returning plain documents; each route validates
what they return into one of these models, so ``/openapi.json`` documents every answer and the CLI
renders the same models. They describe today's JSON exactly: same keys in the same order, nulls where
there are nulls, keys left out where they were left out (routes with optional keys serialise with
``exclude_unset``), and ``int | float`` wherever a number can come back as either, so nothing is
coerced. ``extra="forbid"``: a key a use case starts returning fails loudly in the tests instead of
being silently dropped from the answer.
"""
