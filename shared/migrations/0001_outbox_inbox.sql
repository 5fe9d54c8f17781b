-- Transactional outbox: rows are inserted in the same transaction as the state change they report.
-- Column names follow Debezium's outbox event router (event_id ~ id, partition_key ~ aggregateid,
-- event_type ~ type) so that moving to log-based CDC later is configuration, not a rewrite.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    topic           text        NOT NULL,
    partition_key   text        NOT NULL,
    event_type      text        NOT NULL,
    payload         jsonb       NOT NULL,
    headers         jsonb       NOT NULL,
    shard           int         NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at    timestamptz,
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_error      text
);
CREATE INDEX outbox_pending ON outbox (shard, id) WHERE published_at IS NULL;
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Inbox: (consumer, event id) recorded in the same transaction as the consumer's effect.
CREATE TABLE inbox (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    topic        text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
