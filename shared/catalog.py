"""The model catalogue: which models exist, their names, families and constellations.

Prices live in the pricing service's price book, not here: this module says what a model *is*
(and which constellations it requires or allows), so the vocabulary, pricing, cart and orders
agree on it. docs/domain.md, Configuration and Attribution.

**Decision** (the provider's documentation is silent on Nimbus's inputs): Nimbus requires Sentinel-2; Sentinel-1
and Landsat 8/9 are optional for it (and so are billed as add-ons when selected).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "ATTRIBUTION_NOTICES",
    "CONSTELLATION_DISPLAY_NAMES",
    "MODELS",
    "Constellation",
    "ModelFamily",
    "ModelName",
    "ModelSpec",
    "attribution_notices",
    "model_spec",
]


class Constellation(StrEnum):
    """Satellite inputs, by their API names."""

    SENTINEL1 = "Sentinel1"
    SENTINEL2 = "Sentinel2"
    LANDSAT89 = "Landsat89"


class ModelFamily(StrEnum):
    """Monthly spend tiers are kept per family (docs/domain.md, Pricing)."""

    STRATUS = "Stratus"
    NIMBUS = "Nimbus"


class ModelName(StrEnum):
    """Models by their API names (the values clients send in ``model`` / ``Model``)."""

    STRATUS2 = "Stratus2"
    STRATUS3 = "Stratus3"
    STRATUS2_FAST = "Stratus2Fast"
    NIMBUS = "Nimbus"


CONSTELLATION_DISPLAY_NAMES: Mapping[Constellation, str] = MappingProxyType(
    {
        Constellation.SENTINEL1: "Sentinel-1",
        Constellation.SENTINEL2: "Sentinel-2",
        Constellation.LANDSAT89: "Landsat 8/9",
    }
)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model: API name, display name, family and its constellations."""

    api_name: ModelName
    display_name: str
    family: ModelFamily
    required: frozenset[Constellation]
    optional: frozenset[Constellation]

    @property
    def allowed(self) -> frozenset[Constellation]:
        """Every constellation the model accepts (required or optional)."""
        return self.required | self.optional


_ALL = frozenset(Constellation)

MODELS: Mapping[ModelName, ModelSpec] = MappingProxyType(
    {
        ModelName.STRATUS2: ModelSpec(
            ModelName.STRATUS2, "Stratus-2", ModelFamily.STRATUS, required=_ALL, optional=frozenset()
        ),
        ModelName.STRATUS3: ModelSpec(
            ModelName.STRATUS3, "Stratus-3", ModelFamily.STRATUS, required=_ALL, optional=frozenset()
        ),
        ModelName.STRATUS2_FAST: ModelSpec(
            ModelName.STRATUS2_FAST,
            "Stratus-2 Fast",
            ModelFamily.STRATUS,
            required=frozenset({Constellation.SENTINEL1, Constellation.SENTINEL2}),
            optional=frozenset({Constellation.LANDSAT89}),
        ),
        # Decision: the provider does not document Nimbus's inputs (see module docstring).
        ModelName.NIMBUS: ModelSpec(
            ModelName.NIMBUS,
            "Nimbus",
            ModelFamily.NIMBUS,
            required=frozenset({Constellation.SENTINEL2}),
            optional=frozenset({Constellation.SENTINEL1, Constellation.LANDSAT89}),
        ),
    }
)


def model_spec(model: ModelName | str) -> ModelSpec:
    """The catalogue entry for an API model name; ``KeyError`` naming the known models otherwise."""
    try:
        return MODELS[ModelName(model)]
    except ValueError:
        known = ", ".join(m.value for m in ModelName)
        raise KeyError(f"unknown model {model!r}; known models: {known}") from None


# docs/domain.md, Attribution. Wording follows the data providers' own requested notices.
ATTRIBUTION_NOTICES: Mapping[Constellation, str] = MappingProxyType(
    {
        Constellation.SENTINEL1: "Contains modified Copernicus Sentinel data",
        Constellation.SENTINEL2: "Contains modified Copernicus Sentinel data",
        Constellation.LANDSAT89: "Landsat 8/9 data courtesy of the U.S. Geological Survey",
    }
)


def attribution_notices(constellations: Iterable[Constellation | str]) -> tuple[str, ...]:
    """The source notices that apply to outputs built from ``constellations``.

    Each notice appears once (Sentinel-1 and Sentinel-2 share the Copernicus notice), in a stable
    order: Copernicus first, then USGS.
    """
    wanted = {Constellation(c) for c in constellations}
    notices: list[str] = []
    for constellation in Constellation:  # enum order gives the stable output order
        if constellation in wanted:
            notice = ATTRIBUTION_NOTICES[constellation]
            if notice not in notices:
                notices.append(notice)
    return tuple(notices)
