CREATE TABLE accounts (
    account_id       text PRIMARY KEY,
    balance          numeric(14, 2) NOT NULL DEFAULT 0,
    overdraft_limit  numeric(14, 2) NOT NULL DEFAULT 0,
    skip_review      boolean NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Every change of a balance is a row here; accounts.balance always equals their sum.
CREATE TABLE credit_ledger (
    id          bigserial PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts,
    amount      numeric(14, 2) NOT NULL,          -- + top-up / refund, - debit
    kind        text NOT NULL CHECK (kind IN ('topup', 'debit', 'refund', 'renewal')),
    ref         text NOT NULL,                    -- checkout id, order id, order/month, top-up key
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, kind, ref)
);

CREATE TABLE checkouts (
    id               uuid PRIMARY KEY,
    account_id       text NOT NULL,
    cart_id          text NOT NULL,
    accepted_total   numeric(14, 2) NOT NULL,
    idempotency_key  text NOT NULL,
    request_hash     text NOT NULL,
    step             text NOT NULL,
    step_deadline    timestamptz,
    snapshot         jsonb,
    total            numeric(14, 2),
    priced           jsonb,
    order_ids        text[] NOT NULL DEFAULT '{}',
    reserved         boolean NOT NULL DEFAULT false,
    failure_code     text,
    failure_reason   text,
    failure_detail   jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, idempotency_key)
);
CREATE INDEX checkouts_running ON checkouts (step_deadline) WHERE step IN ('freezing', 'reserving', 'pricing');

CREATE TABLE orders (
    id               uuid PRIMARY KEY,
    account_id       text NOT NULL,
    checkout_id      uuid NOT NULL REFERENCES checkouts,
    item_id          text NOT NULL,
    item             jsonb NOT NULL,
    mode             text NOT NULL,
    model            text NOT NULL,
    constellations   text[] NOT NULL,
    status           text NOT NULL,
    recurring        boolean NOT NULL,
    from_date        date NOT NULL,
    to_date          date,
    amount           numeric(14, 2) NOT NULL,
    price            jsonb NOT NULL,          -- lines and image dates charged at checkout
    spend            jsonb NOT NULL,          -- what counted toward tiers at checkout
    parts            jsonb NOT NULL DEFAULT '[]',
    cells            jsonb NOT NULL DEFAULT '[]',
    footprint        jsonb,
    bbox             float8[],                -- [min lon, min lat, max lon, max lat]
    h3_cells         text[] NOT NULL DEFAULT '{}',
    renewal_stopped_after text,               -- last month produced, when the customer stopped renewals
    renewal_paused   text,                    -- reason renewals are paused (e.g. insufficient credit)
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (checkout_id, item_id)
);
CREATE INDEX orders_account ON orders (account_id, created_at DESC);
CREATE INDEX orders_h3 ON orders USING gin (h3_cells);

CREATE TABLE order_history (
    id          bigserial PRIMARY KEY,
    order_id    uuid NOT NULL REFERENCES orders,
    from_status text,
    to_status   text NOT NULL,
    at          timestamptz NOT NULL,
    source      text NOT NULL,
    detail      text
);
CREATE INDEX order_history_order ON order_history (order_id, id);

-- One row per order and month charged (checkout month, then each renewal): renewals run once.
CREATE TABLE order_charges (
    order_id  uuid NOT NULL REFERENCES orders,
    month     text NOT NULL,
    amount    numeric(14, 2) NOT NULL,
    status    text NOT NULL,        -- 'charged' | 'pending' (priced by pricing) | 'unpaid'
    detail    jsonb,
    at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, month)
);
