"""The ``v2mom`` command line: every command a user or an operator runs, each exiting 0, 1 or 2."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

from v2mom.app.cli_common import ConfigOpt, TrackerOpt, cli_actor, err, exit_on_errors, open_store, out
from v2mom.app.cli_render import (
    audit_line,
    explanation_lines,
    history_table,
    print_lines,
    report_json,
    report_table,
    token_line,
)
from v2mom.app.cli_reviews import close_line, review_app
from v2mom.app.cli_suggest import suggest_app
from v2mom.app.cli_trackers import trackers_app, writeback_command
from v2mom.app.schemas.access import TokenDocument
from v2mom.app.schemas.plan import PlanHistory
from v2mom.app.schemas.reports import EffortReport, ItemDocument
from v2mom.app.signals import on_sigterm
from v2mom.clock import today
from v2mom.errors import ConfigError
from v2mom.logs import LogFormat, basic_logging
from v2mom.mapping.plan import Plan, dump_plan, load_plan
from v2mom.mapping.plan_changes import plan_changes, require_reason
from v2mom.models import TrackerName
from v2mom.reports.csv_export import report_csv
from v2mom.reports.effort import ReportQuery, build_report, date_range_problems, unknown_team_problem
from v2mom.reports.flags import item_document
from v2mom.reports.periods import PeriodError, find_period, period_report
from v2mom.settings import CONFIG_ENV, JiraDeployment, config_path, load_settings
from v2mom.store.audit import AuditKind
from v2mom.store.database import Database
from v2mom.store.engine import backend_of, check_url, masked_url

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Effort by V2MOM value, from your trackers."
)
plan_app = typer.Typer(no_args_is_help=True, help="Validate, apply and export the V2MOM plan.")
token_app = typer.Typer(no_args_is_help=True, help="API tokens for the HTTP API and dashboard.")
db_app = typer.Typer(no_args_is_help=True, help="Database maintenance.")
webhooks_app = typer.Typer(no_args_is_help=True, help="Register tracker webhooks and see their health.")
app.add_typer(plan_app, name="plan")
app.add_typer(token_app, name="token")
app.add_typer(db_app, name="db")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(trackers_app, name="trackers")
app.add_typer(review_app, name="review")
app.add_typer(suggest_app, name="suggest")
app.command("writeback")(writeback_command)


@app.command()
def check(
    plan_file: Annotated[Path | None, typer.Argument(help="A plan file to validate too.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Validate settings (and a plan file) without touching the database.

    A settings file is required: with none found, PLAN (when given) is still checked, then the
    command fails (exit 2) naming the file it looked for, never saying "settings ok" about defaults.
    """
    with exit_on_errors():
        settings_file = config_path(config)
        if not settings_file.exists():
            if plan_file is not None:
                _check_plan(plan_file)
            raise ConfigError(no_settings_message(settings_file, config))
        settings = load_settings(config)
        check_url(settings.database_url)
        trackers = ", ".join(settings.trackers.configured()) or "none"
        out.print(
            f"settings ok: {settings_file}: trackers: {trackers}; "
            f"database: {masked_url(settings.database_url)}",
            markup=False,
        )
        if plan_file is not None:
            _check_plan(plan_file)


def _check_plan(plan_file: Path) -> None:
    plan = load_plan(_read(plan_file), str(plan_file))
    out.print(
        f"plan ok: {len(plan.values)} values, {len(plan.methods)} methods, {len(plan.rules)} rules",
        markup=False,
    )


def no_settings_message(settings_file: Path, config: str | None) -> str:
    """Which settings file was looked for, how it was chosen and how to name another (one line)."""
    if config:
        how = "given with -c"
    elif CONFIG_ENV in os.environ:
        how = f"named by ${CONFIG_ENV}"
    else:
        how = f"the default; name another with -c PATH or ${CONFIG_ENV}"
    return (
        f"no settings file to check: {settings_file.absolute()} does not exist ({how}); "
        "examples/v2mom.yaml in the repository is a commented one to start from"
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


@plan_app.command("apply")
def plan_apply(
    plan_file: Annotated[Path, typer.Argument(help="plan.yaml")],
    config: ConfigOpt = None,
    confirm: Annotated[
        str | None,
        typer.Option(
            "--confirm",
            help="The phrase that applies a plan moving more than a quarter of the effort, as printed "
            "when it was refused: --confirm 'move 42%'.",
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="Why the plan changes, kept with the version ('v2mom plan history' lists it); needed "
            "once the stored plan has a cycle.",
        ),
    ] = None,
) -> None:
    """Validate PLAN and make it the stored plan; re-resolves the items it moves.

    A plan that would move more than a quarter of the effort (in the settings' measure) between values
    and untagged is not applied: its share is printed and the command exits 2 until it is run again
    with --confirm and the phrase it printed ('move 42%'). The first plan stored needs no confirmation.
    Once the stored plan has a cycle, every change needs --reason: without one nothing is applied and
    the command exits 2.
    """
    from v2mom.metrics import RERESOLVE_SECONDS
    from v2mom.reports.reviews import apply_closing_cycle
    from v2mom.store.resolution.preview import preview_plan

    with exit_on_errors():
        plan = load_plan(_read(plan_file), str(plan_file))
        settings = load_settings(config)
        store = open_store(settings)
        current = store.plans.current()
        require_reason(current, reason)
        for line in plan_changes(current, plan):
            out.print(line, markup=False)
        preview = preview_plan(store, plan, settings.measure)
        if (unaligned := preview.unaligned_line()) is not None:  # only when either plan has teams
            out.print(unaligned, markup=False)
        if not preview.confirmed_by(confirm):
            err.print(
                f"{plan_file}: not applied: {preview.needs_confirmation()}; to apply it, run again with "
                f"--confirm '{preview.confirm_phrase()}'",
                markup=False,
            )
            raise typer.Exit(2)
        with RERESOLVE_SECONDS.labels(trigger="plan").time():
            closed, applied = apply_closing_cycle(
                store,
                plan,
                actor=cli_actor(),
                today=today(),
                reason=reason,
                preview=preview,
                calendar=settings.calendar(),
            )
        for review in closed:  # the old cycle's last reviews
            out.print(close_line(review), markup=False)
        version, stats = applied.version, applied.stats
        out.print(
            f"plan version {version} applied; {stats.items} items re-resolved "
            f"({stats.untagged} untagged, {stats.orphaned} orphaned, {stats.conflict} conflict)",
            markup=False,
        )


@plan_app.command("history")
def plan_history(
    config: ConfigOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many versions, newest first.")] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="The same document as GET /api/plan/history.")
    ] = False,
) -> None:
    """The plan's versions, newest first: who applied each, when, why and what changed."""
    with exit_on_errors():
        history = PlanHistory.model_validate(
            {"versions": open_store(load_settings(config)).plans.history(limit)}
        )
    if as_json:
        sys.stdout.write(history.model_dump_json(by_alias=True) + "\n")
    else:
        out.print(history_table(history))


@plan_app.command("export")
def plan_export(config: ConfigOpt = None) -> None:
    """Print the stored plan as YAML."""
    with exit_on_errors():
        store = open_store(load_settings(config))
        plan = store.plans.current()
        if plan is None:
            err.print("no plan stored yet: run 'v2mom plan apply plan.yaml'")
            raise typer.Exit(1)
        sys.stdout.write(dump_plan(plan))


@app.command()
def sync(
    config: ConfigOpt = None,
    tracker: TrackerOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Ignore cursors and re-read everything.")] = False,
) -> None:
    """One sync pass of every configured tracker, then re-resolution."""
    from v2mom.sync.service import run_sync

    with exit_on_errors():
        settings = load_settings(config)
        if not settings.trackers.configured():
            err.print(no_tracker_message(config_path(config)), markup=False)
            raise typer.Exit(2)
    with exit_on_errors(code=1):
        store = open_store(settings)
        results = run_sync(
            settings,
            store,
            tracker=tracker,
            full=full,
            show_progress=sys.stderr.isatty(),
            notify=lambda line: err.print(line, markup=False),  # each tracker's URL, each retry's wait
        )
    failed = [r for r in results if not r.ok]
    for result in results:
        (err if not result.ok else out).print(result.summary(), markup=False)
    if failed:
        raise typer.Exit(1)


def no_tracker_message(settings_file: Path) -> str:
    """What to configure when no tracker is: the settings keys, in the file that was read."""
    where = f"{settings_file}" + ("" if settings_file.exists() else " (not found)")
    return (
        f"error: no tracker configured in {where}.\n"
        "Add at least one of these sections to it, then check it with 'v2mom check':\n"
        "  trackers.jira:    url, email, api_token, jql\n"
        "  trackers.asana:   token, workspace, projects\n"
        "  trackers.linear:  api_key, teams\n"
        "Use -c PATH or $V2MOM_CONFIG for another settings file."
    )


MeasureOpt = Literal["points", "hours", "count"]
ReportMeasureOpt = Literal["points", "hours", "count", "person_days", "fte"]
StateOpt = Literal["done", "open", "all"]


@app.command()
def report(
    config: ConfigOpt = None,
    fmt: Annotated[Literal["table", "json", "csv"], typer.Option("--format")] = "table",
    measure: Annotated[
        ReportMeasureOpt | None,
        typer.Option(help="person_days / fte: people's time, --from/--to selecting the days worked"),
    ] = None,
    state: Annotated[StateOpt, typer.Option()] = "all",
    date_from: Annotated[str | None, typer.Option("--from", help="ISO date")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="ISO date")] = None,
    tracker: TrackerOpt = None,
    period: Annotated[
        str | None,
        typer.Option("--period", help="CYCLE/PERIOD, e.g. fy27/q2: its dates instead of --from/--to"),
    ] = None,
    team: Annotated[
        str | None,
        typer.Option("--team", help="a team of the plan: its work and its sub-teams' (default: all)"),
    ] = None,
) -> None:
    """The effort-by-value report (json is the same document as the HTTP body).

    --period fy27/q2 stands for the period's dates; a closed period is read from its review snapshot.
    --team payments answers in that team's own V2MOM: its work and its sub-teams', by company value.
    """
    with exit_on_errors():
        settings = load_settings(config)
        store = open_store(settings)
        plan = store.plans.current() or Plan()
        query = ReportQuery(
            measure=measure or settings.measure,
            state=state,
            date_from=_date(date_from, "--from"),
            date_to=_date(date_to, "--to"),
            tracker=tracker,
            team=team,
            calendar=settings.calendar(),
        )
        problems = date_range_problems(query.date_from, query.date_to)
        if problems:
            raise ConfigError(f"--{problems[0][1]}")
        unknown = unknown_team_problem(plan, team)
        if unknown is not None:
            raise ConfigError(f"--{unknown}")
        trackers = settings.trackers.configured()
        if period is None:
            document = build_report(store, plan, query, trackers)
        else:
            document = period_report(
                store, plan, _period_query(store, plan, query, period), today(), trackers
            )
        report = EffortReport.model_validate(document)
    if fmt == "json":
        sys.stdout.write(report_json(report) + "\n")
    elif fmt == "csv":
        sys.stdout.write(report_csv(report.model_dump(by_alias=True)))
    else:
        out.print(report_table(report))


def _period_query(store: Database, plan: Plan, query: ReportQuery, period: str) -> ReportQuery:
    """``query`` with the dates of ``period``; ConfigError beside --from/--to or for no such period."""
    if query.date_from is not None or query.date_to is not None:
        raise ConfigError("--period: give either --period or --from/--to, not both")
    try:
        found = find_period(store, plan, period)
    except PeriodError as exc:
        raise ConfigError(f"--period: {exc}") from None
    return replace(query, date_from=found.start, date_to=found.end, period=found.reference)


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option}: '{text}' is not an ISO date (YYYY-MM-DD)") from None


@app.command()
def explain(
    ref: Annotated[str, typer.Argument(help="TRACKER:KEY, e.g. jira:ONB-12")], config: ConfigOpt = None
) -> None:
    """Which rule or tag placed an item, inherited from whom, and its flags."""
    with exit_on_errors():
        tracker, sep, key = ref.partition(":")
        if not sep or not key:
            raise ConfigError(f"'{ref}': expected TRACKER:KEY, e.g. jira:ONB-12")
        settings = load_settings(config)
        document = item_document(open_store(settings), tracker, key, settings.calendar())
    if document is None:
        err.print(f"no item {ref} in the store (has it been synced?)", markup=False)
        raise typer.Exit(1)
    print_lines(out, explanation_lines(ItemDocument.model_validate(document)))


@token_app.command("create")
def token_create(
    role: Annotated[Literal["viewer", "admin"], typer.Option(help="viewer reads; admin also writes")],
    name: Annotated[str, typer.Option(help="A label for the token")] = "cli",
    config: ConfigOpt = None,
) -> None:
    """Create an API token; it is printed once, as the last line."""
    with exit_on_errors():
        store = open_store(load_settings(config))
        token = store.tokens.create(role, name, actor=cli_actor())
    out.print(f"created {role} token '{name}' (shown once; store it now):", markup=False)
    out.print(token, markup=False)


@token_app.command("list")
def token_list(config: ConfigOpt = None) -> None:
    """List tokens (never their secrets)."""
    with exit_on_errors():
        tokens = open_store(load_settings(config)).tokens.list_all()
    for info in tokens:
        sys.stdout.write(token_line(TokenDocument.from_info(info, current_id=None)) + "\n")


@token_app.command("revoke")
def token_revoke(token_id: int, config: ConfigOpt = None) -> None:
    """Revoke a token by id."""
    with exit_on_errors():
        revoked = open_store(load_settings(config)).tokens.revoke(token_id, actor=cli_actor())
    if not revoked:
        err.print(f"no active token with id {token_id}")
        raise typer.Exit(1)
    out.print(f"token {token_id} revoked")


@app.command()
def audit(
    config: ConfigOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="How many entries, newest first.")] = 50,
    kind: Annotated[AuditKind | None, typer.Option(help="Only entries of this kind.")] = None,
) -> None:
    """Every change, newest first, one line each: time (UTC), who, kind, what.

    Kinds: plan, rule, token, tag, provision, writeback (GET /api/admin/audit has their details).
    """
    with exit_on_errors():
        events = open_store(load_settings(config)).audit.entries(limit=limit, kind=kind)
    for event in events:
        sys.stdout.write(audit_line(event) + "\n")


@webhooks_app.command("register")
def webhooks_register(
    tracker: Annotated[TrackerName, typer.Option(help="jira, asana or linear")],
    url: Annotated[str, typer.Option(help="Public URL of this server's /webhooks/<tracker> endpoint")],
    config: ConfigOpt = None,
) -> None:
    """Create the tracker's webhook where its API allows (Jira Data Center too); for Jira Cloud,
    print the exact steps and a secret."""
    from v2mom.webhooks.register import check_registration, register_webhook

    with exit_on_errors():
        settings = load_settings(config)
        check_registration(settings, tracker, url)
    with exit_on_errors(code=1):
        lines = register_webhook(settings, tracker, url, lambda: open_store(settings))
    for line in lines:
        sys.stdout.write(line + "\n")


@webhooks_app.command("list")
def webhooks_list(
    config: ConfigOpt = None,
    remote: Annotated[
        bool, typer.Option("--remote", help="Also ask Asana, Linear and Jira Data Center for their webhooks.")
    ] = False,
) -> None:
    """Per tracker: secrets (count), last delivery, backlog, parked and ignored events; --remote: theirs."""
    from v2mom.reports.effort import build_freshness

    with exit_on_errors():
        settings = load_settings(config)
        store = open_store(settings)
        freshness = build_freshness(store, settings.trackers.configured())
    from v2mom.webhooks.hook_secrets import StoredHookSecrets
    from v2mom.webhooks.register import list_remote

    statuses = store.inbox.counts()
    for tracker, state in freshness.items():
        configured = len(settings.trackers.webhook_secrets(tracker))
        jira = settings.trackers.jira
        stored = tracker != "jira" or (jira is not None and jira.deployment == "datacenter")
        count = configured + (len(StoredHookSecrets(store, tracker).secrets()) if stored else 0)
        secrets_note = f"{count} secret(s)" if count else "NO SECRET: deliveries refused"
        sys.stdout.write(
            f"{tracker}\t{secrets_note}\tlast event {state['last_event'] or 'never'}\t"
            f"backlog {state['backlog']}\tparked {state['parked']}\t"
            f"ignored {statuses.get(tracker, {}).get('ignored', 0)}\n"
        )
    if remote:
        with exit_on_errors(code=1):
            for tracker in settings.trackers.configured():
                for line in list_remote(settings, tracker):
                    sys.stdout.write(line + "\n")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None) -> None:
    """Apply pending database migrations."""
    from v2mom.store.migrate import upgrade_url

    with exit_on_errors():
        settings = load_settings(config)
        revision = upgrade_url(settings.database_url)
    out.print(f"database at revision {revision}")


SERVE_HELP = (
    "Serve the dashboard, API and webhooks, with an in-process worker and scheduled reconcile.\n\n"
    "The webhook worker applies each stored delivery within seconds; the reconcile pass (an "
    "incremental sync with the deletion census) runs at start and every sync.reconcile_every, "
    "once across every serve process on the database. With --workers N (PostgreSQL only), N "
    "processes serve the port, each with its own webhook worker. Runs until Ctrl-C or SIGTERM."
)


PortOpt = Annotated[int, typer.Option(min=1, max=65535, help="TCP port to listen on (1-65535).")]


@app.command(help=SERVE_HELP)
def serve(
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: PortOpt = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes serving the port (more than 1: PostgreSQL only).")
    ] = 1,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format",
            help="Log lines on stderr: text, or json (one object per line). Default: the log_format "
            "setting ($V2MOM_LOG_FORMAT), else text.",
        ),
    ] = None,
) -> None:
    """Serve the dashboard, API and webhooks, with an in-process worker and scheduled reconcile."""
    from v2mom.app.serve import address, listen_socket, serve_app, serve_workers, uvicorn_server
    from v2mom.logs import configure_logging, root_handlers_restored

    with root_handlers_restored():
        with exit_on_errors(log_format=lambda: log_format):  # JSON once logging is, like every line
            if log_format is not None:  # already for what loading the settings may log
                configure_logging(log_format)
            settings = load_settings(config)
            log_format = log_format or settings.log_format
            configure_logging(log_format, settings.secrets())
            if workers > 1:
                refuse_embedded(settings.database_url, workers)
        with exit_on_errors(code=1, log_format=lambda: log_format):
            listener = listen_socket(host, port)  # held from here: a busy port fails before anything
        with listener, exit_on_errors(code=1, log_format=lambda: log_format):
            store = open_store(settings)  # connects and migrates once, before any worker process starts
            url = f"http://{address(host, port)}"
            reconcile = f"reconcile every {settings.sync.reconcile_every}"
            if workers > 1:
                store.close()
                out.print(
                    f"serving on {url} with {workers} worker processes, each with a webhook "
                    f"worker; {reconcile}, once across them",
                    markup=False,
                )
                settings_file = config_path(config)
                serve_workers(
                    settings_file if settings_file.is_file() else None,
                    listener,
                    workers,
                    log_format=log_format,
                )
                return
            out.print(f"serving on {url}; webhook worker running; {reconcile}", markup=False)
            serve_app(settings, store, uvicorn_server(listener, own_log_config=log_format == "text"))


def refuse_embedded(database_url: str, workers: int) -> None:
    """ConfigError unless ``database_url`` is PostgreSQL: ``--workers`` above 1 needs a server."""
    if backend_of(database_url) != "postgresql":
        raise ConfigError(
            f"--workers {workers}: the database is SQLite, embedded in one file on one host, which "
            "takes one write at a time (every webhook acknowledgement is a write), so more serve "
            "processes would only queue behind each other. Use PostgreSQL for several processes "
            "(database_url: postgresql://...), or serve with one worker (the default)."
        )


@app.command()
def worker(
    config: ConfigOpt = None,
    once: Annotated[bool, typer.Option("--once", help="Drain the inbox once and exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 1.0,
) -> None:
    """Apply webhook events from the inbox (any number of workers can share a PostgreSQL inbox)."""
    from v2mom.webhooks.worker import BatchResult, run_worker

    with exit_on_errors():
        settings = load_settings(config)
        store = open_store(settings)

    def show(batch: BatchResult) -> None:
        out.print(f"applied {batch.applied}, failed {batch.failed}, parked {batch.parked}", markup=False)

    stop = threading.Event()  # SIGTERM: finish the current batch, hand back the lease, exit 0
    with on_sigterm(lambda _signum, _frame: stop.set()):
        applied = run_worker(settings, store, once=once, interval=interval, on_batch=show, stop=stop)
    out.print(f"{'stopped' if stop.is_set() else 'inbox drained'}: {applied} applied", markup=False)


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: PortOpt = 8000,
    database: Annotated[str, typer.Option(help="SQLite file for the demo")] = "v2mom-demo.db",
    jira: Annotated[
        JiraDeployment, typer.Option(help="the sandbox Jira: cloud, or datacenter (Jira Data Center 10.3)")
    ] = "cloud",
) -> None:
    """Sandbox trackers + the sample plan, synced through the real connectors, API served.

    Refuses to start (exit 1, before touching its database) while another demo runs on the same
    database or the port is taken. Prints the URL, a viewer and an admin token, and writes a
    settings file for the CLI beside the database (v2mom-demo.yaml): v2mom report -c v2mom-demo.yaml.
    """
    from v2mom.app.demo import run_demo

    with exit_on_errors(code=1):
        run_demo(host=host, port=port, database=Path(database), console=out, jira=jira)


def main() -> None:
    """Console-script entry point."""
    basic_logging()
    app()
