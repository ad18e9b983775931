"""The tables, as SQLAlchemy Core metadata. Migrations under ``store/migrations`` create them.

``items`` holds the normalised WorkItems, each with its plan-independent tag signature
(``mapping.signature``); ``resolutions`` is the fact table: one row per item with its flags, counted
effort, the tracker, state and completion day the rollup counted it under, and the key of its
allocation set (explanations are recomputed on demand, not stored). ``allocation_sets`` holds each
distinct split of effort across (value, method) with its weights, keyed by its fingerprint: a few
hundred rows however many items share them. ``effort_rollup`` sums resolutions per (tracker,
state, completion day, orphaned, allocation set) in the same transaction that writes them, so a
report joins a few thousand rollup rows to the sets, and a plan change that moves an item to
another set rewrites one column of its resolution.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)

from v2mom.store.types import BigIntPK, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

items = Table(
    "items",
    metadata,
    Column("pk", BigIntPK, primary_key=True, autoincrement=True),
    Column("tracker", String(16), nullable=False),
    Column("item_id", String(128), nullable=False),
    Column("key", String(128), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text),  # plain text, cut to MAX_DESCRIPTION: what suggestions read
    Column("url", Text),
    Column("level", SmallInteger, nullable=False),
    Column("parent_id", String(128)),
    Column("container", String(128)),
    Column("parent_key", String(128)),  # the parent's key as its tracker names it (for messages)
    Column("member_of", String(128)),  # the configured project an Asana task is itself a member of
    Column("assignee", String(128)),  # the current assignee's account id: person-level, never served
    Column("state", String(16), nullable=False),
    Column("status_name", String(128), nullable=False, default=""),
    Column("created_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("completed_at", UTCDateTime()),
    Column("started_at", UTCDateTime()),  # Asana's start_at, else start_on at 00:00 UTC
    Column("points", Float),
    Column("hours", Float),
    Column("labels", JSON, nullable=False),
    Column("components", JSON, nullable=False),
    Column("custom_fields", JSON, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("deleted_at", UTCDateTime()),
    Column("synced_at", UTCDateTime(), nullable=False),
    Column("tag_sig", BigInteger),
    Column("blocked", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("tracker", "item_id"),
    Index("ix_items_tracker_key", "tracker", "key"),
    Index("ix_items_tracker_parent", "tracker", "parent_id"),
    Index("ix_items_blocked", "pk", sqlite_where=text("blocked"), postgresql_where=text("blocked")),
)

resolutions = Table(
    "resolutions",
    metadata,
    # No foreign key: items are never deleted (only marked), and the resolution engine removes the
    # resolutions of deleted items itself; the check cost most of a first resolution's inserts.
    Column("item_pk", BigIntPK, primary_key=True),
    Column("untagged", Boolean, nullable=False),
    Column("orphaned", Boolean, nullable=False),
    Column("conflict", Boolean, nullable=False),
    Column("points", Float, nullable=False),
    Column("hours", Float, nullable=False),
    Column("count", Float, nullable=False),
    Column("alloc_key", BigInteger, nullable=False, server_default="0"),
    Column("resolved_at", UTCDateTime(), nullable=False),
    # What the rollup counted this item under, as of its resolution: a delta subtracts exactly that.
    Column("tracker", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("completed_on", Date),
    # The live parent the item was resolved under: when it moves away, that tree is re-resolved too.
    Column("parent_pk", BigInteger),
    # The deepest team of the plan's cascade whose scope holds the item (null: the company's own).
    Column("team_id", String(64)),
)

allocation_sets = Table(
    "allocation_sets",
    metadata,
    # Content-addressed: the key is the fingerprint of the shares (``mapping.resolver.shares_key``),
    # so a key always names the same rows and they are written once, never updated.
    Column("alloc_key", BigInteger, primary_key=True, autoincrement=False),
    Column("position", SmallInteger, primary_key=True, autoincrement=False),
    Column("value_id", String(64)),
    Column("method_id", String(64)),
    Column("weight", Float, nullable=False),
    Column("first_of_item", SmallInteger, nullable=False),
    Column("first_of_value", SmallInteger, nullable=False),
)

effort_rollup = Table(
    "effort_rollup",
    metadata,
    Column("group_key", String(255), primary_key=True),
    Column("tracker", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("completed_on", Date),
    Column("orphaned", Boolean, nullable=False),
    Column("alloc_key", BigInteger, nullable=False),
    Column("team_id", String(64)),
    Column("items", Integer, nullable=False),
    Column("points", Float, nullable=False),
    Column("hours", Float, nullable=False),
    Column("count", Float, nullable=False),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("tracker", String(16), primary_key=True),
    Column("scope", String(255), primary_key=True),
    Column("cursor", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("tracker", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("items_upserted", Integer, nullable=False, default=0),
    Column("items_deleted", Integer, nullable=False, default=0),
    Column("api_calls", Integer, nullable=False, default=0),
    Column("error", Text),
    # The lease (``workers.id``) of the process running it: a ``running`` row whose owner's lease
    # expired belongs to a killed process and is marked ``interrupted`` when the next run starts.
    Column("owner", String(64)),
    Index("ix_sync_runs_tracker_status", "tracker", "status", "finished_at"),
)

tracker_state = Table(
    "tracker_state",
    metadata,
    Column("tracker", String(16), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

plans = Table(
    "plans",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("document", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("reason", Text),  # why this version was made; required once the plan has a cycle
    Column("changes", JSON),  # the summary of what this version changed (``mapping.plan_changes``)
)

review_snapshots = Table(
    # One review per (cycle, period), written once when the period is closed and never rewritten:
    # the report for the company and every team, measures met or not, obstacles, flag counts and
    # the plan version it was computed under. A past period's report is read from here.
    "review_snapshots",
    metadata,
    Column("cycle_id", String(64), primary_key=True),
    Column("period_id", String(64), primary_key=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("plan_version", Integer, nullable=False),
    Column("closed_at", UTCDateTime(), nullable=False),
    Column("closed_by", String(255), nullable=False),
    Column("document", JSON, nullable=False),
)

suggestion_models = Table(
    # Suggestion models, each trained under one plan version from the items people had tagged then:
    # a model is only used while its plan version is the current one. ``model`` is the serialised
    # model (v2mom.suggest.storage); ``quality`` its held-out precision and coverage per level.
    "suggestion_models",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("plan_version", Integer, nullable=False),
    Column("trained_at", UTCDateTime(), nullable=False),
    Column("examples", Integer, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("quality", JSON, nullable=False),
    Column("model", LargeBinary, nullable=False),
    Index("ix_suggestion_models_plan_version", "plan_version", "id"),
)

suggestion_rejections = Table(
    # A suggestion an admin rejected for an item: never offered again for that item.
    "suggestion_rejections",
    metadata,
    Column("tracker", String(16), primary_key=True),
    Column("item_id", String(128), primary_key=True),
    Column("tag", String(160), primary_key=True),
    Column("rejected_at", UTCDateTime(), nullable=False),
    Column("rejected_by", String(255), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
)

# One row per running process (``v2mom serve``, ``v2mom worker``, a sync run), with a short lease it
# renews by heartbeat. Inbox claims and running sync runs name their process by this id; when a
# lease expires, that process is gone (killed, frozen, cut off) and what it held is taken back.
workers = Table(
    "workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
    Column("lease_expires_at", UTCDateTime(), nullable=False),
)

webhook_inbox = Table(
    "webhook_inbox",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("tracker", String(16), nullable=False),
    Column("delivery_id", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("item_ref", String(128)),
    Column("event_time", UTCDateTime()),
    Column("payload", JSON, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False),  # pending | processing | done | parked | ignored
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("claimed_at", UTCDateTime()),
    Column("claimed_by", String(64)),
    Column("last_error", Text),
    UniqueConstraint("tracker", "delivery_id"),
    Index("ix_webhook_inbox_status_next", "status", "next_attempt_at"),
)


writebacks = Table(
    # What v2mom-sync last wrote into each tracker item (``v2mom writeback``): per kind the plan id and
    # the option name it selected, when (``fields_at``, taken before the write was sent), and the
    # explanation link. A field reading equal to what is recorded here is v2mom-sync's own inference,
    # not a person's tag (``mapping.writeback.strip_written``).
    "writebacks",
    metadata,
    Column("tracker", String(16), primary_key=True),
    Column("item_id", String(128), primary_key=True),
    Column("value_id", String(64)),
    Column("value_label", String(255)),
    Column("method_id", String(64)),
    Column("method_label", String(255)),
    Column("fields_at", UTCDateTime()),
    # False from just before a write is sent until it is settled (the tracker took it, or a reading
    # shows what it holds): the echo of a write can arrive before the write call returns, and a write
    # can fail or be cut short after the tracker took it. Until then the prev_* columns hold what
    # the item held from v2mom-sync before the write, and both read as ours.
    Column("confirmed", Boolean, nullable=False, server_default=true()),
    Column("link_url", Text),
    Column("linked_at", UTCDateTime()),
    Column("prev_value_id", String(64)),
    Column("prev_value_label", String(255)),
    Column("prev_method_id", String(64)),
    Column("prev_method_label", String(255)),
    Index(
        "ix_writebacks_unconfirmed",
        "tracker",
        sqlite_where=text("NOT confirmed"),
        postgresql_where=text("NOT confirmed"),
    ),
)

audit_events = Table(
    # One audit of every change an admin or an operator makes (``store.audit``): plan versions, rule
    # edits, tokens, tags set from the dashboard, provisioning and write-back runs. Insert-only; each
    # written in the transaction of the change it records where that change is a store write.
    "audit_events",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(255), nullable=False),  # token:<name>, cli:<os user>, system
    Column("kind", String(16), nullable=False),  # plan | rule | token | tag | provision | writeback
    Column("summary", Text, nullable=False),  # one line
    Column("details", JSON, nullable=False),
    Index("ix_audit_events_kind_id", "kind", "id"),
)

item_transitions = Table(
    # Each item's status and assignee changes as its tracker's history records them (people's time):
    # one row per (history entry, field), so reading a history again writes the same rows. Values
    # are the tracker's status ids and account ids; ``to_category`` is where an entered status
    # stands (a models.State value). Person-level rows: read only by the store's own computations.
    "item_transitions",
    metadata,
    Column("tracker", String(16), primary_key=True),
    Column("item_id", String(128), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("field", String(16), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("from_value", String(128)),
    Column("to_value", String(128)),
    Column("to_category", String(16)),
    # An item's changes in time order, field by field (what stood at a moment, and each interval).
    Index("ix_item_transitions_item_field_at", "tracker", "item_id", "field", "at"),
    Index("ix_item_transitions_at", "at"),  # every change in a window of time
)

history_reads = Table(
    # The ``updated`` time of each item as of which its history above was read: a sync reads the
    # history again only of items whose updated time moved since (whoever stored the item itself).
    "history_reads",
    metadata,
    Column("tracker", String(16), primary_key=True),
    Column("item_id", String(128), primary_key=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)

people_shares = Table(
    # People's time, materialized (``store.people_shares``): each person's share of each working day
    # per item, exactly the rows the computation's ``shares`` step gives, for the days ``people_state``
    # covers. Person-level rows: read only by the store's own computations.
    "people_shares",
    metadata,
    Column("day", Date, primary_key=True),
    Column("person", String(255), primary_key=True),
    Column("item_pk", BigInteger, primary_key=True),
    Column("share", Float, nullable=False),
    # The item's resolution as the report filters and counts it, copied when a row is computed and
    # whenever the resolution engine writes the item's resolution (``store.resolution.people_copy``),
    # in the same transaction: a report sums the window's rows without probing the resolution of
    # each item (tens of thousands of index probes into ten million resolutions). Null: the item
    # has no resolution (not resolved yet, or deleted), and counts nothing.
    Column("alloc_key", BigInteger),
    Column("orphaned", Boolean),
    Column("team_id", String(64)),
    Column("state", String(16)),
    Column("tracker", String(16)),
    Index("ix_people_shares_item_pk", "item_pk"),  # one item's days (explain)
    Index("ix_people_shares_person", "person"),  # a person's rows, replaced when their items change
)

people_unheld = Table(
    # The in-progress items nobody held (``unattributed``), as runs of working days people_state covers:
    # the item was unheld on every working day from ``first_day`` to ``last_day`` (a row per run, not
    # per day: an epic open for a year is a row, not 250).
    "people_unheld",
    metadata,
    Column("item_pk", BigInteger, primary_key=True),
    Column("first_day", Date, primary_key=True),
    Column("last_day", Date, nullable=False),
)

people_changes = Table(
    # Items whose people's time may have changed since people_shares was computed: one row per
    # write of an item or its history, in the transaction of that write; a refresh consumes the rows
    # it read. Duplicates are harmless.
    "people_changes",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("tracker", String(16), nullable=False),
    Column("item_id", String(128), nullable=False),
)

people_state = Table(
    # What people_shares was computed for (one row, id 1): the fingerprint of the calendar (time zone,
    # working week) and of the ``people:`` accounts, the days covered, when, and the earliest stored
    # moment after that (a future-dated change) from which today's rows must be computed again.
    "people_state",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("fingerprint", String(64), nullable=False),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("computed_at", UTCDateTime(), nullable=False),
    Column("horizon", UTCDateTime()),
)
