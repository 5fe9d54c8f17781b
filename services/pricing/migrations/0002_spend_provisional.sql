-- Provisional spend: what a freshly priced PriceCheckout will charge, counted toward the month's
-- tiers until its order event (OrderPlaced / OrderRenewed) confirms it or CheckoutFailed drops it.
-- Without it, checkouts / renewals of one account priced before their order events arrive would
-- all start from the same stale month spend (docs/domain.md, Pricing: tiers are progressive;
-- docs/decisions/0006-provisional-spend.md).
CREATE TABLE spend_provisional (
    account_id  text           NOT NULL,
    checkout_id text           NOT NULL,
    item_id     text           NOT NULL,
    month       text           NOT NULL,  -- "YYYY-MM", UTC
    family      text           NOT NULL,  -- "Stratus" | "Nimbus"
    amount      numeric(14, 2) NOT NULL CHECK (amount >= 0),
    created_at  timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (checkout_id, item_id, month, family)
);
CREATE INDEX spend_provisional_account ON spend_provisional (account_id, month, family);

-- Settled checkouts (item_id '' = the whole checkout): a settling event that arrives before the
-- PriceCheckout was priced leaves this row, so no provisional spend is added for it afterwards.
CREATE TABLE spend_provisional_settled (
    checkout_id text        NOT NULL,
    item_id     text        NOT NULL,
    settled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (checkout_id, item_id)
);
