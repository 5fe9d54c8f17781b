"""Rules every service applies to text at its edge: ids, names, keys and cursors.

Postgres cannot store NUL in text, and a lone surrogate (JSON allows ``"\\ud800"``) cannot be
encoded as UTF-8 for the database, a log line or a peer's URL. Such a value is refused where it
enters, with the field it came in, instead of failing deep inside a query.

An id names one stored thing and travels in URL paths between services, so it is also kept to
one readable path segment: no control characters, no ``/``, not ``.`` or ``..`` (a client or
proxy would normalise those away and ask for a different resource).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from shared.problems import Problem, not_found

MAX_ID_LENGTH = 200


def text_issue(value: str) -> str | None:
    """Why ``value`` cannot be stored or sent on as text, or None when it can."""
    if "\x00" in value:
        return f"contains a NUL character (at position {value.index(chr(0))}), which cannot be stored"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone UTF-16 surrogate (at position {exc.start}); send valid Unicode text"
    return None


def id_issue(value: str) -> str | None:
    """Why ``value`` cannot be an id, or None when it can."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_ID_LENGTH:
        return f"is {len(value):,} characters long, over the limit of {MAX_ID_LENGTH}"
    issue = text_issue(value)
    if issue:
        return issue
    if any(c < " " or c == "\x7f" for c in value):
        return "contains a control character"
    if "/" in value or value in (".", ".."):
        return "is not an id (ids are one path segment: no '/', not '.' or '..')"
    return None


def _check(issue_of: Callable[[str], str | None]) -> Callable[[str], str]:
    def check(value: str) -> str:
        issue = issue_of(value)
        if issue:
            raise PydanticCustomError("invalid_text", "{issue}", {"issue": issue})
        return value
    return check


# pydantic field types: the 422 names the field (e.g. ``aoi_id: contains a NUL character ...``)
Text = Annotated[str, AfterValidator(_check(text_issue))]
Id = Annotated[str, AfterValidator(_check(id_issue)), Field(min_length=1, max_length=MAX_ID_LENGTH)]


def check_text(value: Any, field: str, *, status: int = 422) -> Any:
    """Refuse a request whose ``field`` (a query parameter, header or form field) is unusable text."""
    if isinstance(value, str):
        issue = text_issue(value)
        if issue:
            raise Problem(status, "invalid_text", f"{field} {issue}",
                          errors=[{"field": field, "message": issue}])
    return value


def path_id(value: str, what: str) -> str:
    """An id taken from a URL path: one that cannot exist is simply not found (404), not asked about."""
    if id_issue(value):
        raise not_found(what, repr(value))
    return value
