"""The ASGI entry point of ``v2mom serve --workers N``: uvicorn calls :func:`factory` in each worker.

uvicorn starts several worker processes only from an import string (``v2mom.app.asgi:factory``,
``factory=True``). ``v2mom serve`` checks the settings, refuses SQLite and migrates the database
before it starts them, and passes the settings file it read in ``V2MOM_CONFIG``
(:func:`v2mom.app.serve.serve_workers`); the processes inherit the rest of its environment
(``V2MOM_DATABASE_URL``, the ``${VAR}`` secrets). Each builds the one serving app with its own
store: a connection pool, a webhook worker and a reconcile schedule of its own.
"""

from __future__ import annotations

from fastapi import FastAPI

from v2mom.app.serve import serving_app
from v2mom.logs import basic_logging, configure_logging
from v2mom.settings import load_settings
from v2mom.store.database import Database


def factory() -> FastAPI:
    """Build this worker process's app from the settings ``v2mom serve`` read (``V2MOM_CONFIG``),
    logging as ``serve`` does (its ``--log-format`` arrives as ``V2MOM_LOG_FORMAT``)."""
    basic_logging()
    settings = load_settings()
    configure_logging(settings.log_format, settings.secrets())
    return serving_app(settings, Database.open(settings.database_url))
