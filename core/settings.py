"""Settings (``v2mom.yaml``): where to connect. Built lazily, never at import time.

Precedence: environment (``V2MOM_DATABASE_URL`` …) over the file over defaults. ``${VAR}`` in the
file is replaced from the environment; a missing variable is an error naming it. A file that holds
a secret inline (a token, key or webhook secret, or a password in ``database_url``) and that other
users can read is accepted with a warning naming it and its mode, as ssh does for keys.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from v2mom.background import secret_values
from v2mom.errors import ConfigError
from v2mom.logs import LogFormat
from v2mom.models import TRACKERS, TrackerName
from v2mom.redaction import has_inline_password, url_secrets
from v2mom.workdays import WEEKDAYS, WorkCalendar
from v2mom.yamlio import interpolate_env, parse_yaml, read_text, validate_model

log = logging.getLogger(__name__)
DEFAULT_CONFIG = "v2mom.yaml"
CONFIG_ENV = "V2MOM_CONFIG"  # names the settings file when -c does not
_ONLY_ENV_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
Measure = Literal["points", "hours", "count"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MONDAY_TO_FRIDAY: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value.rstrip("/")


class WriteBackSettings(_Section):
    """Whether v2mom-sync writes inferred values (``fields``) and explanation links (``links``) into a
    tracker's items. Off until an admin turns it on."""

    enabled: bool = False
    fields: bool = True
    links: bool = True


JiraDeployment = Literal["cloud", "datacenter"]
#: Issues per search page when ``page_size`` is not set. Cloud's search serves 100 issues a page with
#: the fields a sync asks for. Data Center serves up to 1,000 (``jira.search.views.default.max``) and
#: its listing carries every issue's changelog: 500 a page makes a fifth of the requests 100 would
#: (a site's rate limit counts requests) while a page held decoded stays tens of megabytes.
JIRA_PAGE_SIZES: dict[JiraDeployment, int] = {"cloud": 100, "datacenter": 500}


class JiraSettings(_Section):
    """Jira connection and scope: Cloud (``email`` + ``api_token``, REST v3) or Data Center
    (``deployment: datacenter``, a personal access ``token`` sent as Bearer, REST v2)."""

    deployment: JiraDeployment = "cloud"
    url: str
    email: str | None = None
    api_token: SecretStr | None = None
    token: SecretStr | None = None
    jql: str
    story_points_field: str | None = None
    webhook_secrets: list[SecretStr] = Field(default_factory=list)
    page_size: int = Field(default=JIRA_PAGE_SIZES["cloud"], ge=1, le=5000)

    write_back: WriteBackSettings = Field(default_factory=WriteBackSettings)

    _url = field_validator("url")(_http_url)

    @model_validator(mode="before")
    @classmethod
    def _page_size_for_deployment(cls, data: Any) -> Any:
        """Without ``page_size``, the deployment's own (:data:`JIRA_PAGE_SIZES`)."""
        if isinstance(data, dict) and "page_size" not in data:
            deployment = data.get("deployment", "cloud")
            if deployment in JIRA_PAGE_SIZES:  # an unknown one is refused by its own field
                return {**data, "page_size": JIRA_PAGE_SIZES[deployment]}
        return data

    @model_validator(mode="after")
    def _credentials_match_deployment(self) -> JiraSettings:
        """Cloud authenticates with ``email`` + ``api_token``, Data Center with a PAT in ``token``;
        the other deployment's credentials are refused so that a half-edited file says what to fix."""
        if self.deployment == "datacenter":
            if self.token is None:
                raise ValueError("deployment 'datacenter' needs 'token' (a personal access token)")
            if self.email is not None or self.api_token is not None:
                raise ValueError(
                    "deployment 'datacenter' authenticates with 'token' only: remove 'email' and 'api_token'"
                )
        elif self.token is not None:
            raise ValueError(
                "'token' is a Data Center personal access token: set deployment: datacenter, "
                "or use 'email' and 'api_token' for Cloud"
            )
        elif self.email is None or self.api_token is None:
            raise ValueError("deployment 'cloud' needs 'email' and 'api_token'")
        return self

    def credential(self) -> str:
        """The secret this deployment authenticates with (Cloud's API token, Data Center's PAT)."""
        secret = self.token if self.deployment == "datacenter" else self.api_token
        if secret is None:  # the validator makes this unreachable
            raise ConfigError(f"trackers.jira: no credential for deployment '{self.deployment}'")
        return secret.get_secret_value()


class AsanaSettings(_Section):
    """Asana workspace, projects and the optional points field."""

    base_url: str = "https://app.asana.com/api/1.0"
    token: SecretStr
    workspace: str
    projects: list[str] = Field(default_factory=list)
    points_field: str | None = None
    page_size: int = Field(default=100, ge=1, le=100)

    write_back: WriteBackSettings = Field(default_factory=WriteBackSettings)

    _url = field_validator("base_url")(_http_url)


class LinearSettings(_Section):
    """Linear API and the teams to sync."""

    api_url: str = "https://api.linear.app/graphql"
    api_key: SecretStr
    teams: list[str] = Field(default_factory=list)
    webhook_secrets: list[SecretStr] = Field(default_factory=list)
    page_size: int = Field(default=100, ge=1, le=250)

    write_back: WriteBackSettings = Field(default_factory=WriteBackSettings)

    _url = field_validator("api_url")(_http_url)


class TrackersSettings(_Section):
    """Any subset of the three trackers."""

    jira: JiraSettings | None = None
    asana: AsanaSettings | None = None
    linear: LinearSettings | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_trackers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = [k for k in data if k not in TRACKERS]
            if unknown:
                raise ValueError(f"unknown tracker '{unknown[0]}' (expected one of {', '.join(TRACKERS)})")
        return data

    def endpoint(self, tracker: str) -> str | None:
        """The URL ``tracker``'s connector talks to (Jira ``url``, Asana ``base_url``, Linear ``api_url``),
        None when it has no section."""
        section = getattr(self, tracker, None)
        if isinstance(section, JiraSettings):
            return section.url
        if isinstance(section, AsanaSettings):
            return section.base_url
        if isinstance(section, LinearSettings):
            return section.api_url
        return None

    def webhook_secrets(self, tracker: str) -> list[str]:
        """The webhook secrets configured for ``tracker`` (several during a rotation; Asana's are
        learned in its handshake, never configured)."""
        section = getattr(self, tracker, None)
        if isinstance(section, JiraSettings | LinearSettings):
            return [secret.get_secret_value() for secret in section.webhook_secrets]
        return []

    def configured(self) -> list[str]:
        """Names of the trackers that have a section."""
        return [name for name in TRACKERS if getattr(self, name) is not None]

    def selected(self, tracker: str | None) -> list[str]:
        """``[tracker]`` (a ``--tracker`` option), or every configured tracker when it is None.

        ConfigError naming the configured ones when ``tracker`` has no section.
        """
        names = self.configured()
        if tracker is None:
            return names
        if tracker not in names:
            raise ConfigError(
                f"--tracker: '{tracker}' is not configured (configured: {', '.join(names) or 'none'})"
            )
        return [tracker]


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``2h`` or ``1d`` as a timedelta; ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if match is None:
        raise ValueError(f"'{text}' is not a duration like 90s, 15m, 2h or 1d")
    amount, unit = float(match.group(1)), match.group(2)
    seconds = amount * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return timedelta(seconds=seconds)


class SyncSettings(_Section):
    """How sync runs behave."""

    overlap_seconds: int = Field(default=300, ge=0)
    reconcile_every: str = "15m"

    @field_validator("reconcile_every")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def reconcile_interval(self) -> timedelta:
        """``reconcile_every`` as a timedelta."""
        return parse_duration(self.reconcile_every)

    max_retries: int = Field(default=5, ge=0)
    max_retry_wait_seconds: float = Field(default=60.0, ge=0)
    # Seconds to open a connection to a tracker; a tracker that cannot be reached fails after it,
    # naming its URL (not retried until it has answered once).
    connect_timeout_seconds: float = Field(default=5.0, gt=0)


class MetricsSettings(_Section):
    """Who may read ``GET /metrics``: any API token (the default), or anyone when ``public``."""

    public: bool = False


class PersonSettings(_Section):
    """One person and their accounts on each tracker (``people:``): their time is one person's,
    whichever tracker their work is in."""

    name: str = Field(min_length=1, max_length=200)
    accounts: dict[TrackerName, str] = Field(min_length=1)

    @field_validator("accounts")
    @classmethod
    def _non_empty_accounts(cls, value: dict[str, str]) -> dict[str, str]:
        for tracker, account in value.items():
            if not account.strip():
                raise ValueError(f"{tracker}: an account id must not be empty")
        return value


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not a time zone this machine knows (an IANA name such as Europe/Paris)"
        ) from None
    return value


def _work_week(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("must name at least one day")
    repeated = sorted({day for day in value if value.count(day) > 1})
    if repeated:
        raise ValueError(f"names {', '.join(repeated)} more than once")
    return value


class Settings(BaseSettings):
    """Everything ``v2mom`` needs to know about where to connect."""

    model_config = SettingsConfigDict(env_prefix="V2MOM_", extra="forbid")

    database_url: str = "sqlite:///v2mom.db"
    public_url: str | None = None  # where links written into the trackers point (the dashboard)
    measure: Measure = "points"
    trackers: TrackersSettings = Field(default_factory=TrackersSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    log_format: LogFormat = "text"  # v2mom serve's log lines; --log-format wins
    # People's time (person_days, fte): the zone a day is counted in, the days that are worked, one
    # person's accounts across trackers, and the fewest people a team row may show.
    timezone: str = "UTC"
    work_week: list[Weekday] = Field(default_factory=lambda: list(MONDAY_TO_FRIDAY))
    people: list[PersonSettings] = Field(default_factory=list)
    min_group_size: int = Field(default=3, ge=1)

    _public_url = field_validator("public_url")(lambda value: None if value is None else _http_url(value))
    _timezone = field_validator("timezone")(_known_zone)
    _work_week = field_validator("work_week")(_work_week)

    @field_validator("people")
    @classmethod
    def _one_owner_per_account(cls, value: list[PersonSettings]) -> list[PersonSettings]:
        owners: dict[tuple[str, str], str] = {}
        for person in value:
            for tracker, account in person.accounts.items():
                other = owners.setdefault((tracker, account), person.name)
                if other != person.name:
                    raise ValueError(
                        f"{tracker} account {account!r} is listed under both {other!r} and {person.name!r}"
                    )
        return value

    def calendar(self) -> WorkCalendar:
        """The working days and people these settings count people's time in."""
        return WorkCalendar(
            timezone=self.timezone,
            work_week=frozenset(WEEKDAYS.index(day) for day in self.work_week),
            accounts={
                (tracker, account): person.name
                for person in self.people
                for tracker, account in person.accounts.items()
            },
            min_group_size=self.min_group_size,
        )

    def secrets(self) -> list[str]:
        """Everything to mask in logs, longest first: the ``SecretStr`` values (tracker tokens and
        keys, webhook secrets) and every form of the database URL's passwords."""
        found = {*secret_values(self), *url_secrets(self.database_url)} - {""}
        return sorted(found, key=len, reverse=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment wins over the file (``V2MOM_DATABASE_URL`` overrides ``database_url``)."""
        return (env_settings, init_settings)


def config_path(explicit: str | Path | None = None) -> Path:
    """The settings file to read: ``-c PATH``, else ``$V2MOM_CONFIG``, else ``./v2mom.yaml``."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(CONFIG_ENV, DEFAULT_CONFIG))


def load_settings(path: str | Path | None = None, *, required: bool = False) -> Settings:
    """Read, interpolate and validate the settings file.

    A missing default file yields the defaults (embedded SQLite, no trackers) unless ``required``
    or a path was given explicitly.
    """
    file = config_path(path)
    explicit = bool(path) or CONFIG_ENV in os.environ
    if not file.exists() and not (explicit or required):
        return Settings()
    source = str(file)
    data, node = parse_yaml(read_text(file), source)
    warn_if_exposed(file, data)
    data = interpolate_env(data, source)
    return validate_model(Settings, data, source, node)


def warn_if_exposed(file: Path, data: Any) -> None:
    """Warn when ``file`` holds a secret inline and its group or others may read it (POSIX only)."""
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(file.stat().st_mode)
    except OSError:
        return  # it was just read; a race with its removal leaves nothing to warn about
    if not mode & 0o077:
        return
    inline = inline_secrets(data)
    if inline:
        log.warning(
            "%s holds secrets inline (%s) and is readable by others: its mode is %04o. "
            "Run 'chmod 600 %s', or better keep the secrets in the environment and write ${VAR} in the file.",
            file,
            ", ".join(inline),
            mode,
            file,
        )


def inline_secrets(data: Any) -> list[str]:
    """Dotted paths of the secret settings in raw file ``data`` written inline, not as ``${VAR}``."""
    found: list[str] = []
    if isinstance(data, dict):
        url = data.get("database_url")
        if isinstance(url, str) and has_inline_password(url):
            found.append("database_url")
    _walk_secrets(Settings, data, "", found)
    return found


def _walk_secrets(model: type[BaseModel], data: Any, prefix: str, found: list[str]) -> None:
    if not isinstance(data, dict):
        return
    for name, field in model.model_fields.items():
        if name not in data:
            continue
        path, value = f"{prefix}{name}", data[name]
        kinds = _types_in(field.annotation)
        if SecretStr in kinds:
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, str) and v and not _ONLY_ENV_REF.fullmatch(v.strip()) for v in values):
                found.append(path)
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                _walk_secrets(kind, value, f"{path}.", found)


def _types_in(annotation: Any) -> set[Any]:
    """Every type named in ``annotation`` (through unions, Optional and list[...])."""
    args = typing.get_args(annotation)
    if not args:
        return {annotation}
    out: set[Any] = set()
    for arg in args:
        out |= _types_in(arg)
    return out
