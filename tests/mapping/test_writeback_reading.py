"""Reading back what a tracker holds: provisioned options by their ids, and pending writes settled."""

from __future__ import annotations

from tests.factories import make_item
from v2mom.mapping.writeback import read_by_id, settle, strip_written
from v2mom.vocabulary import WrittenTags

OFFERED = {"value": {"reliability": "opt-rel", "efficiency": "opt-eff"}, "method": {}}


def test_a_provisioned_option_reads_as_its_value_whatever_its_name() -> None:
    # The efficiency option was renamed "reliability" in the tracker: its id still says efficiency.
    item = make_item(
        "A",
        tracker="linear",
        labels=("Value/reliability", "frontend"),
        choice_options={"value": (("opt-eff", "reliability"),)},
    )
    read = read_by_id(item, OFFERED)
    assert read.labels == ("Value/efficiency", "frontend")
    assert read.choice_options == {}
    field = make_item(
        "B",
        custom_fields={"V2MOM Value": ("Old name",), "Team": ("Payments",)},
        choice_options={"value": (("opt-rel", "Old name"),)},
    )
    assert read_by_id(field, OFFERED).custom_fields == {
        "V2MOM Value": ("reliability",),
        "Team": ("Payments",),
    }


def test_an_option_v2mom_sync_did_not_provision_is_read_by_name() -> None:
    item = make_item(
        "C",
        custom_fields={"V2MOM Value": ("Reliability",)},
        choice_options={"value": (("a-persons-own-option", "Reliability"),)},
    )
    assert read_by_id(item, OFFERED).custom_fields == {"V2MOM Value": ("Reliability",)}


PENDING = WrittenTags(
    labels={"value": ("reliability", "Reliability")},
    previous={"value": ("efficiency", "Efficiency")},
    confirmed=False,
    fields_at=make_item("X", minutes=10).updated_at,
)


def test_a_pending_write_is_settled_by_what_a_fresh_reading_holds() -> None:
    new = make_item("D", minutes=20, custom_fields={"V2MOM Value": ("Reliability",)})
    old = make_item("D", minutes=20, custom_fields={"V2MOM Value": ("Efficiency",)})
    other = make_item("D", minutes=20, custom_fields={"V2MOM Value": ("Growth",)})
    confirmed = settle(new, PENDING)
    assert confirmed is not None
    assert (confirmed.confirmed, confirmed.labels, confirmed.previous) == (True, PENDING.labels, {})
    assert settle(old, PENDING) == PENDING  # still pending: the next write-back sends it again
    persons = settle(other, PENDING)
    assert persons is not None
    assert (persons.confirmed, persons.labels) == (True, {})
    assert settle(make_item("D", minutes=5), PENDING) is None  # a reading from before the write
    # Until settled, both the old and the new value are v2mom-sync's own, never a person's tag.
    assert strip_written(old, PENDING).custom_fields == {}
    assert strip_written(new, PENDING).custom_fields == {}
    assert strip_written(other, PENDING).custom_fields == {"V2MOM Value": ("Growth",)}
