-- One pricing day per checkout (UTC): the dates reserved, the price and the month charged all use it,
-- so a checkout that straddles midnight at a month's end is consistent.
ALTER TABLE checkouts ADD COLUMN price_date date NOT NULL DEFAULT (now() AT TIME ZONE 'utc')::date;

-- A renewal that was not paid is tried again on later passes, each attempt under its own saga id.
ALTER TABLE order_charges ADD COLUMN attempt int NOT NULL DEFAULT 0;
