"""v2mom-sync: how much of the real work in Jira, Asana and Linear goes to each V2MOM value.

This package is the core and the one import root. The core modules here (``models``, ``events``,
``errors``, ``settings``, ``yamlio``, ``clock``, ``background``, ``metrics``, ``logs``) import
nothing else of ours. Every stage of the data flow is a folder at the repository root that installs
*under* this root:

    v2mom.connectors  v2mom.mapping      tracker clients and parsing; the pure plan and resolver
    v2mom.store       all SQL: schema, migrations, repositories, the set-based resolution engine
    v2mom.sync        v2mom.reports      v2mom.webhooks     the use cases
    v2mom.app         delivery: FastAPI app and routes, dashboard, CLI, demo and serve wiring
    v2mom.sandbox     fake trackers for the demo, the tests and the benchmarks

In a checkout this package is the folder ``core/`` and the stages are plain folders beside it; the
build's package-dir mapping (``pyproject.toml``) installs them as ``v2mom`` and ``v2mom.<stage>``,
so each file has one path in the repository and the build needs no links. The core's folder is not
named ``v2mom``, so nothing at the repository root shadows the installed package, and each folder's
``__init__`` refuses to be imported under its bare name (``import sync`` or ``import core`` fails).
The layers' import rules are ``.importlinter`` at the repository root.
"""

if __name__ != "v2mom":  # the core installs as the import root (see pyproject.toml's package-dir)
    raise ImportError(f"import v2mom, not {__name__}: core/ is the v2mom package's folder")

__version__ = "0.1.0"
