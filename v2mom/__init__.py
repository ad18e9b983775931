"""v2mom-sync: how much of the real work in Jira, Asana and Linear goes to each V2MOM value.

This package is the core and the one import root. The core modules here (``models``, ``events``,
``errors``, ``settings``, ``yamlio``, ``clock``, ``background``, ``metrics``, ``logs``) import
nothing else of ours. Every
stage of the data flow is a folder at the repository root that installs *under* this root:

    v2mom.connectors  v2mom.mapping      tracker clients and parsing; the pure plan and resolver
    v2mom.store       all SQL: schema, migrations, repositories, the set-based resolution engine
    v2mom.sync        v2mom.reports      v2mom.webhooks     the use cases
    v2mom.app         delivery: FastAPI app and routes, dashboard, CLI, demo and serve wiring
    v2mom.sandbox     fake trackers for the demo, the tests and the benchmarks

In a checkout each of those names is a relative symlink (``v2mom/sync -> ../sync``), so Python,
mypy, import-linter and the wheel build all see the installed layout without import hooks; each
folder's ``__init__`` refuses to be imported under its bare name (``import sync`` fails). The
layers' import rules are ``.importlinter`` at the repository root.
"""

__version__ = "0.1.0"
