"""Settings files: interpolation, precedence and errors that name the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from v2mom.errors import ConfigError
from v2mom.settings import load_settings

JIRA = """\
database_url: sqlite:///from-file.db
trackers:
  jira:
    url: https://acme.atlassian.net/
    email: ${JIRA_EMAIL}
    api_token: ${JIRA_API_TOKEN}
    jql: project in (ONB, PLAT)
    webhook_secrets: ["${JIRA_WEBHOOK_SECRET}"]
"""


@pytest.fixture
def jira_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIRA_EMAIL", "pm@acme.test")
    monkeypatch.setenv("JIRA_API_TOKEN", "tok-very-secret")
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", "whsec")
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "v2mom.yaml"
    path.write_text(text)
    return path


@pytest.mark.usefixtures("jira_env")
def test_interpolates_and_keeps_secrets_secret(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, JIRA))
    jira = settings.trackers.jira
    assert jira is not None
    assert jira.email == "pm@acme.test"
    assert jira.api_token.get_secret_value() == "tok-very-secret"
    assert "tok-very-secret" not in repr(settings)
    assert jira.url == "https://acme.atlassian.net"
    assert settings.trackers.configured() == ["jira"]


DATACENTER = """\
trackers:
  jira:
    deployment: datacenter
    url: https://jira.acme.test/
    token: ${JIRA_PAT}
    jql: project = ONB
"""


def test_datacenter_takes_a_personal_access_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIRA_PAT", "pat-very-secret")
    settings = load_settings(_write(tmp_path, DATACENTER))
    jira = settings.trackers.jira
    assert jira is not None
    assert (jira.deployment, jira.email, jira.api_token) == ("datacenter", None, None)
    assert jira.credential() == "pat-very-secret"
    assert "pat-very-secret" not in repr(settings)
    assert "pat-very-secret" in settings.secrets()


@pytest.mark.usefixtures("jira_env")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (JIRA, 100),  # Cloud's search serves 100 issues a page with a sync's fields
        (DATACENTER, 500),  # Data Center serves up to 1,000: fewer requests for a rate limit to count
        (JIRA + "    page_size: 40\n", 40),
        (DATACENTER + "    page_size: 1000\n", 1000),
    ],
    ids=["cloud", "datacenter", "cloud-set", "datacenter-set"],
)
def test_each_deployment_has_its_own_page_size_unless_one_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: int
) -> None:
    monkeypatch.setenv("JIRA_PAT", "pat-very-secret")
    jira = load_settings(_write(tmp_path, text)).trackers.jira
    assert jira is not None
    assert jira.page_size == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            DATACENTER.replace("    token: ${JIRA_PAT}\n", ""),
            "deployment 'datacenter' needs 'token' (a personal access token)",
        ),
        (
            DATACENTER.replace("    token:", "    email: pm@acme.test\n    token:"),
            "deployment 'datacenter' authenticates with 'token' only: remove 'email' and 'api_token'",
        ),
        (
            DATACENTER.replace("    deployment: datacenter\n", ""),
            "'token' is a Data Center personal access token: set deployment: datacenter",
        ),
        (
            JIRA.replace("    api_token: ${JIRA_API_TOKEN}\n", ""),
            "deployment 'cloud' needs 'email' and 'api_token'",
        ),
        (DATACENTER.replace("datacenter", "server"), "Input should be 'cloud' or 'datacenter'"),
    ],
)
@pytest.mark.usefixtures("jira_env")
def test_credentials_must_match_the_deployment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.setenv("JIRA_PAT", "pat-very-secret")
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, text))
    assert "trackers.jira" in str(caught.value)
    assert expected in str(caught.value)


@pytest.mark.usefixtures("jira_env")
def test_environment_database_url_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("V2MOM_DATABASE_URL", "sqlite:///from-env.db")
    assert load_settings(_write(tmp_path, JIRA)).database_url == "sqlite:///from-env.db"


def test_missing_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JIRA_EMAIL", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, JIRA))
    assert "trackers.jira.email: environment variable JIRA_EMAIL is not set" in str(caught.value)


@pytest.mark.usefixtures("jira_env")
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  jira:\n", "  jora:\n", "trackers: unknown tracker 'jora'"),
        (
            "url: https://acme.atlassian.net/",
            "url: acme.atlassian.net",
            "trackers.jira.url: must be an http(s) URL",
        ),
        ("    jql: project in (ONB, PLAT)\n", "", "trackers.jira.jql: Field required"),
        (
            "database_url:",
            "measure: weeks\ndatabase_url:",
            "measure: Input should be 'points', 'hours' or 'count'",
        ),
        ("database_url:", "databse_url: x\ndatabase_url:", "databse_url: unknown key"),
    ],
)
def test_invalid_settings_name_the_place(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in JIRA
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, JIRA.replace(old, new, 1)))
    assert expected in str(caught.value)
    assert "tok-very-secret" not in str(caught.value)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml")


def test_no_default_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite:///v2mom.db"
    assert settings.trackers.configured() == []


PEOPLE = """\
timezone: Europe/Paris
work_week: [mon, tue, wed, thu]
min_group_size: 4
people:
  - {name: Ada, accounts: {jira: "5b10a", linear: "lin-ada"}}
  - {name: Bob, accounts: {asana: "1201"}}
"""


def test_people_settings_give_the_calendar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    calendar = load_settings(_write(tmp_path, PEOPLE)).calendar()
    assert (calendar.timezone, calendar.work_week, calendar.min_group_size) == (
        "Europe/Paris",
        {0, 1, 2, 3},
        4,
    )
    assert calendar.person("jira", "5b10a") == calendar.person("linear", "lin-ada") == "Ada"
    assert calendar.person("asana", "1201") == "Bob"
    assert calendar.person("jira", "other") == "jira:other"  # an unlisted account is a person of its own
    defaults = load_settings(_write(tmp_path, "measure: points\n")).calendar()
    assert (defaults.timezone, defaults.work_week, defaults.min_group_size) == ("UTC", {0, 1, 2, 3, 4}, 3)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("Europe/Paris", "Mars/Olympus", "timezone: 'Mars/Olympus' is not a time zone"),
        ("[mon, tue, wed, thu]", "[mon, mon]", "work_week: names mon more than once (line 2)"),
        ("[mon, tue, wed, thu]", "[]", "work_week: must name at least one day"),
        ("[mon, tue, wed, thu]", "[monday]", "work_week[0]: Input should be 'mon'"),
        (
            "min_group_size: 4",
            "min_group_size: 0",
            "min_group_size: Input should be greater than or equal to 1",
        ),
        ('asana: "1201"', 'jira: "5b10a"', "jira account '5b10a' is listed under both 'Ada' and 'Bob'"),
        ('asana: "1201"', 'trello: "x"', "people[1].accounts.trello.[key]: Input should be 'jira'"),
        ('asana: "1201"', 'asana: "  "', "asana: an account id must not be empty"),
    ],
)
def test_invalid_people_settings_name_the_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, expected: str
) -> None:
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    assert old in PEOPLE
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, PEOPLE.replace(old, new, 1)))
    assert expected in str(caught.value)
