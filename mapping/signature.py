"""The tag signature: one number for everything a plan can read off an item except its key.

Two items with the same signature get the same conventions, the same keyless item rules and the
same container rules from any plan, so a set-based re-resolution resolves each signature once
instead of each item (``store.resolution``). The signature is computed when an item is stored; it
is plan-independent, so a plan change never rewrites it.

It covers tracker, container, labels, components and custom fields, in a canonical order (tags
are sets to the resolver). It is a 63-bit BLAKE2b digest: two different signatures colliding in
a store of a million items, each with its own signature, has a probability near 5e-8.
"""

from __future__ import annotations

import hashlib

import orjson

from v2mom.models import WorkItem


def tag_signature(item: WorkItem) -> int:
    """The item's tag signature, a non-negative 63-bit integer (fits a signed BIGINT)."""
    fields = sorted((name, sorted(options)) for name, options in item.custom_fields.items())
    canonical = orjson.dumps(
        [item.tracker, item.container, sorted(set(item.labels)), sorted(set(item.components)), fields]
    )
    return int.from_bytes(hashlib.blake2b(canonical, digest_size=8).digest(), "big") >> 1
