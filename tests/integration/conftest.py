import pytest

from shared.db import create_pool, migrate

pytestmark = pytest.mark.integration

EFFECTS = """
CREATE TABLE IF NOT EXISTS effects (event_id uuid NOT NULL, key text NOT NULL, seq int NOT NULL,
                                    applied_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE IF NOT EXISTS things (id text PRIMARY KEY, version int NOT NULL);
"""


@pytest.fixture
async def probe_schema(database_url, unique):
    """A fresh schema with the shared outbox/inbox tables and the probe's own tables."""
    schema = f"probe_{unique}"
    await migrate(database_url, schema, None)
    pool = await create_pool(database_url, schema, max_size=12)
    await pool.execute(EFFECTS)
    yield schema, pool
    await pool.close()
