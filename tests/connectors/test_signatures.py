"""The HMAC-SHA256 verifier directly, as a flat list of cases (in the style of standard-webhooks'
tests): one valid delivery and every way a delivery must be refused."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from v2mom.connectors import signatures
from v2mom.connectors.signatures import verify_hmac_sha256
from v2mom.errors import WebhookVerificationError

BODY = b'{"webhookEvent":"jira:issue_updated","issue":{"id":"10001"}}'
SECRET = "whsec-current"
OLD_SECRET = "whsec-previous"


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_valid_signature_is_accepted() -> None:
    assert verify_hmac_sha256(BODY, sign(BODY, SECRET), [SECRET]) is None


def test_valid_signature_in_upper_case_hex_is_accepted() -> None:
    assert verify_hmac_sha256(BODY, sign(BODY, SECRET).upper(), [SECRET]) is None


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_hmac_sha256(BODY, sign(BODY, "someone-else"), [SECRET])


def test_rotation_accepts_the_new_secret() -> None:
    assert verify_hmac_sha256(BODY, sign(BODY, SECRET), [OLD_SECRET, SECRET]) is None


def test_rotation_accepts_the_old_secret() -> None:
    assert verify_hmac_sha256(BODY, sign(BODY, OLD_SECRET), [OLD_SECRET, SECRET]) is None


def test_rotation_still_refuses_a_secret_not_in_the_list() -> None:
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_hmac_sha256(BODY, sign(BODY, "retired"), [OLD_SECRET, SECRET])


def test_empty_secret_list_fails_closed() -> None:
    with pytest.raises(WebhookVerificationError, match="no webhook secret configured"):
        verify_hmac_sha256(BODY, sign(BODY, SECRET), [])


def test_list_of_empty_secrets_fails_closed() -> None:
    with pytest.raises(WebhookVerificationError, match="no webhook secret configured"):
        verify_hmac_sha256(BODY, sign(BODY, ""), ["", ""])


def test_tampered_body_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_hmac_sha256(BODY.replace(b"10001", b"10002"), sign(BODY, SECRET), [SECRET])


def test_body_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_hmac_sha256(BODY + b"\n", sign(BODY, SECRET), [SECRET])


def test_missing_signature_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="missing signature"):
        verify_hmac_sha256(BODY, None, [SECRET])


def test_empty_signature_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="missing signature"):
        verify_hmac_sha256(BODY, "", [SECRET])


def test_non_hex_signature_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_hmac_sha256(BODY, "z" * 64, [SECRET])


def test_non_ascii_signature_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_hmac_sha256(BODY, "é" * 64, [SECRET])


def test_truncated_signature_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_hmac_sha256(BODY, sign(BODY, SECRET)[:-2], [SECRET])


def test_overlong_signature_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_hmac_sha256(BODY, sign(BODY, SECRET) + "00", [SECRET])


def test_base64_signature_is_refused_where_hex_is_expected() -> None:
    import base64

    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_hmac_sha256(BODY, base64.b64encode(digest).decode(), [SECRET])


def test_prefixed_signature_is_accepted_with_the_prefix() -> None:
    assert verify_hmac_sha256(BODY, "sha256=" + sign(BODY, SECRET), [SECRET], prefix="sha256=") is None


def test_signature_without_the_expected_prefix_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="malformed signature header"):
        verify_hmac_sha256(BODY, sign(BODY, SECRET), [SECRET], prefix="sha256=")


def test_other_algorithm_prefix_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="malformed signature header"):
        verify_hmac_sha256(BODY, "sha1=" + sign(BODY, SECRET), [SECRET], prefix="sha256=")


def test_prefix_alone_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_hmac_sha256(BODY, "sha256=", [SECRET], prefix="sha256=")


def test_prefix_is_not_accepted_when_none_is_expected() -> None:
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify_hmac_sha256(BODY, "sha256=" + sign(BODY, SECRET), [SECRET])


def test_comparison_is_constant_time_and_tries_every_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signatures.hmac, "compare_digest", spy)
    verify_hmac_sha256(BODY, sign(BODY, OLD_SECRET), [OLD_SECRET, SECRET])
    assert len(compared) == 2  # the match on the first secret does not stop the loop early
    assert compared[0][1] == sign(BODY, OLD_SECRET).encode()
