-- A person may correct a check-in they got wrong (a typo in a pain score, an
-- exercise not ticked). The check-in row then holds the corrected values and
-- this table keeps each set of values it replaced, so the record shows what
-- was first given and when it was changed. Removed with the account.
CREATE TABLE checkin_revisions (
    id TEXT PRIMARY KEY,
    checkin_id TEXT NOT NULL REFERENCES checkins (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    data TEXT NOT NULL,
    replaced_at TEXT NOT NULL
);
CREATE INDEX checkin_revisions_user ON checkin_revisions (user_id, day, replaced_at);
