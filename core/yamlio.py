"""YAML loading that reports problems as ``file: path: message`` and never guesses.

Used for both ``v2mom.yaml`` and ``plan.yaml``: syntax errors carry their line and column, and
validation errors are rendered with a dotted/indexed path (``methods[1].values[0]``) and, where the
path exists in the document, its line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from v2mom.errors import ConfigError

Loc = Sequence[str | int]
M = TypeVar("M", bound=BaseModel)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def format_path(loc: Loc) -> str:
    """Render a location tuple as ``methods[1].values[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def parse_yaml(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """Parse ``text``; return the data and its node tree (for line look-ups).

    Raises ConfigError naming the line and column of a syntax error.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = exc.problem or str(exc)
        raise ConfigError(f"{source}: {where}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {exc}") from None
    return data, node


def line_of(node: yaml.Node | None, loc: Loc) -> int | None:
    """The 1-based line of ``loc`` in a composed YAML tree, or of its nearest existing ancestor."""
    current = node
    line = current.start_mark.line + 1 if current is not None else None
    for part in loc:
        if isinstance(current, yaml.MappingNode) and isinstance(part, str):
            match = next((v for k, v in current.value if getattr(k, "value", None) == part), None)
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and part < len(current.value):
            match = current.value[part]
        else:
            match = None
        if match is None:
            break
        current = match
        line = current.start_mark.line + 1
    return line


def problem_line(source: str, loc: Loc, message: str, node: yaml.Node | None) -> str:
    """One problem as ``source: path: message (line N)``."""
    line = line_of(node, loc)
    suffix = f" (line {line})" if line is not None and node is not None else ""
    return f"{source}: {format_path(loc)}: {message}{suffix}"


def validation_problems(exc: ValidationError, source: str, node: yaml.Node | None) -> list[str]:
    """Turn pydantic's errors into ``source: path: message`` lines."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        problems.append(problem_line(source, loc, message, node))
    return problems


NOT_UNICODE = "text is not valid Unicode (it has a lone UTF-16 surrogate, which cannot be stored)"
HAS_NUL = "text has a NUL character (U+0000), which cannot be stored"


def unencodable(value: object) -> str | None:
    """Why ``value`` cannot be stored or sent as UTF-8 text (a lone surrogate such as ``"\\ud800"``),
    or stored at all (a NUL character: PostgreSQL text cannot hold one).

    None for every other value. The message never repeats the text (it may be a secret).
    """
    if isinstance(value, str):
        if "\x00" in value:
            return HAS_NUL
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return NOT_UNICODE
    return None


def find_problems(data: Any, check: Callable[[object], str | None], limit: int = 20) -> list[tuple[Loc, str]]:
    """``check`` applied to every key and scalar of a parsed document: ``(path, message)`` for each
    one it objects to, at most ``limit`` of them. Iterative, so a deeply nested document cannot
    exhaust the stack; a bad key is reported at the path of its mapping."""
    found: list[tuple[Loc, str]] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack and len(found) < limit:
        loc, node = stack.pop()
        if isinstance(node, dict):
            children: list[tuple[tuple[str | int, ...], Any]] = []
            for key, child in node.items():
                problem = check(key)
                if problem is not None:
                    found.append((loc, f"a key here: {problem}"))
                    continue
                children.append(((*loc, key if isinstance(key, str | int) else str(key)), child))
            stack.extend(reversed(children))
        elif isinstance(node, list | tuple):
            stack.extend(reversed([((*loc, i), child) for i, child in enumerate(node)]))
        else:
            problem = check(node)
            if problem is not None:
                found.append((loc, problem))
    return found[:limit]


def raise_problems(problems: Iterable[str], what: str) -> None:
    """Raise one ConfigError listing every problem, if there are any."""
    found = list(problems)
    if found:
        raise ConfigError(f"{what} is invalid:\n  " + "\n  ".join(found), found)


def interpolate_env(data: Any, source: str, env: Mapping[str, str] | None = None, loc: Loc = ()) -> Any:
    """Replace ``${VAR}`` in every string; a missing variable is an error naming it and its place."""
    environ = os.environ if env is None else env
    if isinstance(data, dict):
        return {k: interpolate_env(v, source, environ, (*loc, str(k))) for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate_env(v, source, environ, (*loc, i)) for i, v in enumerate(data)]
    if isinstance(data, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise ConfigError(f"{source}: {format_path(loc)}: environment variable {name} is not set")
            return environ[name]

        return _ENV_REF.sub(substitute, data)
    return data


def read_text(path: Path) -> str:
    """Read a config file, turning a missing or unreadable file into a ConfigError."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def validate_model(model: type[M], data: Any, source: str, node: yaml.Node | None) -> M:
    """Validate ``data`` as ``model``; every problem is reported with its path and line."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise_problems(validation_problems(exc, source, node), source)
        raise AssertionError("unreachable") from exc
