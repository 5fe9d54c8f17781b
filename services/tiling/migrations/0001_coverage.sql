-- Coverage ledger (docs/domain.md, Deduplication; docs/decisions/0008-compact-coverage-ledger.md): one row per reservation group, NOT one row per (cell, date).
-- A group is a set of grid cells (CellId.key, bigint) sharing one set of image dates, stored as a
-- bitmap (bit i = day date_start + i, days since 1970-01-01, little-endian bytes). An order item
-- is normally one group: a year of daily dates over thousands of minitiles is one row of a few kB.
CREATE TABLE coverage_groups (
    id             bigserial   PRIMARY KEY,
    account_id     text        NOT NULL,
    model          text        NOT NULL,
    constellations text        NOT NULL,  -- the ledger key's set: sorted names joined by ','
    checkout_id    text        NOT NULL,
    item_id        text        NOT NULL,
    order_id       text,
    status         text        NOT NULL CHECK (status IN ('reserved', 'committed', 'released')),
    cells          bigint[]    NOT NULL,  -- sorted unique CellId.key values
    families       bigint[]    NOT NULL,  -- distinct key >> 9 (tile families), for overlap lookups
    date_start     integer     NOT NULL,
    date_bits      bytea       NOT NULL,
    date_count     integer     NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX coverage_groups_ledger ON coverage_groups (account_id, model, constellations) WHERE status <> 'released';
CREATE INDEX coverage_groups_families ON coverage_groups USING gin (families) WHERE status <> 'released';
CREATE INDEX coverage_groups_checkout ON coverage_groups (account_id, checkout_id);

-- One row per reserved checkout: the reply it got, so a re-sent ReserveCoverage replies the same.
CREATE TABLE coverage_checkouts (
    account_id  text        NOT NULL,
    checkout_id text        NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('reserved', 'rejected')),
    reply       jsonb       NOT NULL,  -- the CoverageReserved / CoverageRejected payload
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, checkout_id)
);
