"""Contract test: the code's message schemas stay compatible with the committed (published) ones."""
import json

import pytest

import shared.contracts  # noqa: F401
from shared.contracts.base import REGISTRY, json_schemas
from shared.contracts.export import SCHEMAS


def refines_free_object(old: dict, new: dict) -> bool:
    """A field that was any JSON object and is now a described one ($ref): what producers send is the
    same, the schema only says what it always was (the order item in the shared vocabulary)."""
    return old.get("type") == "object" and old.get("additionalProperties") is True and "properties" not in old \
        and set(new) <= {"$ref", "description", "title"} and "$ref" in new


def incompatibilities(old: dict, new: dict) -> list[str]:
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, spec in old_props.items():
        if name not in new_props:
            problems.append(f"field {name} removed")
        elif refines_free_object(spec, new_props[name]):
            continue
        elif json.dumps(spec, sort_keys=True) != json.dumps(new_props[name], sort_keys=True):
            problems.append(f"field {name} changed type")
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"field {name} newly required")
    return problems


PUBLISHED = sorted(SCHEMAS.glob("*.json"))


@pytest.mark.parametrize("path", PUBLISHED, ids=[p.stem for p in PUBLISHED])
def test_published_contract_is_still_honoured(path):
    current = json_schemas()
    assert path.stem in current, f"message type {path.stem} was published and has been removed"
    assert incompatibilities(json.loads(path.read_text()), current[path.stem]) == []


def test_every_message_type_is_published():
    assert {p.stem for p in PUBLISHED} == set(REGISTRY) - {t for t in REGISTRY if t.startswith("test.")}


def test_the_checker_catches_a_removed_field_a_retyped_field_and_a_new_required_field():
    old = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]}
    new = {"properties": {"b": {"type": "string"}, "c": {"type": "string"}}, "required": ["c"]}
    assert sorted(incompatibilities(old, new)) == ["field a removed", "field b changed type", "field c newly required"]


def test_a_free_object_may_become_a_described_one_but_not_the_other_way_round():
    free = {"properties": {"item": {"type": "object", "additionalProperties": True}}}
    described = {"properties": {"item": {"$ref": "#/$defs/StoredOrderItem"}}}
    assert incompatibilities(free, described) == []
    assert incompatibilities(described, free) == ["field item changed type"]
    assert incompatibilities(free, {"properties": {"item": {"type": "string"}}}) == ["field item changed type"]


def test_every_type_names_its_version_and_topic():
    for t, cls in REGISTRY.items():
        assert t.rsplit(".", 1)[1].startswith("v"), t
        assert cls.TOPIC.count(".") == 2 or cls.TOPIC.startswith("test."), cls.TOPIC
