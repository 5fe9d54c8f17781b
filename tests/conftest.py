import os
import uuid

import pytest

from tests.support import infra


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return infra.kafka_bootstrap()


@pytest.fixture(scope="session")
async def database_url():
    server = infra.server_url()
    url = await infra.fresh_database(server)
    yield url
    if os.environ.get("TESSERA_KEEP_TEST_DB") != "1":
        await infra.drop_database(server, url)
    infra.stop_containers()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]
