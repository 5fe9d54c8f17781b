-- POST /v1/checkouts keeps its Idempotency-Key in idempotency_keys, as every other write route does
-- (shared.idempotency). The key and request hash of a checkout are no longer written nor read; the
-- columns stay for the checkouts made before.
ALTER TABLE checkouts ALTER COLUMN idempotency_key DROP NOT NULL,
                      ALTER COLUMN request_hash DROP NOT NULL;
