"""RFC 9457 problem details: one error type for every refusal a person or client may see."""
from __future__ import annotations

from typing import Any


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
