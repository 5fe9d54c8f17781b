-- Quotes are written on every estimate (a year of daily dates over 2,500 cells is ~100 KiB of
-- request and ~180 KiB of response) and read back whole, never queried inside. Measured per insert
-- of such a quote on PostgreSQL 15 (bench/pricing.py, and by hand): the server spent 6.7 ms of CPU
-- with json columns and the default pglz compression, 1.3 ms with text columns compressed by lz4.
-- Both documents are produced or already parsed by the service, so the server's json validation
-- only repeated that work. lz4 is used where the server was built with it (Debian's and the
-- official images are); elsewhere the columns keep the default compression.
ALTER TABLE quotes ALTER COLUMN request TYPE text, ALTER COLUMN response TYPE text;

DO $$
BEGIN
    ALTER TABLE quotes ALTER COLUMN request SET COMPRESSION lz4, ALTER COLUMN response SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available; quotes keep the default TOAST compression';
END $$;
