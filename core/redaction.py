"""Secrets out of what we print: the one place that finds a database URL's passwords and masks them.

:func:`mask_url` renders a database URL for people, every password replaced by ``***``;
:func:`url_secrets` lists every form of those passwords (as written, percent-decoded, re-encoded
the ways SQLAlchemy and libpq write them) and every part a driver may echo that holds a piece of
one, to mask in free text (a driver's error message, a log line) with :func:`redact`;
:func:`has_inline_password` tells whether a URL written in a settings file carries one.

A password reaches the driver in any of the forms SQLAlchemy and libpq accept: ``user:pass@host``,
a ``password=`` or ``sslpassword=`` query parameter (``passfile=`` names a file, it is no secret),
or a libpq ``key=value`` connection string. A password with an unencoded ``@`` is read by
SQLAlchemy up to its first ``@``, the rest landing in the host (or port, or database name), so the
password of a URL is taken up to its *last* ``@``: what it meant, whatever the parser made of it.
That masks too much when a database name or a query value holds an ``@`` too, never too little.
A URL SQLAlchemy cannot parse at all is masked from ``://`` to its last ``@``, and every
``password=`` value in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote, quote_plus, unquote, unquote_plus

MASK = "***"
SECRET_KEYS = frozenset({"password", "sslpassword"})  # libpq's secret connection parameters
Span = tuple[int, int]

# sqlalchemy.engine.url._parse_url's pattern (SQLAlchemy 2.x, copied): which part of the text
# reaches the driver as which parameter. tests/core/test_redaction.py holds it to SQLAlchemy's.
_SQLALCHEMY_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
        """,
    re.X,
)
_COMPONENTS = ("username", "password", "ipv6host", "ipv4host", "port", "database")
# A query parameter: its value runs to the next "&key=" (an "&" inside a password stays in it), as
# Python's parse_qsl splits (SQLAlchemy's). Every "?" and "&" is tried as a start, so a "?password="
# inside another value is found too.
_PARAM = re.compile(r"[?&]([^=&?]*)=((?:[^&]|&(?![^=&]*=))*)")
# libpq's key=value connection string: a value is one word or single-quoted with backslash escapes.
_KEYWORD = re.compile(r"(?i)(?<![\w.-])(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'?|\S*)")
_ENV_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


def mask_url(url: str) -> str:
    """``url`` for printing: every password (and all of an unparseable URL's user part) is ``***``."""
    pieces: list[str] = []
    last = 0
    for start, end in _merged(_mask_spans(url)):
        pieces += [url[last:start], MASK]
        last = end
    return "".join(pieces) + url[last:]


def url_secrets(url: str) -> list[str]:
    """Every form of every password in ``url`` and every driver parameter holding a piece of one.

    Longest first, for :func:`redact`: as written, percent-decoded (``%40`` and ``+``), re-encoded
    as SQLAlchemy renders URLs and as libpq quotes connection strings.
    """
    spans = _mask_spans(url)
    found: set[str] = set()
    for start, end in spans:
        found |= _forms(url[start:end])
    for start, end in _driver_parts(url):
        if any(start < s_end and s_start < end for s_start, s_end in spans):
            found |= _forms(url[start:end])
    return sorted((s for s in found if s), key=len, reverse=True)


def has_inline_password(url: str) -> bool:
    """Whether ``url`` (as written in a settings file) holds a password other than ``${VAR}``s."""
    return any(_ENV_REF.sub("", url[start:end]) for start, end in _password_spans(url))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every one of ``secrets`` replaced by ``***`` (pass the longest first)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def _password_spans(url: str) -> list[Span]:
    """Where the passwords are: the user part's after its ``:``, secret query or keyword values."""
    rest = _after_scheme(url)
    if rest is None:
        return [match.span(1) for match in _KEYWORD.finditer(url)]
    parsed = _parseable(url)
    if parsed is None:  # never reaches a driver: any password= value, the user part to the last @
        return _secret_params(url[rest:], rest) + _user_password(url, rest, url.rfind("@", rest))
    query: list[Span] = []  # without a query, a "?password=" is inside the user part's password
    if parsed.group("query") is not None:
        start = parsed.start("query") - 1  # the "?" before it
        query = _secret_params(url[start:], start)
    ats = [i for i in range(rest, len(url)) if url[i] == "@" and not _inside(i, query)]
    return query + _user_password(url, rest, ats[-1] if ats else -1)


def _user_password(url: str, rest: int, at: int) -> list[Span]:
    """The password of a user part ending at ``at`` (-1: none): after its first ``:``."""
    colon = url.find(":", rest, at) if at >= 0 else -1
    return [(colon + 1, at)] if colon >= 0 else []


def _mask_spans(url: str) -> list[Span]:
    """What :func:`mask_url` hides: the passwords, and all of an unparseable URL's user part."""
    spans = _password_spans(url)
    rest = _after_scheme(url)
    if rest is not None and _parseable(url) is None:
        at = url.rfind("@", rest)
        if at > rest:
            spans.append((rest, at))
    return spans


def _after_scheme(url: str) -> int | None:
    """Where the text after ``scheme://`` starts (None: no ``://``, a libpq key=value string)."""
    index = url.find("://")
    return None if index < 0 else index + 3


def _parseable(url: str) -> re.Match[str] | None:
    """SQLAlchemy's reading of ``url`` when it can read it (a match naming the parts), else None."""
    match = _SQLALCHEMY_URL.match(url)
    if match is None:
        return None
    port = match.group("port")
    if port:
        try:
            int(port)
        except ValueError:
            return None
    return match


def _secret_params(text: str, offset: int) -> list[Span]:
    """Spans (shifted by ``offset``) of the values of ``password``-like parameters in ``text``."""
    spans = []
    for index, char in enumerate(text):
        match = _PARAM.match(text, index) if char in "?&" else None
        if match is not None and unquote_plus(match.group(1)).strip().lower() in SECRET_KEYS:
            start, end = match.span(2)
            spans.append((offset + start, offset + end))
    return spans


def _driver_parts(url: str) -> Iterator[Span]:
    """The spans of what SQLAlchemy hands the driver: user, password, host, port, database, each
    query parameter."""
    parsed = _parseable(url)
    if parsed is None:
        return
    for name in _COMPONENTS:
        if parsed.group(name) is not None:
            yield parsed.span(name)
    if parsed.group("query") is not None:
        start = parsed.start("query")
        for part in parsed.group("query").split("&"):
            yield start, start + len(part)
            start += len(part) + 1


def _forms(raw: str) -> set[str]:
    """``raw`` as written, decoded, and encoded the ways a URL or a connection string carries it."""
    written = {raw}
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        written.add(re.sub(r"\\(.)", r"\1", raw[1:-1]))  # a quoted libpq value
    forms = set(written)
    for decoded in {decode(text) for text in written for decode in (unquote, unquote_plus)}:
        forms |= {
            decoded,
            quote(decoded, safe=""),
            quote(decoded, safe=" +"),  # SQLAlchemy's render of a password
            quote_plus(decoded, safe=""),  # a query value
            re.sub(r"(['\\])", r"\\\1", decoded),  # libpq's escaping in a connection string
        }
    return forms


def _inside(index: int, spans: list[Span]) -> bool:
    return any(start <= index < end for start, end in spans)


def _merged(spans: list[Span]) -> list[Span]:
    """Sorted, non-empty spans with overlapping or touching ones joined."""
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
