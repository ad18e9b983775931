"""Asana (asana SDK v5): the connector files every tracker has
(``client``, ``parse``, ``webhook``, ``connector``, ``vocabulary``, ``tags``, ``links``; see
``connectors/__init__.py``)."""
