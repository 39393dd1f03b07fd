-- Guests: someone taking the assessment before having an account. The
-- row holds no personal data (see kneepath-store's guests.rs) and is
-- deleted with everything of it after guest_until, unless the guest signs
-- up, which clears it (the row becomes the account). NULL: an account.
ALTER TABLE users ADD COLUMN guest_until TEXT;
CREATE INDEX users_guest_until ON users (guest_until) WHERE guest_until IS NOT NULL;
