"""The list cursor: the position (created_at, id) of the last AOI a page examined, opaque to clients."""
from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from shared.inputs import id_issue
from shared.problems import Problem


def encode_cursor(row: Any) -> str:
    raw = f"{row['created_at'].isoformat()}|{row['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """The position a cursor names; None for no cursor; 422 ``invalid_cursor`` for one not issued here."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts, ident = raw.split("|", 1)
        if id_issue(ident):
            raise ValueError(ident)
        return datetime.fromisoformat(ts), ident
    except (ValueError, UnicodeDecodeError, UnicodeEncodeError):
        raise Problem(422, "invalid_cursor", "cursor is not one this service issued; start again without it",
                      field="cursor") from None
