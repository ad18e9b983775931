"""An item's URL comes from its tracker and is rendered as a link: only http(s) URLs are kept."""

from __future__ import annotations

import pytest

from tests.factories import make_item


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",  # browsers strip leading spaces
        "java\tscript:alert(1)",  # and tabs inside
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",  # protocol-relative
        "/browse/ONB-1",
        "ftp://files.example/x",
        "https://",
        "https:///no-host",
        "",
    ],
)
def test_a_url_that_is_not_http_is_dropped(url: str) -> None:
    assert make_item("1", url=url).url is None


@pytest.mark.parametrize(
    "url",
    [
        "https://example.atlassian.net/browse/ONB-1",
        "http://jira.internal:8080/browse/ONB-1",
        "HTTPS://app.asana.com/0/1/2",
        "https://linear.app/acme/issue/ENG-1/a-title",
    ],
)
def test_an_http_url_is_kept_as_it_is(url: str) -> None:
    assert make_item("1", url=url).url == url
