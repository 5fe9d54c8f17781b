"""The one order-item payload (docs/domain.md, Shared vocabulary) and its configuration rules
(docs/domain.md, Configuration).

The same payload is the estimate request, a cart item and an order. Field names are snake_case;
the public provider's PascalCase names are accepted as aliases so its clients work unchanged
(``From``, ``ImageFrequency``, ``SatelliteConstellations``, ...). ``from`` is a Python keyword,
so the attribute is ``from_``; JSON uses ``from`` (or ``From``).

The configuration rules are plain functions (``check_*`` / ``check_configuration``) used by the
pydantic validators below, so pricing, the cart and checkout apply the very same code. Each
pydantic error is attached to the field it is about (its location is the key the client used),
so FastAPI answers 422 with ``loc`` naming the field.

**Decisions** (ours, where the provider's documentation is silent; docs/domain.md lists them):

- ``constellations`` is required (no default) and must not repeat a constellation.
- ``tile_deduplication: true`` on a polygon-mode item is an error naming ``tile_deduplication``
  (deduplication exists only for grid orders, docs/domain.md, Deduplication).
- A grid selection may give only ``tile_guids`` or only ``minitile_guids`` (or both), but not
  two empty lists; GUIDs must be unique across both lists. GUIDs are accepted in any form a UUID
  may take (upper case, braces, ``urn:uuid:``, no hyphens) and kept as canonical strings (lower
  case, hyphenated), so equal GUIDs are equal strings (``GuidList``).
- Unknown extra fields are ignored (the provider's payloads carry fields we do not use).
- ``OrderItem`` accepts everything the estimate accepts; ``StoredOrderItem`` (cart items and
  orders) refuses inline geometry (``wkt``/``geojson``) and ``simulated_spend``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shared.catalog import CONSTELLATION_DISPLAY_NAMES, Constellation, ModelName, model_spec
from shared.inputs import Id, Text
from shared.schedule import Schedule

__all__ = [
    "ConfigurationIssue",
    "GuidList",
    "OrderItem",
    "StoredOrderItem",
    "check_api_requests",
    "check_configuration",
    "check_constellations",
    "check_date_in_range",
    "check_from_date",
    "check_image_frequency",
    "check_storage_months",
    "check_to_date",
]

MIN_FREQUENCY = 1
MAX_FREQUENCY = 7

# Every date of an item (from, to, reference date) lies in this window: the coverage ledger counts
# days from 1970-01-01, and a bounded window keeps every month and image date an order can reach
# computable (year 9999 is where Python's dates end).
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2099, 12, 31)

AoiMode = Literal["polygon", "grid"]


# --------------------------------------------------------------------------------------------
# GUID lists: canonical strings, checked in bulk
# --------------------------------------------------------------------------------------------

_UUIDS = TypeAdapter(list[UUID])
_GUID_CHARACTERS = b"0123456789abcdef-\n"


def _canonical_guids(value: Any, handler: ValidatorFunctionWrapHandler) -> list[str]:
    """A list of GUIDs as canonical strings (lower case, hyphenated).

    A selection holds thousands of GUIDs and is validated on every estimate and cart change, so
    the usual spelling is checked in bulk, by C string operations over the joined list (0.2 ms
    for 2,500 GUIDs, where making a ``UUID`` of each costs 0.5-0.9 ms; bench/pricing.py): joined
    by newlines, the text
    is exactly 37 characters per GUID less one, has a hyphen at each GUID's offsets 8, 13, 18 and
    23 and a newline after each but the last, and nothing else but hexadecimal digits. Anything
    else (another spelling of a UUID, a non-string, a broken GUID) takes pydantic's own UUID
    validation, whose errors name the index (``tile_guids.3``)."""
    n = len(value) if isinstance(value, list) else 0
    if n:
        try:
            joined = "\n".join(value)
            lowered = joined.lower()
            canonical = (
                len(lowered) == 37 * n - 1
                and lowered[8::37] == lowered[13::37] == lowered[18::37] == lowered[23::37] == "-" * n
                and lowered.count("-") == 4 * n
                and lowered[36::37] == "\n" * (n - 1)
                and lowered.count("\n") == n - 1
                and not lowered.encode("ascii").translate(None, _GUID_CHARACTERS)
            )
        except (TypeError, UnicodeEncodeError):  # a non-string element; a non-ASCII character
            canonical = False
        if canonical:
            return list(value) if lowered == joined else lowered.split("\n")
    guids: list[str] = handler([str(guid) for guid in _UUIDS.validate_python(value)])
    return guids


# ``handler`` validates the canonical strings as ``list[str]`` (a no-op); the schema says uuid.
GuidList = Annotated[
    list[str],
    WrapValidator(_canonical_guids),
    Field(json_schema_extra={"items": {"type": "string", "format": "uuid"}}),
]


# --------------------------------------------------------------------------------------------
# Configuration rules as plain functions: each returns None when fine, or the message to show.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigurationIssue:
    """One broken configuration rule: the snake_case field it is about and a readable message."""

    field: str
    message: str


def check_date_in_range(day: date) -> str | None:
    """Item dates lie between ``EARLIEST_DATE`` and ``LATEST_DATE`` (inclusive)."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        return (
            f"{day.isoformat()} is out of range: dates must lie between {EARLIEST_DATE.isoformat()} "
            f"and {LATEST_DATE.isoformat()}"
        )
    return None


def check_from_date(from_: date) -> str | None:
    """``from`` must be the 1st of a month."""
    if from_.day != 1:
        return (
            f"'from' must be the 1st of a month, got {from_.isoformat()}; "
            f"use {from_.replace(day=1).isoformat()}"
        )
    return None


def check_to_date(from_: date, to: date | None) -> str | None:
    """``to`` (when given) must not lie before ``from``; null means recurring."""
    if to is not None and to < from_:
        return (
            f"'to' ({to.isoformat()}) lies before 'from' ({from_.isoformat()}); "
            "give a later 'to', or null for a recurring order"
        )
    return None


def check_image_frequency(frequency: int) -> str | None:
    """Image frequency is a whole number of days from 1 (daily) to 7 (weekly)."""
    if not MIN_FREQUENCY <= frequency <= MAX_FREQUENCY:
        return (
            f"image frequency must be between {MIN_FREQUENCY} (daily) and {MAX_FREQUENCY} "
            f"(weekly) days, got {frequency}"
        )
    return None


def check_storage_months(storage_months: int) -> str | None:
    """At least one storage month (the included period)."""
    if storage_months < 1:
        return f"storage months must be at least 1, got {storage_months}"
    return None


def check_api_requests(api_requests: int) -> str | None:
    """At least one API request (download) per image."""
    if api_requests < 1:
        return f"API requests must be at least 1, got {api_requests}"
    return None


def check_constellations(model: ModelName | str, constellations: Iterable[Constellation | str]) -> str | None:
    """The constellations must all be allowed for the model and include every required one."""
    spec = model_spec(model)
    chosen = [Constellation(c) for c in constellations]
    if len(set(chosen)) != len(chosen):
        repeated = sorted({c.value for c in chosen if chosen.count(c) > 1})
        return f"constellations must not repeat: {', '.join(repeated)} given more than once"
    not_allowed = sorted(c.value for c in set(chosen) - spec.allowed)
    if not_allowed:
        allowed = ", ".join(sorted(c.value for c in spec.allowed))
        return (
            f"{spec.display_name} does not use {', '.join(not_allowed)}; "
            f"its constellations are {allowed}"
        )
    missing = sorted(c.value for c in spec.required - set(chosen))
    if missing:
        names = ", ".join(f"{c} ({CONSTELLATION_DISPLAY_NAMES[Constellation(c)]})" for c in missing)
        return f"{spec.display_name} requires {names}; add it to the constellations"
    return None


def check_configuration(
    *,
    model: ModelName | str,
    constellations: Iterable[Constellation | str],
    from_: date,
    to: date | None,
    image_frequency: int,
    storage_months: int = 1,
    api_requests: int = 1,
) -> list[ConfigurationIssue]:
    """Every broken configuration rule of docs/domain.md, Configuration, each naming its field.

    Empty list = the configuration is valid. The pydantic models below run the same checks.
    """
    checks: list[tuple[str, str | None]] = [
        ("from", check_date_in_range(from_) or check_from_date(from_)),
        ("to", (check_date_in_range(to) if to is not None else None) or check_to_date(from_, to)),
        ("image_frequency", check_image_frequency(image_frequency)),
        ("constellations", check_constellations(model, constellations)),
        ("storage_months", check_storage_months(storage_months)),
        ("api_requests", check_api_requests(api_requests)),
    ]
    return [ConfigurationIssue(field, message) for field, message in checks if message is not None]


def _fail(message: str | None) -> None:
    if message is not None:
        # A custom error type keeps the message clean (no "Value error, " prefix) in the 422.
        raise PydanticCustomError("invalid_configuration", message)


def _aliases(name: str, alias: str) -> Any:
    return Field(validation_alias=AliasChoices(name, alias), serialization_alias=name)


# --------------------------------------------------------------------------------------------
# The payload
# --------------------------------------------------------------------------------------------


class OrderItem(BaseModel):
    """One order item: an AOI (stored, inline, or a grid selection) and its configuration.

    Exactly one of ``aoi_id``, ``wkt``, ``geojson`` or the grid pair
    (``tile_guids``/``minitile_guids``) must be given. ``reference_date`` defaults to ``from``.
    """

    model_config = ConfigDict(
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
    )

    # AOI: exactly one of these (checked in ``_exactly_one_aoi``).
    aoi_id: Id | None = None
    wkt: Text | None = Field(
        default=None, min_length=1, validation_alias=AliasChoices("wkt", "Wkt"), serialization_alias="wkt"
    )
    geojson: dict[str, Any] | Text | None = Field(
        default=None, validation_alias=AliasChoices("geojson", "GeoJson"), serialization_alias="geojson"
    )
    tile_guids: GuidList | None = Field(
        default=None,
        validation_alias=AliasChoices("tile_guids", "TileGuids"),
        serialization_alias="tile_guids",
    )
    minitile_guids: GuidList | None = Field(
        default=None,
        validation_alias=AliasChoices("minitile_guids", "MiniTileGuids"),
        serialization_alias="minitile_guids",
    )

    # Configuration. Field order matters: a field validator sees only fields declared above it.
    model: ModelName = _aliases("model", "Model")
    constellations: list[Constellation] = _aliases("constellations", "SatelliteConstellations")
    from_: date = Field(validation_alias=AliasChoices("from", "From", "from_"), serialization_alias="from")
    to: date | None = Field(default=None, validation_alias=AliasChoices("to", "To"), serialization_alias="to")
    image_frequency: int = _aliases("image_frequency", "ImageFrequency")
    reference_date: date | None = Field(
        default=None,
        validation_alias=AliasChoices("reference_date", "ReferenceDate"),
        serialization_alias="reference_date",
    )
    storage_months: int = Field(
        default=1,
        validation_alias=AliasChoices("storage_months", "StorageMonths"),
        serialization_alias="storage_months",
    )
    api_requests: int = Field(
        default=1,
        validation_alias=AliasChoices("api_requests", "ApiRequests"),
        serialization_alias="api_requests",
    )
    tile_deduplication: bool = Field(
        default=False,
        validation_alias=AliasChoices("tile_deduplication", "TileDeduplication"),
        serialization_alias="tile_deduplication",
    )
    simulated_spend: Decimal | None = Field(
        default=None,
        ge=0,
        validation_alias=AliasChoices("simulated_spend", "SimulatedEuroUsage"),
        serialization_alias="simulated_spend",
    )

    # ---- field rules (each error located at its field) ----

    @field_validator("constellations")
    @classmethod
    def _constellations_fit_model(cls, value: list[Constellation], info: ValidationInfo) -> list[Constellation]:
        model = info.data.get("model")
        if model is not None:  # an invalid model is reported on its own field
            _fail(check_constellations(model, value))
        return value

    @field_validator("from_")
    @classmethod
    def _from_is_first_of_month(cls, value: date) -> date:
        _fail(check_date_in_range(value) or check_from_date(value))
        return value

    @field_validator("to")
    @classmethod
    def _to_not_before_from(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is not None:
            _fail(check_date_in_range(value))
        from_ = info.data.get("from_")
        if from_ is not None:
            _fail(check_to_date(from_, value))
        return value

    @field_validator("reference_date")
    @classmethod
    def _reference_in_range(cls, value: date | None) -> date | None:
        if value is not None:
            _fail(check_date_in_range(value))
        return value

    @field_validator("image_frequency")
    @classmethod
    def _frequency_in_range(cls, value: int) -> int:
        _fail(check_image_frequency(value))
        return value

    @field_validator("storage_months")
    @classmethod
    def _storage_at_least_one(cls, value: int) -> int:
        _fail(check_storage_months(value))
        return value

    @field_validator("api_requests")
    @classmethod
    def _requests_at_least_one(cls, value: int) -> int:
        _fail(check_api_requests(value))
        return value

    @field_validator("tile_guids", "minitile_guids")
    @classmethod
    def _guids_unique(cls, value: list[str] | None) -> list[str] | None:
        # canonical strings: equal GUIDs are equal strings; only a list with a repeat takes the loop
        if value is not None and len(set(value)) != len(value):
            seen: set[str] = set()
            for guid in value:
                if guid in seen:
                    raise PydanticCustomError("duplicate_guid", "GUID {guid} is listed more than once", {"guid": guid})
                seen.add(guid)
        return value

    @field_validator("tile_deduplication")
    @classmethod
    def _deduplication_for_grid_only(cls, value: bool, info: ValidationInfo) -> bool:
        grid_given = info.data.get("tile_guids") is not None or info.data.get("minitile_guids") is not None
        if value and not grid_given:
            raise PydanticCustomError(
                "invalid_configuration",
                "tile_deduplication applies to grid orders only (tile_guids/minitile_guids); "
                "set it to false for a polygon AOI",
            )
        return value

    # ---- whole-item rules ----

    @model_validator(mode="after")
    def _exactly_one_aoi(self) -> OrderItem:
        given = [
            name
            for name, value in (("aoi_id", self.aoi_id), ("wkt", self.wkt), ("geojson", self.geojson))
            if value is not None
        ]
        grid_given = self.tile_guids is not None or self.minitile_guids is not None
        if given and grid_given:
            raise PydanticCustomError(
                "mixed_aoi_modes",
                "an order item is either polygon mode ({polygon}) or grid mode (tile_guids/minitile_guids), "
                "not both; put the grid selection and the polygon in separate items",
                {"polygon": ", ".join(given)},
            )
        if len(given) > 1:
            raise PydanticCustomError(
                "several_aois",
                "give exactly one of aoi_id, wkt, geojson or the grid pair; got {fields}",
                {"fields": ", ".join(given)},
            )
        if not given and not grid_given:
            raise PydanticCustomError(
                "missing_aoi",
                "no AOI given: send one of aoi_id, wkt, geojson, or tile_guids/minitile_guids",
            )
        if grid_given:
            tiles = self.tile_guids or []
            minitiles = self.minitile_guids or []
            if not tiles and not minitiles:
                raise PydanticCustomError(
                    "empty_grid_selection", "the grid selection is empty: list at least one tile or minitile GUID"
                )
            shared = set(tiles).intersection(minitiles) if tiles and minitiles else set()
            if shared:
                raise PydanticCustomError(
                    "duplicate_guid",
                    "GUID {guid} is listed both as a tile and as a minitile",
                    {"guid": sorted(shared)[0]},
                )
        return self

    # ---- conveniences ----

    @property
    def aoi_mode(self) -> AoiMode:
        """``"grid"`` for a tile/minitile selection, ``"polygon"`` otherwise."""
        return "grid" if (self.tile_guids is not None or self.minitile_guids is not None) else "polygon"

    @property
    def is_recurring(self) -> bool:
        """``to`` null: the order renews monthly."""
        return self.to is None

    @property
    def effective_reference_date(self) -> date:
        """The reference date, defaulting to ``from`` (docs/domain.md, Configuration)."""
        return self.reference_date if self.reference_date is not None else self.from_

    @property
    def schedule(self) -> Schedule:
        """The item's image schedule: its window, cadence and reference date."""
        return Schedule(self.from_, self.to, self.image_frequency, self.effective_reference_date)

    def configuration_issues(self) -> Sequence[ConfigurationIssue]:
        """Re-run the configuration rules (always empty for a validated instance)."""
        return check_configuration(
            model=self.model,
            constellations=self.constellations,
            from_=self.from_,
            to=self.to,
            image_frequency=self.image_frequency,
            storage_months=self.storage_months,
            api_requests=self.api_requests,
        )


class StoredOrderItem(OrderItem):
    """A cart item or an order: like ``OrderItem`` but the AOI must be stored (``aoi_id``) or a
    grid selection, and there is no simulated spend (both are estimate-only)."""

    @model_validator(mode="after")
    def _no_estimate_only_fields(self) -> StoredOrderItem:
        inline = [name for name in ("wkt", "geojson") if getattr(self, name) is not None]
        if inline:
            raise PydanticCustomError(
                "inline_aoi_not_stored",
                "{fields} is accepted by estimates only; store the AOI first and send its aoi_id",
                {"fields": " and ".join(inline)},
            )
        if self.simulated_spend is not None:
            raise PydanticCustomError(
                "estimate_only_field",
                "simulated_spend (SimulatedEuroUsage) is accepted by estimates only",
            )
        return self
