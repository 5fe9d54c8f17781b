-- Carts (docs/domain.md, Cart, checkout and orders). status: open -> frozen (by checkout_id) -> open | checked_out.
-- checkout_id: the checkout that froze the cart last (kept after a release; names the buyer once checked out).
CREATE TABLE carts (
    id          uuid        PRIMARY KEY,
    account_id  text        NOT NULL,
    status      text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'frozen', 'checked_out')),
    checkout_id text,
    version     int         NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (status = 'open' OR checkout_id IS NOT NULL)
);
CREATE INDEX carts_account ON carts (account_id, created_at);

-- One item = one AOI (polygon or grid) + one configuration: the canonical order-item payload and
-- the AOI facts read when it was added (parts / cells, warnings, footprint).
CREATE TABLE cart_items (
    id         uuid        PRIMARY KEY,
    cart_id    uuid        NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    position   int         NOT NULL,
    payload    jsonb       NOT NULL,
    mode       text        NOT NULL CHECK (mode IN ('polygon', 'grid')),
    facts      jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cart_items_cart ON cart_items (cart_id, position);

-- Idempotency-Key of HTTP mutations: per account; the fingerprint is method, path and body.
-- The row is written in the mutation's transaction, so a key is either fully used or free.
CREATE TABLE IF NOT EXISTS idempotency_keys (  -- also made by shared/migrations/0003
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
