"""Every message contract says what it means, who sends it and who consumes it, and says it truly.

The docstring of each `Message` in `shared/contracts/` names its topic, has a "Sent by" and a
"Consumed by" sentence, and those agree with the services' compositions: a service that publishes
the message through its outbox is named as its sender, and every consumer group that handles it
is named as `<service>.<consumer>` (or the docstring says no Tessera service consumes it).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import SimpleNamespace

import pytest

import shared.contracts
from shared.contracts.base import Message

SERVICES = ("aoi", "tiling", "pricing", "cart", "checkout")


def contract_classes() -> list[type[Message]]:
    found = {}
    for info in pkgutil.iter_modules(shared.contracts.__path__):
        module = importlib.import_module(f"shared.contracts.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Message) and obj is not Message and obj.__module__ == module.__name__:
                found[obj.__name__] = obj
    return [found[name] for name in sorted(found)]


def own_doc(cls: type) -> str:
    return inspect.cleandoc(cls.__dict__.get("__doc__") or "")


@pytest.fixture(scope="module")
def compositions(monkeypatch_module):
    """(publishers, consumers): message type -> services that publish it / consumer groups that handle it."""
    monkeypatch_module.setenv("DATABASE_URL", "postgresql://unused@127.0.0.1:1/unused")
    monkeypatch_module.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    publishers: dict[str, set[str]] = {}
    consumers: dict[str, set[str]] = {}
    for name in SERVICES:
        spec = importlib.import_module(f"services.{name}.app").spec()
        for message in spec.publishes:
            publishers.setdefault(message.TYPE, set()).add(name)
        runtime = SimpleNamespace(name=name, settings=spec.settings)  # effects only close over it
        for consumer in spec.consumers:
            for type_ in consumer.effects(runtime):
                consumers.setdefault(type_, set()).add(f"{name}.{consumer.name}")
    return publishers, consumers


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


CONTRACTS = contract_classes()


def test_every_contract_module_is_covered():
    assert len(CONTRACTS) >= 30
    names = {c.__name__ for c in CONTRACTS}
    assert {"FreezeCart", "CheckoutPriced", "ProductionStatusReported", "AoiRegistered"} <= names


@pytest.mark.parametrize("cls", CONTRACTS, ids=[c.__name__ for c in CONTRACTS])
def test_the_docstring_says_what_it_means_who_sends_it_and_who_consumes_it(cls):
    doc = own_doc(cls)
    assert doc, f"{cls.__name__} has no docstring of its own"
    meaning = doc.split("Sent by")[0].strip()
    assert len(meaning) >= 30, f"{cls.__name__}: say what the message means before who sends it"
    assert "Sent by" in doc and "Consumed by" in doc, \
        f"{cls.__name__}: name the sender ('Sent by') and consumer ('Consumed by')"
    assert f"`{cls.TOPIC}`" in doc, f"{cls.__name__}: name the topic `{cls.TOPIC}` it travels on"


@pytest.mark.parametrize("cls", CONTRACTS, ids=[c.__name__ for c in CONTRACTS])
def test_the_docstring_names_the_real_sender_and_consumers(cls, compositions):
    publishers, consumers = compositions
    doc = " ".join(own_doc(cls).split())
    sent = doc[doc.index("Sent by"):doc.index("Consumed by")]
    consumed = doc[doc.index("Consumed by"):]
    for service in publishers.get(cls.TYPE, ()):
        assert f"the {service} service" in sent, f"{cls.__name__}: published by the {service} service's outbox"
    if not publishers.get(cls.TYPE):
        assert "outside Tessera" in sent, f"{cls.__name__}: no service publishes it; say who outside Tessera does"
    groups = consumers.get(cls.TYPE, set())
    for group in groups:
        assert f"`{group}`" in consumed, f"{cls.__name__}: consumed by `{group}`; name it"
    if not groups:
        assert "no Tessera service" in consumed, f"{cls.__name__}: nothing consumes it; say so"
