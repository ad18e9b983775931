"""A database URL's passwords, in every form SQLAlchemy and libpq accept, never printed: the masking
function (``v2mom.redaction``) on its own, and held to SQLAlchemy's own reading of URLs."""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote

import pytest
from sqlalchemy.engine import make_url

from v2mom.redaction import _SQLALCHEMY_URL, has_inline_password, mask_url, redact, url_secrets

# (URL, the password as meant, what mask_url shows)
FORMS = [
    (
        "postgresql://v2mom:hunter2-plain@db:5432/v2mom",
        "hunter2-plain",
        "postgresql://v2mom:***@db:5432/v2mom",
    ),
    (
        "postgresql+psycopg://v2mom:hunter2-plain@db/v2mom",
        "hunter2-plain",
        "postgresql+psycopg://v2mom:***@db/v2mom",
    ),
    ("postgresql://v2mom:at@sign-Secret@db/v2mom", "at@sign-Secret", "postgresql://v2mom:***@db/v2mom"),
    ("postgresql://v2mom:two@at@signs@db/v2mom", "two@at@signs", "postgresql://v2mom:***@db/v2mom"),
    ("postgresql://v2mom:at@slash/Secret@db/v2mom", "at@slash/Secret", "postgresql://v2mom:***@db/v2mom"),
    ("postgresql://v2mom:v6-Secret@[::1]:5432/v2mom", "v6-Secret", "postgresql://v2mom:***@[::1]:5432/v2mom"),
    ("postgresql://v2mom:co:lon:Secret@db/v2mom", "co:lon:Secret", "postgresql://v2mom:***@db/v2mom"),
    ("postgresql://v2mom:sl/ash-Secret@db/v2mom", "sl/ash-Secret", "postgresql://v2mom:***@db/v2mom"),
    ("postgresql://v2mom:ha#sh-Secret@db/v2mom", "ha#sh-Secret", "postgresql://v2mom:***@db/v2mom"),
    ("postgresql://v2mom:qu?es-Secret@db/v2mom", "qu?es-Secret", "postgresql://v2mom:***@db/v2mom"),
    ("postgresql://v2mom:pct%40enc%2FSecret@db/v2mom", "pct@enc/Secret", "postgresql://v2mom:***@db/v2mom"),
    (
        "postgresql://v2mom@db/v2mom?password=query-Secret",
        "query-Secret",
        "postgresql://v2mom@db/v2mom?password=***",
    ),
    (
        "postgresql://v2mom@db/v2mom?sslmode=require&password=amp-Secret&passfile=/home/v/.pgpass",
        "amp-Secret",
        "postgresql://v2mom@db/v2mom?sslmode=require&password=***&passfile=/home/v/.pgpass",
    ),
    (
        "postgresql://v2mom@db/v2mom?sslpassword=key-Secret",
        "key-Secret",
        "postgresql://v2mom@db/v2mom?sslpassword=***",
    ),
    (
        "postgresql://v2mom@db/v2mom?password=q%40enc+Secret",
        "q@enc Secret",
        "postgresql://v2mom@db/v2mom?password=***",
    ),
    (
        "postgresql://v2mom@db/v2mom?password=at@in-Secret",
        "at@in-Secret",
        "postgresql://v2mom@db/v2mom?password=***",
    ),
    (
        "postgresql://v2mom@db/v2mom?PassWord=case-Secret",
        "case-Secret",
        "postgresql://v2mom@db/v2mom?PassWord=***",
    ),
    (
        "postgresql://v2mom@db/v2mom?pass%77ord=enc-key-Secret",
        "enc-key-Secret",
        "postgresql://v2mom@db/v2mom?pass%77ord=***",
    ),
    (
        "postgresql://v2mom:pa?password=x-Secret@db/v2mom",
        "pa?password=x-Secret",
        "postgresql://v2mom:***@db/v2mom",
    ),
    # SQLAlchemy cannot read these at all: everything between :// and the last @, and password= values
    ("postgresql://v2mom:p@ss:word-Secret@db/v2mom", "p@ss:word-Secret", "postgresql://***@db/v2mom"),
    (
        "post gres://v2mom:space-Secret@db/v2mom?password=q-Secret",
        "space-Secret",
        "post gres://***@db/v2mom?password=***",
    ),
    # libpq's key=value connection string
    (
        "host=db user=v2mom password=kv-Secret dbname=v2mom",
        "kv-Secret",
        "host=db user=v2mom password=*** dbname=v2mom",
    ),
    (
        "host=db password='quoted \\' Secret' dbname=v2mom",
        "quoted ' Secret",
        "host=db password=*** dbname=v2mom",
    ),
]


def pieces(password: str) -> set[str]:
    """The password as meant, its pieces between URL delimiters (a parser may cut it at any of
    them), each as written, percent-decoded and percent-encoded."""
    parts = {password, *(p for p in re.split(r"[@:/?#&=]", password) if len(p) >= 4)}
    return {form for part in parts for form in (part, unquote(part), quote(part, safe=""), quote_plus(part))}


@pytest.mark.parametrize(("url", "password", "shown"), FORMS)
def test_every_form_of_the_password_is_masked(url: str, password: str, shown: str) -> None:
    assert mask_url(url) == shown
    for piece in pieces(password):
        assert piece not in mask_url(url)
    secrets = url_secrets(url)
    assert secrets == sorted(secrets, key=len, reverse=True)
    for form in (password, quote(password, safe=""), quote_plus(password)):
        assert form in secrets
    assert has_inline_password(url)


def test_a_password_with_an_unencoded_at_is_masked_where_the_driver_echoes_it() -> None:
    """SQLAlchemy reads ``at`` as the password and ``sign-Secret@db`` as the host: psycopg names
    that host when it cannot resolve it."""
    url = "postgresql://v2mom:at@sign-Secret@db/v2mom"
    echoed = "failed to resolve host 'sign-Secret@db': [Errno -2] Name or service not known"
    assert "Secret" not in redact(echoed, url_secrets(url))


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://v2mom@db/v2mom",
        "postgresql://v2mom:${PGPASSWORD}@db/v2mom",
        "postgresql://v2mom@db/v2mom?password=${PGPASSWORD}&passfile=/home/v/.pgpass",
        "postgresql://${PGUSER}:${PGPASSWORD}@db/v2mom",
        "sqlite:///v2mom.db",
        "${DATABASE_URL}",
        "postgresql://user@server@db/v2mom",  # an Azure-style user name, no password
    ],
)
def test_urls_without_a_password_written_inline(url: str) -> None:
    assert not has_inline_password(url)
    if "${" not in url:
        assert mask_url(url) == url
        assert url_secrets(url) == []


@pytest.mark.parametrize("url", [url for url, _, _ in FORMS if "://" in url and " " not in url])
def test_the_copied_pattern_reads_urls_as_sqlalchemy_does(url: str) -> None:
    """``_SQLALCHEMY_URL`` is SQLAlchemy's own pattern: it finds the parts the driver is given."""
    try:
        parsed = make_url(url)
    except ValueError:
        return  # SQLAlchemy cannot read it: no parts reach a driver
    match = _SQLALCHEMY_URL.match(url)
    assert match is not None
    password, database = match.group("password"), match.group("database")
    assert (unquote(password) if password else None) == parsed.password
    assert (match.group("ipv4host") or match.group("ipv6host")) == parsed.host
    assert (unquote(database) if database is not None else None) == parsed.database
