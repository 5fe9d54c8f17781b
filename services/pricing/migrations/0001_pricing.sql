-- Quotes: every estimate is stored so that checkout can honour or compare it (docs/domain.md, Pricing).
CREATE TABLE quotes (
    quote_id           uuid        PRIMARY KEY,
    account_id         text        NOT NULL,
    -- json (kept as sent), not jsonb: quotes are written on every estimate and read back whole.
    request            json        NOT NULL,
    response           json        NOT NULL,
    total              numeric(14, 2) NOT NULL,
    due_at_checkout    numeric(14, 2) NOT NULL,
    price_book_version text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL
);
CREATE INDEX quotes_account ON quotes (account_id, created_at);

-- The monthly spend ledger. One row per (order, month, family) charge and per reversal, so a
-- replayed event finds its row (idempotent) and a cancellation arriving before its placement is
-- simply a negative row that the placement later balances (order-independent).
CREATE TABLE spend_charges (
    order_id    text           NOT NULL,
    month       text           NOT NULL,  -- "YYYY-MM", UTC
    family      text           NOT NULL,  -- "Stratus" | "Nimbus"
    account_id  text           NOT NULL,
    amount      numeric(14, 2) NOT NULL CHECK (amount >= 0),
    kind        text           NOT NULL,  -- "placed" | "renewed"
    event_id    uuid           NOT NULL,
    recorded_at timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, month, family)
);
CREATE INDEX spend_charges_account ON spend_charges (account_id, month, family);

CREATE TABLE spend_reversals (
    order_id    text           NOT NULL,
    month       text           NOT NULL,
    family      text           NOT NULL,
    account_id  text           NOT NULL,
    amount      numeric(14, 2) NOT NULL CHECK (amount >= 0),
    event_id    uuid           NOT NULL,
    recorded_at timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, month, family)
);
CREATE INDEX spend_reversals_account ON spend_reversals (account_id, month, family);

-- PriceCheckout results by checkout: the same checkout priced again replies the same figures.
CREATE TABLE checkout_pricings (
    checkout_id text        PRIMARY KEY,
    account_id  text        NOT NULL,
    reply_type  text        NOT NULL,  -- the CloudEvents type of the reply
    reply       jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
