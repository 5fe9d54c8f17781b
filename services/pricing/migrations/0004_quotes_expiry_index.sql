-- Expired quotes are purged after a retention period (PricingSettings.quote_retention_seconds);
-- the purge finds them by expiry.
CREATE INDEX quotes_expires ON quotes (expires_at);
