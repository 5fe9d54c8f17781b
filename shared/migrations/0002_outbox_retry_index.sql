-- Finds keys blocked behind a failed row quickly, however long the backlog.
CREATE INDEX outbox_retry_wait ON outbox (next_attempt_at) WHERE published_at IS NULL;
