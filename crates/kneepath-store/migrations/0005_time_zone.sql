-- Where a person lives, as an IANA time zone name (Europe/Oslo), so that
-- "today" for their plan and check-ins is their calendar day. NULL: not
-- set, the server's own zone is used.
ALTER TABLE users ADD COLUMN time_zone TEXT;
