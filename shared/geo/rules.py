"""The AOI rules of docs/domain.md, AOI rules (polygon mode), as constants and small checks.

Each Polygon is checked alone; a MultiPolygon is checked as one unit on its combined area and
its own bounding box.
"""

from __future__ import annotations

import re

from .errors import (
    BBOX_SIDE_TOO_SHORT,
    INVALID_RING,
    SLIVER,
    AoiError,
)

MIN_BILLABLE_KM2 = 0.5  # a smaller part is accepted and billed as 0.5 km²
MIN_FILL_RATIO = 0.05  # area must be at least 5 % of its bounding-box area
MIN_BBOX_SIDE_M = 150.0  # each bounding-box side must be longer than 150 m
MIN_LATITUDE = -80.0  # outside UTM: refused
MAX_LATITUDE = 84.0


def billable_km2(area_km2: float) -> float:
    """Billable area of one part: its area, but at least 0.5 km²."""
    return max(area_km2, MIN_BILLABLE_KM2)


def check_bbox_sides(label: str, index: int, width_m: float, height_m: float) -> AoiError | None:
    """The refusal of a part whose bounding box has a side of 150 m or less (None: it passes)."""
    shortest = min(width_m, height_m)
    if shortest <= MIN_BBOX_SIDE_M:
        side = "east-west" if width_m <= height_m else "north-south"
        return AoiError(BBOX_SIDE_TOO_SHORT,
                       f"{label}: its bounding box is only {shortest:.1f} m {side}; every side must "
                       f"be longer than {MIN_BBOX_SIDE_M:.0f} m. Draw a wider area.",
                       where={"part": index, "bbox_width_m": round(width_m, 2),
                              "bbox_height_m": round(height_m, 2), "limit_m": MIN_BBOX_SIDE_M})
    return None


def check_fill(label: str, index: int, area_km2: float, bbox_km2: float) -> AoiError | None:
    """The refusal of a sliver: area below 5 % of its bounding-box area (None: it passes)."""
    ratio = area_km2 / bbox_km2 if bbox_km2 > 0 else 0.0
    if ratio < MIN_FILL_RATIO:
        return AoiError(SLIVER,
                       f"{label}: it covers only {ratio * 100:.2f} % of its bounding box "
                       f"({area_km2:.4f} of {bbox_km2:.4f} km²); at least "
                       f"{MIN_FILL_RATIO * 100:.0f} % is required. Very thin or diagonal strips "
                       f"are refused: split it into compact parts.",
                       where={"part": index, "fill_ratio": round(ratio, 6),
                              "limit": MIN_FILL_RATIO})
    return None


_REASONS = [
    ("ring self-intersection", "ring touches itself"),
    ("self-intersection", "ring self-intersects"),
    ("too few points", "ring has too few distinct points"),
    ("hole lies outside shell", "a hole lies outside its exterior ring"),
    ("nested holes", "a hole lies inside another hole"),
    ("nested shells", "one polygon of the MultiPolygon lies inside another"),
    ("interior is disconnected", "holes cut the interior into disconnected pieces"),
    ("duplicate rings", "a ring is repeated"),
    ("invalid coordinate", "a coordinate is not a finite number"),
    ("not closed", "ring is not closed"),
]
_REASON_COORD = re.compile(r"\[\s*(-?[\d.eE+-]+|nan|inf)\s+(-?[\d.eE+-]+|nan|inf)")


def invalid_ring_error(label: str, index: int, reason: str) -> AoiError:
    """An ``invalid_ring`` error from a GEOS validity reason such as
    ``Self-intersection[9.8211 56.7702]`` (error path only)."""
    low = reason.lower()
    phrase, key = reason.split("[")[0].strip(), "invalid"
    for needle, text in _REASONS:
        if needle in low:
            phrase, key = text, needle.replace(" ", "_").replace("-", "_")
            break
    where: dict[str, object] = {"part": index, "reason": key}
    at = ""
    m = _REASON_COORD.search(reason)
    if m:
        x, y = float(m.group(1)), float(m.group(2))
        if x > 180.0 or x < -180.0:  # unwrapped antimeridian part: show the usual longitude
            x = ((x + 180.0) % 360.0) - 180.0
        at = f" at {x:.4f} {y:.4f}"
        where["coordinate"] = [x, y]
    return AoiError(INVALID_RING, f"{label}: {phrase}{at}; pass repair=true to fix it "
                                  f"automatically.", where=where)
