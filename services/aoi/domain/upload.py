"""An upload as the service imports it: the bytes, the options (``name``, ``repair``, ``dissolve``,
``drop_failing``) and how a refusal of the importer is told to the client. Pure: the routes read the
request."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from shared.geo import AoiError, Limits
from shared.geo.errors import UPLOAD_TOO_LARGE
from shared.inputs import check_text
from shared.problems import Problem

MAX_NAME = 200
OPTIONS = ("name", "repair", "dissolve", "drop_failing")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass
class Upload:
    data: bytes
    filename: str | None
    content_type: str | None
    name: str | None
    repair: bool
    dissolve: bool
    drop_failing: bool = False

    def identity(self) -> dict[str, Any]:
        """What makes two uploads the same request (for the Idempotency-Key fingerprint): the bytes
        and the options; not the filename or content type, which only help to read the bytes."""
        return {"sha256": hashlib.sha256(self.data).hexdigest(), "name": self.name, "repair": self.repair,
                "dissolve": self.dissolve, "drop_failing": self.drop_failing}

    def job(self, limits: Limits, *, index: bool) -> dict[str, Any]:
        """The arguments of ``domain.imports.prepare`` for this upload."""
        return dict(data=self.data, filename=self.filename, content_type=self.content_type, repair=self.repair,
                    dissolve=self.dissolve, drop_failing=self.drop_failing, limits=limits, index=index)


def upload(data: bytes, options: dict[str, Any], *, filename: str | None, content_type: str | None) -> Upload:
    """The upload with its options checked (422 ``invalid_option`` naming the option)."""
    return Upload(data=data, filename=filename, content_type=content_type, name=_name(options.get("name")),
                  repair=_flag(options.get("repair"), "repair"), dissolve=_flag(options.get("dissolve"), "dissolve"),
                  drop_failing=_flag(options.get("drop_failing"), "drop_failing"))


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Problem(422, "invalid_option", f"{name}={str(value)[:40]!r} is not a boolean; use true or false",
                  field=name)


def _name(value: Any) -> str | None:
    if value is None:
        return None
    text = check_text(str(value).strip(), "name")
    if len(text) > MAX_NAME:
        raise Problem(422, "invalid_option", f"name is {len(text)} characters, over the limit of {MAX_NAME}",
                      field="name")
    return text or None


def json_options(data: bytes, options: dict[str, Any]) -> dict[str, Any]:
    """Options carried by a JSON wrapper ({"name": ..., "wkt": ..., "repair": true}); query wins."""
    if not data.lstrip()[:1] == b"{":
        return options
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return options  # the importer reports the malformed JSON
    if not isinstance(doc, dict) or isinstance(doc.get("type"), str):
        return options  # plain GeoJSON: no wrapper options
    lowered = {str(k).lower(): v for k, v in doc.items()}
    out = dict(options)
    for key in OPTIONS:
        if key in lowered and key not in out:
            out[key] = lowered[key]
    return out


def aoi_problem(err: AoiError) -> Problem:
    """The importer's refusal as the client sees it: its stable code, where in the input (the first
    problem found), and the report of every part with every violation."""
    extra: dict[str, Any] = {"where": err.where} if err.where else {}
    if err.report is not None:
        extra["report"] = err.report
    return Problem(err.status, err.code, err.message, title=err.code.replace("_", " "), **extra)


def too_large(limit: int, actual: int | None) -> Problem:
    seen = f"{actual:,} bytes" if actual is not None else "more than that"
    return aoi_problem(AoiError(
        UPLOAD_TOO_LARGE,
        f"The upload is {seen}, over the limit of {limit:,} bytes (max_upload_bytes); simplify the "
        f"geometry or split it into several AOIs.",
        where={"limit": "max_upload_bytes", "value": limit, **({"actual": actual} if actual else {})}))
