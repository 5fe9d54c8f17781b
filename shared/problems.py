"""RFC 9457 problem details: one error type for every refusal a person or client may see."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Problem(Exception):
    """An HTTP refusal: `code` is stable and machine-readable, `detail` tells a person what to do."""

    def __init__(self, status: int, code: str, detail: str, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.title = title or code.replace("_", " ").capitalize()
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": f"https://tessera.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            out["instance"] = instance
        out.update(self.extra)
        return out


def not_found(what: str, ident: object) -> Problem:
    return Problem(404, "not_found", f"{what} {ident} does not exist (or belongs to another account)")


class FieldIssue(BaseModel):
    """One refused field or entry: where (a dotted path, a header or parameter name) and why."""

    model_config = ConfigDict(extra="allow")
    field: str
    message: str
    value: str | None = None
    code: str | None = None


class ProblemDocument(BaseModel):
    """RFC 9457 problem details (``application/problem+json``), as every refusal is answered. ``code`` is
    stable and machine-readable (each operation lists the codes it may send), ``detail`` tells a person
    what to do; a refusal may add members of its own (``where``, ``report``, ``checkout_id``, ...)."""

    model_config = ConfigDict(extra="allow", title="Problem")
    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[FieldIssue] | None = None
