"""Wait until a Kafka admin client can list topics (the broker is really serving), or fail."""
import asyncio
import logging
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient


async def main(bootstrap: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return 0
        except Exception as exc:  # not up yet: retry until the deadline
            last = exc
        finally:
            try:
                await admin.close()
            except Exception:
                pass
        await asyncio.sleep(0.5)
    print(f"Kafka at {bootstrap} not ready after {timeout:.0f}s: {last!r}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    sys.exit(asyncio.run(main(sys.argv[1], float(sys.argv[2]))))
