-- Idempotency-Key: the first response to (account, key) is kept and replayed to a retry of the same
-- request; another request under the same key is refused. Rows are purged after a retention.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    account_id  text        NOT NULL,
    key         text        NOT NULL,
    fingerprint text        NOT NULL,
    status      int         NOT NULL DEFAULT 0,
    body        jsonb,
    headers     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);
