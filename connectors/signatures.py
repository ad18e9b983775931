"""One HMAC-SHA256 verifier for every tracker: raw bytes, constant time, several secrets, fail closed."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from v2mom.errors import WebhookVerificationError


def verify_hmac_sha256(
    body: bytes, signature: str | None, secrets: Sequence[str], *, prefix: str = ""
) -> None:
    """Accept ``signature`` (hex, after ``prefix``) if it is the HMAC of ``body`` under any secret.

    Raises WebhookVerificationError when no secret is configured (fail closed), when the
    signature is missing or malformed, or when no secret matches. Every secret is tried, so the
    time taken does not reveal which one matched.
    """
    usable = [s for s in secrets if s]
    if not usable:
        raise WebhookVerificationError("no webhook secret configured: every delivery is refused")
    if not signature:
        raise WebhookVerificationError("missing signature header")
    if prefix:
        if not signature.startswith(prefix):
            raise WebhookVerificationError("malformed signature header")
        signature = signature[len(prefix) :]
    given = signature.strip().lower().encode("ascii", "replace")
    matched = False
    for secret in usable:
        expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest().encode("ascii")
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise WebhookVerificationError("signature does not match")
