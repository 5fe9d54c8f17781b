"""The order overlay's pure rules: the viewport (bounds, size limit, pre-filter), the cursor, the exact test."""
import json
import uuid
from datetime import UTC, datetime

import pytest
import shapely

from services.checkout.domain.overlay import (
    H3_MAX_SQUARE_DEGREES,
    MAX_SQUARE_DEGREES,
    decode_cursor,
    encode_cursor,
    meets,
    parse_viewport,
    square_degrees,
    viewport,
)
from shared.problems import Problem


def test_a_viewport_is_four_numbers_in_range():
    assert parse_viewport("9.5,49.5,10.5,50.5") == (9.5, 49.5, 10.5, 50.5)
    for bad in ("1,2,3", "a,b,c,d", "0,0,1,nan", "0,10,1,5", "-181,0,1,1", "0,-91,1,1"):
        with pytest.raises(Problem) as refused:
            parse_viewport(bad)
        assert (refused.value.status, refused.value.code) == (422, "validation_error"), bad


def test_a_viewport_across_the_antimeridian_is_measured_the_short_way():
    assert square_degrees(170, 0, -170, 1) == 20.0
    assert square_degrees(-10, 0, 10, 2) == 40.0


def test_small_viewports_list_h3_cells_large_ones_use_the_bbox_columns_and_huge_ones_are_refused():
    assert viewport("10,50,11,51").prefilter == "h3"  # 1 square degree
    assert square_degrees(0, 0, 10, 10) > H3_MAX_SQUARE_DEGREES
    big = viewport("0,0,10,10")
    assert (big.prefilter, big.cells) == ("bbox", None)
    with pytest.raises(Problem) as refused:
        viewport("-180,-80,180,84")
    assert refused.value.code == "viewport_too_large" and refused.value.extra["limit"] == MAX_SQUARE_DEGREES


def test_a_cursor_names_the_last_row_and_a_foreign_one_is_refused():
    row = {"created_at": datetime(2025, 4, 1, 12, 30, tzinfo=UTC), "id": uuid.uuid4()}
    assert decode_cursor(encode_cursor(row)) == (row["created_at"], row["id"])
    assert decode_cursor(None) is None and decode_cursor("") is None
    with pytest.raises(Problem) as refused:
        decode_cursor("not-a-cursor")
    assert refused.value.code == "invalid_cursor"


def test_only_footprints_that_meet_the_viewport_are_hits():
    view = shapely.box(10, 50, 11, 51)
    inside = json.dumps(shapely.geometry.mapping(shapely.box(10.2, 50.2, 10.3, 50.3)))
    outside = json.dumps(shapely.geometry.mapping(shapely.box(20, 50, 20.1, 50.1)))
    assert meets([inside, outside], view) == [True, False]
    assert meets([], view) == []
