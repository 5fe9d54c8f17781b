-- Stored AOIs: immutable once inserted (no UPDATE anywhere in the service).
CREATE TABLE aois (
    id               text PRIMARY KEY,
    account_id       text NOT NULL,
    name             text,
    source_format    text NOT NULL,
    geometry         jsonb NOT NULL,          -- GeoJSON GeometryCollection, as served
    wkb              bytea NOT NULL,          -- same geometry, for the exact overlap check
    report           jsonb NOT NULL,          -- {source_format, parts, totals, warnings, h3: {resolution, cell_count}}
    area_km2         double precision NOT NULL,
    billable_km2     double precision NOT NULL,
    min_lon          double precision NOT NULL,
    min_lat          double precision NOT NULL,
    max_lon          double precision NOT NULL,
    max_lat          double precision NOT NULL,
    h3_resolution    smallint NOT NULL,
    h3_cells         text[] NOT NULL,         -- compacted, dilated cover (shared/geo/h3index.py)
    idempotency_key  text,
    request_hash     text,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX aois_account_newest ON aois (account_id, created_at DESC, id DESC);
CREATE INDEX aois_h3_cells ON aois USING gin (h3_cells);
CREATE INDEX aois_account_bbox ON aois (account_id, min_lon, max_lon, min_lat, max_lat);
CREATE UNIQUE INDEX aois_idempotency ON aois (account_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
